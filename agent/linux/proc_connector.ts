/**
 * Process exec and exit events from the kernel's netlink process connector
 * (`NETLINK_CONNECTOR`, group `CN_IDX_PROC`), so the agent can see programs
 * that start and end between two polls of `/proc`.
 *
 * The kernel sends one datagram per event: a `struct nlmsghdr` (16 bytes),
 * a `struct cn_msg` (20 bytes: `id {idx, val}`, `seq`, `ack`, `len` u16,
 * `flags` u16; `linux/connector.h`), then a `struct proc_event`
 * (`linux/cn_proc.h`):
 *
 * | offset | field                                                        |
 * | ------ | ------------------------------------------------------------ |
 * | 0      | `what` u32 (`PROC_EVENT_EXEC` 2, `PROC_EVENT_EXIT` 0x80000000) |
 * | 4      | `cpu` u32                                                    |
 * | 8      | `timestamp_ns` u64, from `ktime_get_ns()`: `CLOCK_MONOTONIC` |
 * | 16     | exec: `process_pid`, `process_tgid` (i32 each)               |
 * | 16     | exit: `process_pid`, `process_tgid`, `exit_code` u32, `exit_signal` u32, `parent_pid`, `parent_tgid` |
 * | 16     | ack (`what` 0): `err` u32                                    |
 *
 * Numbers are in host order (little-endian on x86-64 and arm64, the
 * agent's targets). The header's comment calls the timestamp "nano seconds
 * since system boot", but `drivers/connector/cn_proc.c` fills it with
 * `ktime_get_ns()`, the monotonic clock, which stops while the machine is
 * suspended; it is turned into epoch milliseconds with the offset between
 * `CLOCK_REALTIME` and `CLOCK_MONOTONIC`, measured again every second.
 *
 * Only process-level events are reported: a thread's exit has
 * `pid !== tgid` and is dropped (an exec is always reported by the thread
 * group leader: the kernel makes the exec'ing thread the leader first).
 * The kernel reports each task's exit when that task exits, so a program
 * whose main thread ends with `pthread_exit` while other threads run on is
 * reported ended early (`/proc/PID/status` then still lists `Threads:`).
 * An event carries no path: the consumer reads `/proc/PID/exe` on exec.
 * When the socket's receive buffer overflows the kernel drops events and
 * the next receive fails with `ENOBUFS`; that becomes a `lost` item, after
 * which the consumer should rescan `/proc`.
 *
 * Linux 6.6 and later send a listener only the event types it asked for
 * (`struct proc_input`); the connector asks for exec and exit only, else
 * it receives every event (fork, uid, comm, ...) and drops the others.
 *
 * Datagrams not sent by the kernel (sender port id other than 0) are
 * ignored: any local process may send to a netlink socket's port id, but
 * only the kernel (or `CAP_NET_ADMIN`) may send to the group.
 *
 * Waiting uses `poll` declared `nonblocking` (a Deno thread per wait, at
 * most `waitMs` long so {@linkcode ProcConnector.close} returns within it),
 * or, on a thread that does nothing else, a blocking `poll`
 * ({@linkcode ProcConnector.waitBlocking}); receiving is a synchronous
 * `recvfrom(MSG_DONTWAIT)` on the calling thread, so `errno` is that
 * thread's.
 *
 * @module
 */
import {
  AF_NETLINK,
  CLOCK_MONOTONIC,
  CLOCK_REALTIME,
  clockNs,
  EAGAIN,
  EINTR,
  ENOBUFS,
  errno,
  errorText,
  libcSymbols,
  MSG_DONTWAIT,
  NETLINK_CONNECTOR,
  POLLIN,
  SO_RCVBUF,
  SO_RCVBUFFORCE,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
  SOL_SOCKET,
} from "./libc_netlink.ts";
import type { PinnedProcess } from "./pinned_process.ts";

const CN_IDX_PROC = 1;
const CN_VAL_PROC = 1;
const PROC_CN_MCAST_LISTEN = 1;
const NLMSG_DONE = 3;
const NLMSG_HDRLEN = 16;
const CN_MSG_LEN = 20;
const PROC_EVENT_NONE = 0;
const PROC_EVENT_EXEC = 2;
const PROC_EVENT_EXIT = 0x80000000;
/** `what`, `cpu`, `timestamp_ns`, then the union's largest member (24 bytes). */
const PROC_EVENT_LEN = 40;
const SOCKADDR_NL_LEN = 12;

