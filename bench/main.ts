/**
 * `deno task bench`: runs every benchmark and prints each figure next to the
 * baseline measured in the same run and the target it is held to.
 * `--json` prints the figures as JSON instead.
 *
 * @module
 */
import { benchAgentPollCost } from "./agent_poll_cost.ts";
import { type BenchFigure, renderFigures } from "./bench_figure.ts";
import { benchSiteLoad } from "./site_ingest.ts";

const figures: BenchFigure[] = [];
figures.push(...await benchSiteLoad());
figures.push(...await benchAgentPollCost());

if (Deno.args.includes("--json")) console.log(JSON.stringify(figures, null, 2));
else console.log("\n" + renderFigures(figures));
