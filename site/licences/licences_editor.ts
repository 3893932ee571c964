/**
 * Editing the site's licences: every create, update and delete is one
 * Automerge change to `licences/<site>`, stored with the `licences` rows it
 * materialises (`own_record_doc.ts`). Child sites receive the change at
 * their next sync with this site.
 *
 * What a licence names is checked here, where the database is: its rules
 * must apply at this site, the site it covers must be this one or below it,
 * and its window must fit in the summaries kept. Each refusal is a 400 that
 * names the field.
 *
 * @module
 */
import { licencesDocId } from "../../model/doc_id.ts";
import {
  contractProblem,
  type Licence,
  LICENCE_DEFAULTS,
  type LicenceFields,
} from "../../model/licence.ts";
import { decodeLicence, encodeLicence } from "../../model/licence_record.ts";
import type { Client } from "../../store/db.ts";
import type { Store } from "../../store/store.ts";
import { badRequest, notFound } from "../http/api_error.ts";
import { nextNumber, OwnRecordDoc, type RecordsDoc } from "../own_record_doc.ts";
import { subtreeBelow } from "../site_subtree.ts";
import type { SiteSettings } from "../site_settings.ts";
import { licencesStatements } from "./licences_materializer.ts";

export class LicencesEditor {
  readonly #site: Store;
  readonly #doc: OwnRecordDoc;
  readonly #settings: () => Pick<SiteSettings, "summaryRetentionDays">;

  constructor(site: Store, settings: () => Pick<SiteSettings, "summaryRetentionDays">) {
    this.#site = site;
    this.#settings = settings;
    this.#doc = new OwnRecordDoc(site, licencesDocId(site.code), licencesStatements);
  }

  async create(fields: LicenceFields): Promise<Licence> {
    await this.#check(fields);
    const licence = await this.#doc.edit(async () => {
      const now = Date.now();
      const number = await nextNumber(this.#site.db, "licence_seq");
      const licence: Licence = {
        ...LICENCE_DEFAULTS,
        ...fields,
        id: `${this.#site.code}-L${number}`,
        coversSite: fields.coversSite ?? this.#site.code,
        siteCode: this.#site.code,
        createdAt: now,
        updatedAt: now,
      };
      return this.#put(licence);
    });
    return licence!;
  }

  /** Changes the given fields, reading the licence under the lock so no concurrent edit is lost. */
  async update(id: string, fields: Partial<LicenceFields>): Promise<Licence> {
    await this.#check(fields);
    const licence = await this.#doc.edit((doc) => {
      if (!(id in doc)) throw notFound(`no licence ${id} at site ${this.#site.code}`);
      const defined = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
      const next = { ...decodeLicence(id, doc[id]), ...defined, id, updatedAt: Date.now() };
      const problem = contractProblem(next);
      if (problem) throw badRequest(`invalid body: contractEnd: ${problem}`, "invalid_input");
      return Promise.resolve(this.#put(next));
    });
    return licence!;
  }

  async remove(id: string): Promise<void> {
    await this.#doc.edit((doc) => {
      if (!(id in doc)) throw notFound(`no licence ${id} at site ${this.#site.code}`);
      return Promise.resolve({
        message: `delete licence ${id}`,
        change: (d: RecordsDoc) => delete d[id],
        result: undefined,
      });
    });
  }

  #put(licence: Licence) {
    return {
      message: `licence ${licence.id}`,
      change: (d: RecordsDoc) => {
        d[licence.id] = encodeLicence(licence);
      },
      result: licence,
    };
  }

  /** The checks that need the database; the field named first in each message. */
  async #check(fields: Partial<LicenceFields>): Promise<void> {
    const refuse = (field: string, problem: string) =>
      badRequest(`invalid body: ${field}: ${problem}`, "invalid_input");
    const problem = contractProblem({
      contractStart: fields.contractStart ?? null,
      contractEnd: fields.contractEnd ?? null,
    });
    if (problem) throw refuse("contractEnd", problem);
    if (fields.ruleIds) {
      const missing = await unknownRules(this.#site.db, fields.ruleIds);
      if (missing.length > 0) {
        throw refuse("ruleIds", `no rule ${missing.join(", ")} applies at site ${this.#site.code}`);
      }
    }
    const retention = this.#settings().summaryRetentionDays;
    if (fields.windowDays !== undefined && fields.windowDays > retention) {
      throw refuse(
        "windowDays",
        `${fields.windowDays} days is longer than the summaries kept (summaryRetentionDays ` +
          `${retention})`,
      );
    }
    if (fields.coversSite !== undefined && fields.coversSite !== this.#site.code) {
      if (!await subtreeBelow(this.#site.db, fields.coversSite)) {
        throw refuse("coversSite", `${fields.coversSite} is not this site or a site below it`);
      }
    }
  }
}

/** The rule ids of `ids` that are not in the `rules` table. */
async function unknownRules(db: Client, ids: readonly string[]): Promise<string[]> {
  const result = await db.execute({
    sql: `SELECT value FROM json_each(?) WHERE value NOT IN (SELECT id FROM rules)`,
    args: [JSON.stringify(ids)],
  });
  return result.rows.map((row) => row.value as string);
}
