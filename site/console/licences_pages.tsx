/** @jsxImportSource hono/jsx */
/**
 * The licences: every position as a bar of consumed against owned with its
 * figures in a table (sortable, as every table, and by shortfall or cost of
 * surplus from the links above it); a page per licence with its position,
 * its trend and its reclaim candidates; and the form that records or
 * changes one. Changing needs an admin token and a licence of this site; a
 * viewer sees everything else.
 *
 * @module
 */
import type { Licence } from "../../model/licence.ts";
import { COST_PERIODS, LICENCE_MODELS } from "../../model/licence.ts";
import type { Rule } from "../../model/rule.ts";
import type { LicencePosition } from "../licences/licence_position.ts";
import { LineChart } from "./charts.tsx";
import type { Row } from "./console_reports.ts";
import { type Column, DataTable, sortRows, tableView } from "./data_table.tsx";
import { LicenceBars } from "./licence_bars.tsx";
import type { LicenceFormValues } from "./licence_form.ts";

const POSITION_COLUMNS: Column<LicencePosition>[] = [
  { key: "licenceId", label: "Licence", href: (p) => `/licences/${p.licenceId}` },
  { key: "name", label: "Product" },
  { key: "model", label: "Model" },
  { key: "owned", label: "Owned", numeric: true },
  { key: "consumed", label: "Consumed", numeric: true },
  { key: "shortfall", label: "Short", numeric: true },
  { key: "surplus", label: "Surplus", numeric: true },
  { key: "shortfallCost", label: "Cost of shortfall", numeric: true },
  { key: "surplusCost", label: "Cost of surplus", numeric: true },
  { key: "computedAt", label: "Figures as of" },
];

export function LicencesPage(
  { positions, url, admin, notice }: {
    positions: LicencePosition[];
    url: URL;
    admin: boolean;
    notice?: string;
  },
) {
  const view = tableView(url, "licences", "licenceId");
  // The bars in the table's order.
  const sorted = sortRows(positions, view);
  return (
    <>
      {notice && <p class="notice" role="status">{notice}</p>}
      <p class="actions">
        {admin && <a href="/licences/new">New licence</a>}
        <span>Sort:</span>
        <a href="/licences?licences.sort=shortfall&licences.desc=1">largest shortfall first</a>
        <a href="/licences?licences.sort=surplusCost&licences.desc=1">costliest surplus first</a>
      </p>
      {sorted.length > 0 && <LicenceBars positions={sorted} />}
      <DataTable
        id="licences"
        caption="Licence positions: owned against consumed"
        columns={POSITION_COLUMNS}
        rows={sorted}
        view={view}
        url={url}
        csvHref="/reports/licence-position.csv"
        empty="No licences yet."
      />
    </>
  );
}

const TREND: Column<Row>[] = [
  { key: "month", label: "Month" },
  { key: "owned", label: "Owned", numeric: true },
  { key: "consumed", label: "Consumed", numeric: true },
  { key: "shortfall", label: "Short", numeric: true },
];

const CANDIDATES: Column<Row>[] = [
  { key: "hostName", label: "Computer" },
  { key: "user", label: "User" },
  { key: "installedAt", label: "Installed" },
  { key: "lastUse", label: "Last use" },
  { key: "windowMinutes", label: "Minutes in window", numeric: true },
  { key: "saving", label: "Saving", numeric: true },
];

export function LicencePage(
  { licence, position, trend, candidates, url }: {
    licence: Licence;
    position?: LicencePosition;
    trend: Row[];
    candidates?: Row[];
    url: URL;
  },
) {
  return (
    <>
      {position
        ? (
          <>
            <LicenceBars positions={[position]} />
            <p>
              {position.consumed} consumed of {position.owned} owned
              {position.inContract ? "" : " (outside its contract: nothing owned)"}
              {position.shortfall > 0 ? `, short of ${position.shortfall}` : ""}
              {position.surplus > 0 ? `, ${position.surplus} unused` : ""}; figures as of{" "}
              {position.computedAt ?? "— (not refreshed yet)"}.
            </p>
          </>
        )
        : <p class="muted">This licence counts no site here.</p>}
      <h2>Trend</h2>
      <LineChart
        id="licence-trend"
        title={`${licence.name}: consumed per month`}
        points={trend.map((r) => ({ label: r.month as string, value: r.consumed as number }))}
        unit={licence.model === "concurrent"
          ? "peak users"
          : licence.model === "user"
          ? "users"
          : "computers"}
      />
      <DataTable
        id="trend"
        caption="Consumed against owned, per month"
        columns={TREND}
        rows={trend}
        view={tableView(url, "trend", "month")}
        url={url}
        csvHref={`/reports/licence-trend.csv?licence=${licence.id}`}
        empty="No months."
      />
      {candidates && (
        <>
          <h2>Reclaim candidates</h2>
          <DataTable
            id="candidates"
            caption="Holders below the threshold in the window, never used first"
            columns={CANDIDATES}
            rows={candidates}
            view={tableView(url, "candidates", "lastUse")}
            url={url}
            csvHref={`/reports/reclaim-candidates.csv?licence=${licence.id}`}
            empty="Every holder used it."
          />
        </>
      )}
    </>
  );
}

