/** @jsxImportSource hono/jsx */
/**
 * The rules: a list (automatic rules marked, other sites' rules read-only),
 * a form to create one and the same form to edit one, enable or disable it,
 * and delete it. Changing needs an admin token; a viewer sees the list.
 *
 * @module
 */
import type { Rule } from "../../model/rule.ts";
import { type Column, DataTable, tableView } from "./data_table.tsx";
import type { FormValues } from "./rule_form.ts";

type RuleRow = Rule & { match: string; state: string; kind: string };

function ruleRow(rule: Rule): RuleRow {
  const match = [
    rule.fileName && `file ${rule.fileName}`,
    rule.originalFileName && `original ${rule.originalFileName}`,
    rule.sha256 && `sha256 ${rule.sha256.slice(0, 12)}…`,
  ].filter(Boolean).join(", ");
  return {
    ...rule,
    match,
    state: rule.enabled ? "enabled" : "disabled",
    kind: rule.origin === "auto" ? "automatic" : "manual",
  };
}

const COLUMNS: Column<RuleRow>[] = [
  { key: "id", label: "Rule", href: (r) => `/rules/${r.id}` },
  { key: "name", label: "Program", href: (r) => `/programs/${r.id}` },
  { key: "match", label: "Matches" },
  { key: "version", label: "Version" },
  { key: "state", label: "State" },
  { key: "kind", label: "Made" },
  { key: "siteCode", label: "Site" },
];

export function RulesPage(
  { rules, url, admin, notice }: { rules: Rule[]; url: URL; admin: boolean; notice?: string },
) {
  return (
    <>
      {notice && <p class="notice" role="status">{notice}</p>}
      {admin && (
        <p class="actions">
          <a href="/rules/new">New rule</a>
        </p>
      )}
      <DataTable
        id="rules"
        caption="Metering rules that apply at this site"
        columns={COLUMNS}
        rows={rules.map(ruleRow)}
        view={tableView(url, "rules", "id")}
        url={url}
        csvHref="/rules.csv"
        empty="No rules yet."
      />
    </>
  );
}

const LABELS: Record<string, [string, string]> = {
  name: ["Name", "the product name shown in reports"],
  fileName: ["File name", "a glob on the executable's name or argv[0], e.g. python3 or code*"],
  originalFileName: ["Original file name", "the real executable behind a link or a renamed copy"],
  sha256: ["SHA-256", "of the executable, 64 hexadecimal digits"],
  version: ["Version", "a glob on the version; * for any"],
  language: ["Language", "e.g. en-US; empty for any"],
  comment: ["Comment", ""],
};

export function RuleForm(
  { action, values, errors, rule, admin }: {
    action: string;
    values: FormValues;
    errors: Record<string, string>;
    rule?: Rule;
    admin: boolean;
  },
) {
  const field = (key: string) => {
    const [label, hint] = LABELS[key];
    const id = `field-${key}`;
    const error = errors[key];
    return (
      <label for={id}>
        {label} {hint && <small>{hint}</small>}
        <input
          id={id}
          name={key}
          value={String(values[key] ?? "")}
          aria-invalid={error ? "true" : undefined}
          aria-describedby={error ? `${id}-error` : undefined}
          disabled={!admin}
        />
        {error && <span class="field-error" id={`${id}-error`}>{error}</span>}
      </label>
    );
  };
  const box = (key: "enabled" | "applyToChildSites", label: string) => (
    <label class="check">
      <input type="checkbox" name={key} checked={values[key] === true} disabled={!admin} /> {label}
    </label>
  );
  return (
    <>
      {rule?.origin === "auto" && (
        <p class="notice">Made automatically from the inventory; check it before enabling it.</p>
      )}
      {errors.form && <p class="error" role="alert">{errors.form}</p>}
      <form class="stack" method="post" action={action} novalidate>
        {["name", "fileName", "originalFileName", "sha256", "version", "language", "comment"].map(
          field,
        )}
        {box("enabled", "Enabled: agents meter it")}
        {box("applyToChildSites", "Applies to the sites below this one too")}
        {admin && (
          <div class="actions">
            <button type="submit">{rule ? "Save" : "Create rule"}</button>
            <a href="/rules">Cancel</a>
          </div>
        )}
      </form>
      {rule && admin && (
        <div class="actions">
          <form method="post" action={`/rules/${rule.id}/enabled`}>
            <input type="hidden" name="enabled" value={rule.enabled ? "off" : "on"} />
            <button type="submit" class="secondary">{rule.enabled ? "Disable" : "Enable"}</button>
          </form>
          <form method="get" action={`/rules/${rule.id}/delete`}>
            <button type="submit" class="danger">Delete rule…</button>
          </form>
          <a href={`/programs/${rule.id}`}>See its usage</a>
        </div>
      )}
    </>
  );
}

/** A rule's current values, to fill the edit form. */
export function valuesOf(rule: Rule): FormValues {
  return {
    name: rule.name,
    fileName: rule.fileName ?? "",
    originalFileName: rule.originalFileName ?? "",
    sha256: rule.sha256 ?? "",
    version: rule.version,
    language: rule.language ?? "",
    comment: rule.comment,
    enabled: rule.enabled,
    applyToChildSites: rule.applyToChildSites,
  };
}
