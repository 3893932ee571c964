/**
 * The thread that reads the kernel's process events (`process_events.ts`
 * starts it): it blocks on the connector's socket, and at each exec reads
 * the new process's `/proc` files at once ({@linkcode pinProcess}), then
 * posts the events to the agent's thread.
 *
 * A program like `/bin/true` runs for about half a millisecond after its
 * exec. Waking the agent's own thread through its event loop took long
 * enough to miss about a quarter of such runs (145 of 200 on an idle
 * machine); this thread, blocked in `poll` and doing nothing else, missed 2
 * of 200, and at a raised priority (nice -10, when `CAP_SYS_NICE` allows)
 * 1 of 200 with both cores busy.
 *
 * Reading costs: only a program some rule may match, by its names (the
 * agent's rules come through shared memory, `shared_rules.ts`), is read in
 * full (user, environment, session); of the others only the program and
 * `stat`. Events are posted when the agent asks, at each of its polls
 * (and when a thousand are waiting): waking its thread for each one cost
 * more than reading the process.
 *
 * Messages in: one, `{ options, control, rules, wake }`. The thread never
 * returns to its event loop while it runs, so no later message could reach
 * it: the agent writes to shared memory (`control`: [stop, flushes asked
 * for]) and then a byte to the `wake` pipe, which this thread polls beside
 * the socket. Out: `ready` (with the receive buffer, whether the kernel
 * filters, whether the priority was raised), `unavailable` (with the reason
 * and errno), `items` (events, each exec with `pinned`, and the flushes
 * answered), `failed`, `closed`.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { RuleMatcher } from "../core/rule_matcher.ts";
import { setThreadNice } from "./libc_netlink.ts";
import { pinProcess } from "./pinned_process.ts";
import {
  ProcConnector,
  type ProcConnectorItem,
  type ProcConnectorOptions,
  ProcConnectorUnavailable,
} from "./proc_connector.ts";
import { SharedRules } from "./shared_rules.ts";
import { inTimeOrder } from "./events_in_time_order.ts";
import { WakePipe } from "./wake_pipe.ts";
import { FLUSHES, STOP } from "./events_control.ts";

/** Above ordinary work, so the thread runs as soon as an event wakes it. */
const NICE = -10;
/** Posted without being asked, so what waits stays bounded. */
const POST_AT_MOST = 1000;

const decoder = new TextDecoder();

/** The agent's rules; `null` until they come (or when too many to share): every process in full. */
let matcher: RuleMatcher | null = null;

self.onmessage = async (message: MessageEvent) => {
  const { options, control, rules, wake } = message.data as {
    options: ProcConnectorOptions;
    control: Int32Array;
    rules: SharedArrayBuffer;
    wake: { readFd: number; writeFd: number };
  };
  const sockets = await subscribe(options);
  if (!sockets) return;
  try {
    relay(sockets, control, new SharedRules(rules), new WakePipe(wake));
  } catch (error) {
    self.postMessage({ type: "failed", message: messageOf(error) });
  } finally {
    await sockets.execs.close();
    await sockets.exits?.close();
    self.postMessage({ type: "closed" });
  }
};

/**
 * Exec events wake this thread: the program must be read before it ends.
 * Exit events can wait for the agent's poll, so where the kernel can send
 * them apart (Linux 6.6) they go to a second socket that is only drained
 * then: the exits of every thread on the computer wake nothing.
 */
interface Sockets {
  execs: ProcConnector;
  exits?: ProcConnector;
}

/** Opens the sockets and says whether it could; `undefined` when not. */
async function subscribe(options: ProcConnectorOptions): Promise<Sockets | undefined> {
  let sockets: Sockets | undefined;
  try {
    const execs = await ProcConnector.open({ ...options, only: "exec" });
    sockets = { execs };
    if (execs.filtered) sockets.exits = await ProcConnector.open({ ...options, only: "exit" });
  } catch (error) {
    await sockets?.execs.close();
    const unavailable = error instanceof ProcConnectorUnavailable;
    self.postMessage({
      type: unavailable ? "unavailable" : "failed",
      message: messageOf(error),
      errno: unavailable ? error.errno : undefined,
    });
    return undefined;
  }
  const raised = setThreadNice(NICE);
  const { receiveBufferBytes, filtered } = sockets.execs;
  self.postMessage({ type: "ready", receiveBufferBytes, filtered, raised });
  return sockets;
}

/** Pins events as they come and posts them when asked, until told to stop; blocks throughout. */
function relay({ execs, exits }: Sockets, control: Int32Array, rules: SharedRules, wake: WakePipe) {
  let batch: ProcConnectorItem[] = [];
  let flushed = 0;
  for (;;) {
    wake.drain();
    const changed = rules.readChanged();
    if (changed !== undefined) matcher = changed && new RuleMatcher(changed);
    // Read before taking: every event queued before the agent asked is then taken.
    const asked = Atomics.load(control, FLUSHES);
    const stopping = Atomics.load(control, STOP) !== 0;
    const post = asked !== flushed || batch.length >= POST_AT_MOST || stopping;
    // Exits before execs: a process's exec comes before its exit, so each exit
    // taken has its exec taken by then, and no exit goes ahead of its exec.
    const ended = post && exits ? exits.take() : [];
    for (const item of execs.take()) {
      batch.push(item.type === "exec" ? { ...item, pinned: pinProcess(item.pid, wanted) } : item);
    }
    if (post) {
      self.postMessage({ type: "items", items: inTimeOrder(batch, ended), flushed: asked });
      batch = [];
      flushed = asked;
    }
    if (stopping) return;
    execs.waitBlocking(wake.readFd);
  }
}

/** Whether a rule may match the program: by its names only, as the agent judges first. */
function wanted(exe: string | null, cmdline: Uint8Array | undefined): boolean {
  if (!matcher) return true;
  const end = cmdline ? cmdline.indexOf(0) : -1;
  const argv0 = cmdline ? decoder.decode(end < 0 ? cmdline : cmdline.subarray(0, end)) : "";
  const process = { pid: 0, startTicks: 0, startMs: 0, ppid: 0, comm: "", exe, argv0 };
  return matcher.candidates(process).length > 0;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
