import { afterAll, describe, expect, it } from "vitest";
import { PackageVersions, parseStatus, usrMergeAliases } from "../agent/linux/package_version.ts";

const tempDirs: string[] = [];

afterAll(async () => {
  for (const dir of tempDirs) await Deno.remove(dir, { recursive: true }).catch(() => {});
});

const hasDpkg = (() => {
  try {
    return Deno.statSync("/var/lib/dpkg/status").isFile;
  } catch {
    return false;
  }
})();

async function dpkgQueryVersion(name: string): Promise<string> {
  const output = await new Deno.Command("dpkg-query", {
    args: ["-W", "-f=${Version}", name],
    stdout: "piped",
  }).output();
  return new TextDecoder().decode(output.stdout);
}

function stanza(fields: Record<string, string>): string {
  return Object.entries(fields).map(([key, value]) => `${key}: ${value}\n`).join("");
}

/** A tiny dpkg database: `info/*.list` and `status`. */
async function fakeDpkg(packages: {
  list: string;
  files: string[];
  status?: Record<string, string>;
}[]): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "meter-dpkg-test-" });
  tempDirs.push(root);
  await Deno.mkdir(`${root}/info`);
  await writeDpkg(root, packages);
  return root;
}

async function writeDpkg(
  root: string,
  packages: { list: string; files: string[]; status?: Record<string, string> }[],
): Promise<void> {
  for (const { list, files } of packages) {
    await Deno.writeTextFile(`${root}/info/${list}.list`, files.map((f) => `${f}\n`).join(""));
  }
  const stanzas = packages.flatMap(({ status }) => status ? [stanza(status)] : []);
  await Deno.writeTextFile(`${root}/status`, stanzas.join("\n"));
}

const installed = "install ok installed";

describe("PackageVersions on this machine", () => {
  it.skipIf(!hasDpkg)(
    "finds coreutils as the owner of sleep, in either /usr spelling",
    async () => {
      const versions = new PackageVersions();
      const expected = await dpkgQueryVersion("coreutils");
      expect(expected).not.toBe("");
      expect(await versions.versionOf("/usr/bin/sleep")).toBe(expected);
      expect(await versions.versionOf("/bin/sleep")).toBe(expected);
      expect((await versions.packageOf("/usr/bin/sleep"))?.name).toBe("coreutils");
    },
  );

  it.skipIf(!hasDpkg)("answers null for a file no package owns", async () => {
    const versions = new PackageVersions();
    expect(await versions.versionOf(`/usr/bin/meter-no-such-${crypto.randomUUID()}`)).toBeNull();
    const file = await Deno.makeTempFile({ prefix: "meter-dpkg-test-" });
    expect(await versions.versionOf(file)).toBeNull();
    await Deno.remove(file);
  });
});

describe("PackageVersions on a fake dpkg database", () => {
  it("maps paths to installed packages, across the /usr merge and architectures", async () => {
    const root = await fakeDpkg([
      {
        list: "foo",
        files: ["/.", "/usr", "/usr/bin", "/usr/bin/foo"],
        status: { Package: "foo", Status: installed, Architecture: "amd64", Version: "1.2-3" },
      },
      {
        list: "held",
        files: ["/bin/held"],
        status: { Package: "held", Status: "hold ok installed", Architecture: "all", Version: "7" },
      },
      {
        list: "libbar:amd64",
        files: ["/usr/lib/x86_64-linux-gnu/libbar.so.1"],
        status: { Package: "libbar", Status: installed, Architecture: "amd64", Version: "1.0" },
      },
      {
        list: "libbar:i386",
        files: ["/usr/lib/i386-linux-gnu/libbar.so.1"],
        status: { Package: "libbar", Status: installed, Architecture: "i386", Version: "1.1" },
      },
      {
        list: "removed",
        files: ["/usr/bin/removed"],
        status: { Package: "removed", Status: "deinstall ok config-files", Version: "0.9" },
      },
    ]);
    const versions = new PackageVersions({ dpkgRoot: root });
    expect(await versions.packageOf("/usr/bin/foo")).toEqual({
      name: "foo",
      version: "1.2-3",
      architecture: "amd64",
    });
    expect(await versions.versionOf("/bin/foo")).toBe("1.2-3");
    expect(await versions.versionOf("/usr/bin/held")).toBe("7");
    expect(await versions.versionOf("/usr/lib/x86_64-linux-gnu/libbar.so.1")).toBe("1.0");
    expect(await versions.versionOf("/usr/lib/i386-linux-gnu/libbar.so.1")).toBe("1.1");
    expect(await versions.versionOf("/usr/bin/removed")).toBeNull();
    expect(await versions.versionOf("/usr/bin/other")).toBeNull();
    expect(await versions.versionOf("/usr/bin")).toBe("1.2-3");
  });

  it("reads the database again when status changes", async () => {
    const foo = (version: string) => ({
      list: "foo",
      files: ["/usr/bin/foo"],
      status: { Package: "foo", Status: installed, Architecture: "amd64", Version: version },
    });
    const root = await fakeDpkg([foo("1.0")]);
    const versions = new PackageVersions({ dpkgRoot: root });
    expect(await versions.versionOf("/usr/bin/foo")).toBe("1.0");
    expect(await versions.versionOf("/usr/bin/baz")).toBeNull();
    const { mtime } = await Deno.stat(`${root}/status`);
    await writeDpkg(root, [foo("2.0"), {
      list: "baz",
      files: ["/usr/bin/baz"],
      status: { Package: "baz", Status: installed, Version: "5" },
    }]);
    // While the time of status is the same, the database read before answers.
    await Deno.utime(`${root}/status`, mtime!, mtime!);
    expect(await versions.versionOf("/usr/bin/foo")).toBe("1.0");
    expect(await versions.versionOf("/usr/bin/baz")).toBeNull();
    const later = new Date(Date.now() + 10_000);
    await Deno.utime(`${root}/status`, later, later);
    expect(await versions.versionOf("/usr/bin/foo")).toBe("2.0");
    expect(await versions.versionOf("/usr/bin/baz")).toBe("5");
  });

  it("answers null without a dpkg database", async () => {
    const versions = new PackageVersions({ dpkgRoot: `/nonexistent-${crypto.randomUUID()}` });
    expect(await versions.versionOf("/usr/bin/sleep")).toBeNull();
  });
});

describe("helpers", () => {
  it("spells a path both ways across the /usr merge", () => {
    expect(usrMergeAliases("/usr/bin/sleep")).toEqual(["/usr/bin/sleep", "/bin/sleep"]);
    expect(usrMergeAliases("/sbin/ip")).toEqual(["/sbin/ip", "/usr/sbin/ip"]);
    expect(usrMergeAliases("/lib64/ld.so")).toEqual(["/lib64/ld.so", "/usr/lib64/ld.so"]);
    expect(usrMergeAliases("/usr/share/x")).toEqual(["/usr/share/x"]);
    expect(usrMergeAliases("/opt/app/bin/app")).toEqual(["/opt/app/bin/app"]);
  });

  it("parses status stanzas with continuation lines", () => {
    const text = "Package: a\nStatus: install ok installed\nVersion: 1\nDescription: x\n more\n" +
      " .\n\nPackage: b\nStatus: purge ok not-installed\nVersion: 2\n";
    const packages = parseStatus(text);
    expect([...packages.keys()]).toEqual(["a:", "a"]);
    expect(packages.get("a")?.version).toBe("1");
  });
});
