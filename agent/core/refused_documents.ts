/**
 * Documents the site refuses, held back so that they do not hold back the
 * rest. A batch is refused whole (400 for a record the site finds invalid,
 * 403 for a document it will not take), so one bad document would otherwise
 * stop every later session from reaching the site. After a refusal the
 * documents go again one by one; those still refused are kept here (never
 * deleted: retention waits for the site) and logged, and tried again an hour
 * later, when a fixed site or a changed rule may take them.
 *
 * @module
 */
import { log } from "../../lib/log.ts";
import { type SyncClient, SyncError, type SyncOutcome, type SyncTarget } from "../../sync/mod.ts";

/** How long a refused document waits before it is offered again. */
export const REFUSED_RETRY_MS = 3_600_000;

/** A refusal of the batch's content, not of the agent (401) or of the site's state (5xx). */
export function isContentRefusal(error: unknown): error is SyncError {
  return error instanceof SyncError && (error.status === 400 || error.status === 403);
}

export class RefusedDocuments {
  readonly #until = new Map<string, number>();

  /** The targets without the written documents still held back. */
  offered(targets: readonly SyncTarget[], now = Date.now()): SyncTarget[] {
    return targets.filter((t) => t.access !== "write" || (this.#until.get(t.docId) ?? 0) <= now);
  }

  get size(): number {
    return this.#until.size;
  }

  /**
   * Syncs the documents it follows first, then each written document alone;
   * a document refused again is held back. Returns the first sync's outcome,
   * with what every later one changed.
   */
  async syncIsolating(client: SyncClient, targets: readonly SyncTarget[]): Promise<SyncOutcome> {
    const outcome = await client.sync(targets.filter((t) => t.access === "read"));
    for (const target of targets.filter((t) => t.access === "write")) {
      try {
        const alone = await client.sync([target]);
        outcome.changed.push(...alone.changed);
        outcome.bytesSent += alone.bytesSent;
        outcome.bytesReceived += alone.bytesReceived;
        this.#until.delete(target.docId);
      } catch (error) {
        if (!isContentRefusal(error)) throw error;
        this.#until.set(target.docId, Date.now() + REFUSED_RETRY_MS);
        log.error("the site refuses a document; it is kept here and offered again in an hour", {
          doc: target.docId,
          status: error.status,
          reason: error.message,
        });
      }
    }
    return outcome;
  }
}
