/** @jsxImportSource hono/jsx */
/**
 * The overview: how many computers synced lately and how many did not,
 * sessions started today, the most used programs this month, and how fresh
 * the summaries are (with the sessions still waiting to be summarised), and
 * the latest licence alerts.
 *
 * @module
 */
import type { SiteContext } from "../site_context.ts";
import { type Column, DataTable, tableView } from "./data_table.tsx";
import type { Row } from "./console_reports.ts";
import { runReport } from "./console_reports.ts";
import { countOnline } from "../clients/clients_table.ts";
import { countSessionsSince } from "../usage/sessions_table.ts";
import { type LicenceEvent, listLicenceEvents } from "../licences/licence_alerts.ts";

/** A computer that synced within this long is counted online. */
export const ONLINE_WITHIN_MS = 10 * 60_000;
const DAY_MS = 86_400_000;

export interface Overview {
  clients: number;
  online: number;
  sessionsToday: number;
  month: string;
  mostUsed: Row[];
  summarizedUntil: string | null;
  waitingSessions: number;
  /** The latest licence alerts, newest first. */
  alerts: LicenceEvent[];
}

export async function loadOverview(site: SiteContext, now = Date.now()): Promise<Overview> {
  await site.lastSeen.flush();
  const clients = await countOnline(site.db, now - ONLINE_WITHIN_MS);
  const sessionsToday = await countSessionsSince(site.db, Math.floor(now / DAY_MS) * DAY_MS);
  const month = new Date(now).toISOString().slice(0, 7);
  const usage = await runReport(site, "total-usage", { month }, now);
  const progress = await runReport(site, "summarization-progress", {}, now);
  return {
    clients: clients.total,
    online: clients.online,
    sessionsToday,
    month,
    mostUsed: usage.rows.filter((r) => r.runs > 0),
    summarizedUntil: (progress.extra?.summarizedUntil as string | null) ?? null,
    waitingSessions: progress.rows.reduce((sum, r) => sum + (r.waitingSessions as number), 0),
    alerts: await listLicenceEvents(site.db, 5),
  };
}

const MOST_USED: Column<Row>[] = [
  { key: "ruleName", label: "Program", href: (r) => `/programs/${r.ruleId}` },
  { key: "ruleId", label: "Rule" },
  { key: "users", label: "Users", numeric: true },
  { key: "computers", label: "Computers", numeric: true },
  { key: "runs", label: "Runs", numeric: true },
  { key: "runHours", label: "Hours", numeric: true },
];

export function OverviewPage({ o, url }: { o: Overview; url: URL }) {
  return (
    <>
      <div class="cards">
        <div class="card" id="clients-online">
          <div class="figure">{o.online}</div>online (synced in the last 10 minutes)
        </div>
        <div class="card" id="clients-offline">
          <div class="figure">{o.clients - o.online}</div>offline, of {o.clients} computers
        </div>
        <div class="card" id="sessions-today">
          <div class="figure">{o.sessionsToday}</div>sessions started today (UTC)
        </div>
        <div class="card" id="freshness">
          <div class="figure">{o.waitingSessions}</div>
          sessions waiting to be summarised; summaries complete until{" "}
          {o.summarizedUntil ?? "— (not summarised yet)"}
        </div>
      </div>
      {o.alerts.length > 0 && (
        <>
          <h2>Licence alerts</h2>
          <ul id="licence-alerts">
            {o.alerts.map((a) => (
              <li class={a.kind === "recovered" ? undefined : "notice"} data-kind={a.kind}>
                {new Date(a.at).toISOString()}: <a href={`/licences/${a.licenceId}`}>{a.message}</a>
              </li>
            ))}
          </ul>
        </>
      )}
      <h2>Most used programs, {o.month}</h2>
      <DataTable
        id="most-used"
        caption={`Most used programs in ${o.month}, by hours`}
        columns={MOST_USED}
        rows={o.mostUsed}
        view={tableView(url, "most-used", "runHours", true)}
        url={url}
        csvHref={`/reports/total-usage.csv?month=${o.month}`}
        empty="No program was run this month yet."
      />
    </>
  );
}