/** A program started (`execve`) in process `pid`. */
export interface ProcExecEvent {
  type: "exec";
  pid: number;
  /** When, in epoch milliseconds (fractional). */
  time: number;
  /** The kernel's timestamp, `CLOCK_MONOTONIC` nanoseconds. */
  monotonicNs: bigint;
  /** Its `/proc` files, when the events' thread read them at once. */
  pinned?: PinnedProcess;
}

/** Process `pid` ended (its last thread exited; it may not be reaped yet). */
export interface ProcExitEvent {
  type: "exit";
  pid: number;
  time: number;
  monotonicNs: bigint;
  /** The task's exit code, as `wait` encodes it (status << 8, or the signal). */
  exitCode: number;
  exitSignal: number;
  parentPid: number;
}

export type ProcEvent = ProcExecEvent | ProcExitEvent;

/** Events were dropped (the receive buffer overflowed): rescan. */
export interface ProcEventsLost {
  type: "lost";
}

export type ProcConnectorItem = ProcEvent | ProcEventsLost;

/** The connector cannot be used here (not root, in a container, no kernel support). */
export class ProcConnectorUnavailable extends Error {
  constructor(message: string, readonly errno?: number) {
    super(message);
    this.name = "ProcConnectorUnavailable";
  }
}

export interface ProcConnectorOptions {
  /**
   * The socket's receive buffer, bytes (the kernel doubles it and counts
   * about 1 KiB per queued event). 8 MiB unless set; tests set it tiny to
   * make the kernel drop events.
   */
  receiveBufferBytes?: number;
  /** The longest single wait, so `close` returns within it (ms). */
  waitMs?: number;
  /** How long `open` waits for the kernel to acknowledge the subscription (ms). */
  ackTimeoutMs?: number;
  /**
   * Only exec or only exit events, where the kernel filters (Linux 6.6);
   * elsewhere this socket gets every event, and `filtered` says so.
   */
  only?: "exec" | "exit";
}

/** What one datagram held. */
type Parsed =
  | { kind: "event"; event: ProcEvent }
  | { kind: "ack"; seq: number; ack: number; err: number }
  | { kind: "other" };

/**
 * Parses one datagram from the connector into the messages it holds
 * (exported for tests). `offsetNs` turns monotonic into epoch time.
 */
export function parseDatagram(bytes: Uint8Array, length: number, offsetNs: bigint): Parsed[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, length);
  const out: Parsed[] = [];
  let at = 0;
  while (at + NLMSG_HDRLEN <= length) {
    const messageLength = view.getUint32(at, true);
    const type = view.getUint16(at + 4, true);
    if (messageLength < NLMSG_HDRLEN || at + messageLength > length) break;
    out.push(
      type === NLMSG_DONE
        ? parseConnectorMessage(view, at + NLMSG_HDRLEN, messageLength - NLMSG_HDRLEN, offsetNs)
        : { kind: "other" },
    );
    at += (messageLength + 3) & ~3;
  }
  return out;
}

function parseConnectorMessage(
  view: DataView,
  at: number,
  length: number,
  offsetNs: bigint,
): Parsed {
  if (length < CN_MSG_LEN + 16) return { kind: "other" };
  if (view.getUint32(at, true) !== CN_IDX_PROC || view.getUint32(at + 4, true) !== CN_VAL_PROC) {
    return { kind: "other" };
  }
  const seq = view.getUint32(at + 8, true);
  const ack = view.getUint32(at + 12, true);
  const dataLength = Math.min(view.getUint16(at + 16, true), length - CN_MSG_LEN);
  const event = at + CN_MSG_LEN;
  const what = view.getUint32(event, true);
  if (what === PROC_EVENT_NONE && dataLength >= 20) {
    return { kind: "ack", seq, ack, err: view.getUint32(event + 16, true) };
  }
  const monotonicNs = view.getBigUint64(event + 8, true);
  const time = Number((monotonicNs + offsetNs) / 1000n) / 1000;
  if (what === PROC_EVENT_EXEC && dataLength >= 24) {
    const pid = view.getInt32(event + 16, true);
    const tgid = view.getInt32(event + 20, true);
    if (pid !== tgid) return { kind: "other" };
    return { kind: "event", event: { type: "exec", pid, time, monotonicNs } };
  }
  if (what === PROC_EVENT_EXIT && dataLength >= PROC_EVENT_LEN) {
    const pid = view.getInt32(event + 16, true);
    const tgid = view.getInt32(event + 20, true);
    if (pid !== tgid) return { kind: "other" };
    return {
      kind: "event",
      event: {
        type: "exit",
        pid,
        time,
        monotonicNs,
        exitCode: view.getUint32(event + 24, true),
        exitSignal: view.getUint32(event + 28, true),
        parentPid: view.getInt32(event + 36, true),
      },
    };
  }
  return { kind: "other" };
}

