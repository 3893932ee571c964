/** @jsxImportSource hono/jsx */
/**
 * One rule's program: users and hours per month (line charts, the peak of
 * concurrent users marked), when in the week it is used (a heat map on the
 * clients' local clocks), the users and computers that ran it in a month
 * (sortable, paged tables with CSV), and how many computers have it
 * installed against how many used it.
 *
 * `?month=YYYY-MM` picks the month of the tables (this month by default).
 *
 * @module
 */
import type { SiteContext } from "../site_context.ts";
import { HeatMap, LineChart } from "./charts.tsx";
import { type Column, DataTable, tableView } from "./data_table.tsx";
import { type Row, runReport } from "./console_reports.ts";

export interface Program {
  rule: string;
  ruleName: string;
  month: string;
  trend: Row[];
  concurrency: Row[];
  grid: (number | null)[][];
  users: Row[];
  computers: Row[];
  installBase: Row | undefined;
}

export async function loadProgram(
  site: SiteContext,
  rule: string,
  month: string | undefined,
  now = Date.now(),
): Promise<Program> {
  const shownMonth = month ?? new Date(now).toISOString().slice(0, 7);
  const trend = await runReport(site, "total-usage-trend", { rule }, now);
  const concurrency = await runReport(site, "concurrent-trend", { rule }, now);
  const timeOfDay = await runReport(site, "time-of-day", { rule }, now);
  const users = await runReport(site, "users-ran", { rule, month: shownMonth }, now);
  const computers = await runReport(site, "computers-ran", { rule, month: shownMonth }, now);
  const installBase = await runReport(site, "install-base", {}, now);
  return {
    rule,
    ruleName: (users.parameters.ruleName as string | null) ?? rule,
    month: shownMonth,
    trend: trend.rows,
    concurrency: concurrency.rows,
    grid: timeOfDay.extra!.grid as (number | null)[][],
    users: users.rows,
    computers: computers.rows,
    installBase: installBase.rows.find((r) => r.ruleId === rule),
  };
}

const USERS: Column<Row>[] = [
  { key: "user", label: "User" },
  { key: "computers", label: "Computers", numeric: true },
  { key: "runs", label: "Runs", numeric: true },
  { key: "runHours", label: "Hours", numeric: true },
  { key: "lastUse", label: "Last use" },
];

const COMPUTERS: Column<Row>[] = [
  { key: "hostName", label: "Computer", href: (r) => `/clients/${r.clientId}` },
  { key: "runs", label: "Runs", numeric: true },
  { key: "runHours", label: "Hours", numeric: true },
  { key: "lastUse", label: "Last use" },
];

export function ProgramPage({ p, url }: { p: Program; url: URL }) {
  const q = `rule=${encodeURIComponent(p.rule)}`;
  const monthQ = `${q}&month=${p.month}`;
  return (
    <>
      <p class="muted">
        Rule <span class="tag">{p.rule}</span> · tables for{" "}
        <form method="get" class="inline">
          <label class="inline">
            <span class="muted">month</span>
            <input type="month" name="month" value={p.month} aria-label="Month of the tables" />
          </label>{" "}
          <button type="submit" class="secondary">Show</button>
        </form>
      </p>
      {p.installBase && (
        <div class="cards" id="install-base">
          <div class="card">
            <div class="figure">{p.installBase.installed}</div>computers have it installed
          </div>
          <div class="card">
            <div class="figure">{p.installBase.used}</div>of them used it in the last 90 days
          </div>
          <div class="card">
            <div class="figure">{p.installBase.notUsed}</div>have it and did not use it
          </div>
        </div>
      )}
      <h2>Total usage by month</h2>
      <LineChart
        id="usage-trend"
        title="Distinct users per month"
        unit="users"
        points={p.trend.map((r) => ({ label: r.month, value: r.users }))}
      />
      <LineChart
        id="hours-trend"
        title="Hours of use per month"
        unit="hours"
        points={p.trend.map((r) => ({ label: r.month, value: r.runHours }))}
      />
      <p>
        <a href={`/reports/total-usage-trend.csv?${q}`} download>Download CSV</a>
      </p>
      <h2>Concurrent usage by month</h2>
      <LineChart
        id="concurrency-trend"
        title="Peak concurrent users per month"
        unit="users at once"
        markPeak
        points={p.concurrency.map((r) => ({ label: r.month, value: r.peakUsers }))}
      />
      <p>
        <a href={`/reports/concurrent-trend.csv?${q}`} download>Download CSV</a>
      </p>
      <h2>Time of day (last 90 days, each computer's local time)</h2>
      <HeatMap id="time-of-day" title="Average distinct users by weekday and hour" grid={p.grid} />
      <p>
        <a href={`/reports/time-of-day.csv?${q}`} download>Download CSV</a>
      </p>
      <h2>Users who ran it in {p.month}</h2>
      <DataTable
        id="users"
        caption={`Users who ran ${p.ruleName} in ${p.month}`}
        columns={USERS}
        rows={p.users}
        view={tableView(url, "users", "runHours", true)}
        url={url}
        csvHref={`/reports/users-ran.csv?${monthQ}`}
        empty="No one ran it that month."
      />
      <h2>Computers that ran it in {p.month}</h2>
      <DataTable
        id="computers"
        caption={`Computers that ran ${p.ruleName} in ${p.month}`}
        columns={COMPUTERS}
        rows={p.computers}
        view={tableView(url, "computers", "runHours", true)}
        url={url}
        csvHref={`/reports/computers-ran.csv?${monthQ}`}
        empty="No computer ran it that month."
      />
    </>
  );
}
