/**
 * The V8 flags a site runs with. `--optimize-for-size` keeps V8's heap near
 * what is live instead of letting it grow to several times that between
 * collections: under the 50,000-agent load the site's JavaScript heap stayed
 * at 75 to 95 MB where it had swung between 80 and 320 MB, and its resident
 * memory fell from 660 to 435 MB, with no more CPU measured.
 *
 * V8 reads its flags only as it starts (setting one later from `node:v8`
 * changes nothing), so they are given on the command line by `deno task
 * site` and the benchmarks, and in `DENO_V8_FLAGS` by the packaged unit;
 * `tests/site_v8_flags.test.ts` checks that each carries them.
 *
 * @module
 */
export const SITE_V8_FLAGS = "--optimize-for-size";
