/**
 * The messages between the site and its summariser's worker. Besides runs
 * and their results, the worker hands each transaction it has to store to
 * the site's thread (`store`), which runs it under the site's write lock and
 * answers `stored`: the site's connection stays the database's only writer,
 * so the site never waits on SQLite's busy handler, which holds its thread.
 *
 * @module
 */
import type { StoredMessage, StoreMessage } from "../worker_transactions.ts";
import type { SiteSettings } from "../site_settings.ts";
import type { SummaryRun } from "./summarizer.ts";

/**
 * What a worker is asked to do: summarise what changed, or compute its share
 * of a rebuild the site's thread began and finishes
 * (`Summarizer.rebuildRules`).
 */
export type SummaryWork = { op: "run" } | { op: "rebuild-rules"; rules: string[] };

export type ToSummarizer =
  | (SummaryWork & {
    type: "run";
    id: number;
    /** The site's database file. */
    file: string;
    now: number;
    settings: SiteSettings;
  })
  | StoredMessage;

export type FromSummarizer =
  | { type: "done"; id: number; ok: true; run: SummaryRun }
  | { type: "done"; id: number; ok: false; message: string }
  | StoreMessage;
