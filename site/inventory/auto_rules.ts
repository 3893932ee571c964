/**
 * Automatic rules, as Configuration Manager makes them from inventory: for
 * each program whose executable is installed on at least
 * `autoRulesPercent` of the computers that sent an inventory, a **disabled**
 * rule with `origin: "auto"` on its file name, for an admin to enable or
 * delete. A program an existing rule already names (by `fileName` or
 * `originalFileName`, enabled or not, automatic or not) gets none, and the
 * site never holds more than `autoRulesMax` automatic rules; the most widely
 * installed programs come first.
 *
 * By default only applications count (`autoRulesApplicationsOnly`): the
 * programs a desktop entry, snap or flatpak starts. Every Linux computer has
 * `ls`, `cat` and hundreds of other commands; rules for those would fill the
 * maximum and meter nothing a licence is bought for.
 *
 * @module
 */
import { compileGlob } from "../../model/glob.ts";
import { log } from "../../lib/log.ts";
import { Mutex } from "../../lib/mutex.ts";
import type { Rule } from "../../model/rule.ts";
import { RulesEditor } from "../rules/rules_editor.ts";
import type { Store } from "../../store/store.ts";
import type { SiteSettings } from "../site_settings.ts";
import { countInventoried } from "../clients/clients_table.ts";

/** The longest rule name an administrator may give (`model/rule.ts`). */
const MAX_RULE_NAME = 200;

export interface AutoRulesRun {
  /** Computers that sent an inventory: the whole the percentage is of. */
  computers: number;
  /** Computers a program must be installed on to get a rule. */
  threshold: number;
  /** Programs at or over the threshold, before existing rules and the maximum. */
  candidates: number;
  created: Rule[];
}

interface Candidate {
  fileName: string;
  product: string;
  computers: number;
}

/** Runs one at a time, so two runs never create the same rule twice. */
export class AutoRules {
  readonly #store: Store;
  /** The settings in force, read at each run: `PATCH /v1/settings` replaces them. */
  readonly #settings: () => SiteSettings;
  readonly #runs = new Mutex();

  constructor(store: Store, settings: () => SiteSettings) {
    this.#store = store;
    this.#settings = settings;
  }

  run(): Promise<AutoRulesRun> {
    return this.#runs.run(async () => {
      const run = await runAutoRules(this.#store, this.#settings(), new RulesEditor(this.#store));
      if (run.created.length > 0) {
        log.info("automatic rules created", {
          rules: run.created.map((rule) => rule.id),
          computers: run.computers,
          threshold: run.threshold,
        });
      }
      return run;
    });
  }

  /** The scheduled run: only while the `autoRules` setting is on. */
  async runIfOn(): Promise<void> {
    if (this.#settings().autoRules) await this.run();
  }
}

async function runAutoRules(
  site: Store,
  settings: SiteSettings,
  editor: RulesEditor,
): Promise<AutoRulesRun> {
  const { autoRulesPercent: percent, autoRulesMax: max } = settings;
  const computers = await countInventoried(site.db);
  const threshold = Math.max(1, Math.ceil((percent * computers) / 100 - 1e-9));
  const candidates = computers === 0 ? [] : await widelyInstalled(site, settings, threshold);
  const { covered, autoCount } = await existingRules(site);
  const room = Math.max(0, max - autoCount);
  const chosen = candidates.filter((c) => !covered(c.fileName)).slice(0, room);
  for (const candidate of chosen) {
    candidate.product = await productName(site, settings, candidate.fileName);
  }
  const created = await editor.createAll(
    chosen.map((c) => ({
      name: c.product,
      fileName: c.fileName,
      enabled: false,
      comment: `created automatically: installed on ${c.computers} of ${computers} computers`,
    })),
    "auto",
  );
  return { computers, threshold, candidates: candidates.length, created };
}

const APPLICATION_KEYS = "(product_key GLOB 'desktop/*' OR product_key GLOB 'snap/*' " +
  "OR product_key GLOB 'flatpak/*')";

/**
 * Programs installed on at least `threshold` computers, most widely installed
 * first. One pass over `software_files_by_name`, which holds every column
 * this reads (the index of a WITHOUT ROWID table carries the key); a file
 * name that could not be a rule's plain name (empty, or with a wildcard in
 * it) is skipped.
 */
async function widelyInstalled(
  site: Store,
  settings: SiteSettings,
  threshold: number,
): Promise<Candidate[]> {
  const applications = settings.autoRulesApplicationsOnly ? `AND ${APPLICATION_KEYS}` : "";
  const result = await site.db.execute({
    sql: `SELECT file_name, count(DISTINCT client_id) AS computers FROM software_files
      WHERE file_name <> '' AND file_name NOT GLOB '*[*?]*' ${applications}
      GROUP BY file_name HAVING computers >= ?
      ORDER BY computers DESC, file_name`,
    args: [threshold],
  });
  return result.rows.map((r) => ({
    fileName: r.file_name as string,
    product: "",
    computers: Number(r.computers),
  }));
}

/** The product name most of the first hundred computers with the program give it. */
async function productName(
  site: Store,
  settings: SiteSettings,
  fileName: string,
): Promise<string> {
  const applications = settings.autoRulesApplicationsOnly ? `AND ${APPLICATION_KEYS}` : "";
  const result = await site.db.execute({
    sql: `SELECT s.name, count(*) AS n FROM (
        SELECT client_id, product_key FROM software_files
        WHERE file_name = ? ${applications} LIMIT 100
      ) f JOIN software s ON s.client_id = f.client_id AND s.product_key = f.product_key
      GROUP BY s.name ORDER BY n DESC, s.name LIMIT 1`,
    args: [fileName],
  });
  const name = (result.rows[0]?.name as string | undefined) ?? fileName;
  return name.slice(0, MAX_RULE_NAME);
}

/** Which file names existing rules name, and how many automatic rules there are. */
async function existingRules(site: Store) {
  const result = await site.db.execute(
    "SELECT file_name, original_file_name, origin, site_code FROM rules",
  );
  const globs = result.rows.flatMap((r) => [r.file_name, r.original_file_name])
    .filter((glob): glob is string => typeof glob === "string" && glob !== "")
    .map((glob) => compileGlob(glob, { caseInsensitive: true }));
  return {
    covered: (fileName: string) => globs.some((matches) => matches(fileName)),
    // The maximum is this site's own: a parent's automatic rules do not count against it.
    autoCount: result.rows.filter((r) => r.origin === "auto" && r.site_code === site.code).length,
  };
}
