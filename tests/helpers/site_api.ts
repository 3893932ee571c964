/**
 * Talking to a real site in tests: tokens made in its database (as
 * `meter token create` does) and JSON requests to its API.
 *
 * @module
 */
import { openSiteDatabase } from "../../site/site_db.ts";
import { createToken, type TokenRole } from "../../site/access/tokens.ts";
import type { Rule, RuleFields } from "../../model/rule.ts";
import type { SessionOutput } from "../../model/session_output.ts";

export async function makeToken(db: string, role: TokenRole, uses?: number): Promise<string> {
  const client = await openSiteDatabase(db);
  try {
    return (await createToken(client, role, { uses })).token;
  } finally {
    client.close();
  }
}

export async function api(
  url: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<Response> {
  return await fetch(new URL(path, url), {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

export async function addRule(url: string, admin: string, fields: RuleFields): Promise<Rule> {
  const response = await api(url, admin, "POST", "/v1/rules", fields);
  if (response.status !== 201) {
    throw new Error(`add rule: ${response.status} ${await response.text()}`);
  }
  return await response.json();
}

export async function sessions(
  url: string,
  token: string,
  query: Record<string, string> = {},
): Promise<SessionOutput[]> {
  const params = new URLSearchParams({ limit: "100000", ...query });
  const response = await api(url, token, "GET", `/v1/usage?${params}`);
  if (!response.ok) throw new Error(`usage: ${response.status} ${await response.text()}`);
  return (await response.json()).sessions;
}
