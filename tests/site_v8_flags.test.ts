/**
 * Every way a site is started carries the V8 flags it is measured with
 * (`site/site_v8_flags.ts`): V8 reads them only at start, so each starter
 * must give them, and one that forgot would run the site with the heap the
 * benchmarks do not show.
 */
import { expect, test } from "vitest";
import { SITE_V8_FLAGS } from "../site/site_v8_flags.ts";

const read = (path: string) => Deno.readTextFile(new URL(`../${path}`, import.meta.url));

test("the packaged unit gives the site its V8 flags", async () => {
  const unit = await read("packaging/linux/meter-site.service");
  expect(unit).toContain(`Environment=DENO_V8_FLAGS=${SITE_V8_FLAGS}\n`);
});

test("deno task site gives them", async () => {
  const tasks = JSON.parse(await read("deno.json")).tasks;
  expect(tasks.site).toContain(`--v8-flags=${SITE_V8_FLAGS} `);
});

test("this Deno's V8 knows them (it refuses a flag it does not know)", async () => {
  const run = (flags: string) =>
    new Deno.Command(Deno.execPath(), {
      args: ["eval", `--v8-flags=${flags}`, "0"],
      stderr: "piped",
    }).output();
  const known = await run(SITE_V8_FLAGS);
  expect(new TextDecoder().decode(known.stderr)).toBe("");
  expect(known.success).toBe(true);
  expect((await run("--no-such-flag-at-all")).success).toBe(false);
});
