/**
 * Makes the small databases kept beside this script, `site-0.1.0.db` and
 * `agent-0.1.0.db`: what Meter 0.1.0 (commit 9bca106, before schema
 * versions) left on disk, with real rows in its main tables, so the
 * migration tests open a database as a release really wrote it rather than
 * one rebuilt from memory.
 *
 * Run it in a checkout of that release, so the databases are written by
 * that release's own code:
 *
 *     git worktree add /tmp/old 9bca106
 *     ln -s "$PWD/node_modules" /tmp/old/node_modules
 *     cp tests/data/schemas/make_fixtures.ts /tmp/old/tests/data/schemas/
 *     (cd /tmp/old && node_modules/.bin/deno run -A tests/data/schemas/make_fixtures.ts)
 *     cp /tmp/old/tests/data/schemas/*.db tests/data/schemas/
 *
 * It only uses functions that release has, so it still runs there.
 *
 * @module
 */
import * as A from "@automerge/automerge";
import { openSiteDatabase } from "../../../site/site_db.ts";
import { createToken } from "../../../site/access/tokens.ts";
import { insertClientRowsStatement } from "../../../site/clients/clients_table.ts";
import { insertCredentialStatements } from "../../../site/clients/client_secrets_table.ts";
import { upsertSessionsStatements } from "../../../site/usage/sessions_table.ts";
import { Summarizer } from "../../../site/summaries/summarizer.ts";
import { DEFAULT_SETTINGS } from "../../../site/site_settings.ts";
import { openAgentDatabase } from "../../../agent/agent_db.ts";
import { DocStore } from "../../../store/doc_store.ts";
import { KeyValueTable } from "../../../store/key_value_table.ts";
import { Mutex } from "../../../lib/mutex.ts";
import { hashSecret } from "../../../lib/secret.ts";
import type { Client } from "../../../store/db.ts";

const HERE = new URL(".", import.meta.url).pathname;
/** 2026-03-02 10:00 UTC: every time in the fixtures is fixed, so they are the same each run. */
const T0 = Date.UTC(2026, 2, 2, 10);
const HOUR = 3_600_000;

/** Starts from nothing: a database left from an earlier run would be opened, not made. */
async function fresh(name: string): Promise<string> {
  const path = `${HERE}${name}`;
  for (const suffix of ["", "-wal", "-shm"]) await Deno.remove(path + suffix).catch(() => {});
  return path;
}

/**
 * Folds the WAL into the file, so the fixture is one self-contained file, and
 * packs it into 1 KiB pages: about seventy tables and indexes of one 4 KiB
 * page each would make 300 KB of mostly empty pages.
 */
async function checkpoint(db: Client): Promise<void> {
  await db.execute("PRAGMA wal_checkpoint(TRUNCATE)");
  await db.execute("PRAGMA journal_mode = DELETE");
  await db.execute("PRAGMA page_size = 1024");
  await db.execute("VACUUM");
  db.close();
}

async function makeSite(): Promise<void> {
  const db = await openSiteDatabase(await fresh("site-0.1.0.db"));
  await new KeyValueTable(db, "site_meta").set("code", "S01");
  await createToken(db, "admin", { label: "first admin" });
  await createToken(db, "enroll", { label: "agents", uses: 10 });
  await db.execute({
    sql: `INSERT INTO rules (id, name, file_name, original_file_name, sha256, version, language,
        site_code, apply_to_child_sites, enabled, comment, origin, created_at, updated_at)
      VALUES ('S01-1', 'Editor', 'editor', NULL, NULL, '*', NULL, 'S01', 0, 1, '', 'manual', ?, ?),
        ('S01-2', 'Writer', 'writer.exe', NULL, NULL, '*', 'fr', 'S01', 1, 1, 'French',
          'manual', ?, ?)`,
    args: [T0, T0, T0, T0],
  });
  await db.batch([
    insertClientRowsStatement([
      ["c1", "ws-one", "Ubuntu", "24.04", "6.8", "x86_64", "UTC", "0.1.0", T0, "tok", T0, T0],
      [
        "c2",
        "ws-two",
        "Windows",
        "11",
        "10.0",
        "x86_64",
        "Europe/Paris",
        "0.1.0",
        T0,
        "tok",
        T0,
        T0,
      ],
    ]),
    ...insertCredentialStatements("c1", hashSecret("secret-one"), "a1"),
    ...insertCredentialStatements("c2", hashSecret("secret-two"), "a2"),
  ], "write");
  await db.batch(
    upsertSessionsStatements([
      [
        "c1",
        "2026-03-02/0",
        "S01-1",
        "ann",
        "/usr/bin/editor",
        "editor",
        "1.0",
        10,
        T0,
        T0 + HOUR,
        0,
        0,
        0,
        T0,
        0,
        null,
      ],
      [
        "c1",
        "2026-03-02/1",
        "S01-1",
        "bob",
        "/usr/bin/editor",
        "editor",
        null,
        11,
        T0,
        null,
        0,
        0,
        1,
        T0,
        0,
        null,
      ],
      [
        "c2",
        "2026-03-02/0",
        "S01-2",
        "eve",
        "C:\\writer.exe",
        "writer.exe",
        "2.1",
        12,
        T0,
        T0 + 2 * HOUR,
        1,
        0,
        0,
        T0,
        250,
        "fr",
      ],
    ]),
    "write",
  );
  const summarizer = new Summarizer({ db, lock: new Mutex(), settings: () => DEFAULT_SETTINGS });
  await summarizer.rebuild(T0 + 3 * HOUR);
  const doc = A.from({ kind: "fixture", sessions: ["2026-03-02/0"] }, "aa00aa00aa00aa00");
  await new DocStore(db).save("usage/c1/2026-03-02", doc);
  await checkpoint(db);
}

async function makeAgent(): Promise<void> {
  const db = await openAgentDatabase(await fresh("agent-0.1.0.db"));
  const state = new KeyValueTable(db, "agent_state");
  await state.set("client_id", "c1");
  await state.set("site", "http://127.0.0.1:8080/");
  await db.execute({
    sql: `INSERT INTO agent_sessions (id, day, seq, rule_id, user_name, exe, argv0, version, pid,
        start_ms, end_ms, start_not_captured, end_not_captured, remote, language, start_ticks,
        boot_id, written)
      VALUES ('2026-03-02/0', '2026-03-02', 0, 'S01-1', 'ann', '/usr/bin/editor', 'editor', '1.0',
          10, ?, ?, 0, 0, 0, NULL, 100, 'boot-1', 1),
        ('2026-03-02/1', '2026-03-02', 1, 'S01-2', 'eve', '/usr/bin/writer', 'writer', NULL,
          11, ?, NULL, 0, 0, 0, 'fr', 200, 'boot-1', 0)`,
    args: [T0, T0 + HOUR, T0],
  });
  await db.execute(
    "INSERT INTO day_counters (day, next, next_program) VALUES ('2026-03-02', 2, 1)",
  );
  await db.execute("INSERT INTO doc_actors (doc_id, actor) VALUES ('usage/c1/2026-03-02', 'bb00')");
  const doc = A.from({ kind: "fixture", sessions: ["2026-03-02/0"] }, "bb00bb00bb00bb00");
  await new DocStore(db).save("usage/c1/2026-03-02", doc);
  await checkpoint(db);
}

await makeSite();
await makeAgent();
console.log(`made ${HERE}site-0.1.0.db and ${HERE}agent-0.1.0.db`);
