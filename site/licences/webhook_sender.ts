/**
 * Delivers queued licence alerts (`licence_alerts.ts`) to the webhook: a
 * JSON POST per event, `{site, event}`, with `X-Meter-Timestamp` (Unix
 * seconds) and `X-Meter-Signature: sha256=<hex>`, the HMAC-SHA256 of
 * `<timestamp>.<body>` with `alertWebhookSecret` (`lib/hmac_signature.ts`);
 * without a secret the notification is sent unsigned. A receiver checks
 * the signature with the same secret and refuses old timestamps.
 *
 * A 2xx answer delivers it. Anything else, no answer within the timeout, or
 * a network error is tried again later, waiting 5 s, then twice as long each
 * time up to an hour; after 10 attempts it is given up and logged. Redirects
 * are not followed (and count as failures): a redirect could take the signed
 * body somewhere the administrator never named.
 *
 * @module
 */
import { log } from "../../lib/log.ts";
import { hmacSignature } from "../../lib/hmac_signature.ts";
import { errorText } from "../../lib/error_text.ts";
import type { Client, InStatement } from "../../store/db.ts";
import { licenceEvent } from "./licence_alerts.ts";

export interface WebhookOptions {
  db: Client;
  /** The site's code, sent with each event. */
  code: string;
  write(statements: InStatement[]): Promise<unknown>;
  /** The secret in force, read at each delivery. */
  secret(): string | null;
  timeoutMs?: number;
  maxAttempts?: number;
  fetch?: typeof fetch;
}

const FIRST_RETRY_MS = 5_000;
const LAST_RETRY_MS = 3_600_000;

export class WebhookSender {
  readonly #o: WebhookOptions;

  constructor(options: WebhookOptions) {
    this.#o = options;
  }

  /** Sends every notification due at `now`; answers how many were delivered. */
  async deliverDue(now = Date.now()): Promise<number> {
    const due = await this.#o.db.execute({
      sql: `SELECT event_id, url, attempts FROM webhook_outbox
        WHERE delivered_at IS NULL AND failed_at IS NULL AND next_at <= ? ORDER BY event_id`,
      args: [now],
    });
    let delivered = 0;
    for (const row of due.rows) {
      const ok = await this.#deliver(
        Number(row.event_id),
        row.url as string,
        Number(row.attempts),
        now,
      );
      if (ok) delivered++;
    }
    return delivered;
  }

  async #deliver(eventId: number, url: string, attempts: number, now: number): Promise<boolean> {
    const event = await licenceEvent(this.#o.db, eventId);
    if (!event) {
      await this.#o.write([{
        sql: "UPDATE webhook_outbox SET failed_at = ?, last_error = ? WHERE event_id = ?",
        args: [now, "the event is gone (retention)", eventId],
      }]);
      return false;
    }
    const body = JSON.stringify({
      site: this.#o.code,
      event: { ...event, at: new Date(event.at).toISOString() },
    });
    const problem = await this.#post(url, body, now);
    if (problem === undefined) {
      await this.#o.write([{
        sql: "UPDATE webhook_outbox SET delivered_at = ?, attempts = ? WHERE event_id = ?",
        args: [now, attempts + 1, eventId],
      }]);
      return true;
    }
    const tried = attempts + 1;
    const giveUp = tried >= (this.#o.maxAttempts ?? 10);
    const wait = Math.min(LAST_RETRY_MS, FIRST_RETRY_MS * 2 ** attempts);
    await this.#o.write([{
      sql: `UPDATE webhook_outbox SET attempts = ?, next_at = ?, last_error = ?,
        failed_at = ? WHERE event_id = ?`,
      args: [tried, now + wait, problem, giveUp ? now : null, eventId],
    }]);
    const fields = { eventId, attempts: tried, problem };
    if (giveUp) log.error("a licence alert could not be delivered; given up", fields);
    else log.warn("a licence alert could not be delivered; it will be tried again", fields);
    return false;
  }

  /** Undefined when delivered, else what went wrong. */
  async #post(url: string, body: string, now: number): Promise<string | undefined> {
    const timestamp = Math.floor(now / 1000);
    const secret = this.#o.secret();
    try {
      const response = await (this.#o.fetch ?? fetch)(url, {
        method: "POST",
        redirect: "manual",
        signal: AbortSignal.timeout(this.#o.timeoutMs ?? 10_000),
        headers: {
          "content-type": "application/json",
          "x-meter-timestamp": String(timestamp),
          ...(secret ? { "x-meter-signature": hmacSignature(secret, timestamp, body) } : {}),
        },
        body,
      });
      await response.body?.cancel();
      return response.ok ? undefined : `the webhook answered ${response.status}`;
    } catch (error) {
      return errorText(error);
    }
  }
}
