/**
 * `/v1/tokens` (admin): the tokens of this site, listed without their
 * secrets or hashes, created (the secret is in the answer and nowhere
 * else: only its hash is stored), and revoked: a revoked token is refused
 * from the next request on. Creating and revoking are audited, with the
 * admin token that did it, so a stolen admin token that mints another shows.
 *
 * `meter token create` makes the first admin token, directly in the
 * database: the API needs one.
 *
 * @module
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { z } from "zod";
import { log } from "../../lib/log.ts";
import { notFound } from "../http/api_error.ts";
import { auditEntry } from "../access/audit_log.ts";
import { requireRole, type SiteEnv } from "./auth.ts";
import { listResponse } from "../http/list_response.ts";
import { jsonBody } from "../http/request_input.ts";
import type { SiteContext } from "../site_context.ts";
import {
  createToken,
  listedToken,
  listTokens,
  revokeToken,
  tokenRoleSchema,
} from "../access/tokens.ts";
import { tooLarge } from "./too_large.ts";

export const TOKEN_COLUMNS = [
  "id",
  "role",
  "label",
  "createdAt",
  "expiresAt",
  "revokedAt",
  "usesLeft",
  "lastUsedAt",
] as const;

/** Roles whose tokens are used up: each enrolment or registration takes a use. */
const COUNTED_ROLES = ["enroll", "site"];

/** 1 to `max`, with one message saying which of those it is not. */
const wholeNumber = (field: string, max: number) =>
  z.number({ error: `${field} is a whole number from 1 to ${max}` })
    .min(1, { message: `${field} is at least 1`, abort: true })
    .max(max, { message: `${field} is at most ${max}`, abort: true })
    .int(`${field} is a whole number`);

/** The body of `POST /v1/tokens`: what `meter token create` takes, by name. */
export const tokenCreateSchema = z.object({
  role: z.enum(tokenRoleSchema.options, { error: "role is admin, viewer, enroll or site" }),
  label: z.string().max(200, "label is at most 200 characters")
    .regex(/^\P{Cc}*$/u, "label has no control characters, such as a newline")
    .optional().describe("a note kept with the token: who or what it is for"),
  uses: wholeNumber("uses", 1_000_000).optional()
    .describe("enroll and site tokens: how many agents or sites it may enrol (default: no limit)"),
  expiresInDays: wholeNumber("expiresInDays", 3650).optional()
    .describe("the token stops working after this many days (default: never)"),
}).strict().refine((body) => body.uses === undefined || COUNTED_ROLES.includes(body.role), {
  path: ["uses"],
  message: "uses applies to enroll and site tokens only: admin and viewer tokens are not used up",
});

export const tokenCreatedSchema = z.object({
  id: z.string(),
  token: z.string().describe("the secret: shown this once, stored only as a hash"),
  role: tokenRoleSchema,
  label: z.string(),
  expiresAt: z.number().nullable().describe("ms since the epoch"),
  usesLeft: z.number().nullable(),
});

const JSON_LIMIT = 4096;

export function tokensRoutes(site: SiteContext): Hono<SiteEnv> {
  const app = new Hono<SiteEnv>();
  const admin = requireRole(site.db, "admin");
  const limit = bodyLimit({ maxSize: JSON_LIMIT, onError: tooLarge(JSON_LIMIT) });
  app.get("/", admin, async (c) => {
    const tokens = (await listTokens(site.db)).map(listedToken);
    return listResponse(c, TOKEN_COLUMNS, tokens, { tokens });
  });
  app.post("/", admin, limit, async (c) => {
    const body = await jsonBody(c, tokenCreateSchema);
    const { role, ...options } = body;
    const made = await createToken(site.db, role, options);
    const by = c.get("token").id;
    const named = made.label ? ` (${JSON.stringify(made.label)})` : "";
    const reason = `created ${made.role} token ${made.id}${named} by token ${by}`;
    await site.audit.record(auditEntry(c, { status: 201, code: "token_created", reason }));
    log.info("token created", { id: made.id, role: made.role, label: made.label, by });
    const { id, token, label, expiresAt, usesLeft } = made;
    return c.json({ id, token, role: made.role, label, expiresAt, usesLeft }, 201);
  });
  app.delete("/:id", admin, async (c) => {
    const id = c.req.param("id");
    if (!await revokeToken(site.db, id)) throw notFound(`no token ${id}`);
    const by = c.get("token").id;
    const reason = `revoked token ${id} by token ${by}`;
    await site.audit.record(auditEntry(c, { status: 204, code: "token_revoked", reason }));
    log.info("token revoked", { id, by });
    return c.body(null, 204);
  });
  return app;
}
