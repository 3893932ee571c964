/**
 * The test side of `tests/fixtures/windows/process_source_host.ts`: starts
 * it under the Windows Deno in Wine and gives each of its Windows process
 * sources as a {@linkcode ProcessSource} a test on Linux can use, plus
 * starting and stopping Windows programs in the same Wine prefix.
 *
 * @module
 */
import type {
  ProcessDetails,
  ProcessInfo,
  ProcessSnapshot,
  ProcessSource,
} from "../../agent/core/process_source.ts";
import { processKey } from "../../agent/core/process_source.ts";

export class WindowsProcessHost {
  readonly #child: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #waiting = new Map<number, (answer: { result?: unknown; error?: string }) => void>();
  #next = 1;

  /** `spawn` starts the host script under Windows Deno with piped stdin and stdout. */
  constructor(child: Deno.ChildProcess) {
    this.#child = child;
    this.#writer = child.stdin.getWriter();
    this.#read();
  }

  async request<T>(op: string, fields: Record<string, unknown> = {}): Promise<T> {
    const id = this.#next++;
    const answer = new Promise<{ result?: unknown; error?: string }>((resolve) =>
      this.#waiting.set(id, resolve)
    );
    await this.#writer.write(
      new TextEncoder().encode(JSON.stringify({ id, op, ...fields }) + "\n"),
    );
    const { result, error } = await answer;
    if (error !== undefined) throw new Error(`Windows process host: ${error}`);
    return result as T;
  }

  /** A fresh Windows process source, reached through the host. */
  async newSource(): Promise<ProcessSource> {
    const source = await this.request<number>("new");
    return {
      snapshot: async () => {
        const snapshot = await this.request<
          Omit<ProcessSnapshot, "processes"> & {
            processes: ProcessInfo[];
          }
        >("snapshot", { source });
        return {
          ...snapshot,
          processes: new Map(snapshot.processes.map((p) => [processKey(p), p])),
        };
      },
      details: async (process) =>
        (await this.request<ProcessDetails | null>("details", { source, process })) ?? undefined,
    };
  }

  /** Starts `exe` (a Windows path) inside Wine; its Windows pid and when. */
  start(exe: string, args: string[] = []): Promise<{ pid: number; startedAt: number }> {
    return this.request("start", { exe, args });
  }

  /** Ends a program `start` started; resolves once it has exited. */
  async stop(pid: number): Promise<void> {
    await this.request("stop", { pid });
  }

  async close(): Promise<void> {
    await this.#writer.close().catch(() => {});
    await this.#child.status;
  }

  async #read(): Promise<void> {
    let buffered = "";
    for await (const chunk of this.#child.stdout.pipeThrough(new TextDecoderStream())) {
      buffered += chunk;
      let newline: number;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (!line.startsWith("{")) continue; // Wine may print its own lines
        const answer = JSON.parse(line) as { id: number; result?: unknown; error?: string };
        this.#waiting.get(answer.id)?.(answer);
        this.#waiting.delete(answer.id);
      }
    }
    for (const resolve of this.#waiting.values()) resolve({ error: "the host exited" });
  }
}
