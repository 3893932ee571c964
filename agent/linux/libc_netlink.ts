/**
 * The libc calls the process connector needs, through `Deno.dlopen`: a
 * netlink socket, its options, `poll` and `recvfrom`, `errno`, the clocks,
 * a pipe to wake the thread that reads the events, and that thread's
 * priority. Opened once, on first use, so that importing this module on
 * another system costs nothing.
 *
 * `poll` is declared twice: `pollWait` is `nonblocking` (Deno runs it on a
 * thread of its own and returns a Promise), so waiting for events never
 * blocks the event loop; `recvfrom` is synchronous and called only with
 * `MSG_DONTWAIT`, on the JavaScript thread, because `errno` is per thread:
 * read after a call made on another thread it would be that thread's.
 *
 * @module
 */

const LIBC = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  sendto: {
    parameters: ["i32", "buffer", "usize", "i32", "buffer", "u32"],
    result: "isize",
  },
  recvfrom: {
    parameters: ["i32", "buffer", "usize", "i32", "buffer", "buffer"],
    result: "isize",
  },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32" },
  pollWait: {
    name: "poll",
    parameters: ["buffer", "u64", "i32"],
    result: "i32",
    nonblocking: true,
  },
  __errno_location: { parameters: [], result: "pointer" },
  strerror: { parameters: ["i32"], result: "pointer" },
  clock_gettime: { parameters: ["i32", "buffer"], result: "i32" },
  gettid: { parameters: [], result: "i32" },
  pipe2: { parameters: ["buffer", "i32"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  setpriority: { parameters: ["i32", "u32", "i32"], result: "i32" },
} as const;

export const AF_NETLINK = 16;
export const SOCK_DGRAM = 2;
export const SOCK_CLOEXEC = 0o2000000;
export const O_CLOEXEC = 0o2000000;
export const O_NONBLOCK = 0o4000;
export const NETLINK_CONNECTOR = 11;
export const SOL_SOCKET = 1;
export const SO_RCVBUF = 8;
export const SO_RCVBUFFORCE = 33;
export const MSG_DONTWAIT = 0x40;
export const POLLIN = 0x1;
export const POLLERR = 0x8;

export const EINTR = 4;
export const EAGAIN = 11;
export const EPERM = 1;
export const EACCES = 13;
export const ENOBUFS = 105;
export const EPROTONOSUPPORT = 93;

export const CLOCK_REALTIME = 0;
const PRIO_PROCESS = 0;
export const CLOCK_MONOTONIC = 1;

type Libc = Deno.DynamicLibrary<typeof LIBC>["symbols"];
let libc: Libc | undefined;

/** libc's symbols, opened on first use. */
export function libcSymbols(): Libc {
  libc ??= Deno.dlopen("libc.so.6", LIBC).symbols;
  return libc;
}

/** The calling thread's `errno`; read right after the failed call. */
export function errno(): number {
  const pointer = libcSymbols().__errno_location();
  return pointer === null ? 0 : new Deno.UnsafePointerView(pointer).getInt32();
}

/** `strerror(code)`, for messages. */
export function errorText(code: number): string {
  const pointer = libcSymbols().strerror(code);
  return pointer === null ? `errno ${code}` : Deno.UnsafePointerView.getCString(pointer);
}

const timespec = new BigInt64Array(2);
const timespecBytes = new Uint8Array(timespec.buffer);

/** `clock_gettime(clock)` in nanoseconds. */
export function clockNs(clock: number): bigint {
  if (libcSymbols().clock_gettime(clock, timespecBytes) !== 0) {
    throw new Error(`clock_gettime(${clock}): ${errorText(errno())}`);
  }
  return timespec[0] * 1_000_000_000n + timespec[1];
}

/**
 * Gives the calling thread (alone: Linux sets a priority per thread) the
 * nice value `nice`; false where that is not allowed (it needs
 * `CAP_SYS_NICE` to go below 0).
 */
export function setThreadNice(nice: number): boolean {
  const libc = libcSymbols();
  return libc.setpriority(PRIO_PROCESS, libc.gettid(), nice) === 0;
}
