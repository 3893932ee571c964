/**
 * A pipe one thread writes a byte to so that another, blocked in `poll` on
 * the other end, wakes up (the self-pipe trick): how the agent's thread asks
 * the process events' thread for what it has read, or to stop, without that
 * thread waking on a timer. File descriptors belong to the process, so
 * either end's number can be handed to a worker.
 *
 * @module
 */
import { errno, errorText, libcSymbols, O_CLOEXEC, O_NONBLOCK } from "./libc_netlink.ts";

export class WakePipe {
  readonly readFd: number;
  readonly writeFd: number;
  readonly #byte = new Uint8Array(1);
  readonly #sink = new Uint8Array(64);

  constructor(fds?: { readFd: number; writeFd: number }) {
    if (fds) {
      this.readFd = fds.readFd;
      this.writeFd = fds.writeFd;
      return;
    }
    const pair = new Int32Array(2);
    if (libcSymbols().pipe2(new Uint8Array(pair.buffer), O_CLOEXEC | O_NONBLOCK) !== 0) {
      throw new Error(`pipe2: ${errorText(errno())}`);
    }
    [this.readFd, this.writeFd] = pair;
  }

  /** Wakes the reader; a full pipe means a wake-up is pending already. */
  wake(): void {
    libcSymbols().write(this.writeFd, this.#byte, 1n);
  }

  /** Empties the pipe (on the reader's side), so that the next `poll` blocks again. */
  drain(): void {
    while (Number(libcSymbols().read(this.readFd, this.#sink, BigInt(this.#sink.length))) > 0) {
      // Each byte is one wake-up; all of them are answered by one look at the shared state.
    }
  }

  close(): void {
    libcSymbols().close(this.readFd);
    libcSymbols().close(this.writeFd);
  }
}
