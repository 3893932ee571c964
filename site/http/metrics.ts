/**
 * Counters for `GET /metrics` in the Prometheus text format, so an operator
 * can watch sync traffic, ingest and refusals with the tools they have.
 *
 * @module
 */

export class Metrics {
  readonly #counters = new Map<string, { help: string; values: Map<string, number> }>();
  readonly #gauges = new Map<string, { help: string; read: () => number }>();

  /** Adds to a counter; `labels` like `{status: "403"}`. */
  count(name: string, help: string, by = 1, labels: Record<string, string> = {}): void {
    let counter = this.#counters.get(name);
    if (!counter) this.#counters.set(name, counter = { help, values: new Map() });
    const key = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, "_")}"`)
      .join(",");
    counter.values.set(key, (counter.values.get(key) ?? 0) + by);
  }

  /** A value read when metrics are scraped. */
  gauge(name: string, help: string, read: () => number): void {
    this.#gauges.set(name, { help, read });
  }

  render(): string {
    const lines: string[] = [];
    for (const [name, { help, values }] of this.#counters) {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`);
      for (const [labels, value] of values) {
        lines.push(`${name}${labels ? `{${labels}}` : ""} ${value}`);
      }
    }
    for (const [name, { help, read }] of this.#gauges) {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, `${name} ${read()}`);
    }
    return lines.join("\n") + "\n";
  }
}
