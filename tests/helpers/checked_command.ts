/**
 * Runs a command a test's setup depends on and fails with its output when
 * it fails, so a broken setup step says what went wrong: the packaging's
 * own runner (`scripts/package/run.ts`), under the name the tests use.
 *
 * @module
 */
export {
  run as runChecked,
  type RunOptions as CheckedCommandOptions,
} from "../../scripts/package/run.ts";
