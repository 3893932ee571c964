/**
 * Bounded reads from the bytes of a Portable Executable: every read is
 * checked against the buffer, and a read that does not fit throws a
 * {@link PeFormatError} naming what was read and at which file offset, so
 * truncated or hostile files never let a `RangeError` (or a wrong zero from
 * reading past the end) escape the parser.
 *
 * @module
 */

/** The file is not a PE, or it is malformed or truncated; the message says what and where. */
export class PeFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PeFormatError";
  }
}

/** An offset as `0x1a2b`, the way PE tools print them. */
export function hex(value: number): string {
  return `0x${value.toString(16)}`;
}

/**
 * A window on some of a file's bytes: `bytes[0]` is the file's byte at
 * `base`, so errors can name file offsets while the parser works with
 * offsets relative to the structure it walks.
 */
export class ByteView {
  constructor(readonly bytes: Uint8Array, readonly base = 0) {}

  get length(): number {
    return this.bytes.length;
  }

  /** Throws unless `length` bytes at `at` lie inside the view. */
  check(at: number, length: number, what: string): void {
    const fits = Number.isSafeInteger(at) && Number.isSafeInteger(length) && at >= 0 &&
      length >= 0 && at + length <= this.bytes.length;
    if (!fits) {
      throw new PeFormatError(
        `${what} at offset ${hex(this.base + at)} (${length} bytes) runs past the end of the ` +
          `data at ${hex(this.base + this.bytes.length)}`,
      );
    }
  }

  u16(at: number, what: string): number {
    this.check(at, 2, what);
    return this.bytes[at] | this.bytes[at + 1] << 8;
  }

  u32(at: number, what: string): number {
    this.check(at, 4, what);
    return (this.bytes[at] | this.bytes[at + 1] << 8 | this.bytes[at + 2] << 16 |
      this.bytes[at + 3] << 24) >>> 0;
  }

  /** A sub-window sharing the bytes, its offsets relative to `at`. */
  view(at: number, length: number, what: string): ByteView {
    this.check(at, length, what);
    return new ByteView(this.bytes.subarray(at, at + length), this.base + at);
  }

  /** An error naming the file offset of `at` in this view. */
  error(at: number, problem: string): PeFormatError {
    return new PeFormatError(`${problem} at offset ${hex(this.base + at)}`);
  }
}
