/**
 * `deno task bench`: runs every benchmark and prints each figure next to the
 * baseline measured in the same run and the target it is held to.
 * `--json` prints the figures as JSON instead. Progress goes to stderr.
 *
 * The summaries benchmark (a generated fleet of 10,000 clients over 90
 * days, about 18 million sessions) runs last; `--summaries-only` runs it
 * alone, and `--summaries-clients N` / `--summaries-days N` make its data
 * set smaller. `--inventory-only` runs the inventory benchmark alone
 * (`--inventory-clients N` makes its fleet smaller), `--hierarchy-only` the
 * hierarchy benchmark (`--hierarchy-clients N`), `--load-only` the load test
 * (`--load-agents N`, `--load-seconds S`, `--load-day-seconds S`), `--query-only`
 * the query benchmark and the flood of refused requests.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { benchAgentPollCost } from "./agent_poll_cost.ts";
import { benchAgentProcessCost } from "./agent_process_cost.ts";
import { type BenchFigure, progress, renderFigures } from "./bench_figure.ts";
import { benchHierarchy } from "./hierarchy_bench.ts";
import { benchInventory } from "./inventory_bench.ts";
import { benchLoad } from "./load_test.ts";
import { benchQueries } from "./query_bench.ts";
import { benchRefusalFlood } from "./refusal_flood.ts";
import { benchSiteLoad } from "./site_ingest.ts";
import { benchSummaries } from "./summaries_bench.ts";
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
    "hierarchy-only": { type: "boolean" },
    "hierarchy-clients": { type: "string" },
    "load-only": { type: "boolean" },
    "load-agents": { type: "string" },
    "load-seconds": { type: "string" },
    "load-day-seconds": { type: "string" },
    "query-only": { type: "boolean" },
  },
});
const count = (value: string | undefined) => value === undefined ? undefined : Number(value);

const figures: BenchFigure[] = [];
const only = values["summaries-only"]
  ? "summaries"
  : values["inventory-only"]
  ? "inventory"
  : values["hierarchy-only"]
  ? "hierarchy"
  : values["load-only"]
  ? "load"
  : values["query-only"]
  ? "query"
  : "";
if (!only) {
  figures.push(...await benchSiteLoad());
  figures.push(...await benchWireCost());
  progress("agent poll cost: 500 processes, polled in this process");
  figures.push(...await benchAgentPollCost());
  figures.push(...await benchAgentProcessCost());
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
if (!only || only === "inventory") {
  figures.push(...await benchInventory({ clients: count(values["inventory-clients"]) }));
}
if (!only || only === "hierarchy") {
  figures.push(...await benchHierarchy({ clients: count(values["hierarchy-clients"]) }));
}
if (!only || only === "summaries") {
  figures.push(
    ...await benchSummaries({
      clients: count(values["summaries-clients"]),
      days: count(values["summaries-days"]),
    }),
  );
}

if (values.json) console.log(JSON.stringify(figures, null, 2));
else console.log("\n" + renderFigures(figures));
