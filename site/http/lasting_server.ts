/**
 * `Deno.serve` that outlasts running out of open files.
 *
 * When a process has as many files open as it may, `accept` fails with
 * `EMFILE`, and Deno's server then stops listening for good: its `finished`
 * promise rejects, and a rejection nobody handles ends the process. A
 * fleet that all syncs at once (a rule changed, the network came back)
 * opened more connections than the development machine's 20,000 allowed
 * files, and the site was gone within seconds.
 *
 * This server listens again on the same address instead, after a pause
 * that grows while the files stay exhausted ({@linkcode Backoff}). Until
 * then new connections are refused, which agents treat as a site away for
 * a while; connections already open are answered; nothing stored is lost.
 * Any other failure of the listener is logged and ends the process, as
 * before.
 *
 * @module
 */
import { Backoff } from "../../lib/backoff.ts";
import { log } from "../../lib/log.ts";

/** What `Deno.serve` takes here: TCP, with TLS when `cert` and `key` are given. */
export type LastingServeOptions = Deno.ServeTcpOptions & Partial<Deno.TlsCertifiedKeyPem>;

export class LastingServer {
  readonly #options: LastingServeOptions;
  readonly #handler: Deno.ServeHandler<Deno.NetAddr>;
  readonly #backoff: Backoff;
  #server: Deno.HttpServer<Deno.NetAddr>;
  /** Set while the listener is down, until it listens again. */
  #retry?: ReturnType<typeof setTimeout>;
  #stopping = false;

  /** Listens at once: a port in use or not allowed throws here, as `Deno.serve` does. */
  constructor(
    options: LastingServeOptions,
    handler: Deno.ServeHandler<Deno.NetAddr>,
    backoff = new Backoff(100, 5_000),
  ) {
    this.#options = options;
    this.#handler = handler;
    this.#backoff = backoff;
    this.#server = this.#listen(options.port);
  }

  /** The address listened on (a port of 0 asked is the one given). */
  get addr(): Deno.NetAddr {
    return this.#server.addr;
  }

  /** Stops listening and waits for the connections open to finish. */
  async shutdown(): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#retry);
    // A listener that failed has stopped already; its shutdown would report that failure again.
    if (this.#retry === undefined) await this.#server.shutdown();
  }

  #listen(port: number | undefined): Deno.HttpServer<Deno.NetAddr> {
    const server = Deno.serve({ ...this.#options, port }, this.#handler);
    server.finished.catch((error) => this.#failed(error));
    return server;
  }

  #failed(error: unknown): void {
    if (this.#stopping) return;
    if (!isOutOfFiles(error)) {
      log.error("the site stopped listening", { error });
      // As an unhandled failure did before: a supervisor starts the site again.
      queueMicrotask(() => {
        throw error;
      });
      return;
    }
    this.#again(error);
  }

  /** Listens again on the same port once some files are free. */
  #again(error: unknown): void {
    const waitMs = this.#backoff.fail();
    log.warn("the site ran out of open files; listening again shortly", {
      waitMs,
      error,
    });
    this.#retry = setTimeout(() => {
      if (this.#stopping) return;
      try {
        this.#server = this.#listen(this.#server.addr.port);
        this.#retry = undefined;
        this.#backoff.succeed();
        log.info("the site listens again", { port: this.#server.addr.port });
      } catch (retryError) {
        this.#again(retryError);
      }
    }, waitMs);
  }
}

/** `EMFILE` or `ENFILE`: the process or the system has no file to give. */
function isOutOfFiles(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return /os error 2[34]\b|too many open files/i.test(message);
}
