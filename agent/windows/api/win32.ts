/**
 * The Windows API calls the agent makes, through `Deno.dlopen`: the process
 * list (`NtQuerySystemInformation`), a process's path, start time and
 * user, the session's client protocol (Remote Desktop or not), and reading
 * the registry. Opened once, on first use, so that importing this module on
 * another system costs nothing.
 *
 * Strings cross as UTF-16: {@linkcode wide} makes a NUL-terminated buffer,
 * {@linkcode readWide} reads one back.
 *
 * @module
 */

const KERNEL32 = {
  OpenProcess: { parameters: ["u32", "i32", "u32"], result: "pointer" },
  CloseHandle: { parameters: ["pointer"], result: "i32" },
  QueryFullProcessImageNameW: {
    parameters: ["pointer", "u32", "buffer", "buffer"],
    result: "i32",
  },
  GetProcessTimes: {
    parameters: ["pointer", "buffer", "buffer", "buffer", "buffer"],
    result: "i32",
  },
} as const;

const NTDLL = {
  NtQuerySystemInformation: {
    parameters: ["u32", "buffer", "u32", "buffer"],
    result: "u32",
  },
} as const;

const ADVAPI32 = {
  OpenProcessToken: { parameters: ["pointer", "u32", "buffer"], result: "i32" },
  GetTokenInformation: {
    parameters: ["pointer", "u32", "buffer", "u32", "buffer"],
    result: "i32",
  },
  LookupAccountSidW: {
    parameters: ["pointer", "pointer", "buffer", "buffer", "buffer", "buffer", "buffer"],
    result: "i32",
  },
  RegOpenKeyExW: { parameters: ["pointer", "buffer", "u32", "u32", "buffer"], result: "i32" },
  RegEnumKeyExW: {
    parameters: ["pointer", "u32", "buffer", "buffer", "pointer", "pointer", "pointer", "pointer"],
    result: "i32",
  },
  RegQueryValueExW: {
    parameters: ["pointer", "buffer", "pointer", "buffer", "buffer", "buffer"],
    result: "i32",
  },
  RegQueryInfoKeyW: {
    parameters: [
      "pointer",
      "pointer",
      "pointer",
      "pointer",
      "buffer",
      "pointer",
      "pointer",
      "pointer",
      "pointer",
      "pointer",
      "pointer",
      "buffer",
    ],
    result: "i32",
  },
  RegCloseKey: { parameters: ["pointer"], result: "i32" },
} as const;

const WTSAPI32 = {
  WTSQuerySessionInformationW: {
    parameters: ["pointer", "u32", "u32", "buffer", "buffer"],
    result: "i32",
  },
  WTSFreeMemory: { parameters: ["pointer"], result: "void" },
} as const;

export interface Win32 {
  ntdll: Deno.DynamicLibrary<typeof NTDLL>["symbols"];
  kernel32: Deno.DynamicLibrary<typeof KERNEL32>["symbols"];
  advapi32: Deno.DynamicLibrary<typeof ADVAPI32>["symbols"];
  /** `null` where Remote Desktop services are absent (some server cores, Wine builds). */
  wtsapi32: Deno.DynamicLibrary<typeof WTSAPI32>["symbols"] | null;
}

let opened: Win32 | undefined;

/** The libraries, opened on first use. */
export function win32(): Win32 {
  if (opened) return opened;
  let wtsapi32: Win32["wtsapi32"] = null;
  try {
    wtsapi32 = Deno.dlopen("wtsapi32.dll", WTSAPI32).symbols;
  } catch {
    // Remote sessions are then never seen; the process source says so once.
  }
  opened = {
    ntdll: Deno.dlopen("ntdll.dll", NTDLL).symbols,
    kernel32: Deno.dlopen("kernel32.dll", KERNEL32).symbols,
    advapi32: Deno.dlopen("advapi32.dll", ADVAPI32).symbols,
    wtsapi32,
  };
  return opened;
}

/** A NUL-terminated UTF-16LE copy of `text`, as the `W` functions take. */
export function wide(text: string): Uint8Array<ArrayBuffer> {
  const buffer = new Uint8Array((text.length + 1) * 2);
  const view = new DataView(buffer.buffer);
  for (let i = 0; i < text.length; i++) view.setUint16(i * 2, text.charCodeAt(i), true);
  return buffer;
}

const utf16 = new TextDecoder("utf-16le");

/** The UTF-16LE text in `buffer` from byte `offset`, up to its first NUL or `maxChars`. */
export function readWide(buffer: Uint8Array, offset = 0, maxChars?: number): string {
  const end = Math.min(buffer.length, offset + (maxChars ?? buffer.length) * 2);
  let stop = offset;
  while (stop + 1 < end && (buffer[stop] !== 0 || buffer[stop + 1] !== 0)) stop += 2;
  return utf16.decode(buffer.subarray(offset, stop));
}

/** A `u32` out-parameter, and a reader for it. */
export function u32Out(initial = 0): Uint32Array<ArrayBuffer> {
  return new Uint32Array([initial]);
}

/** A pointer-sized out-parameter (a handle or an allocated buffer). */
export function pointerOut(): BigUint64Array<ArrayBuffer> {
  return new BigUint64Array(1);
}

/** The pointer an out-parameter received; `null` for 0. */
export function pointerIn(out: BigUint64Array): Deno.PointerValue {
  return Deno.UnsafePointer.create(out[0]);
}

/** 100-nanosecond intervals from 1601 (FILETIME) to 1970. */
const FILETIME_UNIX_EPOCH = 116_444_736_000_000_000n;

/**
 * A FILETIME (100 ns ticks since 1601) as microseconds since the Unix epoch
 * (exact, and safe as a number until 2255); 0 for a zero FILETIME, which
 * Windows gives a process it has not finished creating.
 */
export function fileTimeMicros(ticks: bigint): number {
  return ticks === 0n ? 0 : Number((ticks - FILETIME_UNIX_EPOCH) / 10n);
}
