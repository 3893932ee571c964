/**
 * A database written by a newer Meter reaches the operator as one line and
 * exit code 1 from each command that opens it (`meter site`, `meter token
 * create`, `meter agent`), and the file is left as it was.
 */
import { createClient } from "@libsql/client";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { fileURLToPath } from "node:url";
import { SITE_SCHEMA_VERSION } from "../site/site_db.ts";
import { AGENT_SCHEMA } from "../agent/agent_db.ts";
import { meter } from "./helpers/meter_cli.ts";
import { tempDir } from "./helpers/metered_program.ts";

const SCHEMAS = fileURLToPath(new URL("./data/schemas/", import.meta.url));

describe("a database of a newer Meter", () => {
  let temp: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    temp = await tempDir("meter-newer-db-");
  });
  afterAll(async () => await temp?.remove());

  /** A copy of a fixture marked `version`. */
  async function newer(fixture: string, version: number): Promise<string> {
    const path = `${temp.dir}/${version}-${fixture}`;
    await Deno.copyFile(`${SCHEMAS}${fixture}`, path);
    const db = createClient({ url: `file:${path}` });
    await db.execute(`PRAGMA user_version = ${version}`);
    db.close();
    return path;
  }

  async function expectRefused(args: string[], path: string, version: number, latest: number) {
    const bytes = await Deno.readFile(path);
    const result = await meter(args, { env: { METER_LOG_LEVEL: "error" } });
    expect(result.code, result.stderr).toBe(1);
    const lines = result.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(
      `was written by a newer Meter (schema version ${version}; this Meter knows up to ${latest})`,
    );
    expect(await Deno.readFile(path)).toEqual(bytes);
  }

  test("meter site refuses it", async () => {
    const version = SITE_SCHEMA_VERSION + 2;
    const path = await newer("site-0.1.0.db", version);
    await expectRefused(
      ["site", "--db", path, "--port", "0", "--hostname", "127.0.0.1"],
      path,
      version,
      SITE_SCHEMA_VERSION,
    );
  });

  test("meter token create refuses it", async () => {
    const version = SITE_SCHEMA_VERSION + 1;
    const path = await newer("site-0.1.0.db", version);
    await expectRefused(
      ["token", "create", "--role", "admin", "--db", path],
      path,
      version,
      SITE_SCHEMA_VERSION,
    );
  });

  test("meter agent refuses it", async () => {
    const latest = AGENT_SCHEMA.migrations.length;
    const path = await newer("agent-0.1.0.db", latest + 3);
    await expectRefused(
      ["agent", "--site", "http://127.0.0.1:9", "--db", path],
      path,
      latest + 3,
      latest,
    );
  });
});
