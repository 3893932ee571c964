/**
 * A query's result encoded where it is read, in the query process, as the
 * bytes of the HTTP answer: JSON (`{columns, rows, truncated}`) or CSV with a
 * header row. The site then only passes the bytes on, so a large result costs
 * its own thread a copy, not a parse and a stringify.
 *
 * The bytes are counted as rows are added, and encoding stops with a
 * `result_too_large` refusal as soon as they pass the limit, so a result
 * never grows past it in memory either.
 *
 * @module
 */
import { csvLine } from "../../lib/csv.ts";
import { QueryRefusal } from "./statement_text.ts";

export type ResultFormat = "json" | "csv";

/** Text collected before it is encoded to bytes and counted. */
const FLUSH_CHARS = 256 * 1024;

/** A value as JSON can carry it: big integers beyond 2^53 as text, blobs as hex. */
export function cellValue(value: unknown): unknown {
  if (typeof value === "bigint") {
    const n = Number(value);
    return Number.isSafeInteger(n) ? n : value.toString();
  }
  if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) {
    const bytes = value instanceof ArrayBuffer
      ? new Uint8Array(value)
      : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }
  return value;
}

export class ResultEncoder {
  readonly #format: ResultFormat;
  readonly #maxBytes: number;
  readonly #encoder = new TextEncoder();
  readonly #chunks: Uint8Array[] = [];
  #text: string[] = [];
  #chars = 0;
  #bytes = 0;
  #rows = 0;

  constructor(format: ResultFormat, columns: readonly string[], maxBytes: number) {
    this.#format = format;
    this.#maxBytes = maxBytes;
    this.#append(
      format === "csv" ? csvLine(columns) : `{"columns":${JSON.stringify(columns)},"rows":[`,
    );
  }

  /** Adds one row (values in column order); throws once the result is over the limit. */
  add(row: readonly unknown[]): void {
    const values = row.map(cellValue);
    if (this.#format === "csv") this.#append(csvLine(values));
    else this.#append((this.#rows > 0 ? "," : "") + JSON.stringify(values));
    this.#rows++;
    if (this.#chars >= FLUSH_CHARS) this.#flush();
  }

  /** The whole answer's bytes, in order. */
  finish(truncated: boolean): Uint8Array[] {
    if (this.#format === "json") this.#append(`],"truncated":${truncated}}`);
    this.#flush();
    return this.#chunks;
  }

  #append(text: string): void {
    this.#text.push(text);
    this.#chars += text.length;
  }

  #flush(): void {
    const bytes = this.#encoder.encode(this.#text.join(""));
    this.#text = [];
    this.#chars = 0;
    this.#bytes += bytes.byteLength;
    this.#chunks.push(bytes);
    if (this.#bytes > this.#maxBytes) {
      throw new QueryRefusal(
        `the result is larger than ${this.#maxBytes / 2 ** 20} MiB after ${this.#rows} rows; ` +
          "select fewer rows or columns",
        "result_too_large",
      );
    }
  }
}
