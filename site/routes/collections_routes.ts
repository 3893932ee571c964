/**
 * `/v1/collections`: named sets of computers defined by a membership
 * expression (`collections/membership.ts`). Admins create and delete them,
 * viewers and admins list them and ask for their members, which are
 * evaluated from current data on every request, as JSON or CSV.
 *
 * @module
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { z } from "zod";
import { parseOr400 } from "../http/api_error.ts";
import { requireRole, type SiteEnv } from "./auth.ts";
import {
  collectionMembers,
  MEMBER_COLUMNS,
  memberSchema,
} from "../collections/collection_members.ts";
import {
  COLLECTION_COLUMNS,
  collectionId,
  collectionInputSchema,
  collectionSchema,
  createCollection,
  deleteCollection,
  getCollection,
  listCollections,
} from "../collections/collection_store.ts";
import { checkMembershipBounds } from "../collections/membership.ts";
import { listResponse } from "../http/list_response.ts";
import {
  authErrors,
  bearerSecurity,
  bodyErrors,
  componentSchemas,
  errorReply,
  formatParameter,
  jsonBodyOf,
  reply,
} from "../http/openapi_parts.ts";
import { jsonBody } from "../http/request_input.ts";
import type { SiteContext } from "../site_context.ts";
import { iso } from "../http/time_param.ts";
import { tooLarge } from "./too_large.ts";

const JSON_LIMIT = 16 * 1024;

export const membersReplySchema = z.object({
  collection: z.object({ id: z.number(), name: z.string() }),
  evaluatedAt: z.string(),
  members: z.array(memberSchema),
});

export function collectionsRoutes(site: SiteContext): Hono<SiteEnv> {
  const app = new Hono<SiteEnv>();
  const read = requireRole(site.db, "viewer", "admin");
  const write = requireRole(site.db, "admin");
  const limit = bodyLimit({ maxSize: JSON_LIMIT, onError: tooLarge(JSON_LIMIT) });

  app.get("/", read, async (c) => {
    const collections = await listCollections(site.db);
    return listResponse(c, COLLECTION_COLUMNS, collections, { collections });
  });
  app.post("/", write, limit, async (c) => {
    const body = await jsonBody(c, z.unknown());
    if (typeof body === "object" && body !== null && "definition" in body) {
      checkMembershipBounds(body.definition);
    }
    const input = parseOr400(collectionInputSchema, body, "body");
    return c.json(await createCollection(site.db, input, c.get("token").id), 201);
  });
  app.get("/:id", read, async (c) => {
    return c.json(await getCollection(site.db, collectionId(c.req.param("id"))));
  });
  app.delete("/:id", write, async (c) => {
    await deleteCollection(site.db, collectionId(c.req.param("id")));
    return c.body(null, 204);
  });
  app.get("/:id/members", read, async (c) => {
    const collection = await getCollection(site.db, collectionId(c.req.param("id")));
    await site.lastSeen.flush();
    const now = Date.now();
    const members = await collectionMembers(site.db, collection.definition, now);
    const body = {
      collection: { id: collection.id, name: collection.name },
      evaluatedAt: iso(now),
      members,
    };
    return listResponse(c, MEMBER_COLUMNS, members, body);
  });
  return app;
}

/** `Membership`, for `components.schemas`: the paths refer to it. */
export function collectionsOpenApiComponents(): Record<string, unknown> {
  return componentSchemas(collectionInputSchema);
}

export function collectionsOpenApiPaths(): Record<string, unknown> {
  const idParameter = { name: "id", in: "path", required: true, schema: { type: "integer" } };
  const notFound = errorReply("No such collection");
  const one = reply("The collection", collectionSchema);
  return {
    "/v1/collections": {
      get: {
        summary: "List collections (viewer or admin); CSV shows each definition as JSON text",
        security: bearerSecurity,
        parameters: [formatParameter],
        responses: {
          "200": reply("Collections", z.object({ collections: z.array(collectionSchema) }), true),
          ...authErrors,
        },
      },
      post: {
        summary: "Create a collection (admin): a name and a membership definition; an unknown " +
          "rule or an invalid expression is refused with 400 naming its place in the definition",
        security: bearerSecurity,
        requestBody: jsonBodyOf(collectionInputSchema),
        responses: {
          "201": one,
          "400": errorReply("Invalid input; the message names the place, e.g. definition.and[1]"),
          ...authErrors,
          ...bodyErrors,
          "409": errorReply("A collection of that name exists"),
        },
      },
    },
    "/v1/collections/{id}": {
      parameters: [idParameter],
      get: {
        summary: "One collection (viewer or admin)",
        security: bearerSecurity,
        responses: { "200": one, ...authErrors, "404": notFound },
      },
      delete: {
        summary: "Delete a collection (admin)",
        security: bearerSecurity,
        responses: { "204": reply("Deleted"), ...authErrors, "404": notFound },
      },
    },
    "/v1/collections/{id}/members": {
      parameters: [idParameter],
      get: {
        summary: "The computers in the collection now (viewer or admin), evaluated from current " +
          "data (sessions count within seconds of reaching the site), by host name",
        security: bearerSecurity,
        parameters: [formatParameter],
        responses: {
          "200": reply("Members", membersReplySchema, true),
          ...authErrors,
          "404": notFound,
        },
      },
    },
  };
}
