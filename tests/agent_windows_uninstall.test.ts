/**
 * The parts of the Windows inventory that read what installers write into
 * the registry, on values an installer may well get wrong: install dates
 * that are not dates, icon paths with quotes, indexes and no program.
 * (Reading the registry itself is tested under Wine, end to end.)
 *
 * @module
 */
import { describe, expect, it } from "vitest";
import { iconProgram, installDate } from "../agent/windows/inventory/uninstall_source.ts";
import { fitProduct } from "../agent/core/inventory/product_fit.ts";

describe("InstallDate", () => {
  it("reads YYYYMMDD as that day, midnight UTC", () => {
    expect(installDate("20261201")).toBe(Date.UTC(2026, 11, 1));
    expect(installDate(" 19991231 ")).toBe(Date.UTC(1999, 11, 31));
  });

  it("leaves anything else unknown, never a date rolled over", () => {
    for (
      const value of [
        "20261301",
        "20260230",
        "20260000",
        "2026-12-01",
        "12/01/2026",
        "",
        null,
        "1",
        "19000101",
        "202612011",
      ]
    ) {
      expect(installDate(value), String(value)).toBeNull();
    }
  });
});

describe("DisplayIcon", () => {
  it("gives the program it names, without quotes or icon index", () => {
    expect(iconProgram('"C:\\Program Files\\CAD\\cad.exe",0')).toBe(
      "C:\\Program Files\\CAD\\cad.exe",
    );
    expect(iconProgram("C:\\CAD\\CAD.EXE,-101")).toBe("C:\\CAD\\CAD.EXE");
    expect(iconProgram("C:\\CAD\\cad.exe")).toBe("C:\\CAD\\cad.exe");
  });

  it("gives nothing for an icon that is not a program", () => {
    for (
      const value of ["C:\\CAD\\cad.ico", "%SystemRoot%\\system32\\msiexec.exe,0x", "", null, ",0"]
    ) {
      expect(iconProgram(value), String(value)).toBeNull();
    }
  });
});

describe("a registry product made to fit the record", () => {
  const product = {
    key: "registry/machine/{1234}",
    name: "CAD",
    version: "24.1",
    publisher: "Vendor",
    source: "registry" as const,
    installedAt: null,
    executables: ["C:\\CAD\\cad.exe"],
  };

  it("keeps Windows paths, and cuts names an installer made too long", () => {
    const fitted = fitProduct({ ...product, name: "N".repeat(10_000) });
    expect(typeof fitted === "string" ? fitted : fitted.name.length).toBe(255);
    expect(typeof fitted === "string" ? fitted : fitted.executables).toEqual(["C:\\CAD\\cad.exe"]);
  });

  it("drops paths that are not absolute, and refuses a key no record may have", () => {
    const fitted = fitProduct({
      ...product,
      executables: ["cad.exe", "..\\cad.exe", "\\\\srv\\cad.exe"],
    });
    expect(typeof fitted === "string" ? fitted : fitted.executables).toEqual(["\\\\srv\\cad.exe"]);
    expect(fitProduct({ ...product, key: `registry/${"k".repeat(600)}` })).toMatch(/not valid/);
    expect(fitProduct({ ...product, name: "   " })).toMatch(/no name/);
  });
});