/**
 * `CLOCK_REALTIME - CLOCK_MONOTONIC` in ns, read between two monotonic
 * reads (a few hundred ns apart) and taken at their middle.
 */
export function realtimeOffsetNs(): bigint {
  const before = clockNs(CLOCK_MONOTONIC);
  const real = clockNs(CLOCK_REALTIME);
  const after = clockNs(CLOCK_MONOTONIC);
  return real - (before + after) / 2n;
}

function int32Bytes(value: number): Uint8Array {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setInt32(0, value, true);
  return bytes;
}

/**
 * Whether this kernel filters events per listener (Linux 6.6): asked with a
 * `struct proc_input` instead of the bare op, it sends only the events
 * asked for, sparing the agent a datagram for every fork of every thread.
 */
function kernelFilters(): boolean {
  const [major, minor] = Deno.osRelease().split(".").map((part) => parseInt(part, 10));
  return major > 6 || (major === 6 && minor >= 6);
}

function sockaddrNl(groups: number): Uint8Array {
  const bytes = new Uint8Array(SOCKADDR_NL_LEN);
  const view = new DataView(bytes.buffer);
  view.setUint16(0, AF_NETLINK, true);
  view.setUint32(4, 0, true); // nl_pid 0: the kernel picks this socket's port id
  view.setUint32(8, groups, true);
  return bytes;
}

/** A subscription to the kernel's process events; one consumer at a time. */
export class ProcConnector {
  readonly #fd: number;
  readonly #waitMs: number;
  readonly #buffer = new Uint8Array(8192);
  readonly #from = new Uint8Array(SOCKADDR_NL_LEN);
  readonly #fromLength = new Uint32Array(1);
  readonly #pollFd = new Uint8Array(8);
  #backlog: ProcConnectorItem[] = [];
  #offsetNs: bigint;
  #offsetAt: number;
  #closed = false;
  #waiting: Promise<number> | undefined;
  /** The receive buffer the kernel granted, bytes. */
  readonly receiveBufferBytes: number;
  /** Whether the kernel was asked for the events wanted only (Linux 6.6 and later). */
  filtered = false;
  /**
   * Messages received and dropped: forks, threads' exits, other event types
   * (fewer where the kernel filters), acknowledgements, and anything a
   * process (not the kernel) sent to this socket.
   */
  otherMessages = 0;

