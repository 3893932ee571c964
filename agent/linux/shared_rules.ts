/**
 * The agent's rules, handed from its thread to the process events' thread
 * through shared memory: that thread blocks in `poll` and never returns to
 * its event loop while it runs, so a message could not reach it.
 *
 * The memory holds a version, a length and the rules as JSON. The writer
 * sets the length, the bytes, then bumps the version; the reader reads the
 * version, the bytes, and the version again, and keeps what it read only if
 * both versions agree and are even (odd: a write is under way). Rules
 * larger than the memory are written as "too many" (length -1), and the
 * reader then reads every process in full, as before any rules arrived.
 *
 * @module
 */
import type { Rule } from "../../model/rule.ts";

/** Room for the rules' JSON: thousands of rules; pages are used only as written. */
const CAPACITY = 4 * 1024 * 1024;
const HEADER = 8;

export class SharedRules {
  readonly buffer: SharedArrayBuffer;
  readonly #header: Int32Array;
  readonly #bytes: Uint8Array;
  #seen = 0;

  constructor(buffer = new SharedArrayBuffer(HEADER + CAPACITY)) {
    this.buffer = buffer;
    this.#header = new Int32Array(buffer, 0, 2);
    this.#bytes = new Uint8Array(buffer, HEADER);
  }

  /** Writes `rules` (on the agent's thread). */
  write(rules: readonly Rule[]): void {
    const json = new TextEncoder().encode(JSON.stringify(rules));
    Atomics.add(this.#header, 0, 1); // odd: being written
    if (json.length <= this.#bytes.length) {
      this.#bytes.set(json);
      Atomics.store(this.#header, 1, json.length);
    } else {
      Atomics.store(this.#header, 1, -1);
    }
    Atomics.add(this.#header, 0, 1);
  }

  /**
   * The rules if they changed since the last call (on the events' thread):
   * `null` for too many to share, `undefined` when nothing new (or a write
   * is under way: the next call will see it).
   */
  readChanged(): Rule[] | null | undefined {
    const version = Atomics.load(this.#header, 0);
    if (version === this.#seen || version % 2 === 1) return undefined;
    const length = Atomics.load(this.#header, 1);
    const rules = length < 0
      ? null
      : JSON.parse(new TextDecoder().decode(this.#bytes.slice(0, length))) as Rule[];
    if (Atomics.load(this.#header, 0) !== version) return undefined;
    this.#seen = version;
    return rules;
  }
}
