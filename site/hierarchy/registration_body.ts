/**
 * The bodies of `POST /v1/sites/register`, by which a child site joins its
 * parent: it sends its code and the Automerge actor its documents are
 * written with, and gets a secret (its credential for `/v1/sites/sync`,
 * shown once) and its ancestors, nearest first, whose rules it follows.
 *
 * @module
 */
import { z } from "zod";
import { siteCodeSchema } from "../../model/doc_id.ts";

export const registerRequestSchema = z.object({
  code: siteCodeSchema,
  actor: z.string().regex(/^[0-9a-f]{32}$/, "an actor id is 32 hexadecimal digits"),
}).strict();

export type RegisterRequest = z.infer<typeof registerRequestSchema>;

export const registerReplySchema = z.object({
  secret: z.string().min(16),
  /** The parent first, then its parent, up to the top. */
  ancestors: z.array(siteCodeSchema).min(1),
});

export type RegisterReply = z.infer<typeof registerReplySchema>;
