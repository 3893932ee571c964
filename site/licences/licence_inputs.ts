/**
 * What this site's own licence figures are made from, as one cheap
 * fingerprint: the day (windows move at midnight), the summaries (the
 * summariser stamps every hourly row it writes, and the count of daily rows
 * catches a day that lost its last session), the inventories (each stored
 * document's time), the clients, the rules and the licences. When it is the
 * one the last refresh saw, nothing the counts or curves read has changed,
 * and the refresh skips them: counting 200 licences over 10,000 clients takes
 * seconds, reading this a few milliseconds.
 *
 * @module
 */
import { dayOf } from "../../model/doc_id.ts";
import type { Client, InStatement } from "../../store/db.ts";

const KEY = "licence_inputs";

/** The fingerprint as of `now`; `more` is what the caller knows beside the database. */
export async function licenceInputs(
  db: Client,
  now: number,
  more: unknown[] = [],
): Promise<string> {
  const result = await db.execute(`SELECT
      (SELECT max(updated_at) FROM hourly_usage) AS hours,
      (SELECT count(*) FROM daily_usage) AS days,
      (SELECT max(updated_at) FROM docs WHERE doc_id >= 'inventory/' AND doc_id < 'inventory0')
        AS inventories,
      (SELECT count(*) FROM clients) AS clients,
      (SELECT count(*) || '/' || max(updated_at) FROM rules) AS rules,
      (SELECT count(*) || '/' || max(updated_at) FROM licences) AS licences`);
  return JSON.stringify([dayOf(now), ...Object.values(result.rows[0]), ...more]);
}

/** The fingerprint the last complete refresh saw, if any. */
export async function lastInputs(db: Client): Promise<string | undefined> {
  const result = await db.execute({
    sql: "SELECT value FROM site_meta WHERE key = ?",
    args: [KEY],
  });
  return result.rows[0]?.value as string | undefined;
}

export function saveInputsStatement(inputs: string): InStatement {
  return {
    sql: "INSERT OR REPLACE INTO site_meta (key, value) VALUES (?, ?)",
    args: [KEY, inputs],
  };
}
