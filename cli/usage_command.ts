/**
 * `meter usage`: lists usage sessions from a site, following the API's pages.
 *
 * @module
 */
import { SESSION_COLUMNS, type SessionOutput } from "../site/session_output.ts";
import { apiRequest } from "./api_client.ts";
import { type Command, intOption, stringOption } from "./command.ts";
import { apiTarget, CONNECTION_OPTIONS, connectionHelp } from "./connection.ts";
import { formatOption, printList } from "./output.ts";
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

export const usageCommand: Command = {
  name: "usage",
  usage: `
Usage: meter usage [options]

Lists the usage sessions a site holds, oldest first: sessions that overlap
the time range given.

${connectionHelp("a viewer or admin token")}

Filters:
  --rule ID               sessions of one rule, e.g. S01-1
  --client ID             sessions of one client
  --user NAME             sessions of one user
  --from TIME             sessions still running at or after TIME
  --to TIME               sessions that started before TIME
                          ${TIME_HELP.replace(", or", ",\n                          or")}
  --limit N               at most N sessions (default: all)

Output:
  --format table|json|csv (default table)
  -h, --help              show this help
`,
  options: {
    ...CONNECTION_OPTIONS,
    rule: { type: "string" },
    client: { type: "string" },
    user: { type: "string" },
    from: { type: "string" },
    to: { type: "string" },
    limit: { type: "string" },
    format: { type: "string" },
  },
  async run(values) {
    const target = apiTarget(values);
    const format = formatOption(values);
    const limit = intOption(values, "limit", 1);
    const query = new URLSearchParams();
    for (const name of ["rule", "client", "user"]) {
      const value = stringOption(values, name);
      if (value) query.set(name, value);
    }
    for (const name of ["from", "to"]) {
      const ms = timeOption(values, name);
      if (ms !== undefined) query.set(name, new Date(ms).toISOString());
    }
    const sessions: SessionOutput[] = [];
    let cursor: string | null = null;
    do {
      const page = new URLSearchParams(query);
      page.set("limit", String(Math.min(10_000, limit ? limit - sessions.length : 10_000)));
      if (cursor) page.set("cursor", cursor);
      const { data }: { data: { sessions: SessionOutput[]; nextCursor: string | null } } =
        await apiRequest(target, "GET", `v1/usage?${page}`);
      sessions.push(...data.sessions);
      cursor = data.nextCursor;
    } while (cursor && (!limit || sessions.length < limit));
    const rows = sessions as unknown as Record<string, unknown>[];
    printList(format, format === "table" ? TABLE_COLUMNS : SESSION_COLUMNS, rows, sessions);
  },
};
