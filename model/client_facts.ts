/**
 * Client facts: what a site shows about a computer (host name, operating
 * system, time zone, agent version). The agent writes them under the key
 * `facts` of its `inventory/<client>` document, and only when they change.
 *
 * The time zone matters beyond display: time-of-day reports read each
 * session in its client's own local clock.
 *
 * @module
 */
import { encode } from "cbor-x";
import { z } from "zod";
import { decodeRecord } from "./cbor_record.ts";

export const FACTS_KEY = "facts";

export const clientFactsSchema = z.object({
  hostName: z.string().max(255),
  osName: z.string().max(255),
  osVersion: z.string().max(255),
  kernel: z.string().max(255),
  arch: z.string().max(64),
  timeZone: z.string().max(64),
  agentVersion: z.string().max(64),
}).strict();

export type ClientFacts = z.infer<typeof clientFactsSchema>;

export function encodeFacts(facts: ClientFacts): Uint8Array {
  return encode(facts);
}

export function decodeFacts(value: unknown): ClientFacts {
  return decodeRecord("facts", value, clientFactsSchema);
}
