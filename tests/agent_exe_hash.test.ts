import { afterAll, describe, expect, it } from "vitest";
import { ExeHasher } from "../agent/core/exe_hash.ts";

const children: Deno.ChildProcess[] = [];
const tempDirs: string[] = [];

afterAll(async () => {
  for (const child of children) {
    killQuietly(child);
    await child.status;
  }
  for (const dir of tempDirs) await Deno.remove(dir, { recursive: true }).catch(() => {});
});

/** The file a Linux process runs, as the agent's Linux platform names it. */
const procExe = (pid: number) => `/proc/${pid}/exe`;

function suffix(): string {
  return crypto.randomUUID().slice(0, 8);
}

function killQuietly(child: Deno.ChildProcess): void {
  try {
    child.kill("SIGKILL");
  } catch {
    // Already gone.
  }
}

async function sha256sum(path: string): Promise<string> {
  const output = await new Deno.Command("sha256sum", { args: [path], stdout: "piped" }).output();
  return new TextDecoder().decode(output.stdout).split(" ")[0];
}

async function tempDir(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "meter-hash-test-" });
  tempDirs.push(dir);
  return dir;
}

/** Writes an executable `sleep`, with `extra` bytes after it (it still runs). */
async function writeSleep(path: string, extra = new Uint8Array()): Promise<void> {
  const sleep = await Deno.readFile("/bin/sleep");
  const bytes = new Uint8Array(sleep.length + extra.length);
  bytes.set(sleep);
  bytes.set(extra, sleep.length);
  await Deno.writeFile(path, bytes, { mode: 0o755 });
}

function start(program: string): Deno.ChildProcess {
  const child = spawnFresh(
    new Deno.Command(program, { args: ["60"], stdin: "null", stdout: "null", stderr: "null" }),
  );
  children.push(child);
  return child;
}

/**
 * Spawns, retrying on "Text file busy": a program just written can be briefly
 * held open for writing by a child another thread is forking.
 */
function spawnFresh(command: Deno.Command): Deno.ChildProcess {
  for (let attempt = 0;; attempt++) {
    try {
      return command.spawn();
    } catch (error) {
      if (attempt >= 50 || !String(error).includes("Text file busy")) throw error;
    }
  }
}

async function stop(child: Deno.ChildProcess): Promise<void> {
  killQuietly(child);
  await child.status;
}

describe("ExeHasher", () => {
  it("hashes a renamed copy like the original, once for all its processes", async () => {
    const program = `${await tempDir()}/meter-renamed-${suffix()}`;
    await writeSleep(program);
    const [one, two] = [start(program), start(program)];
    const hasher = new ExeHasher();
    const expected = await sha256sum("/bin/sleep");
    expect(await hasher.sha256(procExe(one.pid))).toBe(expected);
    expect(await hasher.sha256(procExe(two.pid))).toBe(expected);
    expect(await Promise.all([hasher.sha256(procExe(one.pid)), hasher.sha256(procExe(two.pid))]))
      .toEqual([
        expected,
        expected,
      ]);
    expect(hasher.filesHashed).toBe(1);
    await Promise.all([stop(one), stop(two)]);
  });

  it("hashes the file a process runs even after it was deleted or replaced", async () => {
    const dir = await tempDir();
    const program = `${dir}/meter-replaced-${suffix()}`;
    await writeSleep(program);
    const old = start(program);
    const replacement = `${dir}/new`;
    await writeSleep(replacement, new TextEncoder().encode("version 2"));
    await Deno.rename(replacement, program);
    const current = start(program);
    const deleted = `${dir}/meter-deleted-${suffix()}`;
    await writeSleep(deleted);
    const orphan = start(deleted);
    await Deno.remove(deleted);

    const hasher = new ExeHasher();
    const original = await sha256sum("/bin/sleep");
    expect(await hasher.sha256(procExe(old.pid))).toBe(original);
    expect(await hasher.sha256(procExe(current.pid))).toBe(await sha256sum(program));
    expect(await hasher.sha256(procExe(current.pid))).not.toBe(original);
    expect(await hasher.sha256(procExe(orphan.pid))).toBe(original);
    expect(hasher.filesHashed).toBe(3);
    await Promise.all([stop(old), stop(current), stop(orphan)]);
  });

  it("keeps only as many hashes as allowed", async () => {
    const dir = await tempDir();
    const first = `${dir}/meter-a-${suffix()}`;
    const second = `${dir}/meter-b-${suffix()}`;
    await writeSleep(first);
    await writeSleep(second, new Uint8Array([1]));
    const [a, b] = [start(first), start(second)];
    const hasher = new ExeHasher({ maxEntries: 1 });
    for (const child of [a, b, a, b]) await hasher.sha256(procExe(child.pid));
    expect(hasher.filesHashed).toBe(4);
    await hasher.sha256(procExe(b.pid));
    expect(hasher.filesHashed).toBe(4);
    await Promise.all([stop(a), stop(b)]);
  });

  it("answers null for a process that is gone or has no executable", async () => {
    const program = `${await tempDir()}/meter-gone-${suffix()}`;
    await writeSleep(program);
    const child = start(program);
    const pid = child.pid;
    await stop(child);
    const hasher = new ExeHasher();
    expect(await hasher.sha256(procExe(pid))).toBeNull();
    expect(await hasher.sha256(procExe(2))).toBeNull(); // kthreadd, a kernel thread
    expect(await hasher.sha256(procExe(-1))).toBeNull();
  });
});
