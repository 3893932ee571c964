/**
 * Secrets given to a command: a token on the command line is visible to
 * every user in `ps` (and `deno task` prints its whole command line), so each
 * secret option `--NAME` also comes as `--NAME-file FILE` and as an
 * environment variable. The flag wins over the file, which wins over the
 * environment, so that a one-off flag overrides what a service sets.
 *
 * @module
 */
import { stringOption, UsageError, type Values, warn } from "./command.ts";

/** The options a secret adds to a command: `--NAME` and `--NAME-file`. */
export function secretOptions<N extends string>(name: N) {
  return {
    [name]: { type: "string" },
    [`${name}-file`]: { type: "string" },
  } as Record<N | `${N}-file`, { type: "string" }>;
}

/** The secret from `--NAME`, else the file of `--NAME-file`, else `env`. */
export function secretOption(values: Values, name: string, env: string): string | undefined {
  const flag = stringOption(values, name);
  if (flag !== undefined) return flag;
  const file = stringOption(values, `${name}-file`);
  if (file !== undefined) return readSecretFile(file, `${name}-file`);
  return Deno.env.get(env) || undefined;
}

/**
 * A secret file that is needed only once, like an agent's enroll token after
 * it has enrolled: `undefined` when the file is gone, so the administrator
 * can remove it without editing the service that names it.
 */
export function secretFileIfPresent(file: string, option: string): string | undefined {
  try {
    Deno.statSync(file);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
  }
  return readSecretFile(file, option);
}

/**
 * The file's text without its trailing newline (`echo` and editors add one).
 * A file others can read is still used, since refusing would stop a service
 * at a bad moment, but it is worth one warning.
 */
function readSecretFile(file: string, option: string): string {
  let text: string;
  try {
    text = Deno.readTextFileSync(file);
  } catch (error) {
    throw new UsageError(`--${option} ${file}: ${(error as Error).message}`);
  }
  const secret = text.replace(/[\r\n]+$/, "");
  if (secret === "") throw new UsageError(`--${option} ${file} is empty`);
  // Windows keeps who may read a file in its ACL, which Deno does not show;
  // the mode bits it reports there mean nothing.
  const mode = Deno.build.os === "windows" ? null : Deno.statSync(file).mode;
  if (mode !== null && (mode & 0o044) !== 0) {
    warn(`${file} can be read by other users; make it yours alone with: chmod 600 ${file}`);
  }
  return secret;
}
