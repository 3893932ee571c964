/**
 * A map that keeps only its most recently used entries: reading an entry
 * (`get`) or writing it (`set`) makes it the most recent, and past `limit`
 * entries the least recent goes. A `Map` keeps insertion order, so the
 * least recent is always its first key.
 *
 * @module
 */
export class RecentMap<K, V> {
  readonly #entries = new Map<K, V>();
  readonly #limit: number;

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** The value, now the most recent; `undefined` if absent. */
  get(key: K): V | undefined {
    const value = this.#entries.get(key);
    if (value !== undefined) this.set(key, value);
    return value;
  }

  /** Sets the value as the most recent, dropping the least recent past the limit. */
  set(key: K, value: V): void {
    this.#entries.delete(key); // re-inserted last
    this.#entries.set(key, value);
    if (this.#entries.size > this.#limit) this.#entries.delete(this.#entries.keys().next().value!);
  }

  delete(key: K): boolean {
    return this.#entries.delete(key);
  }

  get size(): number {
    return this.#entries.size;
  }
}
