/**
 * Enrolment: the agent presents an enrolment token and its Automerge actor
 * id to `POST /v1/enroll` and keeps the client id and secret it gets in its
 * own database (readable by its owner only).
 *
 * @module
 */
import { enrollReplySchema } from "../../model/enrolment_body.ts";
import { errorMessageOf } from "../../model/error_body.ts";
import type { Client } from "../../store/db.ts";
import { KeyValueTable } from "../../store/key_value_table.ts";
import { newActorId } from "../../lib/secret.ts";
import { SyncError } from "../../sync/mod.ts";
import { errorText } from "../../lib/error_text.ts";

export interface Enrolment {
  clientId: string;
  secret: string;
  actor: string;
  siteCode: string;
  /** Documents to follow read-only. */
  read: string[];
}

/** The stored enrolment, or `undefined` if the agent has not enrolled. */
export async function loadEnrolment(db: Client): Promise<Enrolment | undefined> {
  const state = new KeyValueTable(db, "agent_state");
  const stored = await state.get("enrolment");
  return stored ? JSON.parse(stored) as Enrolment : undefined;
}

export async function saveEnrolment(db: Client, enrolment: Enrolment): Promise<void> {
  await new KeyValueTable(db, "agent_state").set("enrolment", JSON.stringify(enrolment));
}

/** Enrols with the site; throws {@linkcode SyncError} (retryable if the site is away). */
export async function enroll(
  site: string,
  token: string,
  hostName: string,
  fetcher: typeof fetch = fetch,
): Promise<Enrolment> {
  const actor = newActorId();
  let response: Response;
  try {
    response = await fetcher(new URL("v1/enroll", site.endsWith("/") ? site : site + "/"), {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ hostName, actor }),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    throw new SyncError(
      `cannot reach ${site} to enrol: ${errorText(error)}`,
      undefined,
      true,
    );
  }
  const text = await response.text();
  if (!response.ok) {
    const message = errorMessageOf(text) ?? text;
    throw new SyncError(
      `enrolment refused (HTTP ${response.status}): ${message}`,
      response.status,
      response.status >= 500,
    );
  }
  const reply = enrollReplySchema.parse(JSON.parse(text));
  return { ...reply, actor };
}
