/**
 * The kernel's process events, read on a thread of their own
 * (`process_events_worker.ts`) so that each new program's `/proc` files are
 * read within microseconds of its exec, and handed to the agent's thread
 * when it asks ({@linkcode ProcessEvents.flush}, at each poll): its thread
 * does not wake for each event. What {@linkcode LinuxEventSource} consumes; a
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
import { WakePipe } from "./wake_pipe.ts";
import { CONTROL_LENGTH, FLUSHES, STOP } from "./events_control.ts";

/** What {@linkcode LinuxEventSource} needs of a stream of process events. */
export type ProcEventFeed = Pick<ProcConnector, "take" | "wait" | "closed" | "close"> & {
  /** The rules in force: only processes one may match are read in full at their exec. */
  watchFor?(rules: readonly Rule[]): void;
  /** Makes every event the kernel sent before the call available to `take`. */
  flush?(): Promise<void>;
};

/** The worker's messages (see its module). */
type WorkerMessage =
  | { type: "ready"; receiveBufferBytes: number; filtered: boolean; raised: boolean }
  | { type: "unavailable"; message: string; errno?: number }
  | { type: "items"; items: ProcConnectorItem[]; flushed: number }
  | { type: "failed"; message: string }
  | { type: "closed" };

/** How long a flush or a stop waits for the thread before going on without it. */
const ANSWER_WAIT_MS = 2_000;

export class ProcessEvents implements ProcEventFeed {
  readonly #worker: Worker;
  readonly #control = new Int32Array(new SharedArrayBuffer(CONTROL_LENGTH * 4));
  readonly #rules = new SharedRules();
  readonly #wakePipe = new WakePipe();
  #queue: ProcConnectorItem[] = [];
  #flushed = 0;
  #failure: Error | undefined;
  #waiters: (() => void)[] = [];
  #closed = false;
  #stopped = false;
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
    const { readFd, writeFd } = events.#wakePipe;
    const rules = events.#rules.buffer;
    worker.postMessage({ options, control: events.#control, rules, wake: { readFd, writeFd } });
    const answer = await first;
    if (answer.type === "ready") {
      events.receiveBufferBytes = answer.receiveBufferBytes;
      events.filtered = answer.filtered;
      events.raisedPriority = answer.raised;
      return events;
    }
    events.#end();
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
    await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  /** Asks the thread for what it has read, and waits for it (at most 2 s). */
  async flush(): Promise<void> {
    if (this.#closed || this.#failure) return;
    const asked = Atomics.add(this.#control, FLUSHES, 1) + 1;
    this.#wakePipe.wake();
    await this.#until(() => this.#flushed >= asked || this.#failure !== undefined);
  }

  watchFor(rules: readonly Rule[]): void {
    this.#rules.write(rules);
    this.#wakePipe.wake();
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Stops the thread and with it the subscription. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    Atomics.store(this.#control, STOP, 1);
    this.#wakePipe.wake();
    await this.#until(() => this.#stopped);
    this.#end();
  }

  /** Waits until `done()` holds after a message, or {@linkcode ANSWER_WAIT_MS} pass. */
  async #until(done: () => boolean): Promise<void> {
    const deadline = Date.now() + ANSWER_WAIT_MS;
    while (!done() && Date.now() < deadline) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.#waiters.push(resolve)),
        new Promise((resolve) => timer = setTimeout(resolve, deadline - Date.now())),
      ]);
      clearTimeout(timer);
    }
  }

  #end(): void {
    this.#worker.terminate();
    this.#wakePipe.close();
  }

  #received(message: WorkerMessage): void {
    if (message.type === "items") {
      this.#queue.push(...message.items);
      this.#flushed = Math.max(this.#flushed, message.flushed);
    } else if (message.type === "failed") this.#failure ??= new Error(message.message);
    else if (message.type === "closed") this.#stopped = true;
    for (const wake of this.#waiters.splice(0)) wake();
  }
}
