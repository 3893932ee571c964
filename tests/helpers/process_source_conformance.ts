/**
 * A conformance suite for {@linkcode ProcessSource}, in the manner of
 * automerge-repo's storage and network adapter tests: every source (Linux
 * `/proc`, Windows under Wine, the tests' fake) is checked against the properties
 * the session recorder relies on. A pid reused by a new process is not
 * checked here: a real kernel cannot be made to reuse a pid on demand.
 *
 * @module
 */
import { afterEach, describe, expect, it } from "vitest";
import {
  type ProcessInfo,
  processKey,
  type ProcessSource,
} from "../../agent/core/process_source.ts";

/** A program the suite asked for, running when `startProgram` resolves. */
export interface StartedProgram {
  pid: number;
  /** The path the source must report as its executable. */
  exe: string;
  /** The user name the source must report for it. */
  user: string;
  /** When it was started, ms since the epoch. */
  startedAt: number;
  /** Ends it; once this resolves the process is gone (reaped). */
  stop(): Promise<void>;
}

/** How far a reported start may be from when the test started the program. */
const START_TOLERANCE_MS = 1_000;

/**
 * Registers the suite under `describe(name)`. `makeSource` makes a fresh
 * source; `startProgram` starts a program that source will see, and resolves
 * once it runs its final executable (after any exec).
 */
export function processSourceConformance<S extends ProcessSource>(
  name: string,
  makeSource: () => S | Promise<S>,
  startProgram: (source: S) => Promise<StartedProgram>,
): void {
  describe(`ProcessSource conformance: ${name}`, () => {
    const started: StartedProgram[] = [];
    afterEach(async () => {
      await Promise.all(started.splice(0).map((program) => program.stop()));
    });

    async function run(source: S): Promise<StartedProgram> {
      const program = await startProgram(source);
      started.push(program);
      return program;
    }

    it("lists a started program with its executable and start", async () => {
      const source = await makeSource();
      const program = await run(source);
      const seen = await find(source, program);
      expect(seen).toBeDefined();
      expect(seen!.exe).toBe(program.exe);
      expect(Math.abs(seen!.startMs - program.startedAt)).toBeLessThan(START_TOLERANCE_MS);
    });

    it("keys a process by pid and start, the same in every snapshot", async () => {
      const source = await makeSource();
      const program = await run(source);
      const first = await source.snapshot();
      const second = await source.snapshot();
      const key = [...first.processes].find(([, p]) => p.pid === program.pid)?.[0];
      expect(key).toBeDefined();
      expect(key).toBe(processKey(first.processes.get(key!)!));
      expect(second.processes.get(key!)).toEqual(first.processes.get(key!));
    });

    it("leaves out a program that exited, or reports it once more with its end", async () => {
      const source = await makeSource();
      const program = await run(source);
      const seen = await find(source, program);
      const before = Date.now();
      await program.stop();
      const after = await source.snapshot();
      const ended = after.processes.get(processKey(seen!));
      // A source that saw the exit (an event) may report the process one last time, ended.
      if (ended) {
        expect(ended.endMs).toBeGreaterThanOrEqual(before - 5);
        expect(ended.endMs).toBeLessThanOrEqual(Date.now() + 5);
      }
      expect((await source.snapshot()).processes.has(processKey(seen!))).toBe(false);
    });

    it("gives the real user of a process in its details", async () => {
      const source = await makeSource();
      const program = await run(source);
      const details = await source.details((await find(source, program))!);
      expect(details?.user).toBe(program.user);
      expect(Number.isInteger(details?.uid)).toBe(true);
      expect(typeof details?.remote).toBe("boolean");
    });

    it("has no details for a process that has gone", async () => {
      const source = await makeSource();
      const program = await run(source);
      const seen = await find(source, program);
      // Read while it runs first, so that details kept by a source must be dropped too.
      expect(await source.details(seen!)).toBeDefined();
      await program.stop();
      await source.snapshot();
      expect(await source.details(seen!)).toBeUndefined();
    });

    it("names the same boot in every snapshot", async () => {
      const source = await makeSource();
      const first = await source.snapshot();
      await run(source);
      const second = await source.snapshot();
      expect(first.bootId).not.toBe("");
      expect(second.bootId).toBe(first.bootId);
    });
  });
}

/**
 * The program's process in a fresh snapshot, once listed with its final
 * executable (at most 2 s). `/proc` shows the new executable a moment before
 * the kernel sends the exec event (the loader is still mapping the program),
 * so a source fed by events may, for that moment, list the process under
 * the program it exec'd from; a later snapshot must have the new one.
 */
async function find(
  source: ProcessSource,
  program: StartedProgram,
): Promise<ProcessInfo | undefined> {
  const deadline = Date.now() + 2_000;
  for (;;) {
    const snapshot = await source.snapshot();
    const seen = [...snapshot.processes.values()].find((p) => p.pid === program.pid);
    if (seen?.exe === program.exe || Date.now() > deadline) return seen;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
