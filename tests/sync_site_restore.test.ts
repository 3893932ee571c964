/**
 * A site restored from an older backup gets back what agents still hold:
 * documents the site had confirmed are not re-sent on every sync, but an
 * agent announces every document it keeps once an hour (`announceAll`), and
 * the protocol then re-sends exactly what the site lost.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type SiteHandle, startSite } from "./helpers/meter_process.ts";
import { tempDir } from "./helpers/metered_program.ts";
import { makeToken, sessions } from "./helpers/site_api.ts";
import { enrollClient, LocalClient } from "./helpers/sync_fixture.ts";

describe("site restored from a backup", () => {
  let temp: Awaited<ReturnType<typeof tempDir>>;
  let site: SiteHandle;
  let client: LocalClient;
  let admin: string;

  beforeAll(async () => {
    temp = await tempDir();
    site = await startSite(temp.dir);
    admin = await makeToken(site.db, "admin");
    client = await LocalClient.open(
      temp.dir,
      site.url,
      await enrollClient(site.url, await makeToken(site.db, "enroll")),
    );
  });

  afterAll(async () => {
    client?.close();
    await site?.process.stop();
    await temp?.remove();
  });

  const siteIds = async () =>
    (await sessions(site.url, admin, { client: client.clientId })).map((s) => s.id).sort();

  async function copyDb(from: string, to: string) {
    for (const suffix of ["", "-wal", "-shm"]) {
      await Deno.remove(to + suffix).catch(() => {});
      await Deno.copyFile(from + suffix, to + suffix).catch(() => {});
    }
  }

  test("announcing every kept document restores what the site lost", async () => {
    await client.addSessions(10);
    await client.sync();
    expect(await siteIds()).toHaveLength(10);

    await site.process.stop();
    const backup = `${temp.dir}/backup.db`;
    await copyDb(site.db, backup);
    site = await startSite(temp.dir, { port: site.port });
    await client.addSessions(10);
    await client.sync();
    const all = await siteIds();
    expect(all).toHaveLength(20);

    await site.process.stop();
    await copyDb(backup, site.db);
    site = await startSite(temp.dir, { port: site.port });
    expect(await siteIds()).toHaveLength(10);

    // A plain sync has nothing new to say, so the loss stays unnoticed...
    await client.sync();
    expect(await siteIds()).toHaveLength(10);
    // ...until the agent announces everything it keeps.
    const outcome = await client.client().sync(await client.targets(), { announceAll: true });
    expect(outcome.rounds).toBeLessThanOrEqual(3);
    expect(await siteIds()).toEqual(all);
  });
});
