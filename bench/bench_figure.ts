/**
 * A benchmark figure and how the runner prints it: each figure next to the
 * baseline measured in the same run, and the target the issue set.
 *
 * @module
 */
export interface BenchFigure {
  name: string;
  value: number;
  unit: string;
  baseline?: { name: string; value: number };
  /** What the figure should reach, e.g. ">= 20000". */
  target?: string;
}

export function round(value: number, digits = 2): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** True when the figure meets its target (or has none). */
export function meetsTarget(figure: BenchFigure): boolean {
  const match = /^(>=|<=)\s*([\d.]+)$/.exec(figure.target ?? "");
  if (!match) return true;
  const limit = Number(match[2]);
  return match[1] === ">=" ? figure.value >= limit : figure.value <= limit;
}

export function renderFigures(figures: BenchFigure[]): string {
  const rows = figures.map((f) => [
    f.name,
    `${f.value} ${f.unit}`,
    f.baseline ? `${f.baseline.value} (${f.baseline.name})` : "",
    f.target ? `${f.target} ${meetsTarget(f) ? "ok" : "MISSED"}` : "",
  ]);
  const header = ["figure", "value", "baseline (same run)", "target"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join(" | ").trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("-|-"), ...rows.map(line)].join("\n");
}

/** Progress on stderr, so long runs show they are alive. */
export function progress(message: string): void {
  console.error(`[bench] ${message}`);
}
