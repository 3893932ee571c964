/**
 * Operational errors of `meter` commands: each is one line on stderr,
 * `meter <command>: <what went wrong>`, with a non-zero exit code and no
 * stack trace (the stack shows only with `METER_LOG_LEVEL=debug`). Real
 * `meter` processes, real folders, ports and databases.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { join } from "node:path";
import { openSiteDatabase } from "../site/site_db.ts";
import { KeyValueTable } from "../store/key_value_table.ts";
import { tempDir } from "./helpers/metered_program.ts";
import { canRunUnprivileged, meter, type MeterResult, STACK_FRAME } from "./helpers/meter_cli.ts";
import { MeterProcess } from "./helpers/meter_process.ts";
import { waitFor } from "./helpers/wait_for.ts";

/** One line on stderr, naming the command; no stack frame. */
function expectOneLine(result: MeterResult, command: string): string {
  expect(result.stderr).not.toMatch(STACK_FRAME);
  const lines = result.stderr.trim().split("\n");
  expect(lines[0]).toMatch(new RegExp(`^meter ${command}: `));
  return lines[0];
}

const exists = (path: string) => Deno.stat(path).then(() => true, () => false);

describe("meter's operational errors", () => {
  let temp: Awaited<ReturnType<typeof tempDir>>;

  beforeAll(async () => {
    temp = await tempDir();
  });

  afterAll(async () => {
    await Deno.chmod(temp.dir, 0o755).catch(() => {});
    await temp?.remove();
  });

  test("a port in use: one line, and no database left behind", async () => {
    const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (taken.addr as Deno.NetAddr).port;
    const dataDir = join(temp.dir, "port-in-use");
    try {
      const args = ["site", "--data-dir", dataDir, "--hostname", "127.0.0.1", "--port"];
      const result = await meter([...args, String(port)]);
      expect(result.code).toBe(1);
      const line = expectOneLine(result, "site");
      expect(line).toContain(`127.0.0.1:${port}`);
      expect(line).toContain("the port is in use");
      expect(result.stderr.trim().split("\n")).toHaveLength(1);
      // The port is taken before the database is opened: nothing was created.
      expect(await exists(dataDir)).toBe(false);
    } finally {
      taken.close();
    }
  });

  test.skipIf(!canRunUnprivileged())("a read-only data folder: one line naming it", async () => {
    const dataDir = join(temp.dir, "read-only");
    await Deno.mkdir(dataDir, { mode: 0o555 });
    await Deno.chmod(dataDir, 0o555);
    const result = await meter(
      ["site", "--data-dir", dataDir, "--hostname", "127.0.0.1", "--port", "0"],
      { asUnprivileged: true },
    );
    expect(result.code).toBe(1);
    const line = expectOneLine(result, "site");
    expect(line).toContain(join(dataDir, "site-S01.db"));
    expect(line).toContain(`its folder ${dataDir} must be writable by this user`);
  });

  test("a missing data folder is created, the database in it for its owner alone", async () => {
    const dataDir = join(temp.dir, "new", "data");
    const site = new MeterProcess([
      "site",
      "--data-dir",
      dataDir,
      "--hostname",
      "127.0.0.1",
      "--port",
      "0",
    ]);
    try {
      await waitFor(`the site to start\n${site.tail()}`, () => {
        if (site.exited) throw new Error(`site exited:\n${site.tail()}`);
        return site.stdout.find((line) => line.includes("http://"));
      });
      const db = join(dataDir, "site-S01.db");
      for (const file of [db, `${db}-wal`, `${db}-shm`]) {
        expect({ file, mode: ((await Deno.stat(file)).mode! & 0o777).toString(8) })
          .toEqual({ file, mode: "600" });
      }
    } finally {
      await site.stop();
    }
  });

  test("--site without http:// or https://: the fix, in one line", async () => {
    const cases = [
      ["rules", "list", "--site", "127.0.0.1:8080", "--token", "t"],
      ["usage", "--site", "localhost:8080", "--token", "t"],
      ["agent", "--site", "127.0.0.1:8080", "--db", join(temp.dir, "agent.db")],
      ["site", "--parent", "hq:8080", "--data-dir", join(temp.dir, "child"), "--port", "0"],
    ];
    for (const args of cases) {
      const result = await meter(args);
      expect(result.code, args.join(" ")).toBe(2);
      expect(expectOneLine(result, args[0])).toContain("add http:// or https://");
    }
  });

  const numbers = [
    {
      flag: "--sync-threads",
      key: "syncThreads",
      range: "from 0 to 16",
      bad: ["17", "two", "1.5"],
    },
    {
      flag: "--db-cache-mib",
      key: "dbCacheMiB",
      range: "from 2 to 65536",
      bad: ["1", "lots", "8.5"],
    },
  ];
  for (const { flag, key, range, bad } of numbers) {
    test(`${flag} out of range, as a flag or in the config file`, async () => {
      for (const value of bad) {
        const result = await meter(["site", flag, value, "--port", "0"]);
        expect(result.code, value).toBe(2);
        expect(expectOneLine(result, "site")).toContain(
          `${flag} must be a whole number ${range}, not ${value}`,
        );
      }
      const config = join(temp.dir, `${key}.json`);
      await Deno.writeTextFile(config, JSON.stringify({ [key]: -1 }));
      const result = await meter(["site", "--config", config, "--port", "0"]);
      expect(result.code).toBe(1);
      expect(expectOneLine(result, "site")).toContain(key);
    });
  }

  test("a config file with an unknown key names the key", async () => {
    const config = join(temp.dir, "site.json");
    await Deno.writeTextFile(config, JSON.stringify({ code: "S01", prot: 8080 }));
    const result = await meter(["site", "--config", config, "--port", "0"]);
    expect(result.code).toBe(1);
    const line = expectOneLine(result, "site");
    expect(line).toContain(`the config file ${config} has unknown key "prot"`);
    expect(line).toContain("port");
    // The stack is there for a developer who asks for it.
    const debug = await meter(["site", "--config", config], { env: { METER_LOG_LEVEL: "debug" } });
    expect(debug.code).toBe(1);
    expect(debug.stderr).toMatch(STACK_FRAME);
  });

  test("a database that belongs to another site code", async () => {
    const file = join(temp.dir, "site-S01.db");
    const db = await openSiteDatabase(file);
    await new KeyValueTable(db, "site_meta").set("code", "S01");
    db.close();
    const site = await meter(["site", "--db", file, "--code", "S02", "--port", "0"]);
    expect(site.code).toBe(1);
    expect(expectOneLine(site, "site")).toContain("belongs to site S01, not S02");
    const token = await meter([
      "token",
      "create",
      "--role",
      "admin",
      "--db",
      file,
      "--code",
      "S02",
    ]);
    expect(token.code).toBe(1);
    expect(expectOneLine(token, "token")).toContain("belongs to site S01, not S02");
    expect(token.stdout).toBe("");
  });
});
