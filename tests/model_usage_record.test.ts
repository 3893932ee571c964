/**
 * The usage record's program tuple across versions: a program written by an
 * agent from before the language was recorded (five elements) still reads,
 * with no language; a new one carries it; a hostile language is refused by
 * the site's decoding and never sent by an agent, which drops it.
 *
 * @module
 */
import { decode, encode } from "cbor-x";
import { describe, expect, it } from "vitest";
import {
  decodeProgram,
  encodeProgram,
  fitSession,
  type UsageSession,
} from "../model/usage_record.ts";
import { openAgentDatabase } from "../agent/agent_db.ts";
import { openDatabase } from "../store/db.ts";
import { tempDir } from "./helpers/metered_program.ts";
import { join } from "node:path";

const program = {
  ruleId: "S01-1",
  user: "VM\\alice",
  exe: "C:\\Tools\\cad.exe",
  argv0: "cad.exe",
  version: "24.1.0.7",
};

describe("the program record's language", () => {
  it("reads a five-element program from an older agent, with no language", () => {
    const old = encode([program.ruleId, program.user, program.exe, program.argv0, program.version]);
    expect(decodeProgram("p0", old)).toEqual({ ...program, language: null });
  });

  it("writes five elements when there is no language, which a site from before it reads", () => {
    const encoded = encodeProgram({ ...program, language: null });
    expect(decode(encoded)).toHaveLength(5);
    expect(decodeProgram("p0", encoded)).toEqual({ ...program, language: null });
  });

  it("round-trips a program with its language", () => {
    const encoded = encodeProgram({ ...program, language: "de-DE" });
    expect(decodeProgram("p0", encoded)).toEqual({ ...program, language: "de-DE" });
  });

  it("refuses a hostile language, naming the field's rule", () => {
    for (const language of ["de DE", "x".repeat(36), "de\u0000", "<script>", ""]) {
      const encoded = encode([...Object.values(program), language]);
      expect(() => decodeProgram("p3", encoded), JSON.stringify(language)).toThrow(/p3/);
    }
  });

  it("refuses a program with a seventh element", () => {
    const encoded = encode([...Object.values(program), "de", "extra"]);
    expect(() => decodeProgram("p1", encoded)).toThrow(/p1/);
  });

  it("is dropped by the agent when the site would refuse it", () => {
    const session: UsageSession = {
      ...program,
      language: "de DE; drop table",
      id: "2026-12-04/1",
      pid: 1,
      start: 0,
      end: 1,
      startNotCaptured: false,
      endNotCaptured: false,
      remote: false,
    };
    expect(fitSession(session).language).toBeNull();
    expect(fitSession({ ...session, language: "en-US" }).language).toBe("en-US");
  });
});

describe("an agent database from before the language", () => {
  it("gains the column when opened, keeping its sessions", async () => {
    const temp = await tempDir("meter-usage-record-");
    const path = join(temp.dir, "agent.db");
    try {
      const old = await openDatabase(path, [
        `CREATE TABLE agent_sessions (id TEXT PRIMARY KEY, day TEXT NOT NULL, seq INTEGER NOT NULL,
          rule_id TEXT NOT NULL, user_name TEXT NOT NULL, exe TEXT NOT NULL, argv0 TEXT NOT NULL,
          version TEXT, pid INTEGER NOT NULL, start_ms INTEGER NOT NULL, end_ms INTEGER,
          start_not_captured INTEGER NOT NULL, end_not_captured INTEGER NOT NULL,
          remote INTEGER NOT NULL, start_ticks INTEGER NOT NULL, boot_id TEXT NOT NULL,
          written INTEGER NOT NULL DEFAULT 0)`,
      ]);
      await old.execute(`INSERT INTO agent_sessions VALUES
        ('2026-12-04/1', '2026-12-04', 1, 'S01-1', 'bob', '/usr/bin/cad', 'cad', NULL, 7, 1, NULL,
         0, 0, 0, 1, 'boot', 0)`);
      old.close();
      const db = await openAgentDatabase(path);
      const rows = await db.execute("SELECT id, language FROM agent_sessions");
      db.close();
      expect(rows.rows.map((row) => [row.id, row.language])).toEqual([["2026-12-04/1", null]]);
    } finally {
      await temp.remove();
    }
  });
});
