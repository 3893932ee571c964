/**
 * A rule as a record of the `rules/<site>` document: one CBOR-encoded map
 * per rule under the rule id. The site writes them; agents read them from
 * their replica.
 *
 * @module
 */
import { encode } from "cbor-x";
import { decodeRecord } from "./cbor_record.ts";
import { type Rule, ruleSchema } from "./rule.ts";

export function encodeRule(rule: Rule): Uint8Array {
  return encode(rule);
}

/** Decodes a rule record; throws with a message naming the key. */
export function decodeRule(key: string, value: unknown): Rule {
  const rule = decodeRecord(`rule ${key}`, value, ruleSchema);
  if (rule.id !== key) throw new Error(`rule ${key} carries the id ${rule.id}`);
  return rule;
}
