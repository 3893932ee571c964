/**
 * Reading a JSON settings file (`--config`) for the site or the agent:
 * comments allowed (`lib/jsonc.ts`), an object of settings, and a key the
 * program does not know refused by name, since a misspelt `prot` silently
 * left at its default would be found much later.
 *
 * @module
 */
import { parseJsonc } from "./jsonc.ts";

/** The file's settings; throws naming the file and what is wrong with it. */
export async function readConfigFile(
  file: string,
  knownKeys: readonly string[],
): Promise<Record<string, unknown>> {
  let settings: unknown;
  try {
    settings = parseJsonc(await Deno.readTextFile(file));
  } catch (error) {
    throw new Error(`cannot read the config file ${file}: ${(error as Error).message}`);
  }
  if (typeof settings !== "object" || settings === null || Array.isArray(settings)) {
    throw new Error(`the config file ${file} is not a JSON object of settings`);
  }
  const unknown = Object.keys(settings).filter((key) => !knownKeys.includes(key));
  if (unknown.length > 0) {
    const keys = unknown.map((key) => JSON.stringify(key)).join(", ");
    throw new Error(
      `the config file ${file} has unknown ${unknown.length === 1 ? "key" : "keys"} ${keys}; ` +
        `the keys are ${knownKeys.join(", ")}`,
    );
  }
  return settings as Record<string, unknown>;
}

/** Only the settings given (a flag not given is `undefined`), so they win over the file's. */
export function givenSettings<T extends Record<string, unknown>>(flags: T): Partial<T> {
  return Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** A schema's complaints on one line: `port: Too big ...; code: ...`. */
export function issuesText(
  error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] },
): string {
  return error.issues.map((issue) =>
    `${issue.path.length ? `${issue.path.map(String).join(".")}: ` : ""}${issue.message}`
  ).join("; ");
}
