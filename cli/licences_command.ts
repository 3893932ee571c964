/**
 * `meter licences list|show|add|update|delete|events`: records what the
 * organisation owns, through a site's HTTP API. Positions are a report:
 * `meter report licence-position`.
 *
 * @module
 */
import { apiRequest } from "./api_client.ts";
import { type Command, UsageError, type Values } from "./command.ts";
import { apiTarget, CONNECTION_OPTIONS, connectionHelp } from "./connection.ts";
import { type Format, FORMAT_OPTION, formatOption, outputHelp, printList } from "./output.ts";
import { type Licence, LICENCE_COLUMNS } from "../model/licence.ts";

const FIELD_OPTIONS = {
  name: { type: "string" },
  rule: { type: "string", multiple: true },
  model: { type: "string" },
  quantity: { type: "string" },
  "unit-cost": { type: "string" },
  "cost-period": { type: "string" },
  currency: { type: "string" },
  "contract-start": { type: "string" },
  "contract-end": { type: "string" },
  "covers-site": { type: "string" },
  "threshold-minutes": { type: "string" },
  "window-days": { type: "string" },
  "alert-at-percent": { type: "string" },
  comment: { type: "string" },
} as const;

export const licencesCommand: Command = {
  name: "licences",
  usage: `
Usage: meter licences <action> [options]

Actions:
  list                      the licences of the site and of its ancestors
  show ID                   one licence
  add --name N --rule ID --model M --quantity N [field options]
                            record a licence the organisation owns
  update ID [field options] change the given fields of a licence of this site
  delete ID                 delete a licence of this site
  events                    alerts: positions that turned short, near, or recovered

${connectionHelp("an admin token (a viewer token can list, show and see events)")}

Licence fields:
  --name TEXT               the product as positions show it
  --rule ID                 a rule of the pool; repeat it, or give IDs separated by commas
  --model MODEL             device, user (named user) or concurrent
  --quantity N              licences owned
  --unit-cost N             cost of one licence per period ("none" for none)
  --cost-period PERIOD      year (default), month or perpetual
  --currency CODE           e.g. EUR
  --contract-start DATE     first day of the contract, YYYY-MM-DD ("none" for none)
  --contract-end DATE       last day of the contract, included ("none" for none)
  --covers-site CODE        the site whose subtree it covers (default: this site)
  --threshold-minutes N     run time in the window that counts as use (default 1)
  --window-days N           the window, the last N days (default 90)
  --alert-at-percent N      also alert when consumption reaches N% of owned ("none" for none)
  --comment TEXT

Positions, reclaim candidates and trends are reports:
  meter report licence-position | reclaim-candidates --licence ID | licence-trend --licence ID

${outputHelp(28)}`,
  options: { ...CONNECTION_OPTIONS, ...FORMAT_OPTION, ...FIELD_OPTIONS },
  async run(values, positionals) {
    const target = apiTarget(values);
    const format = formatOption(values);
    const [action, id, ...extra] = positionals;
    if (extra.length > 0) throw new UsageError(`unexpected ${extra.join(" ")}`);
    const path = () => {
      if (!id) throw new UsageError(`${action} needs a licence id, e.g. S01-L1`);
      return `v1/licences/${encodeURIComponent(id)}`;
    };
    let licences: Licence[];
    switch (action) {
      case "list":
        licences = (await apiRequest<{ licences: Licence[] }>(target, "GET", "v1/licences")).data
          .licences;
        break;
      case "show":
        licences = [(await apiRequest<Licence>(target, "GET", path())).data];
        break;
      case "add":
        licences = [
          (await apiRequest<Licence>(target, "POST", "v1/licences", licenceFields(values))).data,
        ];
        break;
      case "update":
        licences = [
          (await apiRequest<Licence>(target, "PATCH", path(), licenceFields(values))).data,
        ];
        break;
      case "delete":
        await apiRequest(target, "DELETE", path());
        console.log(`deleted ${id}`);
        return 0;
      case "events": {
        const { data } = await apiRequest<{ events: Record<string, unknown>[] }>(
          target,
          "GET",
          "v1/licences/events",
        );
        const columns = ["id", "at", "kind", "licenceId", "licenceName", "owned", "consumed"];
        printList(
          format,
          format === "csv" ? Object.keys(data.events[0] ?? {}) : columns,
          data.events,
          data,
        );
        return 0;
      }
      default:
        throw new UsageError("the action is list, show, add, update, delete or events");
    }
    printLicences(licences, format);
    return 0;
  },
};

/** The licence fields given on the command line, as the API takes them. */
function licenceFields(values: Values): Record<string, unknown> {
  const rules = (values.rule as string[] | undefined)?.flatMap((r) => r.split(","))
    .map((r) => r.trim()).filter((r) => r !== "");
  const fields: Record<string, unknown> = {
    name: values.name,
    ruleIds: rules,
    model: values.model,
    quantity: number(values, "quantity"),
    unitCost: number(values, "unit-cost", true),
    costPeriod: values["cost-period"],
    currency: values.currency,
    contractStart: orNone(values["contract-start"] as string | undefined),
    contractEnd: orNone(values["contract-end"] as string | undefined),
    coversSite: values["covers-site"],
    thresholdMinutes: number(values, "threshold-minutes"),
    windowDays: number(values, "window-days"),
    alertAtPercent: number(values, "alert-at-percent", true),
    comment: values.comment,
  };
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
}

/** A numeric option; "none" is null where the field may be empty. */
function number(values: Values, option: string, nullable = false): number | null | undefined {
  const given = values[option] as string | undefined;
  if (given === undefined) return undefined;
  if (nullable && given === "none") return null;
  const value = Number(given);
  if (given.trim() === "" || !Number.isFinite(value)) {
    throw new UsageError(
      `--${option} takes a number${nullable ? ' or "none"' : ""}, not '${given}'`,
    );
  }
  return value;
}

const orNone = (value: string | undefined) => value === "none" ? null : value;

const TABLE_COLUMNS = ["id", "name", "model", "quantity", "ruleIds", "coversSite", "siteCode"];

function printLicences(licences: Licence[], format: Format): void {
  const rows = licences.map((l) => ({ ...l, ruleIds: l.ruleIds.join(" ") }));
  printList(format, format === "csv" ? LICENCE_COLUMNS : TABLE_COLUMNS, rows, licences);
}
