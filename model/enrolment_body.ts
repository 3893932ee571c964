/**
 * The bodies of `POST /v1/enroll`, which agent and site must agree on: the
 * agent sends its host name and Automerge actor id, and gets its client id,
 * its secret, its site's code and the documents to follow.
 *
 * @module
 */
import { z } from "zod";
import { clientIdSchema, docIdSchema, siteCodeSchema } from "./doc_id.ts";

export const enrollRequestSchema = z.object({
  hostName: z.string().trim().min(1).max(255),
  actor: z.string().regex(/^[0-9a-f]{32}$/, "actor is an Automerge actor id: 32 hex digits"),
}).strict();

export const enrollReplySchema = z.object({
  clientId: clientIdSchema,
  secret: z.string().min(1),
  siteCode: siteCodeSchema,
  read: z.array(docIdSchema),
});

export type EnrollRequest = z.infer<typeof enrollRequestSchema>;
export type EnrollReply = z.infer<typeof enrollReplySchema>;
