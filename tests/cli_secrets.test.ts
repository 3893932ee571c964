/**
 * Secrets kept off command lines: every token option also comes as a file
 * (`--token-file`, `--enroll-token-file`, `--parent-token-file`) and as an
 * environment variable (`METER_TOKEN`, `METER_ENROLL_TOKEN`,
 * `METER_PARENT_TOKEN`); the flag wins over the file, the file over the
 * environment; a file others can read works, with a warning. Real sites and
 * agents, whose command lines (as `ps` shows them) hold no token.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { join } from "node:path";
import { tempDir } from "./helpers/metered_program.ts";
import { meter, STACK_FRAME } from "./helpers/meter_cli.ts";
import { MeterProcess, type SiteHandle, startAgent, startSite } from "./helpers/meter_process.ts";
import { api, makeToken } from "./helpers/site_api.ts";
import { waitFor } from "./helpers/wait_for.ts";

/** The command line of a running process, as `ps` shows it to every user. */
const commandLine = (pid: number) => Deno.readTextFileSync(`/proc/${pid}/cmdline`);

describe("secrets from files and the environment", () => {
  let temp: Awaited<ReturnType<typeof tempDir>>;
  let site: SiteHandle;
  let admin: string;

  /** A token in a file of the given mode, with the newline `echo` adds. */
  async function secretFile(name: string, secret: string, mode = 0o600): Promise<string> {
    const file = join(temp.dir, name);
    await Deno.writeTextFile(file, `${secret}\n`, { mode });
    await Deno.chmod(file, mode);
    return file;
  }

  beforeAll(async () => {
    temp = await tempDir();
    site = await startSite(temp.dir);
    admin = await makeToken(site.db, "admin");
  });

  afterAll(async () => {
    await site?.process.stop();
    await temp?.remove();
  });

  test("--token-file and METER_TOKEN; the flag wins over the file, the file over the env", async () => {
    const list = ["rules", "list", "--site", site.url, "--format", "json"];
    const good = await secretFile("admin.token", admin);
    const wrong = await secretFile("wrong.token", "mtr_wrong");

    const fromFile = await meter([...list, "--token-file", good]);
    expect(fromFile.stderr).toBe("");
    expect(fromFile.code).toBe(0);
    expect((await meter(list, { env: { METER_TOKEN: admin } })).code).toBe(0);

    const fileOverEnv = await meter([...list, "--token-file", good], {
      env: { METER_TOKEN: "mtr_wrong" },
    });
    expect(fileOverEnv.code).toBe(0);
    const flagOverFile = await meter([...list, "--token", admin, "--token-file", wrong]);
    expect(flagOverFile.code).toBe(0);
    const wrongWins = await meter([...list, "--token-file", wrong], {
      env: { METER_TOKEN: admin },
    });
    expect(wrongWins.code).toBe(1);
    expect(wrongWins.stderr).toContain("HTTP 401");
  });

  test("a token file others can read works, with one warning; a missing one is refused", async () => {
    const open = await secretFile("open.token", admin, 0o644);
    const result = await meter(["sites", "list", "--site", site.url, "--token-file", open]);
    expect(result.code).toBe(0);
    expect(result.stderr.trim().split("\n")).toEqual([
      `meter sites: warning: ${open} can be read by other users; ` +
      `make it yours alone with: chmod 600 ${open}`,
    ]);
    const missing = join(temp.dir, "missing.token");
    const refused = await meter(["sites", "list", "--site", site.url, "--token-file", missing]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`--token-file ${missing}: No such file`);
    expect(refused.stderr).not.toMatch(STACK_FRAME);
    const empty = await secretFile("empty.token", "");
    const emptyRefused = await meter(["usage", "--site", site.url, "--token-file", empty]);
    expect(emptyRefused.code).toBe(2);
    expect(emptyRefused.stderr).toContain(`--token-file ${empty} is empty`);
  });

  test("an agent enrols with --enroll-token-file, or with METER_ENROLL_TOKEN", async () => {
    const viaFile = await makeToken(site.db, "enroll");
    const viaEnv = await makeToken(site.db, "enroll");
    const agents = [
      startAgent(site.url, {
        db: join(temp.dir, "agent-file.db"),
        extra: ["--enroll-token-file", await secretFile("enroll.token", viaFile)],
      }),
      startAgent(site.url, {
        db: join(temp.dir, "agent-env.db"),
        env: { METER_ENROLL_TOKEN: viaEnv },
      }),
    ];
    try {
      for (const agent of agents) {
        await waitFor(`the agent to enrol\n${agent.tail()}`, () => {
          if (agent.exited) throw new Error(`agent exited:\n${agent.tail()}`);
          return agent.logged("agent enrolled").length > 0;
        });
        const line = commandLine(agent.pid);
        expect(line).not.toContain(viaFile);
        expect(line).not.toContain(viaEnv);
      }
    } finally {
      for (const agent of agents) await agent.stop();
    }
  });

  test("a child site registers with --parent-token-file", async () => {
    const token = await makeToken(site.db, "site");
    const child = new MeterProcess([
      "site",
      "--code",
      "EU1",
      "--db",
      join(temp.dir, "child.db"),
      "--hostname",
      "127.0.0.1",
      "--port",
      "0",
      "--parent",
      site.url,
      "--parent-interval",
      "1",
      "--parent-token-file",
      await secretFile("site.token", token),
    ]);
    try {
      await waitFor(`the child to register\n${child.tail()}`, async () => {
        if (child.exited) throw new Error(`child exited:\n${child.tail()}`);
        const response = await api(site.url, admin, "GET", "/v1/sites");
        const { sites } = await response.json();
        return sites.some((s: { code: string }) => s.code === "EU1");
      });
      expect(commandLine(child.pid)).not.toContain(token);
    } finally {
      await child.stop();
    }
  });
});
