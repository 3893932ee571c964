/**
 * The `meter` command line: help for every command, usage errors that say
 * what was wrong, and the rules, token and usage commands against a real
 * site.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { join } from "node:path";
import { tempDir } from "./helpers/metered_program.ts";
import { type SiteHandle, startSite } from "./helpers/meter_process.ts";
import { makeToken } from "./helpers/site_api.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const ROOT = new URL("..", import.meta.url).pathname;

async function meter(...args: string[]) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

const COMMANDS = [
  "demo",
  "site",
  "agent",
  "token",
  "rules",
  "licences",
  "usage",
  "report",
  "sites",
];

describe("meter CLI", () => {
  let temp: Awaited<ReturnType<typeof tempDir>>;
  let site: SiteHandle;
  let admin: string;

  beforeAll(async () => {
    temp = await tempDir();
    site = await startSite(temp.dir);
    admin = await makeToken(site.db, "admin");
  });

  afterAll(async () => {
    await site?.process.stop();
    await temp?.remove();
  });

  test("meter --help lists every command", async () => {
    const { code, stdout } = await meter("--help");
    expect(code).toBe(0);
    for (const name of COMMANDS) expect(stdout).toMatch(new RegExp(`^  ${name}\\s`, "m"));
  });

  test("the deno task runs the CLI", async () => {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["task", "meter", "--help"],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    expect(output.code).toBe(0);
    expect(new TextDecoder().decode(output.stdout)).toContain("Usage: meter <command>");
  });

  test.each(COMMANDS)("meter %s --help", async (name) => {
    const { code, stdout } = await meter(name, "--help");
    expect(code).toBe(0);
    expect(stdout).toContain(`Usage: meter ${name}`);
  });

  test.each(["", ...COMMANDS])("deno run main.ts %s --help needs no permissions", async (name) => {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", MAIN, ...(name ? [name] : []), "--help"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    expect(new TextDecoder().decode(output.stderr)).toBe("");
    expect(output.code).toBe(0);
    expect(new TextDecoder().decode(output.stdout)).toContain("Usage: meter");
  });

  test("usage errors name the problem and exit 2", async () => {
    const unknown = await meter("rules", "list", "--colour", "red");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("--colour");
    const missing = await meter("rules", "list", "--site", site.url);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("--token is required");
    const badCommand = await meter("frobnicate");
    expect(badCommand.code).toBe(2);
    expect(badCommand.stderr).toContain("unknown command 'frobnicate'");
  });

  test("token create prints a token that works once stored hashed; list and revoke", async () => {
    const { code, stdout } = await meter(
      "token",
      "create",
      "--db",
      site.db,
      "--role",
      "viewer",
      "--json",
    );
    expect(code).toBe(0);
    const token = JSON.parse(stdout);
    expect(token.role).toBe("viewer");
    const response = await fetch(`${site.url}/v1/rules`, {
      headers: { authorization: `Bearer ${token.token}` },
    });
    expect(response.status).toBe(200);
    const bad = await meter("token", "create", "--db", site.db, "--role", "root");
    expect(bad.code).toBe(2);

    // Listed without its secret, then revoked: the site refuses it at once.
    const listed = await meter("token", "list", "--db", site.db, "--json");
    expect(listed.stdout).not.toContain(token.token);
    expect(JSON.parse(listed.stdout).map((t: { id: string }) => t.id)).toContain(token.id);
    const revoked = await meter("token", "revoke", token.id, "--db", site.db);
    expect(revoked.stdout).toContain(`revoked ${token.id}`);
    const after = await fetch(`${site.url}/v1/rules`, {
      headers: { authorization: `Bearer ${token.token}` },
    });
    expect(after.status).toBe(401);
    await after.body?.cancel();
  });

  test("rules add, update, disable, list and delete", async () => {
    const connect = ["--site", site.url, "--token", admin];
    const added = await meter(
      "rules",
      "add",
      ...connect,
      "--name",
      "Editor",
      "--file-name",
      "vim*",
      "--format",
      "json",
    );
    expect(added.code).toBe(0);
    const [rule] = JSON.parse(added.stdout);
    expect(rule).toMatchObject({ name: "Editor", fileName: "vim*", enabled: true, version: "*" });

    const updated = await meter(
      "rules",
      "update",
      rule.id,
      ...connect,
      "--version",
      "9.*",
      "--format",
      "json",
    );
    expect(JSON.parse(updated.stdout)[0]).toMatchObject({
      id: rule.id,
      version: "9.*",
      fileName: "vim*",
    });
    const disabled = await meter("rules", "disable", rule.id, ...connect, "--format", "json");
    expect(JSON.parse(disabled.stdout)[0].enabled).toBe(false);

    const csv = await meter("rules", "list", ...connect, "--format", "csv");
    const [header, row] = csv.stdout.trim().split(/\r?\n/);
    expect(header.split(",")).toContain("originalFileName");
    expect(row).toContain(rule.id);
    const table = await meter("rules", "list", ...connect);
    expect(table.stdout).toMatch(new RegExp(`${rule.id}\\s+Editor\\s+vim\\*`));

    const refused = await meter("rules", "add", ...connect, "--name", "Nothing to match");
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("at least one of fileName, originalFileName, sha256");

    expect((await meter("rules", "delete", rule.id, ...connect)).code).toBe(0);
    const after = await meter("rules", "list", ...connect, "--format", "json");
    expect(JSON.parse(after.stdout)).toEqual([]);
  });

  test("licences add, update, show, list, events and delete; a bad number is a usage error", async () => {
    const connect = ["--site", site.url, "--token", admin];
    const rules = await Promise.all(["cad24", "cad25"].map(async (name) => {
      const made = await meter(
        "rules",
        "add",
        ...connect,
        "--name",
        name,
        "--file-name",
        name,
        "--format",
        "json",
      );
      return JSON.parse(made.stdout)[0].id as string;
    }));
    const added = await meter(
      "licences",
      "add",
      ...connect,
      "--name",
      "CAD",
      "--rule",
      rules[0],
      "--rule",
      rules[1],
      "--model",
      "concurrent",
      "--quantity",
      "20",
      "--unit-cost",
      "1800.5",
      "--currency",
      "EUR",
      "--format",
      "json",
    );
    expect(added.code, added.stderr).toBe(0);
    const [licence] = JSON.parse(added.stdout);
    expect(licence).toMatchObject({
      name: "CAD",
      ruleIds: rules,
      model: "concurrent",
      quantity: 20,
      unitCost: 1800.5,
      currency: "EUR",
      windowDays: 90,
    });

    const updated = await meter(
      "licences",
      "update",
      licence.id,
      ...connect,
      "--quantity",
      "25",
      "--unit-cost",
      "none",
      "--rule",
      rules[0],
      "--format",
      "json",
    );
    expect(JSON.parse(updated.stdout)[0]).toMatchObject({
      quantity: 25,
      unitCost: null,
      ruleIds: [rules[0]],
    });
    const shown = await meter("licences", "show", licence.id, ...connect);
    expect(shown.stdout).toMatch(new RegExp(`${licence.id}\\s+CAD\\s+concurrent\\s+25`));
    const csv = await meter("licences", "list", ...connect, "--format", "csv");
    const [header, row] = csv.stdout.trim().split(/\r?\n/);
    expect(header.split(",")).toContain("thresholdMinutes");
    expect(row).toContain(licence.id);
    const events = await meter("licences", "events", ...connect, "--format", "json");
    expect(JSON.parse(events.stdout).events).toEqual([]);

    const bad = await meter("licences", "update", licence.id, ...connect, "--quantity", "lots");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--quantity takes a number");
    const refused = await meter("licences", "update", licence.id, ...connect, "--quantity=-1");
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("quantity");

    expect((await meter("licences", "delete", licence.id, ...connect)).code).toBe(0);
    const after = await meter("licences", "list", ...connect, "--format", "json");
    expect(JSON.parse(after.stdout)).toEqual([]);
    for (const id of rules) await meter("rules", "delete", id, ...connect);
  });

  test("usage lists an empty site in every format", async () => {
    const connect = ["--site", site.url, "--token", admin];
    expect(JSON.parse((await meter("usage", ...connect, "--format", "json")).stdout)).toEqual([]);
    const csv = await meter("usage", ...connect, "--format", "csv");
    expect(csv.stdout.split(/\r?\n/)[0]).toBe(
      "id,clientId,hostName,ruleId,ruleName,user,exe,argv0,version,pid,start,end,durationSeconds," +
        "stillRunning,startNotCaptured,endNotCaptured,remote,clockCorrectionSeconds,language",
    );
    const badTime = await meter("usage", ...connect, "--from", "yesterday");
    expect(badTime.code).toBe(2);
    expect(badTime.stderr).toContain("yesterday is not a time");
  });

  test("agent refuses to start without an enrolment", async () => {
    const { code, stderr } = await meter(
      "agent",
      "--site",
      site.url,
      "--db",
      join(temp.dir, "never.db"),
    );
    expect(code).toBe(1);
    expect(stderr).toContain("--enroll-token");
  });
});
