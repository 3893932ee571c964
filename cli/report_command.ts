/**
 * `meter report <name>`: prints one of a site's reports (`GET
 * /v1/reports/<name>`) as a table, JSON or CSV. The reports and their
 * parameters come from the site's report registry, which loads no storage
 * or HTTP code, so `--help` runs without permissions.
 *
 * @module
 */
import {
  findReport,
  isRequired,
  type Report,
  reportColumns,
  reportParameters,
  REPORTS,
} from "../site/reports/mod.ts";
import { apiRequest } from "./api_client.ts";
import { type Command, stringOption, UsageError, type Values } from "./command.ts";
import { apiTarget, CONNECTION_OPTIONS, connectionHelp } from "./connection.ts";
import {
  type Format,
  FORMAT_OPTION,
  formatOption,
  outputHelp,
  printList,
  renderTable,
} from "./output.ts";
import { TIME_HELP, timeOption } from "./time_option.ts";

/**
 * The report parameters as options, with what each takes; `flag` when the
 * option's name differs from the parameter's (`--site` is the connection).
 */
const PARAMETERS: Record<string, { value: string; help: string; flag?: string }> = {
  rule: { value: "ID", help: "a rule id, e.g. S01-7 (see 'meter report rules')" },
  month: { value: "YYYY-MM", help: "a calendar month (UTC)" },
  months: { value: "N", help: "the last N months, ending with this one (default 12)" },
  days: {
    value: "N",
    help: "the last N days (default 90): UTC days; for time-of-day, each computer's own dates",
  },
  since: { value: "TIME", help: "since then (see TIME below)" },
  product: { value: "GLOB", help: "a product name, * and ? allowed, any case" },
  version: { value: "GLOB", help: "a product version, e.g. 1.9*" },
  publisher: { value: "GLOB", help: "a maintainer, vendor or publisher" },
  source: { value: "NAME", help: "dpkg, rpm, flatpak, snap or desktop" },
  client: { value: "ID|HOST", help: "a client id or host name" },
  limit: { value: "N", help: "rows per page (default 10000)" },
  offset: { value: "N", help: "rows to skip (default 0)" },
  licence: { value: "ID", help: "a licence id, e.g. S01-L3 (see 'meter licences list')" },
  sort: { value: "KEY", help: "id, shortfall or surplusCost (largest first)" },
  site: {
    value: "CODE",
    help: "only that site and the sites below it (the report's site parameter)",
    flag: "subtree",
  },
};

const flagOf = (name: string) => PARAMETERS[name]?.flag ?? name;

interface ReportAnswer {
  report: string;
  parameters: Record<string, unknown>;
  dataAsOf: string | null;
  rows: Record<string, unknown>[];
  grid?: (number | null)[][];
}

function parameterSynopsis(report: Report): string {
  const names = reportParameters(report);
  if (names.length === 0) return "(no parameters)";
  return names.map((name) => {
    const option = `--${flagOf(name)} ${PARAMETERS[name]?.value ?? "VALUE"}`;
    return isRequired(report, name) ? option : `[${option}]`;
  }).join(" ");
}

function usage(): string {
  const width = Math.max(...REPORTS.map((r) => r.name.length)) + 2;
  const reports = REPORTS.map((r) =>
    `  ${r.name.padEnd(width)}${r.summary}\n  ${"".padEnd(width)}${parameterSynopsis(r)}`
  ).join("\n");
  const parameters = Object.entries(PARAMETERS).map(([name, p]) =>
    `  ${`--${flagOf(name)} ${p.value}`.padEnd(24)}${p.help}`
  ).join("\n");
  return `
Usage: meter report <name> [parameters] --site URL --token-file FILE [--format table|json|csv]

Prints one of the site's reports (GET /v1/reports/<name>). Figures come from
the site's summaries; the time of the freshest data used is printed with them.

Reports:
${reports}

Parameters:
${parameters}
  ${TIME_HELP}

${connectionHelp("a viewer or admin token")}

${outputHelp(26, "default table; the time-of-day table is the 7 × 24 grid")}`;
}

/** The query string of the parameters given, checked against what the report takes. */
function reportQuery(report: Report, values: Values): URLSearchParams {
  const takes = reportParameters(report);
  const query = new URLSearchParams();
  for (const name of Object.keys(PARAMETERS)) {
    const value = stringOption(values, flagOf(name));
    if (value === undefined) {
      if (takes.includes(name) && isRequired(report, name)) {
        throw new UsageError(`${report.name} needs --${flagOf(name)} ${PARAMETERS[name].value}`);
      }
      continue;
    }
    if (!takes.includes(name)) {
      const synopsis = parameterSynopsis(report);
      throw new UsageError(`${report.name} takes no --${flagOf(name)}; it takes ${synopsis}`);
    }
    // Times are read here, so that every command takes the same forms.
    query.set(name, name === "since" ? new Date(timeOption(values, name)!).toISOString() : value);
  }
  return query;
}

const WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/** The time-of-day grid: a row per weekday, a column per local hour. */
function gridTable(grid: (number | null)[][]): string {
  const hours = Array.from({ length: 24 }, (_, h) => String(h));
  const rows = grid.map((cells, w) =>
    Object.fromEntries([["weekday", WEEKDAYS[w]], ...cells.map((v, h) => [String(h), v])])
  );
  return renderTable(["weekday", ...hours], rows);
}

function printTable(report: Report, answer: ReportAnswer): void {
  const shown = Object.entries(answer.parameters).filter(([, v]) => v !== null)
    .map(([k, v]) => `${k} ${v}`).join(", ");
  console.log(`${answer.report}${shown ? ` (${shown})` : ""}`);
  console.log(
    answer.grid ? gridTable(answer.grid) : renderTable(reportColumns(report), answer.rows),
  );
  console.log(`data as of ${answer.dataAsOf ?? "never: nothing has been summarised yet"}`);
}

async function fetchAndPrint(values: Values, report: Report, format: Format): Promise<void> {
  const target = apiTarget(values);
  const path = `v1/reports/${report.name}?${reportQuery(report, values)}`;
  if (format === "csv") {
    const { data } = await apiRequest<string>(target, "GET", path, undefined, "text/csv");
    Deno.stdout.writeSync(new TextEncoder().encode(data));
    return;
  }
  const { data } = await apiRequest<ReportAnswer>(target, "GET", path);
  if (format === "json") printList("json", [], [], data);
  else printTable(report, data);
}

export const reportCommand: Command = {
  name: "report",
  usage: usage(),
  options: {
    ...CONNECTION_OPTIONS,
    ...FORMAT_OPTION,
    ...Object.fromEntries(
      Object.keys(PARAMETERS).map((name) => [flagOf(name), { type: "string" as const }]),
    ),
  },
  async run(values, positionals) {
    const [name, ...extra] = positionals;
    const names = REPORTS.map((r) => r.name).join(", ");
    if (!name) throw new UsageError(`name a report: ${names}`);
    if (extra.length > 0) throw new UsageError(`unexpected ${extra.join(" ")}`);
    const report = findReport(name);
    if (!report) throw new UsageError(`no report '${name}'; the reports are ${names}`);
    await fetchAndPrint(values, report, formatOption(values));
    return 0;
  },
};
