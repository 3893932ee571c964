/**
 * Real `meter site` and `meter agent` processes for end-to-end tests: started
 * with `deno run main.ts`, their JSON-lines logs kept for the failure message,
 * stopped with SIGTERM or killed with SIGKILL.
 *
 * @module
 */
import { join } from "node:path";
import { makeToken } from "./site_api.ts";
import { waitFor } from "./wait_for.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

export class MeterProcess {
  readonly logs: string[] = [];
  readonly stdout: string[] = [];
  readonly #child: Deno.ChildProcess;
  #exited = false;
  readonly status: Promise<Deno.CommandStatus>;

  /**
   * Runs `meter ARGS` with this Deno, or through `spawn` when given (the
   * Windows Deno under Wine), which must pipe stdout and stderr.
   */
  constructor(
    args: string[],
    env: Record<string, string> = {},
    spawn?: (args: string[], env: Record<string, string>) => Deno.ChildProcess,
  ) {
    const allEnv = { METER_LOG_LEVEL: "debug", ...env };
    this.#child = spawn ? spawn(args, allEnv) : new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, ...args],
      stdout: "piped",
      stderr: "piped",
      env: allEnv,
    }).spawn();
    this.status = this.#child.status.then((status) => {
      this.#exited = true;
      return status;
    });
    collectLines(this.#child.stdout, this.stdout);
    collectLines(this.#child.stderr, this.logs);
  }

  get pid(): number {
    return this.#child.pid;
  }

  get exited(): boolean {
    return this.#exited;
  }

  /** Log lines (parsed) whose `msg` equals `msg`. */
  logged(msg: string): Record<string, unknown>[] {
    return this.logs.flatMap((line) => {
      try {
        const entry = JSON.parse(line);
        return entry.msg === msg ? [entry] : [];
      } catch {
        return [];
      }
    });
  }

  /** Stops it with `signal` (SIGTERM, as a service manager does, unless told). */
  async stop(signal: Deno.Signal = "SIGTERM"): Promise<void> {
    if (this.#exited) return;
    this.#child.kill(signal);
    await this.status;
  }

  async kill(): Promise<void> {
    if (this.#exited) return;
    this.#child.kill("SIGKILL");
    await this.status;
  }

  /** The last log lines, for a failure message. */
  tail(n = 30): string {
    return this.logs.slice(-n).join("\n");
  }
}

async function collectLines(stream: ReadableStream<Uint8Array>, into: string[]): Promise<void> {
  const decoder = new TextDecoder();
  let rest = "";
  try {
    for await (const chunk of stream) {
      rest += decoder.decode(chunk, { stream: true });
      const lines = rest.split("\n");
      rest = lines.pop()!;
      into.push(...lines);
    }
  } catch {
    // the process went away
  }
  if (rest) into.push(rest);
}

export interface SiteHandle {
  process: MeterProcess;
  url: string;
  db: string;
  port: number;
}

/** Starts `meter site` on a free loopback port (or the given one). */
export async function startSite(
  dir: string,
  { port = 0, code = "S01", extra = [] as string[] } = {},
): Promise<SiteHandle> {
  const db = join(dir, `site-${code}.db`);
  const process = new MeterProcess([
    "site",
    "--db",
    db,
    "--port",
    String(port),
    "--hostname",
    "127.0.0.1",
    "--code",
    code,
    ...extra,
  ]);
  const line = await waitFor(`the site to start\n${process.tail()}`, () => {
    if (process.exited) throw new Error(`site exited:\n${process.tail()}`);
    return process.stdout.find((l) => /https?:\/\//.test(l));
  }, { timeoutMs: 30_000 });
  const url = /(https?:\/\/\S+)/.exec(line)![1];
  return { process, url, db, port: Number(new URL(url).port) };
}

export interface AgentHandleOptions {
  enrollToken?: string;
  db: string;
  /** Seconds between syncs; 2 by default, null for the site's (as an agent set up by default). */
  interval?: number | null;
  poll?: number;
  syncDelay?: number;
  extra?: string[];
  /** More environment for the process, e.g. `TZ` for the time zone it reports. */
  env?: Record<string, string>;
}

/** Starts `meter agent` against a site. */
export function startAgent(siteUrl: string, o: AgentHandleOptions): MeterProcess {
  return new MeterProcess([
    "agent",
    "--site",
    siteUrl,
    "--db",
    o.db,
    ...(o.interval === null ? [] : ["--interval", String(o.interval ?? 2)]),
    "--poll",
    String(o.poll ?? 0.5),
    "--sync-delay",
    String(o.syncDelay ?? 0.5),
    ...(o.enrollToken ? ["--enroll-token", o.enrollToken] : []),
    ...(o.extra ?? []),
  ], o.env);
}

/** A site and an enrolled agent, as separate processes, in a temp folder of their own. */
export interface MeteredSite {
  dir: string;
  site: SiteHandle;
  agent: MeterProcess;
  admin: string;
  /** Stops both processes and removes the folder. */
  stop(): Promise<void>;
}

export async function startSiteWithAgent(
  agentOptions: Partial<AgentHandleOptions> = {},
): Promise<MeteredSite> {
  const dir = await Deno.makeTempDir({ prefix: "meter-test-" });
  const site = await startSite(dir);
  const admin = await makeToken(site.db, "admin");
  const agent = startAgent(site.url, {
    db: join(dir, "agent.db"),
    enrollToken: await makeToken(site.db, "enroll"),
    ...agentOptions,
  });
  const fixture: MeteredSite = {
    dir,
    site,
    agent,
    admin,
    async stop() {
      await fixture.agent.stop();
      await fixture.site.process.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
  return fixture;
}
