/**
 * A real site for query tests: a libSQL file seeded with a little of every
 * query table (and the secrets a query must never reach), its Hono app on a
 * loopback port with the query route on its own runner, tokens of each role,
 * and a snapshot of every table to prove a refused query changed nothing.
 *
 * @module
 */
import { Hono } from "hono";
import { errorResponse } from "../../site/http/api_error.ts";
import { createApp } from "../../site/app.ts";
import type { SiteEnv } from "../../site/routes/auth.ts";
import { QueryRunner, type QueryRunnerOptions } from "../../site/query/query_runner.ts";
import { queryRoute } from "../../site/routes/query_route.ts";
import { type SiteContext } from "../../site/site_context.ts";
import { closeSite, openSite } from "../../site/site_server.ts";
import { createToken } from "../../site/access/tokens.ts";
import { tempDir } from "./metered_program.ts";
import { api } from "./site_api.ts";
import { sessionRowsStatements } from "./session_rows.ts";

export const T0 = Date.UTC(2026, 4, 4, 9, 0, 0);

export interface QuerySite {
  dir: string;
  site: SiteContext;
  runner: QueryRunner;
  url: string;
  viewer: string;
  admin: string;
  enroll: string;
  /** `POST /v1/query` (or `path`) with `body` as `token`; the parsed JSON answer. */
  query(
    body: Record<string, unknown>,
    token?: string,
    path?: string,
    // deno-lint-ignore no-explicit-any -- answers of every shape, checked by each test
  ): Promise<{ status: number; body: any; response: Response }>;
  /** Every row of every table and the schema itself, as one string. */
  snapshot(): Promise<string>;
  close(): Promise<void>;
}

export async function openQuerySite(options: QueryRunnerOptions = {}): Promise<QuerySite> {
  const temp = await tempDir("meter-query-");
  const site = await openSite({ db: `${temp.dir}/site.db`, code: "S01" });
  const runner = new QueryRunner(site.db, { workers: 2, ...options });
  const app = new Hono<SiteEnv>();
  app.onError(errorResponse);
  app.route("/v1/query", queryRoute(site, { runner }));
  app.route("/", createApp(site));
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, app.fetch);
  const url = `http://127.0.0.1:${server.addr.port}`;
  const viewer = (await createToken(site.db, "viewer")).token;
  const admin = (await createToken(site.db, "admin")).token;
  const enroll = (await createToken(site.db, "enroll")).token;
  await seed(site);
  return {
    dir: temp.dir,
    site,
    runner,
    url,
    viewer,
    admin,
    enroll,
    async query(body, token = viewer, path = "/v1/query") {
      const response = await api(url, token, "POST", path, body);
      return { status: response.status, body: await response.json(), response };
    },
    snapshot: () => snapshot(site),
    async close() {
      runner.close();
      await server.shutdown();
      closeSite(site);
      await temp.remove();
    },
  };
}

async function exec(site: SiteContext, sql: string, ...args: (string | number | null)[]) {
  await site.db.execute({ sql, args });
}

async function seed(site: SiteContext): Promise<void> {
  for (const [id, host, tz] of [["c1", "ws-one", "Europe/Paris"], ["c2", "ws-two", "UTC"]]) {
    await exec(
      site,
      `INSERT INTO clients (client_id, host_name, time_zone, enrolled_at, enrolled_with)
        VALUES (?, ?, ?, ?, 'tok1')`,
      id,
      host,
      tz,
      T0,
    );
    await exec(site, "INSERT INTO client_secrets (client_id, secret_hash) VALUES (?, 'f00d')", id);
  }
  for (const id of ["S01-1", "S01-2"]) {
    await exec(
      site,
      `INSERT INTO rules (id, name, file_name, version, site_code, apply_to_child_sites,
        enabled, comment, origin, created_at, updated_at)
        VALUES (?, ?, 'x', '*', 'S01', 0, 1, '', 'manual', ?, ?)`,
      id,
      `Program ${id}`,
      T0,
      T0,
    );
  }
  const sessions: [string, string, string, string, number, number | null][] = [
    ["c1", "2026-05-04/1", "S01-1", "ann", T0, T0 + 60_000],
    ["c1", "2026-05-04/2", "S01-2", "ann", T0 + 1000, null],
    ["c2", "2026-05-04/1", "S01-1", "bob", T0 + 2000, T0 + 5000],
  ];
  for (const [client, id, rule, user, start, end] of sessions) {
    await site.db.batch(
      sessionRowsStatements([{ client, id, rule, user, start, end, pid: 42, updatedAt: T0 }]),
      "write",
    );
  }
  await exec(
    site,
    `INSERT INTO hourly_usage VALUES ('S01-1', ?, 2, 2, 2, 2, 63000, 2, ?, 2, ?, 0, 0, ?)`,
    T0,
    T0 + 2000,
    T0 + 2000,
    T0,
  );
  await exec(
    site,
    `INSERT INTO daily_usage VALUES ('c1', '2026-05-04', 'S01-1', 'ann', 1, 60000, ?, 0, 0, 'UTC', 0)`,
    T0 + 60_000,
  );
  await exec(
    site,
    `INSERT INTO monthly_usage VALUES ('S01-1', '2026-05', 'ann', 'c1', 1, 60000, ?, 0, 0)`,
    T0 + 60_000,
  );
  await exec(
    site,
    `INSERT INTO software VALUES ('c1', 'dpkg/coreutils:amd64', 'coreutils', 'coreutils',
    '9.1-1', 'Debian <debian@example.org>', 'dpkg', ?)`,
    T0,
  );
  await exec(
    site,
    `INSERT INTO software_files VALUES ('c1', 'dpkg/coreutils:amd64', '/usr/bin/ls', 'ls', NULL,
    NULL)`,
  );
  // Views in the site's own schema, as a trick to reach tokens through.
  await exec(site, "CREATE VIEW IF NOT EXISTS token_view AS SELECT * FROM tokens");
  await exec(site, "CREATE VIEW IF NOT EXISTS token_view_2 AS SELECT hash FROM token_view");
}

async function snapshot(site: SiteContext): Promise<string> {
  const tables = await site.db.execute(
    "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name",
  );
  const all: Record<string, unknown> = {
    schema: (await site.db.execute("SELECT * FROM sqlite_schema ORDER BY name")).rows,
  };
  for (const row of tables.rows) {
    const name = row.name as string;
    all[name] = (await site.db.execute(`SELECT * FROM "${name}"`)).rows;
  }
  return JSON.stringify(all);
}
