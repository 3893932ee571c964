/**
 * A site for report tests: the real `openSite` on a temporary libSQL file,
 * the real app with the reports route mounted, served by `Deno.serve` on a
 * loopback port, so tests (and `meter report` in a child process) talk HTTP
 * to it while the test writes known rows straight into its tables. No
 * summariser runs, so the rows stay as written.
 *
 * @module
 */
import { join } from "node:path";
import { createApp } from "../../site/app.ts";
import { reportsRoute } from "../../site/routes/reports_route.ts";
import { type SiteContext } from "../../site/site_context.ts";
import { closeSite, openSite } from "../../site/site_server.ts";
import { createToken } from "../../site/access/tokens.ts";
import { tempDir } from "./metered_program.ts";

export interface ReportSite {
  site: SiteContext;
  /** The database file. */
  dbPath: string;
  url: string;
  viewer: string;
  admin: string;
  enroll: string;
  close(): Promise<void>;
}

export async function startReportSite(code = "S01"): Promise<ReportSite> {
  const temp = await tempDir("meter-reports-");
  const dbPath = join(temp.dir, `site-${code}.db`);
  const site = await openSite({ db: dbPath, code });
  const app = createApp(site);
  app.route("/v1/reports", reportsRoute(site));
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, app.fetch);
  const token = async (role: "viewer" | "admin" | "enroll") =>
    (await createToken(site.db, role)).token;
  return {
    site,
    dbPath,
    url: `http://127.0.0.1:${server.addr.port}`,
    viewer: await token("viewer"),
    admin: await token("admin"),
    enroll: await token("enroll"),
    async close() {
      await server.shutdown();
      closeSite(site);
      await temp.remove();
    },
  };
}
