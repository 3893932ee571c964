/**
 * `deno task bench`: runs every benchmark and prints each figure next to the
 * baseline measured in the same run and the target it is held to.
 * `--json` prints the figures as JSON instead. Progress goes to stderr.
 * `--help` lists the options.
 *
 * One part alone: `--sync-only` (site ingest, sync rates, wire cost),
 * `--agent-only` (the agent's poll and process cost), `--query-only` (queries
 * and the flood of refused requests), `--load-only` (the load test:
 * `--load-agents N`, `--load-seconds S`, `--load-day-seconds S`),
 * `--fleet-only` (50,000 agents at a busy day's pace, waiting for new rules
 * between syncs: `--fleet-agents N`, `--fleet-seconds S`, and
 * `--fleet-rule-change-at S` to add a rule S seconds in and time how soon
 * the agents hold it),
 * `--inventory-only` (`--inventory-clients N`), `--licences-only`
 * (`--licences-clients N`: licence positions at scale), `--pe-only` (reading
 * version resources from Wine's PE files), `--windows-only` (the Windows
 * process source under Wine, beside the Linux one), `--hierarchy-only`
 * (`--hierarchy-clients N`), `--summaries-only` (a generated fleet of 10,000
 * clients over 90 days, about 18 million sessions, which runs last in a full
 * run; `--summaries-clients N` / `--summaries-days N` make it smaller),
 * `--backup-only` (`--backup-clients N`: a site backup and a migration).
 *
 * The agent part also runs 2,000 short runs (20-200 ms) past an agent with
 * the kernel's process events and one polling at 1 s (the share captured,
 * and the error of their start and end times), and the agent process's CPU
 * and memory with process events beside polling.
 *
 * `--soak-only` (`--soak-minutes N`, 30 unless told) is opt-in, not part of
 * a plain run: an agent with process events metering programs that start
 * and stop every few seconds, its memory held flat from the first third of
 * the run to the last.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { benchAgentPollCost } from "./agent_poll_cost.ts";
import { benchAgentProcessCost } from "./agent_process_cost.ts";
import { benchBackup } from "./backup_bench.ts";
import { type BenchFigure, progress, renderFigures } from "./bench_figure.ts";
import { benchHierarchy } from "./hierarchy_bench.ts";
import { benchInventory } from "./inventory_bench.ts";
import { benchLicences } from "./licence_bench.ts";
import { benchLoad } from "./load_test.ts";
import { benchPeParser } from "./pe_parser_bench.ts";
import { benchQueries } from "./query_bench.ts";
import { benchRefusalFlood } from "./refusal_flood.ts";
import { benchShortRuns } from "./short_runs.ts";
import { benchSiteLoad } from "./site_ingest.ts";
import { benchSoak } from "./soak_bench.ts";
import { benchSummaries } from "./summaries_bench.ts";
import { benchWindowsSource } from "./windows_source_bench.ts";
import { benchWireCost } from "./wire_cost.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    json: { type: "boolean" },
    "summaries-only": { type: "boolean" },
    "summaries-clients": { type: "string" },
    "summaries-days": { type: "string" },
    "inventory-only": { type: "boolean" },
    "inventory-clients": { type: "string" },
    "licences-only": { type: "boolean" },
    "licences-clients": { type: "string" },
    "pe-only": { type: "boolean" },
    "windows-only": { type: "boolean" },
    "hierarchy-only": { type: "boolean" },
    "hierarchy-clients": { type: "string" },
    "load-only": { type: "boolean" },
    "load-agents": { type: "string" },
    "load-seconds": { type: "string" },
    "load-day-seconds": { type: "string" },
    "fleet-only": { type: "boolean" },
    "fleet-agents": { type: "string" },
    "fleet-seconds": { type: "string" },
    "fleet-rule-change-at": { type: "string" },
    "query-only": { type: "boolean" },
    "sync-only": { type: "boolean" },
    "agent-only": { type: "boolean" },
    "backup-only": { type: "boolean" },
    "backup-clients": { type: "string" },
    "soak-only": { type: "boolean" },
    "soak-minutes": { type: "string" },
    help: { type: "boolean", short: "h" },
  },
});

const HELP = `Usage: deno task bench [--json] [--PART-only] [sizes]

Runs every benchmark (about an hour) and prints each figure next to its
baseline from the same run and its target.

One part alone:
  --sync-only          site ingest, sync rates, wire bytes per session
  --agent-only         the agent's CPU per poll, CPU and memory as a process at 1 s
                       polling and with process events, and 2,000 runs of 20-200 ms:
                       the share captured and the error of their times, with
                       process events beside polling at 1 s
  --query-only         queries through the API, and a flood of refused requests
  --load-only          2,000 simulated agents against a real site
  --fleet-only         50,000 simulated agents at a busy day's pace, syncing when the
                       site says and waiting for new rules between syncs
  --inventory-only     inventory of this machine, inventory reports at scale
  --licences-only      licence positions over 10,000 clients × 90 days: refresh, the report
                       at a site and at a parent of ten, beside install-base
  --pe-only            version resources read from Wine's PE files, against reading them whole
  --windows-only       the Windows process source's CPU per poll under Wine, beside Linux's
  --hierarchy-only     a child's summaries sent to its parent
  --summaries-only     summaries of 18 million sessions from scratch, reports at that size
  --backup-only        a site backup next to a file copy; migrating an old database next to opening

Opt-in (not part of a plain run, which already takes about an hour):
  --soak-only          an agent with process events metering programs that start and
                       stop every few seconds for --soak-minutes (default 30): its
                       memory in the last third of the run beside the first third

Sizes:
  --load-agents N  --load-seconds S  --load-day-seconds S
  --fleet-agents N  --fleet-seconds S  --fleet-rule-change-at S (add a rule S s in)
  --inventory-clients N  --licences-clients N  --hierarchy-clients N
  --summaries-clients N  --summaries-days N  --backup-clients N
  --soak-minutes N

Output:
  --json               the figures as JSON
  -h, --help           show this help
`;
if (values.help) {
  console.log(HELP);
  Deno.exit(0);
}
const count = (value: string | undefined) => value === undefined ? undefined : Number(value);

const figures: BenchFigure[] = [];
const PARTS = [
  "sync",
  "agent",
  "query",
  "load",
  "fleet",
  "inventory",
  "licences",
  "pe",
  "windows",
  "hierarchy",
  "summaries",
  "backup",
  "soak",
] as const;
const only = PARTS.find((part) => values[`${part}-only`]) ?? "";
if (!only || only === "sync") {
  figures.push(...await benchSiteLoad());
  figures.push(...await benchWireCost());
}
if (!only || only === "agent") {
  progress("agent poll cost: 500 processes, polled in this process");
  figures.push(...await benchAgentPollCost());
  figures.push(...await benchAgentProcessCost());
  figures.push(...await benchAgentProcessCost({ processEvents: true }));
  figures.push(...await benchShortRuns());
}
if (!only || only === "query") {
  figures.push(...await benchQueries());
  figures.push(...await benchRefusalFlood());
}
if (!only || only === "load") {
  figures.push(
    ...await benchLoad({
      agents: count(values["load-agents"]),
      seconds: count(values["load-seconds"]),
      dayLengthSeconds: count(values["load-day-seconds"]),
    }),
  );
}
if (!only || only === "fleet") {
  figures.push(
    ...await benchLoad({
      agents: count(values["fleet-agents"]) ?? 50_000,
      seconds: count(values["fleet-seconds"]) ?? 600,
      busy: { ruleChangeAtSeconds: count(values["fleet-rule-change-at"]) },
    }),
  );
}
if (!only || only === "inventory") {
  figures.push(...await benchInventory({ clients: count(values["inventory-clients"]) }));
}
if (!only || only === "licences") {
  figures.push(...await benchLicences({ clients: count(values["licences-clients"]) }));
}
if (!only || only === "pe") {
  figures.push(...await benchPeParser());
}
if (!only || only === "windows") {
  figures.push(...await benchWindowsSource());
}
if (!only || only === "hierarchy") {
  figures.push(...await benchHierarchy({ clients: count(values["hierarchy-clients"]) }));
}
if (!only || only === "backup") {
  figures.push(...await benchBackup({ clients: count(values["backup-clients"]) }));
}
if (!only || only === "summaries") {
  figures.push(
    ...await benchSummaries({
      clients: count(values["summaries-clients"]),
      days: count(values["summaries-days"]),
    }),
  );
}

// Opt-in only: half an hour on its own.
if (only === "soak") {
  figures.push(...await benchSoak({ minutes: count(values["soak-minutes"]) }));
}

if (values.json) console.log(JSON.stringify(figures, null, 2));
else console.log("\n" + renderFigures(figures));
