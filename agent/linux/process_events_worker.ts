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
 * Messages in: `{ type: "start", options, stop }`, `stop` an `Int32Array`
 * on shared memory that the agent sets to 1 to end the loop (the thread
 * never returns to its event loop while it runs, so a message could not
 * reach it). Out: `ready` (with the receive buffer), `unavailable` (with
 * the reason and errno), `items` (events, each exec with `pinned`),
 * `failed`, `closed`.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { setThreadNice } from "./libc_netlink.ts";
import { pinProcess } from "./pinned_process.ts";
import {
  ProcConnector,
  type ProcConnectorItem,
  type ProcConnectorOptions,
  ProcConnectorUnavailable,
} from "./proc_connector.ts";

/** Above ordinary work, so the thread runs as soon as an event wakes it. */
const NICE = -10;

self.onmessage = async (message: MessageEvent) => {
  const { options, stop } = message.data as { options: ProcConnectorOptions; stop: Int32Array };
  let connector: ProcConnector;
  try {
    connector = await ProcConnector.open(options);
  } catch (error) {
    const unavailable = error instanceof ProcConnectorUnavailable;
    self.postMessage({
      type: unavailable ? "unavailable" : "failed",
      message: error instanceof Error ? error.message : String(error),
      errno: unavailable ? error.errno : undefined,
    });
    return;
  }
  const raised = setThreadNice(NICE);
  self.postMessage({ type: "ready", receiveBufferBytes: connector.receiveBufferBytes, raised });
  try {
    while (Atomics.load(stop, 0) === 0) {
      const items = connector.take();
      if (items.length > 0) self.postMessage({ type: "items", items: items.map(pinned) });
      connector.waitBlocking();
    }
  } catch (error) {
    self.postMessage({
      type: "failed",
      message: error instanceof Error ? error.message : String(error),
    });
  } finally {
    await connector.close();
    self.postMessage({ type: "closed" });
  }
};

function pinned(item: ProcConnectorItem): ProcConnectorItem {
  return item.type === "exec" ? { ...item, pinned: pinProcess(item.pid) } : item;
}
