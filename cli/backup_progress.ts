/**
 * Progress of `meter site backup` and `meter site restore` on stderr: nothing
 * for a copy or check that ends within two seconds, then a line about every
 * second saying what is being done and how far it is.
 *
 * @module
 */
import type { BackupProgress } from "../site/mod.ts";
import { notice } from "./command.ts";
import { humanBytes, humanSeconds } from "./human_size.ts";

/** Progress is shown once a command has run this long. */
const QUIET_MS = 2000;

/** A progress callback that prints from two seconds after it is made. */
export function backupProgress(): (progress: BackupProgress) => void {
  const started = performance.now();
  return ({ step, bytes }) => {
    const elapsed = performance.now() - started;
    if (elapsed < QUIET_MS) return;
    notice(
      step === "copying"
        ? `copied ${humanBytes(bytes)} so far`
        : `checking the integrity of ${humanBytes(bytes)} (${humanSeconds(elapsed)} in)`,
    );
  };
}
