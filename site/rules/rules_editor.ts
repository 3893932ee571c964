/**
 * Editing the site's rules: every create, update and delete is one Automerge
 * change to `rules/<site>`, stored together with the `rules` rows it
 * materialises in one transaction. The HTTP API is a view and an editor of
 * that document; agents receive the change at their next sync.
 *
 * @module
 */
import * as A from "@automerge/automerge";
import { changedKeys } from "../../store/changed_keys.ts";
import { rulesDocId } from "../../model/doc_id.ts";
import type { StoredDocInfo } from "../../store/doc_store.ts";
import { type Rule, type RuleFields, ruleMatchProblem } from "../../model/rule.ts";
import { decodeRule, encodeRule } from "../../model/rule_record.ts";
import { badRequest, notFound } from "../http/api_error.ts";
import { rulesStatements } from "./rules_materializer.ts";
import type { Store } from "../../store/store.ts";

type RulesDoc = Record<string, Uint8Array>;

export class RulesEditor {
  readonly #site: Store;

  constructor(site: Store) {
    this.#site = site;
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
        rules.push(this.#newRule(fields, origin, await this.#nextNumber()));
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
    await this.#site.lock.run(async () => {
      const { doc, info } = await this.#load();
      if (!(id in doc)) throw notFound(`no rule ${id} at site ${this.#site.code}`);
      const before = A.getHeads(doc);
      await this.#store(info, before, A.change(doc, `delete rule ${id}`, (d) => delete d[id]));
    });
  }

  /** Runs `make` on the current rules under the write lock and stores the rules it returns. */
  #edit(make: (doc: A.Doc<RulesDoc>) => Promise<Rule[]>): Promise<Rule[]> {
    return this.#site.lock.run(async () => {
      const { doc, info } = await this.#load();
      const rules = await make(doc);
      for (const rule of rules) {
        const problem = ruleMatchProblem(rule);
        if (problem) throw badRequest(problem, "invalid_input");
      }
      if (rules.length === 0) return rules;
      const before = A.getHeads(doc);
      const next = A.change(doc, `rules ${rules.map((rule) => rule.id).join(" ")}`, (d) => {
        for (const rule of rules) d[rule.id] = encodeRule(rule);
      });
      await this.#store(info, before, next);
      return rules;
    });
  }

  async #load() {
    const cached = await this.#site.cache.get(rulesDocId(this.#site.code));
    return {
      doc: (cached?.doc ?? A.init({ actor: this.#site.actor })) as A.Doc<RulesDoc>,
      info: cached?.info,
    };
  }

  async #store(info: StoredDocInfo | undefined, before: A.Heads, doc: A.Doc<RulesDoc>) {
    const { db, docs, cache, code } = this.#site;
    const docId = rulesDocId(code);
    const save = docs.prepareSave(docId, doc, info);
    try {
      await db.batch(
        [...save.statements, ...rulesStatements(doc, changedKeys(doc, before))],
        "write",
      );
    } catch (error) {
      cache.delete(docId);
      throw error;
    }
    cache.set(docId, { doc, info: save.info });
  }

  /** Rule numbers are never reused, so an old session never names a new rule. */
  async #nextNumber(): Promise<number> {
    const { db } = this.#site;
    const result = await db.execute(
      "UPDATE site_meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'rule_seq' RETURNING value",
    );
    if (result.rows[0]) return Number(result.rows[0].value);
    await db.execute("INSERT INTO site_meta (key, value) VALUES ('rule_seq', '1')");
    return 1;
  }
}
