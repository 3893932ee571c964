/**
 * The Windows test environment under Wine (tests/helpers/wine.ts) works:
 * the Windows deno.exe runs scripts, opens libSQL databases with the Windows
 * native module, calls Windows APIs through FFI, and the Windows program
 * built with mingw for metering runs and ends when it should.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { skipReason, WINDOWS_TEST_TOOLS } from "./helpers/system_tools.ts";
import { buildMeteredTool } from "./helpers/windows_metered_tool.ts";
import {
  prepareWine,
  runWindowsDeno,
  runWindowsProgram,
  stopWine,
  windowsFixture,
  windowsPath,
  type WineEnvironment,
} from "./helpers/wine.ts";

const skipped = skipReason(WINDOWS_TEST_TOOLS);

async function outputOf(child: Deno.ChildProcess): Promise<string> {
  const output = await child.output();
  const decoder = new TextDecoder();
  const stdout = decoder.decode(output.stdout);
  if (!output.success) {
    throw new Error(`exit code ${output.code}:\n${stdout}${decoder.decode(output.stderr)}`);
  }
  return stdout;
}

describe.skipIf(skipped !== "")(
  `the Windows test environment under Wine${skipped}`,
  () => {
    let wine: WineEnvironment;
    let dir: string;

    beforeAll(async () => {
      const started = Date.now();
      wine = await prepareWine();
      console.error(`[wine] prepareWine took ${Date.now() - started} ms`);
      dir = await Deno.makeTempDir({ prefix: "meter-wine-" });
    }, 600_000);

    afterAll(async () => {
      if (wine) await stopWine(wine);
      if (dir) await Deno.remove(dir, { recursive: true });
    });

    it(
      "runs the Windows deno.exe of the project's version, which says it is on Windows",
      async () => {
        const version = await outputOf(runWindowsDeno(wine, ["--version"]));
        expect(version).toContain(`deno ${wine.denoVersion} `);
        expect(version).toContain("x86_64-pc-windows-msvc");
        const info = JSON.parse(
          await outputOf(
            runWindowsDeno(wine, ["run", windowsFixture(wine, "build_info.ts")]),
          ),
        );
        expect(info).toEqual({ os: "windows", arch: "x86_64", deno: wine.denoVersion });
      },
      120_000,
    );

    it(
      "opens a libSQL file database with the Windows native module, writes and reads",
      async () => {
        const script = windowsFixture(wine, "libsql_smoke.ts");
        const rows = JSON.parse(
          await outputOf(runWindowsDeno(wine, ["run", "-A", script, windowsPath(dir)])),
        );
        expect(rows).toEqual([{ name: "cadtool.exe", seconds: 42 }]);
        // Written where the Linux side sees it: the database is a real file.
        expect((await Deno.stat(join(dir, "smoke.db"))).size).toBeGreaterThan(0);
      },
      120_000,
    );

    it("calls kernel32 through Deno.dlopen", async () => {
      const script = windowsFixture(wine, "ffi_smoke.ts");
      const { processId, denoPid } = JSON.parse(
        await outputOf(runWindowsDeno(wine, ["run", "--allow-ffi", script])),
      );
      expect(processId).toBeGreaterThan(0);
      expect(processId).toBe(denoPid);
    }, 120_000);

    it(
      "runs the metered tool built with mingw, which ends after the seconds it is given",
      async () => {
        const tool = await buildMeteredTool(wine);
        const started = Date.now();
        const status = await runWindowsProgram(wine, tool, ["1"], {
          stdout: "null",
          stderr: "null",
        }).status;
        const seconds = (Date.now() - started) / 1000;
        expect(status.code).toBe(0);
        expect(seconds).toBeGreaterThanOrEqual(1);
        expect(seconds).toBeLessThan(30);
      },
      120_000,
    );
  },
);
