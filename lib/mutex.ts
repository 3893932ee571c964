/**
 * A first-come, first-served async lock, for work that must not interleave
 * across `await` points (applying changes to a document and storing it).
 *
 * @module
 */
export class Mutex {
  #tail: Promise<void> = Promise.resolve();

  /** Runs `work` once every earlier holder has finished. */
  run<T>(work: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(work);
    this.#tail = result.then(() => {}, () => {});
    return result;
  }
}
