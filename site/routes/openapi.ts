/**
 * The OpenAPI 3.1 document served at `GET /openapi.json`, built from the
 * same zod schemas that validate requests, so the description cannot drift
 * from what the site accepts.
 *
 * @module
 */
import { z } from "zod";
import { ruleSchema } from "../../model/rule.ts";
import { clientOutputSchema } from "../routes/clients_routes.ts";
import { enrollReplySchema, enrollRequestSchema } from "../../model/enrolment_body.ts";
import { ruleUpdateSchema } from "../routes/rules_routes.ts";
import { usageQuerySchema } from "../routes/usage_routes.ts";
import { sessionOutputSchema } from "../../model/session_output.ts";
import { summaryRunReplySchema, summaryRunRequestSchema } from "../routes/summaries_route.ts";
import { reportsOpenApiPaths } from "../reports/reports_openapi.ts";
import {
  collectionsOpenApiComponents,
  collectionsOpenApiPaths,
} from "../routes/collections_routes.ts";
import { queryOpenApiPaths } from "../routes/query_route.ts";
import { licencesOpenApiPaths } from "../routes/licences_routes.ts";
import { settingsOpenApiPaths } from "../routes/settings_routes.ts";
import { ruleFieldsSchema } from "../../model/rule.ts";
import { registerReplySchema, registerRequestSchema } from "../hierarchy/registration_body.ts";
import { auditQuerySchema } from "../routes/audit_routes.ts";
import { rulesWaitQuerySchema, rulesWaitReplySchema } from "../../sync/mod.ts";
import { tokenCreatedSchema, tokenCreateSchema } from "../routes/tokens_routes.ts";
import {
  authErrors,
  bearerSecurity,
  bodyErrors,
  errorReply,
  formatParameter,
  jsonBodyOf,
  jsonSchema,
  reply,
} from "../http/openapi_parts.ts";

const content = jsonBodyOf;

const errors = {
  "400": errorReply("The input is invalid; the message names what"),
  ...authErrors,
};

const notFoundReply = errorReply("No such rule");

function queryParameters(schema: z.ZodObject) {
  return Object.entries(schema.shape).map(([name, field]) => ({
    name,
    in: "query",
    required: false,
    schema: jsonSchema(field as z.ZodType),
  }));
}

const idParameter = { name: "id", in: "path", required: true, schema: { type: "string" } };

/** A `DELETE` of one thing named in the path (admin): 204 when done, 404 if unknown. */
function removal(name: string, done: string, summary: string) {
  return {
    summary,
    security: bearerSecurity,
    parameters: [{ name, in: "path", required: true, schema: { type: "string" } }],
    responses: { "204": reply(done), ...errors, "404": notFoundReply },
  };
}

/** A sync endpoint: the agents' and the child sites' take the same CBOR batches. */
function syncOperation(summary: string) {
  return {
    summary,
    security: bearerSecurity,
    requestBody: {
      content: { "application/cbor": { schema: { type: "string", format: "binary" } } },
    },
    responses: {
      "200": { description: "The site's messages", content: { "application/cbor": {} } },
      ...errors,
      "413": errorReply("Body too large, or inflates past the limit"),
      "415": errorReply("Not application/cbor, or an encoding other than deflate"),
      "429": errorReply(
        "Too many syncs from this peer, or a sync with changes while the site is behind " +
          "with its writes (site_busy); Retry-After says when to come back",
      ),
    },
  };
}

const tokenRowSchema = z.object({
  id: z.string(),
  role: z.string(),
  label: z.string(),
  createdAt: z.string(),
  expiresAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
  usesLeft: z.number().nullable(),
  lastUsedAt: z.string().nullable(),
});

const auditRowSchema = z.object({
  at: z.string(),
  peer: z.string(),
  method: z.string(),
  path: z.string(),
  status: z.number(),
  code: z.string(),
  reason: z.string(),
  count: z.number().describe("refusals of this kind in its ten-minute window"),
  lastAt: z.string().describe("the last of them; `at` is the first"),
});

const siteRowSchema = z.object({
  code: z.string(),
  parent: z.string().nullable(),
  relation: z.enum(["self", "parent", "child", "descendant"]),
  lastSyncAt: z.string().nullable(),
  lagSeconds: z.number().nullable(),
});

