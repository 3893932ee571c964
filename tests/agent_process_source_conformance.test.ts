/**
 * The process-source conformance suite, run on the Linux `/proc` source and
 * on the kernel's process events backed by it (as root), with
 * real programs (a copy of `sleep` under a unique name, run by a user made
 * for the test) and on the fake source the recorder's tests drive, so the
 * fake is held to what a real source does.
 *
 * @module
 */
import { afterAll, beforeAll } from "vitest";
import { LinuxProcSource } from "../agent/linux/linux_proc_source.ts";
import { LinuxEventSource } from "../agent/linux/linux_event_source.ts";
import { ProcessEvents, type ProcEventFeed } from "../agent/linux/process_events.ts";
import { ProcConnector } from "../agent/linux/proc_connector.ts";
import { FakeClock } from "./helpers/fake_clock.ts";
import { FakeProcessSource } from "./helpers/fake_process_source.ts";
import { copySleep, runProgram, uniqueName } from "./helpers/metered_program.ts";
import {
  processSourceConformance,
  type StartedProgram,
} from "./helpers/process_source_conformance.ts";
import { addUser, removeUser, type SystemUser } from "./helpers/system_users.ts";
import { waitFor } from "./helpers/wait_for.ts";

let dir: string;
let user: SystemUser;

beforeAll(async () => {
  // Another user must be able to enter the directory and run the copy.
  dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "meter-conformance-" }));
  await Deno.chmod(dir, 0o755);
  user = await addUser(uniqueName("mconf"));
});

afterAll(async () => {
  await removeUser(user.name);
  await Deno.remove(dir, { recursive: true }).catch(() => {});
});

/** Runs a sleep copy as the test's user; resolves once it has exec'd the copy. */
async function startSleep(): Promise<StartedProgram> {
  const exe = await copySleep(dir, uniqueName("mtest-sleep"));
  const program = runProgram(exe, 60, { user });
  await waitFor(`pid ${program.pid} running ${exe}`, async () => {
    return await Deno.readLink(`/proc/${program.pid}/exe`).catch(() => "") === exe;
  }, { intervalMs: 10 });
  return {
    pid: program.pid,
    exe,
    user: user.name,
    startedAt: program.startedAt,
    stop: async () => {
      try {
        program.kill();
      } catch {
        // Stopped already.
      }
      await program.ended;
    },
  };
}

processSourceConformance("Linux /proc", () => new LinuxProcSource(), () => startSleep());

// The kernel's process events need root; without it the agent polls, and so does the suite.
const eventSources: LinuxEventSource[] = [];
afterAll(async () => {
  await Promise.all(eventSources.map((source) => source.close()));
});
/** An event source on the feed `open` gives; a polling one where it cannot open. */
function eventSource(open: () => Promise<ProcEventFeed>) {
  return async () => {
    const feed = await open().catch(() => undefined);
    if (!feed) return new LinuxProcSource();
    const source = new LinuxEventSource(new LinuxProcSource(), feed);
    eventSources.push(source);
    return source;
  };
}
processSourceConformance(
  "Linux process events",
  eventSource(() => ProcConnector.open()),
  () => startSleep(),
);
// As the agent runs it: the events read on a thread of their own.
processSourceConformance(
  "Linux process events, read on their own thread",
  eventSource(() => ProcessEvents.open()),
  () => startSleep(),
);

const clock = new FakeClock();
processSourceConformance("fake", () => new FakeProcessSource(clock), (source) => {
  const program = source.start({ exe: "/opt/cad/bin/cad", user: "bob" });
  clock.advance(1_000);
  return Promise.resolve({
    pid: program.pid,
    exe: "/opt/cad/bin/cad",
    user: "bob",
    startedAt: program.startMs,
    stop: () => Promise.resolve(source.stop(program.pid)),
  });
});
