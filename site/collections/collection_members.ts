/**
 * A collection's members, evaluated on demand from the data as it is now:
 * the enrolled computers its definition selects, by host name.
 *
 * @module
 */
import { z } from "zod";
import type { Client } from "../../store/db.ts";
import { iso } from "../http/time_param.ts";
import type { Membership } from "./membership.ts";
import { membersStatement } from "./membership_sql.ts";

export const memberSchema = z.object({
  clientId: z.string(),
  hostName: z.string(),
  timeZone: z.string(),
  lastSyncAt: z.string().nullable(),
});

export type Member = z.infer<typeof memberSchema>;

export const MEMBER_COLUMNS = Object.keys(memberSchema.shape);

export async function collectionMembers(
  db: Client,
  definition: Membership,
  now = Date.now(),
): Promise<Member[]> {
  const result = await db.execute(membersStatement(definition, now));
  return result.rows.map((row) => ({
    clientId: row.client_id as string,
    hostName: row.host_name as string,
    timeZone: row.time_zone as string,
    lastSyncAt: iso(row.last_sync_at as number | null),
  }));
}
