/**
 * Editing the site's rules: every create, update and delete is one Automerge
 * change to `rules/<site>`, stored together with the `rules` rows it
 * materialises in one transaction. The HTTP API is a view and an editor of
 * that document; agents receive the change at their next sync.
 *
 * @module
 */
import { rulesDocId } from "../../model/doc_id.ts";
import { type Rule, type RuleFields, ruleMatchProblem } from "../../model/rule.ts";
import { decodeRule, encodeRule } from "../../model/rule_record.ts";
import { badRequest, notFound } from "../http/api_error.ts";
import { rulesStatements } from "./rules_materializer.ts";
import type { Store } from "../../store/store.ts";
import { nextNumber, OwnRecordDoc, type RecordsDoc } from "../own_record_doc.ts";
import type * as A from "@automerge/automerge";

export class RulesEditor {
  readonly #site: Store;
  readonly #doc: OwnRecordDoc;

  constructor(site: Store) {
    this.#site = site;
    this.#doc = new OwnRecordDoc(site, rulesDocId(site.code), rulesStatements);
  }

  async create(fields: RuleFields, origin: Rule["origin"] = "manual"): Promise<Rule> {
    return (await this.createAll([fields], origin))[0];
  }

  /** Creates rules in one change (the automatic rules of a run arrive together). */
  createAll(list: RuleFields[], origin: Rule["origin"] = "manual"): Promise<Rule[]> {
    // Checked before a rule number is taken, so a refused rule leaves no trace.
    for (const fields of list) {
      const problem = ruleMatchProblem({
        fileName: fields.fileName ?? null,
        originalFileName: fields.originalFileName ?? null,
        sha256: fields.sha256 ?? null,
      });
      if (problem) throw badRequest(problem, "invalid_input");
    }
    return this.#edit(async () => {
      const rules: Rule[] = [];
      for (const fields of list) {
        rules.push(this.#newRule(fields, origin, await nextNumber(this.#site.db, "rule_seq")));
      }
      return rules;
    });
  }

  #newRule(fields: RuleFields, origin: Rule["origin"], number: number): Rule {
    const now = Date.now();
    return {
      id: `${this.#site.code}-${number}`,
      name: fields.name,
      fileName: fields.fileName ?? null,
      originalFileName: fields.originalFileName ?? null,
      sha256: fields.sha256 ?? null,
      version: fields.version ?? "*",
      language: fields.language ?? null,
      siteCode: this.#site.code,
      applyToChildSites: fields.applyToChildSites ?? false,
      enabled: fields.enabled ?? true,
      comment: fields.comment ?? "",
      origin,
      createdAt: now,
      updatedAt: now,
    };
  }

  /** Changes the given fields, reading the rule under the lock so no concurrent edit is lost. */
  async update(id: string, fields: Partial<RuleFields>): Promise<Rule> {
    const [rule] = await this.#edit((doc) => {
      if (!(id in doc)) throw notFound(`no rule ${id} at site ${this.#site.code}`);
      const existing = decodeRule(id, doc[id]);
      const defined = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
      return Promise.resolve([{ ...existing, ...defined, id, updatedAt: Date.now() } as Rule]);
    });
    return rule;
  }

  /** Deletes a rule; sessions already recorded under it stay. */
  async remove(id: string): Promise<void> {
    await this.#doc.edit((doc) => {
      if (!(id in doc)) throw notFound(`no rule ${id} at site ${this.#site.code}`);
      return Promise.resolve({
        message: `delete rule ${id}`,
        change: (d: RecordsDoc) => delete d[id],
        result: undefined,
      });
    });
  }

  /** Runs `make` on the current rules under the write lock and stores the rules it returns. */
  async #edit(make: (doc: A.Doc<RecordsDoc>) => Promise<Rule[]>): Promise<Rule[]> {
    return await this.#doc.edit(async (doc) => {
      const rules = await make(doc);
      for (const rule of rules) {
        const problem = ruleMatchProblem(rule);
        if (problem) throw badRequest(problem, "invalid_input");
      }
      if (rules.length === 0) return undefined;
      return {
        message: `rules ${rules.map((rule) => rule.id).join(" ")}`,
        change: (d: RecordsDoc) => {
          for (const rule of rules) d[rule.id] = encodeRule(rule);
        },
        result: rules,
      };
    }) ?? [];
  }
}
