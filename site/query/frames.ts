/**
 * Messages between the site and a query process over the process's pipes:
 * each frame is one line of JSON (the header) followed by `bodyBytes` raw
 * bytes when the header says so. JSON keeps the small part readable; the body
 * stays bytes, so a 60 MiB result crosses the pipe without being parsed.
 *
 * @module
 */

/** What every header may say: the length of the bytes that follow it. */
export interface FrameHeader {
  bodyBytes?: number;
}

export interface Frame<H> {
  header: H;
  body: Uint8Array<ArrayBuffer>;
}

const NEWLINE = 0x0a;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Writes one frame: `header` as a JSON line, then `body` (its length set in the header). */
export async function writeFrame(
  writer: WritableStreamDefaultWriter<Uint8Array>,
  header: object,
  body: readonly Uint8Array[] = [],
): Promise<void> {
  const bodyBytes = body.reduce((sum, chunk) => sum + chunk.byteLength, 0);
  await writer.write(encoder.encode(JSON.stringify({ ...header, bodyBytes }) + "\n"));
  for (const chunk of body) await writer.write(chunk);
}

/** Reads frames from a byte stream, one at a time. */
export class FrameReader<H> {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  #chunks: Uint8Array[] = [];
  #buffered = 0;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.getReader();
  }

  /** The next frame, or `undefined` when the stream ends between frames. */
  async next(): Promise<Frame<H> | undefined> {
    const line = await this.#line();
    if (line === undefined) return undefined;
    const header = JSON.parse(decoder.decode(line)) as H;
    const body = await this.#take((header as FrameHeader).bodyBytes ?? 0);
    if (body === undefined) throw new Error("the stream ended inside a frame");
    return { header, body };
  }

  cancel(): void {
    this.#reader.cancel().catch(() => {});
  }

  /** The bytes up to the next newline (without it). */
  async #line(): Promise<Uint8Array | undefined> {
    let searched = 0;
    while (true) {
      const joined = this.#joined();
      const end = joined.indexOf(NEWLINE, searched);
      if (end >= 0) {
        const line = (await this.#take(end + 1))!;
        return line.subarray(0, end);
      }
      searched = joined.byteLength;
      if (!await this.#read()) {
        if (this.#buffered > 0) throw new Error("the stream ended inside a frame");
        return undefined;
      }
    }
  }

  /** Exactly `n` bytes, or `undefined` if the stream ends first. */
  async #take(n: number): Promise<Uint8Array<ArrayBuffer> | undefined> {
    while (this.#buffered < n) if (!await this.#read()) return undefined;
    const joined = this.#joined();
    const taken = new Uint8Array(n);
    taken.set(joined.subarray(0, n));
    this.#chunks = joined.byteLength > n ? [joined.subarray(n)] : [];
    this.#buffered -= n;
    return taken;
  }

  /** The buffered bytes as one array (joined once, then kept so). */
  #joined(): Uint8Array {
    if (this.#chunks.length === 1) return this.#chunks[0];
    const joined = new Uint8Array(this.#buffered);
    let at = 0;
    for (const chunk of this.#chunks) {
      joined.set(chunk, at);
      at += chunk.byteLength;
    }
    this.#chunks = this.#buffered > 0 ? [joined] : [];
    return joined;
  }

  async #read(): Promise<boolean> {
    const { value, done } = await this.#reader.read();
    if (done) return false;
    this.#chunks.push(value);
    this.#buffered += value.byteLength;
    return true;
  }
}
