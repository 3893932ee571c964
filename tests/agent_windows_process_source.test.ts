/**
 * The process-source conformance suite, run on the Windows process source
 * under Wine: the source runs in the Windows Deno (through
 * `tests/fixtures/windows/process_source_host.ts`), the programs are copies
 * of the mingw-built metered tool started inside the same Wine prefix, and
 * the suite itself runs here, as it does for the Linux source.
 *
 * Beyond the suite: what only Windows has — the name a program was built
 * under (its version resource's `OriginalFilename`) survives a rename, and
 * its language comes from the same resource.
 *
 * @module
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { skipReason, WINDOWS_TEST_TOOLS } from "./helpers/system_tools.ts";
import { buildMeteredTool } from "./helpers/windows_metered_tool.ts";
import { WindowsProcessHost } from "./helpers/windows_process_host.ts";
import {
  processSourceConformance,
  type StartedProgram,
} from "./helpers/process_source_conformance.ts";
import {
  prepareWine,
  runWindowsDeno,
  stopWine,
  windowsFixture,
  windowsPath,
  type WineEnvironment,
} from "./helpers/wine.ts";

const skipped = skipReason(WINDOWS_TEST_TOOLS);

let wine: WineEnvironment;
let host: WindowsProcessHost;
let toolDir: string;
/** The user Windows processes of the prefix run as, as the source must name them. */
let prefixUser: string;
let copies = 0;

async function startTool(): Promise<StartedProgram> {
  // Each program a copy of its own, so no two tests see each other's.
  const exe = join(toolDir, `metered_${Deno.pid}_${++copies}.exe`);
  await Deno.copyFile(await buildMeteredTool(wine), exe);
  const windowsExe = windowsPath(exe);
  const { pid, startedAt } = await host.start(windowsExe, ["60"]);
  return {
    pid,
    exe: windowsExe,
    user: prefixUser,
    startedAt,
    stop: () => host.stop(pid),
  };
}

// Top-level hooks: they serve the conformance suite's describe too.
beforeAll(async () => {
  if (skipped) return;
  wine = await prepareWine();
  toolDir = await Deno.makeTempDir({ prefix: "meter-windows-source-" });
  const child = runWindowsDeno(
    wine,
    ["run", "-A", windowsFixture(wine, "process_source_host.ts")],
    { stdin: "piped", stderr: "inherit" },
  );
  host = new WindowsProcessHost(child);
  const source = await host.newSource();
  // Wine runs every program of a prefix as the one Linux user, under the
  // computer's name as its domain: ask the source who its host is.
  const hostPid = await host.request<number>("pid");
  const snapshot = await source.snapshot();
  const self = [...snapshot.processes.values()].find((p) => p.pid === hostPid);
  prefixUser = (await source.details(self!))!.user;
}, 600_000);

afterAll(async () => {
  await host?.close();
  if (wine) await stopWine(wine);
  if (toolDir) await Deno.remove(toolDir, { recursive: true }).catch(() => {});
});

describe.skipIf(skipped !== "")(`the Windows process source under Wine${skipped}`, () => {
  it("names processes DOMAIN\\user", () => {
    expect(prefixUser).toMatch(/^[^\\]+\\[^\\]+$/);
  });

  it("reads the version resource: a renamed copy keeps its original name and language", async () => {
    const source = await host.newSource();
    const program = await startTool();
    try {
      const snapshot = await source.snapshot();
      const seen = [...snapshot.processes.values()].find((p) => p.pid === program.pid)!;
      expect(seen.exe).toBe(program.exe);
      expect(seen.originalName).toBe("cadtool.exe");
      expect((await source.details(seen))?.language).toBe("de-DE");
      expect((await source.details(seen))?.remote).toBe(false);
    } finally {
      await program.stop();
    }
  });
});

if (!skipped) {
  processSourceConformance(
    "Windows (the process list, under Wine)",
    () => host.newSource(),
    () => startTool(),
  );
}
