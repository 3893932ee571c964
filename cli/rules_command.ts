/**
 * `meter rules list|add|update|enable|disable|delete|auto`: edits a site's rules
 * through its HTTP API.
 *
 * @module
 */
import { apiRequest } from "./api_client.ts";
import { type Command, UsageError, type Values } from "./command.ts";
import { apiTarget, CONNECTION_OPTIONS, connectionHelp } from "./connection.ts";
import { type Format, FORMAT_OPTION, formatOption, outputHelp, printList } from "./output.ts";
import { type Rule, RULE_COLUMNS } from "../model/rule.ts";

const FIELD_OPTIONS = {
  name: { type: "string" },
  "file-name": { type: "string" },
  "original-file-name": { type: "string" },
  sha256: { type: "string" },
  version: { type: "string" },
  language: { type: "string" },
  comment: { type: "string" },
  "apply-to-child-sites": { type: "boolean" },
  disabled: { type: "boolean" },
} as const;

interface AutoRun {
  computers: number;
  threshold: number;
  candidates: number;
  created: Rule[];
}

export const rulesCommand: Command = {
  name: "rules",
  usage: `
Usage: meter rules <action> [options]

Actions:
  list                      list the rules that apply at the site
  add --name N ...          create a rule (needs --file-name, --original-file-name or --sha256)
  update ID [field options] change the given fields of a rule
  enable ID | disable ID    switch a rule on or off
  delete ID                 delete a rule (its recorded sessions stay)
  auto                      create disabled rules now for programs installed on many
                            computers (the site's autoRules* settings); lists them

${connectionHelp("an admin token (a viewer token can list)")}

Rule fields:
  --name TEXT               product name shown in reports
  --file-name GLOB          executable base name or argv[0], * and ? allowed, any case
  --original-file-name GLOB base name of the real executable behind a link or rename
  --sha256 HEX              SHA-256 of the executable: catches renamed copies
  --version GLOB            version of the owning package (default *)
  --language CODE           language of the process locale, e.g. de (default any)
  --comment TEXT
  --apply-to-child-sites    the rule also applies at child sites
  --disabled                create the rule switched off

${outputHelp(28)}`,
  options: {
    ...CONNECTION_OPTIONS,
    ...FORMAT_OPTION,
    ...FIELD_OPTIONS,
  },
  async run(values, positionals) {
    const target = apiTarget(values);
    const format = formatOption(values);
    const [action, id, ...extra] = positionals;
    if (extra.length > 0) throw new UsageError(`unexpected ${extra.join(" ")}`);
    const needId = () => {
      if (!id) throw new UsageError(`${action} needs a rule id, e.g. S01-1`);
      return encodeURIComponent(id);
    };
    let rules: Rule[];
    switch (action) {
      case "list": {
        const { data } = await apiRequest<{ rules: Rule[] }>(target, "GET", "v1/rules");
        rules = data.rules;
        break;
      }
      case "add":
        rules = [(await apiRequest<Rule>(target, "POST", "v1/rules", ruleFields(values))).data];
        break;
      case "update":
        rules = [
          (await apiRequest<Rule>(target, "PATCH", `v1/rules/${needId()}`, ruleFields(values)))
            .data,
        ];
        break;
      case "enable":
      case "disable":
        rules = [
          (await apiRequest<Rule>(target, "PATCH", `v1/rules/${needId()}`, {
            enabled: action === "enable",
          })).data,
        ];
        break;
      case "auto": {
        const { data } = await apiRequest<AutoRun>(target, "POST", "v1/rules/auto");
        console.error(
          `${data.created.length} created: ${data.candidates} programs on at least ` +
            `${data.threshold} of ${data.computers} inventoried computers`,
        );
        rules = data.created;
        break;
      }
      case "delete":
        await apiRequest(target, "DELETE", `v1/rules/${needId()}`);
        console.log(`deleted ${id}`);
        return 0;
      default:
        throw new UsageError("the action is list, add, update, enable, disable, delete or auto");
    }
    printRules(rules, format);
    return 0;
  },
};

/** The rule fields given on the command line, as the API takes them. */
function ruleFields(values: Values): Record<string, unknown> {
  const fields: Record<string, unknown> = {
    name: values.name,
    fileName: values["file-name"],
    originalFileName: values["original-file-name"],
    sha256: values.sha256,
    version: values.version,
    language: values.language,
    comment: values.comment,
    applyToChildSites: values["apply-to-child-sites"],
    enabled: values.disabled ? false : undefined,
  };
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
}

const TABLE_COLUMNS = [
  "id",
  "name",
  "fileName",
  "originalFileName",
  "version",
  "enabled",
  "siteCode",
  "origin",
];

function printRules(rules: Rule[], format: Format): void {
  const rows = rules as unknown as Record<string, unknown>[];
  printList(format, format === "csv" ? RULE_COLUMNS : TABLE_COLUMNS, rows, rules);
}
