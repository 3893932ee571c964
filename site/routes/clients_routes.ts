/**
 * `GET /v1/clients`: the enrolled computers with their facts, when each last
 * synced and when it last recorded usage, and how far its clock is from the
 * site's, as JSON or CSV.
 * `DELETE /v1/clients/:id/credential` (admin): revokes an agent's credential
 * (a lost or retired computer); its next sync is refused, and what it sent
 * stays. It must enrol again to sync.
 *
 * @module
 */
import { Hono } from "hono";
import { z } from "zod";
import { log } from "../../lib/log.ts";
import { notFound } from "../http/api_error.ts";
import { requireRole, type SiteEnv } from "./auth.ts";
import { listResponse } from "../http/list_response.ts";
import type { SiteContext } from "../site_context.ts";
import { iso } from "../http/time_param.ts";
import { listClientRows } from "../clients/clients_table.ts";

export const clientOutputSchema = z.object({
  clientId: z.string(),
  hostName: z.string(),
  osName: z.string(),
  osVersion: z.string(),
  kernel: z.string(),
  arch: z.string(),
  timeZone: z.string(),
  agentVersion: z.string(),
  enrolledAt: z.string(),
  lastSyncAt: z.string().nullable(),
  lastUsageAt: z.string().nullable(),
  /** This site's clock minus the agent's at its last sync; null before one measured it. */
  clockOffsetSeconds: z.number().nullable(),
  clockCheckedAt: z.string().nullable(),
});

export type ClientOutput = z.infer<typeof clientOutputSchema>;
export const CLIENT_COLUMNS = Object.keys(clientOutputSchema.shape);

export function clientsRoutes(site: SiteContext): Hono<SiteEnv> {
  const app = new Hono<SiteEnv>();
  app.get("/", requireRole(site.db, "viewer", "admin"), async (c) => {
    const clients = await listClients(site);
    return listResponse(c, CLIENT_COLUMNS, clients, { clients });
  });
  app.delete("/:id/credential", requireRole(site.db, "admin"), async (c) => {
    const id = c.req.param("id");
    const removed = await site.lock.run(() => site.credentials.revoke(id));
    if (!removed) throw notFound(`no client ${id} with a credential`);
    log.info("client credential revoked", { clientId: id });
    return c.body(null, 204);
  });
  return app;
}

/** Every enrolled client as `GET /v1/clients` lists it, by host name; or only the one asked for. */
export async function listClients(site: SiteContext, clientId?: string): Promise<ClientOutput[]> {
  await site.lastSeen.flush();
  const rows = await listClientRows(site.db, clientId);
  return rows.map((row) => ({
    clientId: row.clientId,
    hostName: row.hostName,
    osName: row.osName,
    osVersion: row.osVersion,
    kernel: row.kernel,
    arch: row.arch,
    timeZone: row.timeZone,
    agentVersion: row.agentVersion,
    enrolledAt: iso(row.enrolledAt)!,
    lastSyncAt: iso(row.lastSyncAt),
    lastUsageAt: iso(row.lastUsageAt),
    clockOffsetSeconds: seconds(row.clockOffsetMs),
    clockCheckedAt: iso(row.clockCheckedAt),
  }));
}

/** Tenths of a second: the measurement includes the request's travel time. */
function seconds(ms: number | null): number | null {
  return ms === null ? null : Math.round(ms / 100) / 10;
}
