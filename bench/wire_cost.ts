/**
 * Wire cost of the sync protocol, measured with the agent's own writer and
 * sync client against a real site process:
 *
 * - bytes per usage session in a steady-state sync (10 sessions ended since
 *   the last sync, as the agent writes them: one change per flush), counting
 *   request and reply bodies;
 * - the same when each session is written twice (once running, once ended),
 *   as happens for runs that span a sync;
 * - a sync in which nothing is new: round trips and bytes.
 *
 * @module
 */
import { join } from "node:path";
import { agentSchema, agentSyncTargets, UsageWriter } from "../agent/mod.ts";
import { openDatabase } from "../store/db.ts";
import { dayOf, rulesDocId } from "../model/doc_id.ts";
import { DocStore } from "../store/doc_store.ts";
import { DocCache } from "../store/doc_cache.ts";
import { Mutex } from "../lib/mutex.ts";
import { SyncClient } from "../sync/mod.ts";
import { SyncStateStore } from "../store/sync_state_store.ts";
import { type BenchFigure, progress, round } from "./bench_figure.ts";
import { enrollClients, startBenchSite } from "./bench_site.ts";

export async function benchWireCost(): Promise<BenchFigure[]> {
  const dir = await Deno.makeTempDir({ prefix: "meter-bench-wire-" });
  const site = await startBenchSite(dir);
  try {
    progress("wire cost: one agent, 10 syncs of 10 sessions");
    await fetch(`${site.url}/v1/rules`, {
      method: "POST",
      headers: { authorization: `Bearer ${site.admin}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "Python", fileName: "python3*" }),
    });
    const [client] = await enrollClients(site, 1);
    const db = await openDatabase(join(dir, "agent.db"), agentSchema);
    const docs = new DocStore(db);
    const writer = new UsageWriter({ db, docs, cache: new DocCache(docs), lock: new Mutex() });
    const sync = new SyncClient({
      url: `${site.url}/v1/sync`,
      authorization: () => `Bearer ${client.clientId}.${client.secret}`,
      db,
      docs,
      states: new SyncStateStore(db),
      peer: "site",
    });
    const targets = () => agentSyncTargets(docs, { ...client, read: [rulesDocId("S01")] });
    const now = Date.now();
    let seq = 0;
    const record = async (count: number, open: boolean) => {
      for (let i = 0; i < count; i++) {
        seq++;
        const start = now - 3_600_000 + seq * 1000;
        await db.execute({
          sql:
            `INSERT INTO agent_sessions (id, day, seq, rule_id, user_name, exe, argv0, version, pid,
            start_ticks, boot_id, start_ms, end_ms, start_not_captured, end_not_captured, remote)
            VALUES (?, ?, ?, 'S01-1', 'alice', '/usr/bin/python3.11', 'python3', '3.11.2-1', ?, ?,
            'boot', ?, ?, 0, 0, 0)`,
          args: [
            `${dayOf(start)}/${seq}`,
            dayOf(start),
            seq,
            20_000 + seq,
            seq,
            start,
            open ? null : start + 45_000,
          ],
        });
      }
      await writer.flush(client.clientId, client.actor);
    };
    const closeAll = async () => {
      await db.execute(
        "UPDATE agent_sessions SET end_ms = start_ms + 45000, written = 0 WHERE end_ms IS NULL",
      );
      await writer.flush(client.clientId, client.actor);
    };
    await record(10, false);
    await sync.sync(await targets()); // first sync: documents and rules arrive
    let once = 0;
    for (let i = 0; i < 10; i++) {
      await record(10, false);
      const outcome = await sync.sync(await targets());
      once += outcome.bytesSent + outcome.bytesReceived;
    }
    let twice = 0;
    for (let i = 0; i < 10; i++) {
      await record(10, true);
      const opened = await sync.sync(await targets());
      await closeAll();
      const closed = await sync.sync(await targets());
      twice += opened.bytesSent + opened.bytesReceived + closed.bytesSent + closed.bytesReceived;
    }
    const idle = await sync.sync(await targets());
    db.close();
    return [
      {
        name: "wire bytes per session, steady state (10 per sync)",
        value: round(once / 100, 1),
        unit: "bytes",
        target: "<= 60",
      },
      {
        name: "wire bytes per session written running, then ended",
        value: round(twice / 100, 1),
        unit: "bytes",
      },
      { name: "sync with nothing new: round trips", value: idle.rounds, unit: "", target: "<= 1" },
      {
        name: "sync with nothing new: bytes (1 document announced)",
        value: idle.bytesSent + idle.bytesReceived,
        unit: "bytes",
        target: "<= 1024",
      },
    ];
  } finally {
    await site.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  const { renderFigures } = await import("./bench_figure.ts");
  console.log(renderFigures(await benchWireCost()));
}
