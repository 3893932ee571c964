/**
 * The kernel's process events, read on a thread of their own
 * (`process_events_worker.ts`) so that each new program's `/proc` files are
 * read within microseconds of its exec, and handed to the agent's thread as
 * they come. What {@linkcode LinuxEventSource} consumes; a
 * {@linkcode ProcConnector} read on the agent's own thread serves it as well
 * (the tests use one to make the kernel drop events on purpose).
 *
 * The thread costs about 6 MB (a second JavaScript isolate), the price of
 * seeing runs of a millisecond.
 *
 * @module
 */
import {
  type ProcConnector,
  type ProcConnectorItem,
  type ProcConnectorOptions,
  ProcConnectorUnavailable,
} from "./proc_connector.ts";
import type { Rule } from "../../model/rule.ts";
import { SharedRules } from "./shared_rules.ts";

/** What {@linkcode LinuxEventSource} needs of a stream of process events. */
export type ProcEventFeed = Pick<ProcConnector, "take" | "wait" | "closed" | "close"> & {
  /** The rules in force: only processes one may match are read in full at their exec. */
  watchFor?(rules: readonly Rule[]): void;
};

/** The worker's messages (see its module). */
type WorkerMessage =
  | { type: "ready"; receiveBufferBytes: number; filtered: boolean; raised: boolean }
  | { type: "unavailable"; message: string; errno?: number }
  | { type: "items"; items: ProcConnectorItem[] }
  | { type: "failed"; message: string }
  | { type: "closed" };

/** How long the thread's `poll` lasts when no event comes: what closing may take. */
const IDLE_WAKE_MS = 1_000;
/** How long `close` waits for the thread to stop on its own. */
const STOP_WAIT_MS = 3_000;

export class ProcessEvents implements ProcEventFeed {
  readonly #worker: Worker;
  readonly #stop = new Int32Array(new SharedArrayBuffer(4));
  readonly #rules = new SharedRules();
  #queue: ProcConnectorItem[] = [];
  #failure: Error | undefined;
  #wake: (() => void) | undefined;
  #closed = false;
  #stopped!: () => void;
  readonly #stoppedPromise = new Promise<void>((resolve) => this.#stopped = resolve);
  /** The receive buffer the kernel granted, bytes. */
  receiveBufferBytes = 0;
  /** Whether the kernel sends exec and exit events only (Linux 6.6 and later). */
  filtered = false;
  /** Whether the thread runs at a raised priority (it needs `CAP_SYS_NICE`). */
  raisedPriority = false;

  private constructor(worker: Worker) {
    this.#worker = worker;
  }

  /**
   * Starts the thread and subscribes; throws {@linkcode ProcConnectorUnavailable}
   * where this process may not (see {@linkcode ProcConnector.open}).
   */
  static async open(options: ProcConnectorOptions = {}): Promise<ProcessEvents> {
    const url = new URL("./process_events_worker.ts", import.meta.url);
    const worker = new Worker(url, { type: "module" });
    const events = new ProcessEvents(worker);
    const first = new Promise<WorkerMessage>((resolve) => {
      worker.onmessage = (message: MessageEvent<WorkerMessage>) => {
        worker.onmessage = (later: MessageEvent<WorkerMessage>) => events.#received(later.data);
        resolve(message.data);
      };
      worker.onerror = (error) => {
        error.preventDefault();
        const failed = { type: "failed", message: error.message } as const;
        resolve(failed);
        events.#received(failed);
      };
    });
    // The thread wakes this often when nothing happens, only to see whether it must stop.
    const threadOptions = { waitMs: IDLE_WAKE_MS, ...options };
    worker.postMessage({ options: threadOptions, stop: events.#stop, rules: events.#rules.buffer });
    const answer = await first;
    if (answer.type === "ready") {
      events.receiveBufferBytes = answer.receiveBufferBytes;
      events.filtered = answer.filtered;
      events.raisedPriority = answer.raised;
      return events;
    }
    worker.terminate();
    if (answer.type === "unavailable") {
      throw new ProcConnectorUnavailable(answer.message, answer.errno);
    }
    throw new Error(`process events: ${"message" in answer ? answer.message : answer.type}`);
  }

  /** Every event received so far, in the kernel's order; throws once the thread failed. */
  take(): ProcConnectorItem[] {
    if (this.#failure) throw this.#failure;
    return this.#queue.splice(0);
  }

  /** Waits until events arrive, the thread fails, or the feed closes. */
  async wait(): Promise<void> {
    if (this.#queue.length > 0 || this.#failure || this.#closed) return;
    await new Promise<void>((resolve) => this.#wake = resolve);
  }

  watchFor(rules: readonly Rule[]): void {
    this.#rules.write(rules);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Stops the thread (within its idle poll, a second) and with it the subscription. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    Atomics.store(this.#stop, 0, 1);
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.#stoppedPromise,
      new Promise((resolve) => timer = setTimeout(resolve, STOP_WAIT_MS)),
    ]);
    clearTimeout(timer);
    this.#worker.terminate();
    this.#wakeUp();
  }

  #received(message: WorkerMessage): void {
    if (message.type === "items") this.#queue.push(...message.items);
    else if (message.type === "failed") this.#failure ??= new Error(message.message);
    else if (message.type === "closed") this.#stopped();
    this.#wakeUp();
  }

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