const LABELS: Record<string, [string, string]> = {
  name: ["Product", "as positions show it"],
  quantity: ["Quantity owned", "0 or more"],
  unitCost: ["Cost of one licence", "per period; empty for none"],
  currency: ["Currency", "3 letters, e.g. EUR"],
  contractStart: ["Contract start", "YYYY-MM-DD; empty for none"],
  contractEnd: ["Contract end", "the last day, YYYY-MM-DD; empty for none"],
  coversSite: ["Covers site", "this site or one below it (default: this site)"],
  thresholdMinutes: ["Threshold, minutes", "run time in the window that counts as use (1)"],
  windowDays: ["Window, days", "the last N days (90)"],
  alertAtPercent: ["Alert at percent", "also alert at this share of owned; empty for none"],
  comment: ["Comment", ""],
};

export function LicenceForm(
  { action, values, errors, rules, licence, admin }: {
    action: string;
    values: LicenceFormValues;
    errors: Record<string, string>;
    rules: Rule[];
    licence?: Licence;
    admin: boolean;
  },
) {
  const error = (key: string) =>
    errors[key] && <span class="field-error" id={`field-${key}-error`}>{errors[key]}</span>;
  const field = (key: string) => {
    const [label, hint] = LABELS[key];
    return (
      <label for={`field-${key}`}>
        {label} {hint && <small>{hint}</small>}
        <input
          id={`field-${key}`}
          name={key}
          value={String(values[key] ?? "")}
          aria-invalid={errors[key] ? "true" : undefined}
          aria-describedby={errors[key] ? `field-${key}-error` : undefined}
          disabled={!admin}
        />
        {error(key)}
      </label>
    );
  };
  const select = (key: string, label: string, options: readonly string[]) => (
    <label for={`field-${key}`}>
      {label}
      <select id={`field-${key}`} name={key} disabled={!admin}>
        {options.map((o) => <option key={o} value={o} selected={values[key] === o}>{o}</option>)}
      </select>
      {error(key)}
    </label>
  );
  const ticked = new Set(values.ruleIds as string[] ?? []);
  return (
    <>
      {errors.form && <p class="error" role="alert">{errors.form}</p>}
      <form class="stack" method="post" action={action} novalidate>
        {field("name")}
        <fieldset>
          <legend>Rules of the pool</legend>
          {rules.map((rule) => (
            <label class="check">
              <input
                type="checkbox"
                name="ruleIds"
                value={rule.id}
                checked={ticked.has(rule.id)}
                disabled={!admin}
              />{" "}
              {rule.id} {rule.name}
            </label>
          ))}
          {error("ruleIds")}
        </fieldset>
        {select("model", "Model", LICENCE_MODELS)}
        {["quantity", "unitCost"].map(field)}
        {select("costPeriod", "Cost period", COST_PERIODS)}
        {["currency", "contractStart", "contractEnd", "coversSite", "thresholdMinutes"].map(field)}
        {["windowDays", "alertAtPercent", "comment"].map(field)}
        {admin && (
          <div class="actions">
            <button type="submit">{licence ? "Save" : "Record licence"}</button>
            <a href={licence ? `/licences/${licence.id}` : "/licences"}>Cancel</a>
          </div>
        )}
      </form>
      {licence && admin && (
        <form method="get" action={`/licences/${licence.id}/delete`} class="actions">
          <button type="submit" class="danger">Delete licence…</button>
        </form>
      )}
    </>
  );
}
