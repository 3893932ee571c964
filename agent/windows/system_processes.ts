/**
 * The list of processes as Windows keeps it, read in one call:
 * `NtQuerySystemInformation(SystemProcessInformation)` gives every
 * process's pid, parent, creation time, session and image name, which is
 * what Toolhelp snapshots are made from, without the shared section each
 * snapshot maps (under Wine, mapping it has hung the caller).
 *
 * The creation time comes with the list, so a process is identified by pid
 * and creation time without opening it, and a reused pid is a new process.
 *
 * @module
 */
import { fileTimeMicros, readWide, u32Out, type Win32 } from "./api/win32.ts";

export interface SystemProcess {
  pid: number;
  ppid: number;
  /** Creation time, microseconds since 1970; 0 while Windows is still creating it. */
  createdMicros: number;
  sessionId: number;
  /** The executable's file name (`EXCEL.EXE`); empty for the idle process. */
  name: string;
}

const SYSTEM_PROCESS_INFORMATION = 5;
const STATUS_INFO_LENGTH_MISMATCH = 0xc0000004;
/** Offsets in `SYSTEM_PROCESS_INFORMATION` on 64-bit Windows. */
const NEXT_ENTRY = 0;
const CREATE_TIME = 32;
const NAME_LENGTH = 56;
const NAME_BUFFER = 64;
const PROCESS_ID = 80;
const PARENT_ID = 88;
const SESSION_ID = 100;
/** The list may not grow beyond this (some 50,000 processes with their threads). */
const MAX_BYTES = 64 * 1024 * 1024;

export class SystemProcesses {
  readonly #api: Win32;
  #buffer = new Uint8Array(256 * 1024);

  constructor(api: Win32) {
    this.#api = api;
  }

  /** Every process running now. */
  list(): SystemProcess[] {
    const length = this.#query();
    const view = new DataView(this.#buffer.buffer, 0, length);
    const base = Deno.UnsafePointer.value(Deno.UnsafePointer.of(this.#buffer)!);
    const processes: SystemProcess[] = [];
    for (let offset = 0;;) {
      processes.push(this.#entry(view, offset, base));
      const next = view.getUint32(offset + NEXT_ENTRY, true);
      if (next === 0 || offset + next + SESSION_ID + 4 > length) break;
      offset += next;
    }
    return processes;
  }

  /** Fills the buffer, growing it until the list fits; the bytes written. */
  #query(): number {
    for (;;) {
      const written = u32Out();
      const status = this.#api.ntdll.NtQuerySystemInformation(
        SYSTEM_PROCESS_INFORMATION,
        this.#buffer,
        this.#buffer.length,
        written,
      );
      if (status === 0) return written[0] || this.#buffer.length;
      if (status !== STATUS_INFO_LENGTH_MISMATCH || this.#buffer.length >= MAX_BYTES) {
        throw new Error(`NtQuerySystemInformation failed: 0x${status.toString(16)}`);
      }
      // Processes start between the calls: leave room for them.
      this.#buffer = new Uint8Array(
        Math.min(MAX_BYTES, Math.max(written[0], this.#buffer.length) * 2),
      );
    }
  }

  #entry(view: DataView, offset: number, base: bigint): SystemProcess {
    const nameBytes = view.getUint16(offset + NAME_LENGTH, true);
    const namePointer = view.getBigUint64(offset + NAME_BUFFER, true);
    // The name's buffer lies inside ours; anything else is not trusted.
    const nameOffset = Number(namePointer - base);
    const nameFits = namePointer !== 0n && nameOffset >= 0 &&
      nameOffset + nameBytes <= view.byteLength;
    return {
      pid: Number(view.getBigUint64(offset + PROCESS_ID, true)),
      ppid: Number(view.getBigUint64(offset + PARENT_ID, true)),
      createdMicros: fileTimeMicros(view.getBigUint64(offset + CREATE_TIME, true)),
      sessionId: view.getUint32(offset + SESSION_ID, true),
      name: nameFits ? readWide(this.#buffer, nameOffset, nameBytes / 2) : "",
    };
  }
}
