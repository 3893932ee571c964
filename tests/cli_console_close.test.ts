/**
 * A Windows console closing stops the agent cleanly: the listener's handler,
 * called as Windows calls it (on a thread of its own, under Wine), passes
 * Ctrl-C on, and for a close is heard, waits for the stop, and only then
 * answers. Wine cannot close a real console window on demand, so the test
 * calls the handler itself.
 *
 * @module
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { skipReason, WINE } from "./helpers/system_tools.ts";
import {
  prepareWine,
  runWindowsDeno,
  stopWine,
  windowsFixture,
  type WineEnvironment,
} from "./helpers/wine.ts";

const skipped = skipReason([WINE]);

describe.skipIf(skipped !== "")(`a closing Windows console${skipped}`, () => {
  let wine: WineEnvironment;

  beforeAll(async () => {
    wine = await prepareWine();
  }, 600_000);

  afterAll(async () => {
    if (wine) await stopWine(wine);
  });

  it("is heard, and the handler answers only once the stop is done", async () => {
    const output = await runWindowsDeno(wine, [
      "run",
      "-A",
      windowsFixture(wine, "console_close.ts"),
    ]).output();
    const lines = new TextDecoder().decode(output.stdout).trim().split(/\r?\n/);
    expect(lines, new TextDecoder().decode(output.stderr)).toEqual([
      "ctrl-c answered 0",
      "closing heard",
      "stopped",
      "close answered 1",
    ]);
  });
});
