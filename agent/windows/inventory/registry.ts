/**
 * Reading the Windows registry: open a key (in the 64-bit or the 32-bit
 * view), list its subkeys, read its string and number values, and tell when
 * it last changed. Only what the inventory needs; nothing here writes.
 *
 * @module
 */
import { pointerIn, pointerOut, readWide, u32Out, wide, win32 } from "../api/win32.ts";

/** The predefined roots, as 64-bit Windows sign-extends them. */
export const HKEY_CURRENT_USER = 0xffff_ffff_8000_0001n;
export const HKEY_LOCAL_MACHINE = 0xffff_ffff_8000_0002n;
export const HKEY_USERS = 0xffff_ffff_8000_0003n;

const KEY_READ = 0x20019;
const KEY_WOW64_64KEY = 0x0100;
const KEY_WOW64_32KEY = 0x0200;
const ERROR_SUCCESS = 0;
const ERROR_MORE_DATA = 234;
const REG_SZ = 1;
const REG_EXPAND_SZ = 2;
const REG_DWORD = 4;
const MAX_KEY_CHARS = 256;
/** The largest value the inventory reads; install paths and names are far shorter. */
const MAX_VALUE_BYTES = 64 * 1024;

export type RegistryView = "64" | "32";

export class RegistryKey {
  readonly #handle: Deno.PointerValue;

  private constructor(handle: Deno.PointerValue) {
    this.#handle = handle;
  }

  /** Opens `path` under `root` for reading; `null` when it does not exist or may not be read. */
  static open(root: bigint | RegistryKey, path: string, view: RegistryView = "64") {
    const parent = root instanceof RegistryKey ? root.#handle : Deno.UnsafePointer.create(root);
    const out = pointerOut();
    const access = KEY_READ | (view === "64" ? KEY_WOW64_64KEY : KEY_WOW64_32KEY);
    const status = win32().advapi32.RegOpenKeyExW(
      parent,
      wide(path),
      0,
      access,
      new Uint8Array(out.buffer),
    );
    return status === ERROR_SUCCESS ? new RegistryKey(pointerIn(out)) : null;
  }

  /** The names of its subkeys. */
  subkeys(): string[] {
    const names: string[] = [];
    const name = new Uint8Array(MAX_KEY_CHARS * 2);
    for (let index = 0;; index++) {
      const chars = u32Out(MAX_KEY_CHARS);
      const status = win32().advapi32.RegEnumKeyExW(
        this.#handle,
        index,
        name,
        chars,
        null,
        null,
        null,
        null,
      );
      if (status !== ERROR_SUCCESS) break;
      names.push(readWide(name, 0, chars[0]));
    }
    return names;
  }

  /** A string value (`REG_SZ`, `REG_EXPAND_SZ` unexpanded) or a `REG_DWORD` as text; `null` when absent. */
  value(name: string): string | null {
    const type = u32Out();
    const size = u32Out(1024);
    let data = new Uint8Array(size[0]);
    const query = () =>
      win32().advapi32.RegQueryValueExW(this.#handle, wide(name), null, type, data, size);
    let status = query();
    if (status === ERROR_MORE_DATA && size[0] <= MAX_VALUE_BYTES) {
      data = new Uint8Array(size[0]);
      status = query();
    }
    if (status !== ERROR_SUCCESS) return null;
    if (type[0] === REG_SZ || type[0] === REG_EXPAND_SZ) {
      return readWide(data, 0, Math.floor(size[0] / 2));
    }
    if (type[0] === REG_DWORD && size[0] >= 4) {
      return String(new DataView(data.buffer).getUint32(0, true));
    }
    return null;
  }

  /** When the key or one of its values last changed, in FILETIME ticks; 0 when unknown. */
  lastWriteTicks(): bigint {
    return this.#info()?.lastWrite ?? 0n;
  }

  /** The key's last write and subkey count, as text; `?` when unknown. */
  lastWrite(): string {
    const info = this.#info();
    return info ? `${info.lastWrite}:${info.subkeys}` : "?";
  }

  #info(): { lastWrite: bigint; subkeys: number } | null {
    const fileTime = new BigUint64Array(1);
    const subkeys = u32Out();
    const status = win32().advapi32.RegQueryInfoKeyW(
      this.#handle,
      null,
      null,
      null,
      subkeys,
      null,
      null,
      null,
      null,
      null,
      null,
      new Uint8Array(fileTime.buffer),
    );
    return status === ERROR_SUCCESS ? { lastWrite: fileTime[0], subkeys: subkeys[0] } : null;
  }

  close(): void {
    win32().advapi32.RegCloseKey(this.#handle);
  }
}

/** Runs `use` on the key at `path`, closing it after; `null` when it cannot be opened. */
export function withKey<T>(
  root: bigint | RegistryKey,
  path: string,
  view: RegistryView,
  use: (key: RegistryKey) => T,
): T | null {
  const key = RegistryKey.open(root, path, view);
  if (!key) return null;
  try {
    return use(key);
  } finally {
    key.close();
  }
}
