/**
 * One document the site refuses does not hold back the rest: a real agent
 * holds a usage document naming a rule of a site it does not follow (which
 * the site refuses with 400), and a program it meters afterwards still
 * reaches the site. The refused document stays on the agent, and the agent
 * logs which document and why.
 */
import * as A from "@automerge/automerge";
import { encode } from "cbor-x";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { loadEnrolment } from "../agent/core/enrolment.ts";
import { openAgentDatabase } from "../agent/agent_db.ts";
import { DAY_MS, dayOf, usageDocId } from "../model/doc_id.ts";
import { DocStore } from "../store/doc_store.ts";
import { copySleep, runProgram, tempDir, uniqueName } from "./helpers/metered_program.ts";
import {
  type MeterProcess,
  type SiteHandle,
  startAgent,
  startSite,
} from "./helpers/meter_process.ts";
import { addRule, makeToken, sessions } from "./helpers/site_api.ts";
import { waitFor } from "./helpers/wait_for.ts";

describe("a document the site refuses", () => {
  let temp: Awaited<ReturnType<typeof tempDir>>;
  let site: SiteHandle;
  let agent: MeterProcess | undefined;

  beforeAll(async () => {
    temp = await tempDir();
    site = await startSite(temp.dir);
  });

  afterAll(async () => {
    await agent?.stop();
    await site?.process.stop();
    await temp?.remove();
  });

  /** Writes yesterday's usage document with a session naming another site's rule, as the agent. */
  async function plantForeignRuleDocument(dbPath: string): Promise<string> {
    const db = await openAgentDatabase(dbPath);
    try {
      const enrolment = (await loadEnrolment(db))!;
      const day = dayOf(Date.now() - DAY_MS);
      const docId = usageDocId(enrolment.clientId, day);
      const docs = new DocStore(db);
      const doc = A.change(A.init<Record<string, Uint8Array>>({ actor: enrolment.actor }), (d) => {
        d.p0 = encode(["XYZ-1", "ann", "/usr/bin/elsewhere", "elsewhere", null]);
        d["1"] = encode([0, 4242, 3_600_000, 60_000, 0]);
      });
      await db.batch(docs.prepareSave(docId, doc, undefined).statements, "write");
      return docId;
    } finally {
      db.close();
    }
  }

  test("is held back and logged while later usage still arrives", async () => {
    const admin = await makeToken(site.db, "admin");
    const name = uniqueName("mtest-refused");
    const program = await copySleep(temp.dir, name);
    const rule = await addRule(site.url, admin, { name: "Refused test", fileName: name });
    const dbPath = join(temp.dir, "agent.db");
    const options = { db: dbPath, enrollToken: await makeToken(site.db, "enroll") };
    agent = startAgent(site.url, options);
    await waitFor("the agent to enrol and sync", () => agent!.logged("synced").length > 0);
    await agent.stop();

    const refused = await plantForeignRuleDocument(dbPath);
    agent = startAgent(site.url, options);
    // Started only once the agent polls: a busy machine can take longer than
    // the program's run to start an agent, and a run no poll sees is no session.
    await waitFor("the agent to start again", () => agent!.logged("agent started").length > 0);
    const run = runProgram(program, 2);
    await run.ended;
    const found = await waitFor("the program's session at the site", async () => {
      const rows = await sessions(site.url, admin, { rule: rule.id });
      return rows.length === 1 && rows[0].end ? rows : undefined;
    }, { timeoutMs: 60_000 });
    expect(found[0].pid).toBe(run.pid);

    const logged = agent.logged(
      "the site refuses a document; it is kept here and offered again in an hour",
    );
    expect(logged.map((e) => e.doc)).toEqual([refused]);
    expect(String(logged[0].reason)).toContain("XYZ-1");
    const all = await sessions(site.url, admin, {});
    expect(all.filter((s) => s.ruleId === "XYZ-1")).toEqual([]);
    await agent.stop();
    agent = undefined;

    const db = await openAgentDatabase(dbPath);
    try {
      expect(await new DocStore(db).info(refused)).toBeDefined();
    } finally {
      db.close();
    }
  });
});
