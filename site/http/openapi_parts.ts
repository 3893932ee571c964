/**
 * Pieces of OpenAPI path descriptions that route modules export for
 * `openapi.ts` to merge: JSON Schemas from the zod schemas that validate
 * requests (named ones as refs to `components.schemas`), replies with an
 * optional CSV form, and the error reply.
 *
 * @module
 */
import { z } from "zod";

const toJson = (schema: z.ZodType) =>
  z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;

/** Refs to `$defs` rewritten to `components.schemas`, where OpenAPI keeps named schemas. */
function pointToComponents<T>(value: T): T {
  return JSON.parse(JSON.stringify(value).replaceAll('"#/$defs/', '"#/components/schemas/'));
}

/**
 * The JSON Schema of what a zod schema accepts. Schemas named with
 * `.meta({id})` (recursive ones must be) are refs to `components.schemas`:
 * put them there with {@linkcode componentSchemas}.
 */
export function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $defs: _named, ...rest } = toJson(schema);
  return pointToComponents(rest);
}

/** The named schemas that {@linkcode jsonSchema} of `schema` refers to. */
export function componentSchemas(schema: z.ZodType): Record<string, unknown> {
  return pointToComponents((toJson(schema).$defs ?? {}) as Record<string, unknown>);
}

const errorSchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

export function jsonBodyOf(schema: z.ZodType) {
  return { required: true, content: { "application/json": { schema: jsonSchema(schema) } } };
}

/** A reply with a JSON body, and a CSV form of it when `csv`. */
export function reply(description: string, schema?: z.ZodType, csv = false) {
  if (!schema) return { description };
  const content: Record<string, unknown> = { "application/json": { schema: jsonSchema(schema) } };
  if (csv) content["text/csv"] = { schema: { type: "string" } };
  return { description, content };
}

export const errorReply = (description: string) => reply(description, errorSchema);

/** What every route with a bearer token can answer besides its own errors. */
export const authErrors = {
  "401": errorReply("Missing or unknown credentials"),
  "403": errorReply("The credentials may not do this"),
};

/** What a JSON body can be refused for besides invalid content. */
export const bodyErrors = {
  "413": errorReply("Body too large"),
  "415": errorReply("The body is not application/json"),
};

export const bearerSecurity = [{ bearer: [] }];

export const formatParameter = {
  name: "format",
  in: "query",
  required: false,
  schema: { type: "string", enum: ["json", "csv"] },
  description: "csv for CSV with a header row (or send Accept: text/csv); JSON otherwise",
};
