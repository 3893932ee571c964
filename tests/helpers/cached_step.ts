/**
 * One step of a test cache that is built once and kept between runs: the
 * step runs again only when its inputs changed (a key, usually a hash of
 * them, recorded in a stamp file once the step succeeded) or one of its
 * outputs is gone.
 *
 * @module
 */
import { join } from "node:path";

/** The hex SHA-256 of text or bytes: the key of a step's inputs. */
export async function sha256Hex(data: string | Uint8Array): Promise<string> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

export interface CachedStep {
  /** The directory holding the stamps, `<name>.stamp` each. */
  stampDir: string;
  name: string;
  /** Identifies the inputs; a different key means the step must run again. */
  key: string;
  /** Files or directories the step makes; a missing one means it must run again. */
  outputs: string[];
  run: () => Promise<void>;
}

/** Runs the step unless it is current; says whether it ran. Callers hold the cache's lock. */
export async function runCachedStep(step: CachedStep): Promise<boolean> {
  const stamp = join(step.stampDir, `${step.name}.stamp`);
  if (
    await readText(stamp) === step.key &&
    (await Promise.all(step.outputs.map(exists))).every(Boolean)
  ) {
    return false;
  }
  // Forget the old stamp first: a step that fails half way must not look done.
  await Deno.remove(stamp).catch(() => {});
  await step.run();
  await Deno.mkdir(step.stampDir, { recursive: true });
  await Deno.writeTextFile(stamp, step.key);
  return true;
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch {
    return undefined;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}
