/**
 * The site's SQLite page cache (`dbCacheMiB`, `--db-cache-mib`): what the
 * config file says reaches the site's own connection to a real database
 * file, and a site given nothing keeps the default its reports were
 * measured with.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { closeSite, openSite } from "../site/site_server.ts";
import { DEFAULT_SITE_CACHE_MIB } from "../site/site_db.ts";
import { loadSiteConfig } from "../site/site_config.ts";
import { tempDir } from "./helpers/metered_program.ts";

describe("the site's page cache", () => {
  let temp: Awaited<ReturnType<typeof tempDir>>;

  beforeAll(async () => temp = await tempDir("meter-db-cache-"));
  afterAll(() => temp.remove());

  /** The page cache of a site opened from `config`, in KiB as SQLite reports it (negative). */
  async function cacheOf(config: Record<string, unknown>): Promise<number> {
    const file = join(temp.dir, `${crypto.randomUUID()}.json`);
    await Deno.writeTextFile(file, JSON.stringify({ dataDir: temp.dir, ...config }));
    const loaded = await loadSiteConfig(file, {});
    const site = await openSite(loaded);
    try {
      const result = await site.db.execute("PRAGMA cache_size");
      return Number(result.rows[0].cache_size);
    } finally {
      closeSite(site);
    }
  }

  test("the config file's size is the connection's", async () => {
    expect(await cacheOf({ code: "S01", dbCacheMiB: 8 })).toBe(-8 * 1024);
  });

  test("without it, the default", async () => {
    expect(await cacheOf({ code: "S02" })).toBe(-DEFAULT_SITE_CACHE_MIB * 1024);
  });
});