const autoRulesRunSchema = z.object({
  computers: z.number().describe("computers that sent an inventory"),
  threshold: z.number().describe("computers a program must be installed on"),
  candidates: z.number().describe("programs at or over the threshold"),
  created: z.array(ruleSchema),
});

export function openApiDocument(version: string) {
  // Every route takes a bearer credential; which one is in each summary.
  const bearer = bearerSecurity;
  return {
    openapi: "3.1.0",
    info: {
      title: "Meter site API",
      version,
      description: "Software metering: rules, usage sessions, clients, and the agents' sync.",
    },
    components: {
      securitySchemes: {
        bearer: {
          type: "http",
          scheme: "bearer",
          description: "An admin, viewer or enroll token; agents use <clientId>.<secret>",
        },
      },
      schemas: collectionsOpenApiComponents(),
    },
    paths: {
      "/v1/health": {
        get: { summary: "Liveness and site identity", responses: { "200": reply("OK") } },
      },
      "/openapi.json": { get: { summary: "This document", responses: { "200": reply("OK") } } },
      "/metrics": {
        get: { summary: "Prometheus metrics", responses: { "200": reply("text/plain metrics") } },
      },
      "/v1/enroll": {
        post: {
          summary: "Enrol an agent with an enroll token; returns its client id and secret",
          security: bearer,
          requestBody: content(enrollRequestSchema),
          responses: {
            "201": reply("Enrolled", enrollReplySchema),
            ...errors,
            ...bodyErrors,
            "409": errorReply("The actor id is bound to another client"),
          },
        },
      },
      "/v1/sync": {
        post: syncOperation(
          "Sync an agent's documents (the agent's <clientId>.<secret>): a CBOR " +
            "batch {items: [{doc, msg}], now} of " +
            "Automerge sync messages and the agent's clock in ms (which measures its offset), " +
            "optionally Content-Encoding: deflate; the reply is " +
            "{items, read, now, syncAfter, rules}, deflated when the request sends " +
            "Accept-Encoding: deflate; syncAfter says in how many seconds to sync again with " +
            "nothing new, rules is the version /v1/sync/wait waits on",
        ),
      },
      "/v1/sync/wait": {
        get: {
          summary: "Wait for new rules (the agent's <clientId>.<secret>): answered when the " +
            "rules the agent follows are no longer at version `rules`, or after `seconds`; " +
            "answered at once, with when to ask again, while the site holds maxWaitingAgents",
          security: bearer,
          parameters: queryParameters(rulesWaitQuerySchema),
          responses: {
            "200": reply("Whether the rules changed", rulesWaitReplySchema),
            ...errors,
            "429": errorReply("Too many waits from this agent; Retry-After says when to ask"),
          },
        },
      },
      "/v1/sites": {
        get: {
          summary: "The sites this one knows: itself (with its parent and last sync), its " +
            "parent and its registered children, with last sync and lag (viewer or admin)",
          security: bearer,
          parameters: [formatParameter],
          responses: {
            "200": reply("Sites", z.object({ sites: z.array(siteRowSchema) }), true),
            ...errors,
          },
        },
      },
      "/v1/tokens": {
        get: {
          summary: "The site's tokens, without secrets or hashes (admin)",
          security: bearer,
          parameters: [formatParameter],
          responses: {
            "200": reply("Tokens", z.object({ tokens: z.array(tokenRowSchema) }), true),
            ...errors,
          },
        },
        post: {
          summary: "Create a token (admin); its secret is in this answer only, stored as a " +
            "hash. Audited with the admin token that made it",
          security: bearer,
          requestBody: content(tokenCreateSchema),
          responses: {
            "201": reply("Created", tokenCreatedSchema),
            ...errors,
            ...bodyErrors,
          },
        },
      },
      "/v1/tokens/{id}": {
        delete: removal(
          "id",
          "Revoked",
          "Revoke a token (admin): it is refused from the next request on; audited",
        ),
      },
      "/v1/clients/{id}/credential": {
        delete: removal(
          "id",
          "Revoked",
          "Revoke an agent's credential (admin): its next sync is refused; what it " +
            "sent stays",
        ),
      },
      "/v1/audit": {
        get: {
          summary: "Refused requests (401, 403, 429 past unauthenticatedRequestsPerMinute), " +
            "repeats within a ten-minute window counted on one row, newest first: time, " +
            "peer, endpoint, reason (admin)",
          security: bearer,
          parameters: queryParameters(auditQuerySchema),
          responses: {
            "200": reply("Entries", z.object({ entries: z.array(auditRowSchema) }), true),
            ...errors,
          },
        },
      },
      "/v1/sites/{code}": {
        delete: removal(
          "code",
          "Removed",
          "Remove a registered child site (admin): its credential stops working, the " +
            "sites it listed and its agents' credentials go; summaries received stay",
        ),
      },
      "/v1/sites/register": {
        post: {
          summary: "Register a child site with a site token; returns its secret (shown once) " +
            "and its ancestors, nearest first",
          security: bearer,
          requestBody: content(registerRequestSchema),
          responses: {
            "201": reply("Registered", registerReplySchema),
            ...errors,
            ...bodyErrors,
            "409": errorReply("The code (or actor) is this site's, an ancestor's or taken"),
          },
        },
      },
      "/v1/sites/sync": {
        post: syncOperation(
          "Sync a child site's documents (the child's <CODE>.<secret>); the same " +
            "CBOR batches as /v1/sync. A child reads the rules this site and its ancestors " +
            "follow",
        ),
      },
      "/v1/rules": {
        get: {
          summary: "List the rules that apply at this site (viewer or admin)",
          security: bearer,
          parameters: [formatParameter],
          responses: {
            "200": reply("Rules", z.object({ rules: z.array(ruleSchema) }), true),
            ...errors,
          },
        },
        post: {
          summary: "Create a rule (admin)",
          security: bearer,
          requestBody: content(ruleFieldsSchema),
          responses: { "201": reply("Created", ruleSchema), ...errors, ...bodyErrors },
        },
      },
      "/v1/rules/auto": {
        post: {
          summary: "Create disabled automatic rules now for programs installed on at least " +
            "autoRulesPercent of the inventoried computers, up to autoRulesMax (admin)",
          security: bearer,
          responses: {
            "201": reply("Rules created", autoRulesRunSchema),
            "200": reply("Nothing to create", autoRulesRunSchema),
            ...errors,
          },
        },
      },
      "/v1/rules/{id}": {
        parameters: [idParameter],
        get: {
          summary: "One rule (viewer or admin)",
          security: bearer,
          responses: { "200": reply("Rule", ruleSchema), ...errors, "404": notFoundReply },
        },
        patch: {
          summary: "Change a rule (admin); only the fields given change",
          security: bearer,
          requestBody: content(ruleUpdateSchema),
          responses: {
            "200": reply("Changed", ruleSchema),
            ...errors,
            ...bodyErrors,
            "404": notFoundReply,
          },
        },
        delete: {
          summary: "Delete a rule (admin); its recorded sessions stay",
          security: bearer,
          responses: { "204": reply("Deleted"), ...errors, "404": notFoundReply },
        },
      },
      "/v1/usage": {
        get: {
          summary: "Usage sessions (viewer or admin) that started before `to` and ended at or " +
            "after `from` (or still run), oldest first; the next page's cursor is in " +
            "nextCursor and the X-Next-Cursor header",
          security: bearer,
          parameters: queryParameters(usageQuerySchema),
          responses: {
            "200": reply(
              "Sessions",
              z.object({
                sessions: z.array(sessionOutputSchema),
                nextCursor: z.string().nullable(),
              }),
              true,
            ),
            ...errors,
          },
        },
      },
      ...reportsOpenApiPaths(),
      ...licencesOpenApiPaths(),
      ...collectionsOpenApiPaths(),
      ...queryOpenApiPaths(),
      ...settingsOpenApiPaths(),
      "/v1/summaries/run": {
        post: {
          summary: "Summarise what changed now (admin); with {rebuild: true}, recompute every " +
            "summary from the raw sessions",
          security: bearer,
          requestBody: content(summaryRunRequestSchema),
          responses: {
            "200": reply("What was done", summaryRunReplySchema),
            ...errors,
            ...bodyErrors,
          },
        },
      },
      "/v1/clients": {
        get: {
          summary: "Enrolled clients (viewer or admin)",
          security: bearer,
          parameters: [formatParameter],
          responses: {
            "200": reply("Clients", z.object({ clients: z.array(clientOutputSchema) }), true),
            ...errors,
          },
        },
      },
    },
  };
}
