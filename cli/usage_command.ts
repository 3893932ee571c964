/**
 * `meter usage`: lists usage sessions from a site, a page at a time.
 *
 * A site may hold millions of sessions: printing them all by default would
 * hold them all in memory and bury the terminal, so one page is printed and
 * stderr says how to ask for the next (the API's opaque cursor). `--all`
 * follows every cursor for tools, writing each page as it arrives.
 *
 * @module
 */
import { SESSION_COLUMNS, type SessionOutput } from "../model/session_output.ts";
import { apiRequest, type ApiTarget } from "./api_client.ts";
import {
  type Command,
  intOption,
  notice,
  stringOption,
  UsageError,
  type Values,
} from "./command.ts";
import { apiTarget, CONNECTION_OPTIONS, connectionHelp } from "./connection.ts";
import { FORMAT_OPTION, formatOption, ListWriter, outputHelp, printList } from "./output.ts";
import { TIME_HELP, timeOption } from "./time_option.ts";

const TABLE_COLUMNS = [
  "hostName",
  "user",
  "ruleName",
  "exe",
  "start",
  "end",
  "durationSeconds",
  "remote",
];

const DEFAULT_PAGE = 1000;
/** The most `GET /v1/usage` gives in one page. */
const MAX_PAGE = 100_000;

export const usageCommand: Command = {
  name: "usage",
  usage: `
Usage: meter usage [options]

Lists the usage sessions a site holds, oldest first: sessions that overlap
the time range given. It prints one page (--limit sessions); when more
follow, it says on stderr how to get the next page.

${connectionHelp("a viewer or admin token")}

Filters:
  --rule ID               sessions of one rule, e.g. S01-1
  --client ID             sessions of one client
  --user NAME             sessions of one user
  --from TIME             sessions still running at or after TIME
  --to TIME               sessions that started before TIME
                          ${TIME_HELP.replace(", or", ",\n                          or")}

Pages:
  --limit N               sessions per page (default ${DEFAULT_PAGE}, at most ${MAX_PAGE})
  --cursor CURSOR         the next page: the cursor the previous page printed
                          (give the same filters)
  --all                   every page, printed as it arrives (--format json or csv)

${outputHelp(26)}`,
  options: {
    ...CONNECTION_OPTIONS,
    rule: { type: "string" },
    client: { type: "string" },
    user: { type: "string" },
    from: { type: "string" },
    to: { type: "string" },
    limit: { type: "string" },
    cursor: { type: "string" },
    all: { type: "boolean" },
    ...FORMAT_OPTION,
  },
  async run(values) {
    const target = apiTarget(values);
    const format = formatOption(values);
    const query = filters(values);
    query.set("limit", String(intOption(values, "limit", 1, MAX_PAGE) ?? DEFAULT_PAGE));
    const cursor = stringOption(values, "cursor");
    if (values.all) {
      if (format === "table") {
        throw new UsageError("--all is for --format json or csv; a table shows one page");
      }
      const writer = new ListWriter(format, SESSION_COLUMNS);
      for await (const page of pages(target, query, cursor)) writer.write(asRows(page.sessions));
      writer.end();
      return 0;
    }
    const page = await fetchPage(target, query, cursor);
    const columns = format === "table" ? TABLE_COLUMNS : SESSION_COLUMNS;
    printList(format, columns, asRows(page.sessions), page.sessions);
    if (page.nextCursor) {
      notice(
        `${page.sessions.length} sessions shown, more follow: the next page is ` +
          `--cursor ${page.nextCursor} (with the same filters), or --all for every page`,
      );
    }
    return 0;
  },
};

interface Page {
  sessions: SessionOutput[];
  nextCursor: string | null;
}

/** The filters given, as `GET /v1/usage` takes them (times as ISO instants). */
function filters(values: Values): URLSearchParams {
  const query = new URLSearchParams();
  for (const name of ["rule", "client", "user"]) {
    const value = stringOption(values, name);
    if (value) query.set(name, value);
  }
  for (const name of ["from", "to"]) {
    const ms = timeOption(values, name);
    if (ms !== undefined) query.set(name, new Date(ms).toISOString());
  }
  return query;
}

async function fetchPage(
  target: ApiTarget,
  query: URLSearchParams,
  cursor: string | undefined,
): Promise<Page> {
  const page = new URLSearchParams(query);
  if (cursor) page.set("cursor", cursor);
  return (await apiRequest<Page>(target, "GET", `v1/usage?${page}`)).data;
}

async function* pages(target: ApiTarget, query: URLSearchParams, cursor: string | undefined) {
  let next: string | null | undefined = cursor;
  do {
    const page = await fetchPage(target, query, next ?? undefined);
    yield page;
    next = page.nextCursor;
  } while (next);
}

const asRows = (sessions: SessionOutput[]) => sessions as unknown as Record<string, unknown>[];
