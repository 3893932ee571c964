/**
 * The kernel's process events behind the session recorder, with real
 * programs: a flood of short runs that overflows a deliberately tiny receive
 * buffer makes the source say events were lost and scan `/proc`, no run is
 * stored twice, and a program running through the flood is one session.
 *
 * @module
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openAgentDatabase } from "../agent/agent_db.ts";
import { SessionRecorder } from "../agent/core/session_recorder.ts";
import { LinuxEventSource } from "../agent/linux/linux_event_source.ts";
import { LinuxProcSource } from "../agent/linux/linux_proc_source.ts";
import { ProcConnector } from "../agent/linux/proc_connector.ts";
import { Mutex } from "../lib/mutex.ts";
import type { Client } from "../store/db.ts";
import { copySleep, runProgram, tempDir, uniqueName } from "./helpers/metered_program.ts";
import { testRule } from "./helpers/test_rule.ts";
import { sleep } from "./helpers/wait_for.ts";

const isRoot = Deno.build.os === "linux" && Deno.uid() === 0;

describe.skipIf(!isRoot)(`process events lost${isRoot ? "" : " (skipped: needs root)"}`, () => {
  let temp: Awaited<ReturnType<typeof tempDir>>;
  let db: Client;
  let source: LinuxEventSource;

  beforeAll(async () => {
    temp = await tempDir("meter-event-source-");
    db = await openAgentDatabase(join(temp.dir, "agent.db"));
    // The smallest buffer the kernel grants: a few events and it overflows.
    const connector = await ProcConnector.open({ receiveBufferBytes: 1 });
    source = new LinuxEventSource(new LinuxProcSource(), connector);
  });

  afterAll(async () => {
    await source?.close();
    db?.close();
    await temp?.remove();
  });

  it("rescans after an overflow and stores no run twice", async () => {
    const floodName = uniqueName("mtest-flood");
    const longName = uniqueName("mtest-long");
    const flood = await copySleep(temp.dir, floodName);
    const long = await copySleep(temp.dir, longName);
    const recorder = new SessionRecorder({
      db,
      source,
      lock: new Mutex(),
      hashOf: () => Promise.resolve(null),
      versionOf: () => Promise.resolve(null),
    });
    await recorder.load();
    recorder.setRules([
      testRule("S01-1", { fileName: floodName }),
      testRule("S01-2", { fileName: longName }),
    ]);
    await recorder.poll();
    const running = runProgram(long, 30);
    // 300 runs of 10 ms, 20 at a time, as fast as the shell starts them.
    const loop = `for i in $(seq 15); do for j in $(seq 20); do "${flood}" 0.01 & done; wait; done`;
    const shell = new Deno.Command("sh", { args: ["-c", loop] }).spawn();
    let flooding = true;
    shell.status.then(() => flooding = false);
    // Polls every 200 ms while the flood runs, as an agent does (one poll at a time).
    while (flooding) {
      await recorder.poll();
      await sleep(200);
    }
    await recorder.poll();
    running.kill();
    await running.ended;
    await recorder.poll();
    await recorder.poll();

    expect(source.lostEvents).toBeGreaterThan(0);
    const twice = await db.execute(
      "SELECT pid, start_ticks, count(*) AS n FROM agent_sessions " +
        "GROUP BY pid, start_ticks HAVING n > 1",
    );
    expect(twice.rows).toEqual([]);
    const flooded = await db.execute(
      "SELECT count(*) AS n FROM agent_sessions WHERE rule_id = 'S01-1'",
    );
    console.log(`flood: ${flooded.rows[0].n} of 300 runs stored, ${source.lostEvents} losses`);
    expect(Number(flooded.rows[0].n)).toBeLessThanOrEqual(300);
    const longRuns = await db.execute(
      "SELECT pid, end_ms FROM agent_sessions WHERE rule_id = 'S01-2'",
    );
    expect(longRuns.rows.map((row) => row.pid)).toEqual([running.pid]);
    expect(longRuns.rows[0].end_ms).not.toBeNull();
  });
});
