/**
 * `meter sites list|remove`: the hierarchy of sites as a site knows it, and
 * removing a registered child (a decommissioned site, or one rebuilt from
 * scratch that must register again).
 *
 * @module
 */
import { apiRequest } from "./api_client.ts";
import { type Command, UsageError } from "./command.ts";
import { apiTarget, CONNECTION_OPTIONS, connectionHelp } from "./connection.ts";
import { FORMAT_OPTION, formatOption, outputHelp, printList } from "./output.ts";

const COLUMNS = ["code", "parent", "relation", "lastSyncAt", "lagSeconds"];

export const sitesCommand: Command = {
  name: "sites",
  usage: `
Usage: meter sites list|remove [CODE] [options]

Actions:
  list          the sites this site knows: itself, its parent, its children (with
                last sync and lag) and the sites below them
  remove CODE   remove a registered child site: its credential stops working at
                once, the sites it listed and its agents' credentials go (the
                summaries received stay); the code may register again

${connectionHelp("a viewer token (list) or an admin token")}

${outputHelp(28)}`,
  options: {
    ...CONNECTION_OPTIONS,
    ...FORMAT_OPTION,
  },
  async run(values, positionals) {
    const [action, code, ...extra] = positionals;
    if (extra.length > 0) throw new UsageError(`unexpected ${extra.join(" ")}`);
    const target = apiTarget(values);
    const format = formatOption(values);
    if (action === "list") {
      const { data } = await apiRequest<{ sites: Record<string, unknown>[] }>(
        target,
        "GET",
        "v1/sites",
      );
      printList(format, COLUMNS, data.sites, data);
      return 0;
    }
    if (action === "remove") {
      if (!code) throw new UsageError("remove needs a site code, e.g. EU1");
      await apiRequest(target, "DELETE", `v1/sites/${encodeURIComponent(code)}`);
      console.log(`removed ${code}`);
      return 0;
    }
    throw new UsageError("the action is list or remove");
  },
};
