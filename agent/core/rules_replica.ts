/**
 * The rules this agent meters: the records of the rules documents it
 * follows, read from the local replicas: all of its own site's, and those of
 * its site's ancestors that apply to child sites (`applyToChildSites`). A
 * record that does not decode is logged and skipped, never guessed at.
 *
 * @module
 */
import type { DocStore } from "../../store/doc_store.ts";
import * as A from "@automerge/automerge";
import { log } from "../../lib/log.ts";
import { type Rule } from "../../model/rule.ts";
import { decodeRule } from "../../model/rule_record.ts";

export async function readRules(
  docs: DocStore,
  docIds: readonly string[],
  siteCode: string,
): Promise<Rule[]> {
  const rules: Rule[] = [];
  for (const docId of docIds) {
    const doc = await docs.load<Record<string, unknown>>(docId);
    if (!doc) continue;
    for (const [key, value] of Object.entries(doc)) {
      try {
        const rule = decodeRule(key, value);
        if (rule.siteCode === siteCode || rule.applyToChildSites) rules.push(rule);
      } catch (error) {
        log.warn("skipping a rule that does not decode", { docId, key, error });
      }
    }
    A.free(doc); // read once: the rules are plain values now
  }
  return rules;
}
