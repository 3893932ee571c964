/**
 * A process's `/proc` files read at its exec (`pinProcess`) stand for `/proc`
 * once the run is over: the `/proc` source still reports its program and
 * its details (user, language, a remote session) from them, and without
 * them a run already reaped is unknown.
 *
 * @module
 */
import { afterAll, describe, expect, it } from "vitest";
import { pinProcess } from "../agent/linux/pinned_process.ts";
import { LinuxProcSource } from "../agent/linux/linux_proc_source.ts";
import { UserNames } from "../agent/linux/user_names.ts";
import { SharedRules } from "../agent/linux/shared_rules.ts";
import type { Rule } from "../model/rule.ts";
import { copySleep, uniqueName } from "./helpers/metered_program.ts";

const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "meter-pinned-" }));
afterAll(() => Deno.remove(dir, { recursive: true }));

/**
 * Waits until `pid` runs `path` with its arguments in place: during an exec,
 * `exe` names the new program a moment before `cmdline` is set (the kernel
 * reports the exec only after both).
 */
async function execDone(pid: number, path: string): Promise<void> {
  for (;;) {
    const { exe, cmdline } = pinProcess(pid);
    if (exe === path && cmdline && cmdline.length > 0) return;
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Starts a sleep copy, pins it while it runs, then ends and reaps it. */
async function pinnedThenGone(env: Record<string, string>) {
  const path = await copySleep(dir, uniqueName("mtest-pinned"));
  const child = new Deno.Command(path, { args: ["30"], env, stdout: "null", stderr: "null" })
    .spawn();
  // Until the exec is done, /proc shows the forked Deno.
  await execDone(child.pid, path);
  const pinned = pinProcess(child.pid);
  child.kill("SIGKILL");
  await child.status;
  return { path, pid: child.pid, pinned };
}

describe.skipIf(Deno.build.os !== "linux")("pinned process files", () => {
  it("reads the program, its command line and its environment while it runs", async () => {
    const path = await copySleep(dir, uniqueName("mtest-pinned"));
    const child = new Deno.Command(path, {
      args: ["30"],
      env: { MTEST_PINNED: "yes" },
      stdout: "null",
      stderr: "null",
    }).spawn();
    try {
      await execDone(child.pid, path);
      const pinned = pinProcess(child.pid);
      expect(pinned.stat).toContain(`(${path.split("/").at(-1)!.slice(0, 15)})`);
      expect(new TextDecoder().decode(pinned.cmdline)).toBe(`${path}\u000030\u0000`);
      expect(new TextDecoder().decode(pinned.environ)).toContain("MTEST_PINNED=yes");
      expect(pinned.status).toMatch(/^Uid:/m);
    } finally {
      child.kill("SIGKILL");
      await child.status;
    }
  });

  it("leaves a process that is gone as nothing but absences", () => {
    const gone = pinProcess(2 ** 22 + 1);
    expect(gone).toEqual({ complete: true, exe: null });
  });

  it("reads only the program and stat of a process no rule may match", async () => {
    const path = await copySleep(dir, uniqueName("mtest-pinned"));
    const child = new Deno.Command(path, { args: ["30"], stdout: "null", stderr: "null" }).spawn();
    try {
      await execDone(child.pid, path);
      const seen: (string | null)[] = [];
      const light = pinProcess(child.pid, (exe) => {
        seen.push(exe);
        return false;
      });
      expect(seen).toEqual([path]);
      expect(light.complete).toBe(false);
      expect(light.exe).toBe(path);
      expect(light.stat).toBeDefined();
      expect(light.environ).toBeUndefined();
      expect(light.status).toBeUndefined();
      // Its details then come from /proc, while it runs.
      const source = new LinuxProcSource({ userNames: new UserNames() });
      const info = await source.readNow(child.pid, light);
      expect((await source.details(info!))?.uid).toBe(Deno.uid());
    } finally {
      child.kill("SIGKILL");
      await child.status;
    }
  });

  it("lets the /proc source report a run that ended and was reaped", async () => {
    const { path, pid, pinned } = await pinnedThenGone({ LANG: "de_DE.UTF-8" });
    const source = new LinuxProcSource({ userNames: new UserNames() });
    expect(await source.readNow(pid)).toBeUndefined();
    const info = await source.readNow(pid, pinned);
    expect(info?.exe).toBe(path);
    expect(info?.argv0).toBe(path);
    const details = await source.details(info!);
    expect(details).toMatchObject({ uid: Deno.uid(), language: "de", remote: false });
  });

  it("takes a remote session from the pinned audit session id", async () => {
    const sessionsDir = await Deno.makeTempDir({ dir, prefix: "sessions-" });
    const { pid, pinned } = await pinnedThenGone({});
    Deno.writeTextFileSync(`${sessionsDir}/77`, "REMOTE=1\nREMOTE_HOST=10.0.0.9\n");
    const source = new LinuxProcSource({ userNames: new UserNames(), sessionsDir });
    const info = await source.readNow(pid, { ...pinned, sessionid: "77" });
    expect((await source.details(info!))?.remote).toBe(true);
  });
});

describe("rules shared with the process events' thread", () => {
  const rule = (id: string, fileName: string) => ({ id, name: id, fileName }) as unknown as Rule;

  it("hands over each new set of rules once", () => {
    const writer = new SharedRules();
    const reader = new SharedRules(writer.buffer);
    expect(reader.readChanged()).toBeUndefined();
    writer.write([rule("r1", "cad.exe")]);
    expect(reader.readChanged()).toEqual([rule("r1", "cad.exe")]);
    expect(reader.readChanged()).toBeUndefined();
    writer.write([]);
    expect(reader.readChanged()).toEqual([]);
  });

  it("says there are too many when they do not fit, so every process is read in full", () => {
    const writer = new SharedRules(new SharedArrayBuffer(8 + 64));
    const reader = new SharedRules(writer.buffer);
    writer.write([rule("r1", "x".repeat(100))]);
    expect(reader.readChanged()).toBeNull();
  });
});
