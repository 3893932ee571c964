/**
 * Writes the tables of `docs/configuration.md` (the site's and the agent's
 * config keys) and
 * `docs/settings.md` (the settings an administrator changes at run time)
 * from the zod schemas that check them, so the documentation cannot drift
 * from what the site accepts. Each table stands between a pair of marker
 * comments; the prose around it is kept.
 *
 * Usage: `deno task docs` writes the tables; `--check` (run by
 * `deno task check`) fails, naming the file, when one is out of date.
 *
 * @module
 */
import type { z } from "zod";
import { DEFAULT_SETTINGS, siteConfigSchema, siteSettingsSchema } from "../site/mod.ts";
import { agentConfigSchema } from "../agent/mod.ts";

/** What a config key's schema says of itself, beside its type. */
interface KeyMeta {
  description?: string;
  flag?: string;
  shownDefault?: string;
}

/** A Markdown table with its columns padded, as `deno fmt` lays one out. */
export function markdownTable(header: readonly string[], rows: readonly string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((cell, i) => cell.padEnd(widths[i])).join(" | ")} |`;
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

function metaOf(field: unknown): KeyMeta {
  return ((field as z.ZodType).meta() ?? {}) as KeyMeta;
}

function shown(value: unknown): string {
  return `\`${String(value)}\``;
}

/** A program's config keys: what each sets, its flag, its key and its default. */
export function configTable(schema: z.ZodObject): string {
  const defaults = schema.parse({}) as Record<string, unknown>;
  const rows = Object.entries(schema.shape).map(([key, field]) => {
    const meta = metaOf(field);
    const fallback = meta.shownDefault ?? (key in defaults ? shown(defaults[key]) : "none");
    return [meta.description ?? key, meta.flag ?? "", `\`${key}\``, fallback];
  });
  return markdownTable(["setting", "flag", "config key", "default"], rows);
}

/** The run-time settings: each one's default, its allowed range and its meaning. */
export function siteSettingsTable(): string {
  const rows = Object.entries(siteSettingsSchema.shape).map(([key, field]) => [
    `\`${key}\``,
    String(DEFAULT_SETTINGS[key as keyof typeof DEFAULT_SETTINGS]),
    metaOf(field).description ?? "",
  ]);
  return markdownTable(["setting", "default", "meaning"], rows);
}

/** The generated tables, by file and marker name. */
export const GENERATED: readonly { file: string; name: string; table: () => string }[] = [
  {
    file: "docs/configuration.md",
    name: "siteConfigSchema",
    table: () => configTable(siteConfigSchema),
  },
  {
    file: "docs/configuration.md",
    name: "agentConfigSchema",
    table: () => configTable(agentConfigSchema),
  },
  { file: "docs/settings.md", name: "siteSettingsSchema", table: siteSettingsTable },
];

/** `text` with the table between its markers replaced; throws if the markers are missing. */
export function withTable(text: string, name: string, table: string): string {
  const begin = `<!-- generated from ${name} by scripts/config_docs.ts: do not edit -->`;
  const end = `<!-- end of ${name} -->`;
  const from = text.indexOf(begin);
  const to = text.indexOf(end);
  if (from < 0 || to < from) throw new Error(`no markers for ${name}: ${begin} ... ${end}`);
  return `${text.slice(0, from)}${begin}\n\n${table}\n\n${text.slice(to)}`;
}

/** The files whose tables are out of date (written anew unless `check`). */
export function updateDocs(root: string, check: boolean): string[] {
  const stale: string[] = [];
  for (const { file, name, table } of GENERATED) {
    const path = `${root}/${file}`;
    const text = Deno.readTextFileSync(path);
    const updated = withTable(text, name, table());
    if (updated === text) continue;
    stale.push(file);
    if (!check) Deno.writeTextFileSync(path, updated);
  }
  return stale;
}

if (import.meta.main) {
  const check = Deno.args.includes("--check");
  const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
  const stale = updateDocs(root, check);
  if (check && stale.length > 0) {
    console.error(`out of date: ${stale.join(", ")}; run deno task docs`);
    Deno.exit(1);
  }
  console.log(
    stale.length > 0 ? `wrote ${stale.join(", ")}` : "the configuration docs are up to date",
  );
}
