/**
 * `deno task bench`: runs every benchmark and prints each figure next to the
 * baseline measured in the same run and the target it is held to.
 * `--json` prints the figures as JSON instead. Progress goes to stderr.
 *
 * @module
 */
import { benchAgentPollCost } from "./agent_poll_cost.ts";
import { benchAgentProcessCost } from "./agent_process_cost.ts";
import { type BenchFigure, progress, renderFigures } from "./bench_figure.ts";
import { benchSiteLoad } from "./site_ingest.ts";
import { benchWireCost } from "./wire_cost.ts";

const figures: BenchFigure[] = [];
figures.push(...await benchSiteLoad());
figures.push(...await benchWireCost());
progress("agent poll cost: 500 processes, polled in this process");
figures.push(...await benchAgentPollCost());
figures.push(...await benchAgentProcessCost());

if (Deno.args.includes("--json")) console.log(JSON.stringify(figures, null, 2));
else console.log("\n" + renderFigures(figures));