  private constructor(fd: number, waitMs: number, receiveBufferBytes: number) {
    this.#fd = fd;
    this.#waitMs = waitMs;
    this.receiveBufferBytes = receiveBufferBytes;
    new DataView(this.#pollFd.buffer).setInt32(0, fd, true);
    new DataView(this.#pollFd.buffer).setInt16(4, POLLIN, true);
    this.#offsetNs = realtimeOffsetNs();
    this.#offsetAt = performance.now();
  }

  /**
   * Opens the socket and subscribes; throws {@linkcode ProcConnectorUnavailable}
   * when this process may not (not root: `EPERM`), when the kernel has no
   * connector (`EPROTONOSUPPORT`), or when it does not acknowledge (in a
   * container's user or pid namespace the kernel ignores the request).
   */
  static async open(options: ProcConnectorOptions = {}): Promise<ProcConnector> {
    if (Deno.build.os !== "linux") {
      throw new ProcConnectorUnavailable("the process connector exists only on Linux");
    }
    const libc = libcSymbols();
    const fd = libc.socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_CONNECTOR);
    if (fd < 0) {
      const code = errno();
      throw new ProcConnectorUnavailable(
        `socket(AF_NETLINK, NETLINK_CONNECTOR): ${errorText(code)}`,
        code,
      );
    }
    let connector: ProcConnector | undefined;
    try {
      const wanted = int32Bytes(options.receiveBufferBytes ?? 8 * 1024 * 1024);
      // Root may exceed net.core.rmem_max; anyone else gets at most that.
      if (libc.setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, wanted, 4) !== 0) {
        libc.setsockopt(fd, SOL_SOCKET, SO_RCVBUF, wanted, 4);
      }
      const granted = new Int32Array(1);
      const grantedLength = new Uint32Array([4]);
      libc.getsockopt(
        fd,
        SOL_SOCKET,
        SO_RCVBUF,
        new Uint8Array(granted.buffer),
        new Uint8Array(grantedLength.buffer),
      );
      const address = sockaddrNl(CN_IDX_PROC);
      if (libc.bind(fd, address, SOCKADDR_NL_LEN) !== 0) {
        const code = errno();
        throw new ProcConnectorUnavailable(
          `bind to the process connector's group: ${errorText(code)}`,
          code,
        );
      }
      connector = new ProcConnector(fd, options.waitMs ?? 250, granted[0]);
      const timeoutMs = options.ackTimeoutMs ?? 1000;
      if (!await connector.#listen(timeoutMs)) {
        throw new ProcConnectorUnavailable(
          `the kernel did not acknowledge PROC_CN_MCAST_LISTEN within ${timeoutMs} ms ` +
            "(it ignores the request from a container's user or pid namespace)",
        );
      }
      // Then the filter: its acknowledgement is an event of type none, which the filter
      // itself drops, so it is sent unanswered once the plain request was answered.
      const eventTypes = options.only === "exec"
        ? PROC_EVENT_EXEC
        : options.only === "exit"
        ? PROC_EVENT_EXIT
        : PROC_EVENT_EXEC | PROC_EVENT_EXIT;
      if (kernelFilters()) connector.#send(eventTypes);
      connector.filtered = kernelFilters();
      return connector;
    } catch (error) {
      if (connector) await connector.close();
      else libc.close(fd);
      throw error;
    }
  }

