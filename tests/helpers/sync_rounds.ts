/**
 * Waiting for sync rounds instead of sleeping, for tests that prove
 * something did not happen: once a whole round that began after the change
 * has completed, whatever that round would have carried is there, so its
 * absence means something. A slow round makes the test wait longer; it
 * cannot make it pass.
 *
 * @module
 */
import type { MeterProcess } from "./meter_process.ts";
import { api } from "./site_api.ts";
import { waitFor } from "./wait_for.ts";

/**
 * Resolves once the agent has logged `rounds` whole sync cycles (its
 * "synced" JSON-lines entry) that began after this call. The first entry
 * logged after the call may close a cycle already under way, so it is not
 * counted.
 */
export async function agentSyncRounds(
  agent: MeterProcess,
  what: string,
  { rounds = 1, timeoutMs = 60_000 } = {},
): Promise<void> {
  const seen = agent.logged("synced").length;
  await waitFor(
    `${rounds} sync round(s) of the agent ${what}\n${agent.tail()}`,
    () => {
      if (agent.exited) throw new Error(`the agent exited:\n${agent.tail()}`);
      return agent.logged("synced").length >= seen + 1 + rounds;
    },
    { timeoutMs },
  );
}

/** When the site last synced with its parent (`GET /v1/sites`, its own row), or null. */
export async function parentSyncedAt(siteUrl: string, token: string): Promise<string | null> {
  const response = await api(siteUrl, token, "GET", "/v1/sites");
  if (!response.ok) throw new Error(`sites: ${response.status} ${await response.text()}`);
  const { sites } = await response.json() as {
    sites: { relation: string; lastSyncAt: string | null }[];
  };
  return sites.find((s) => s.relation === "self")?.lastSyncAt ?? null;
}

/**
 * Resolves once the site has completed `rounds` whole syncs with its parent
 * that began after this call. The time of its last sync changes at the end
 * of each; the first change may end a sync already under way, so it is not
 * counted.
 */
export async function parentSyncRounds(
  siteUrl: string,
  token: string,
  what: string,
  { rounds = 1, timeoutMs = 60_000 } = {},
): Promise<void> {
  let last = await parentSyncedAt(siteUrl, token);
  for (let i = 0; i < rounds + 1; i++) {
    last = await waitFor(`a sync of ${siteUrl} with its parent ${what}`, async () => {
      const at = await parentSyncedAt(siteUrl, token);
      return at !== null && at !== last ? at : undefined;
    }, { timeoutMs });
  }
}
