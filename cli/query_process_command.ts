/**
 * `meter query-process`: not for people. A site starts it to run the SQL
 * queries of `POST /v1/query` in a process of its own
 * (`site/query/query_process.ts` says why).
 *
 * @module
 */
import type { Command } from "./command.ts";
import { serveQueries } from "../site/query/query_process.ts";

export const queryProcessCommand: Command = {
  name: "query-process",
  usage: `
Usage: meter query-process

Internal: a site starts this to run the queries of POST /v1/query in a process
of its own, with its memory capped and a time limit it cannot outlive. It reads
requests on standard input and writes answers on standard output; it is not
meant to be run by hand.
`,
  options: {},
  async run() {
    await serveQueries();
  },
};