  /**
   * Sends `PROC_CN_MCAST_LISTEN`: with `eventTypes`, as a `struct
   * proc_input` asking for those types only (Linux 6.6; an older kernel
   * ignores it). Returns the `ack` the answer will carry, minus one.
   */
  #send(eventTypes?: number): number {
    const seq = crypto.getRandomValues(new Uint32Array(1))[0];
    const ack = crypto.getRandomValues(new Uint32Array(1))[0] >>> 1;
    const dataLength = eventTypes === undefined ? 4 : 8;
    const length = NLMSG_HDRLEN + CN_MSG_LEN + dataLength;
    const message = new Uint8Array(length);
    const view = new DataView(message.buffer);
    view.setUint32(0, length, true); // nlmsg_len
    view.setUint16(4, NLMSG_DONE, true); // nlmsg_type
    view.setUint32(8, seq, true); // nlmsg_seq
    view.setUint32(16, CN_IDX_PROC, true); // cn_msg.id.idx
    view.setUint32(20, CN_VAL_PROC, true); // cn_msg.id.val
    view.setUint32(24, seq, true); // cn_msg.seq
    view.setUint32(28, ack, true); // cn_msg.ack
    view.setUint16(32, dataLength, true); // cn_msg.len
    view.setUint32(36, PROC_CN_MCAST_LISTEN, true); // proc_input.mcast_op
    if (eventTypes !== undefined) view.setUint32(40, eventTypes, true); // proc_input.event_type
    const libc = libcSymbols();
    if (Number(libc.sendto(this.#fd, message, BigInt(length), 0, sockaddrNl(0), 12)) < 0) {
      const code = errno();
      throw new ProcConnectorUnavailable(
        `sending PROC_CN_MCAST_LISTEN: ${errorText(code)}`,
        code,
      );
    }
    return ack;
  }

  /** Subscribes and waits for the kernel's acknowledgement; false when none came. */
  async #listen(timeoutMs: number): Promise<boolean> {
    const ack = this.#send();
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      for (const parsed of this.#drain()) {
        // The kernel answers with ack + 1; it overwrites seq with its own
        // per-cpu event counter, so only ack identifies the answer.
        if (parsed.kind === "ack" && parsed.ack === ack + 1) {
          if (parsed.err !== 0) {
            throw new ProcConnectorUnavailable(
              `the kernel refused PROC_CN_MCAST_LISTEN: ${errorText(parsed.err)}`,
              parsed.err,
            );
          }
          return true;
        }
        if (parsed.kind === "event") this.#backlog.push(parsed.event);
        if (parsed.kind === "lost") this.#backlog.push({ type: "lost" });
      }
      await this.#wait(Math.max(1, Math.min(this.#waitMs, deadline - performance.now())));
    }
    return false;
  }

  /** Receives every datagram queued now, without blocking. */
  *#drain(): Generator<Parsed | { kind: "lost" }> {
    const libc = libcSymbols();
    while (!this.#closed) {
      this.#fromLength[0] = SOCKADDR_NL_LEN;
      const received = Number(libc.recvfrom(
        this.#fd,
        this.#buffer,
        BigInt(this.#buffer.length),
        MSG_DONTWAIT,
        this.#from,
        new Uint8Array(this.#fromLength.buffer),
      ));
      if (received < 0) {
        const code = errno();
        if (code === EINTR) continue;
        if (code === EAGAIN) return;
        if (code === ENOBUFS) {
          yield { kind: "lost" };
          continue;
        }
        throw new Error(`recvfrom on the process connector: ${errorText(code)}`);
      }
      // nl_pid of the sender: 0 is the kernel; anything else is a process.
      if (new DataView(this.#from.buffer).getUint32(4, true) !== 0) {
        this.otherMessages++;
        continue;
      }
      if (performance.now() - this.#offsetAt > 1000) {
        this.#offsetNs = realtimeOffsetNs();
        this.#offsetAt = performance.now();
      }
      yield* parseDatagram(this.#buffer, received, this.#offsetNs);
    }
  }

  /** Waits until a datagram (or an error) is queued, or `ms` pass. */
  async #wait(ms: number): Promise<void> {
    this.#waiting = libcSymbols().pollWait(this.#pollFd, 1n, Math.ceil(ms));
    try {
      await this.#waiting;
    } finally {
      this.#waiting = undefined;
    }
  }

  /**
   * The events as they come, until {@linkcode close}; `lost` when the
   * kernel dropped some. Iterate it from one place only.
   */
  async *events(): AsyncGenerator<ProcConnectorItem> {
    while (!this.#closed) {
      yield* this.take();
      if (this.#closed) return;
      await this.wait();
    }
  }

  /**
   * Every event queued now, in order, without waiting: a reader that must
   * see everything that happened before a moment takes them then.
   */
  take(): ProcConnectorItem[] {
    const items = this.#backlog.splice(0);
    for (const parsed of this.#drain()) {
      if (parsed.kind === "event") items.push(parsed.event);
      else if (parsed.kind === "lost") items.push({ type: "lost" });
      else if (parsed.kind === "other") this.otherMessages++;
    }
    return items;
  }

  /**
   * Blocks the calling thread until a datagram is queued or `wakeFd` (a
   * pipe another thread writes to) is readable: for a thread that does
   * nothing else (`process_events_worker.ts`), which then wakes within
   * microseconds of an exec.
   */
  waitBlocking(wakeFd: number): void {
    if (this.#closed) return;
    const both = new Uint8Array(16);
    both.set(this.#pollFd);
    new DataView(both.buffer).setInt32(8, wakeFd, true);
    new DataView(both.buffer).setInt16(12, POLLIN, true);
    libcSymbols().poll(both, 2n, -1);
  }

  /** Waits until an event is queued, or `waitMs` pass, or the connector closes. */
  async wait(): Promise<void> {
    if (!this.#closed) await this.#wait(this.#waitMs);
  }

  /** Whether {@linkcode close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Stops the events (within `waitMs`) and closes the socket. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // The socket is closed only once no poll uses it: a number closed under a
    // waiting thread could be reused by another file meanwhile.
    while (this.#waiting) await this.#waiting.catch(() => {});
    libcSymbols().close(this.#fd);
  }
}
