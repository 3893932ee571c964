/**
 * Running one `meter` command to its end, as an operator would: a real
 * `deno run -A main.ts` process whose exit code, stdout and stderr are
 * returned. Its environment is this one without `METER_*`, so a variable
 * set where the tests run cannot change what a test sees; give the ones a
 * test needs in `env`.
 *
 * @module
 */
const MAIN = new URL("../../main.ts", import.meta.url).pathname;

export interface MeterResult {
  code: number;
  stdout: string;
  stderr: string;
  /** How long the command ran, in ms. */
  ms: number;
}

export interface MeterOptions {
  env?: Record<string, string>;
  cwd?: string;
  /**
   * Run without root's power to write anywhere (`setpriv` drops
   * CAP_DAC_OVERRIDE), so that a read-only folder is read-only to it too.
   */
  asUnprivileged?: boolean;
  /** Kill the command after this long (default 60 s): a test must not hang on it. */
  timeoutMs?: number;
}

/** Whether {@linkcode MeterOptions.asUnprivileged} can work here. */
export function canRunUnprivileged(): boolean {
  if (Deno.uid() !== 0) return true;
  return ["/usr/bin/setpriv", "/bin/setpriv"].some((path) => {
    try {
      return Deno.statSync(path).isFile;
    } catch {
      return false;
    }
  });
}

export async function meter(args: string[], options: MeterOptions = {}): Promise<MeterResult> {
  const env = Object.fromEntries(
    Object.entries(Deno.env.toObject()).filter(([name]) => !name.startsWith("METER_")),
  );
  const deno = [Deno.execPath(), "run", "-A", MAIN, ...args];
  const argv = options.asUnprivileged && Deno.uid() === 0
    ? ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner", "--", ...deno]
    : deno;
  const started = Date.now();
  const output = await new Deno.Command(argv[0], {
    args: argv.slice(1),
    cwd: options.cwd,
    clearEnv: true,
    env: { ...env, ...options.env },
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(options.timeoutMs ?? 60_000),
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return {
    code: output.code,
    stdout: decode(output.stdout),
    stderr: decode(output.stderr),
    ms: Date.now() - started,
  };
}

/** A stack frame as Deno prints one: what an operator must never see by default. */
export const STACK_FRAME = /^ {4}at /m;
