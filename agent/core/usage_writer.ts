/**
 * Writes the sessions the recorder changed into their usage documents:
 * one Automerge change per document per flush, only for sessions whose row
 * changed, in one transaction with marking the rows written and dropping
 * the ended ones (their document holds them now).
 *
 * Flushing before each sync rather than at every poll means a short run
 * that starts and ends between two syncs is written (and sent) once.
 *
 * @module
 */
import * as A from "@automerge/automerge";
import type { Client, InStatement } from "../../store/db.ts";
import { usageDocId } from "../../model/doc_id.ts";
import type { DocStore, StoredDocInfo } from "../../store/doc_store.ts";
import type { DocCache } from "../../store/doc_cache.ts";
import type { Mutex } from "../../lib/mutex.ts";
import { DocActors } from "./doc_actors.ts";
import {
  decodeProgram,
  encodeProgram,
  encodeSession,
  fitSession,
  isProgramKey,
  programKey,
  sessionKey,
  type UsageProgram,
  type UsageSession,
} from "../../model/usage_record.ts";

export interface UsageWriterOptions {
  db: Client;
  docs: DocStore;
  /**
   * Keeps each day's document loaded from one flush to the next: loading it
   * anew at every flush made memory grow with the day's size.
   */
  cache: DocCache;
  lock: Mutex;
}

type UsageDoc = Record<string, Uint8Array>;

interface Row {
  day: string;
  seq: number;
  session: UsageSession;
}

export class UsageWriter {
  readonly #o: UsageWriterOptions;

  constructor(options: UsageWriterOptions) {
    this.#o = options;
  }

  /** Writes every changed session; returns how many. */
  flush(clientId: string, actor: string): Promise<number> {
    return this.#o.lock.run(async () => {
      const rows = await this.#changedRows();
      if (rows.length === 0) return 0;
      const actors = await DocActors.load(this.#o.db, actor);
      const statements: InStatement[] = [];
      const written: Written[] = [];
      const { cache } = this.#o;
      try {
        for (const [day, sessions] of groupByDay(rows)) {
          const dayWrite = await this.#writeDay(usageDocId(clientId, day), day, sessions, actors);
          statements.push(...dayWrite.statements);
          written.push(dayWrite.written);
        }
        statements.push(
          ...actors.statements(),
          { sql: "UPDATE agent_sessions SET written = 1 WHERE written = 0", args: [] },
          { sql: "DELETE FROM agent_sessions WHERE written = 1 AND end_ms IS NOT NULL", args: [] },
        );
        await this.#o.db.batch(statements, "write");
      } catch (error) {
        // A changed document whose change was not stored must not be used again.
        for (const { docId, doc } of written) cache.discard(docId, doc);
        throw error;
      }
      for (const { docId, doc, info } of written) cache.set(docId, { doc, info });
      return rows.length;
    });
  }

  async #changedRows(): Promise<Row[]> {
    const result = await this.#o.db.execute(
      "SELECT * FROM agent_sessions WHERE written = 0 ORDER BY day, seq",
    );
    return result.rows.map((row) => ({
      day: row.day as string,
      seq: row.seq as number,
      session: {
        id: row.id as string,
        ruleId: row.rule_id as string,
        user: row.user_name as string,
        exe: row.exe as string,
        argv0: row.argv0 as string,
        version: row.version as string | null,
        language: row.language as string | null,
        pid: row.pid as number,
        start: row.start_ms as number,
        end: row.end_ms as number | null,
        startNotCaptured: row.start_not_captured === 1,
        endNotCaptured: row.end_not_captured === 1,
        remote: row.remote === 1,
      },
    }));
  }

  async #writeDay(
    docId: string,
    day: string,
    rows: Row[],
    actors: DocActors,
  ): Promise<{ statements: InStatement[]; written: Written }> {
    const { db, docs, cache } = this.#o;
    const info = await docs.info(docId);
    const actor = await actors.actorFor(docId, info !== undefined);
    const doc = (cache.current(docId, info, actor) as UsageDoc | undefined) ??
      await docs.load<UsageDoc>(docId, actor) ?? A.init<UsageDoc>({ actor });
    const programs = programIndex(doc);
    // Program numbers come from a counter that outlives the document, so a
    // document made again for an old day never reuses a number the site has.
    const counter = await db.execute({
      sql: "SELECT next_program FROM day_counters WHERE day = ?",
      args: [day],
    });
    let nextProgram = Number(counter.rows[0]?.next_program ?? 0);
    const next = A.change(doc, (d) => {
      for (const { seq, session } of rows) {
        const fitted = fitSession(session);
        const key = programIdentity(fitted);
        let n = programs.get(key);
        if (n === undefined) {
          n = nextProgram++;
          programs.set(key, n);
          d[programKey(n)] = encodeProgram(fitted);
        }
        d[sessionKey(seq)] = encodeSession(day, fitted, n);
      }
    });
    const save = docs.prepareSave(docId, next, info);
    return {
      statements: [
        ...save.statements,
        {
          sql: "INSERT INTO day_counters (day, next, next_program) VALUES (?, 1, ?) " +
            "ON CONFLICT (day) DO UPDATE SET next_program = excluded.next_program",
          args: [day, nextProgram],
        },
      ],
      written: { docId, doc: next, info: save.info },
    };
  }
}

/** A day's document as this flush leaves it, kept loaded once the flush commits. */
interface Written {
  docId: string;
  doc: UsageDoc;
  info: StoredDocInfo;
}

function groupByDay(rows: Row[]): Map<string, Row[]> {
  const days = new Map<string, Row[]>();
  for (const row of rows) {
    const group = days.get(row.day);
    if (group) group.push(row);
    else days.set(row.day, [row]);
  }
  return days;
}

const programIdentity = (p: UsageProgram) =>
  JSON.stringify([p.ruleId, p.user, p.exe, p.argv0, p.version, p.language ?? null]);

/** The programs a document already names, by identity. */
function programIndex(doc: UsageDoc): Map<string, number> {
  const index = new Map<string, number>();
  for (const key of Object.keys(doc)) {
    if (isProgramKey(key)) {
      index.set(programIdentity(decodeProgram(key, doc[key])), Number(key.slice(1)));
    }
  }
  return index;
}
