/**
 * Why the server side of the protocol refused a batch: a typed error with
 * the HTTP status and the machine-readable code it stands for, so that
 * `sync/` needs no web framework and the site's routes answer it like any
 * other API error (`{error: {code, message}}`).
 *
 * @module
 */

/** The statuses a refused batch is answered with. */
export type SyncRefusalStatus = 400 | 403 | 413 | 415;

export class SyncRefusal extends Error {
  constructor(readonly status: SyncRefusalStatus, readonly code: string, message: string) {
    super(message);
    this.name = "SyncRefusal";
  }
}

/** The batch or one of its messages is malformed: 400. */
export const malformedBatch = (message: string, code = "bad_request") =>
  new SyncRefusal(400, code, message);

/** The peer may not touch what it sent: 403. */
export const forbiddenSync = (message: string, code = "forbidden") =>
  new SyncRefusal(403, code, message);
