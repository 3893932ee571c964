/**
 * Compressed sync bodies: a batch sent with `Content-Encoding: deflate` is
 * stored like a plain one and the reply comes back compressed when asked;
 * a body that inflates past the limit, is not deflate data, or names an
 * unknown encoding is refused (413, 400, 415) and changes nothing.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { deflateSync, inflateSync } from "node:zlib";
import { decode } from "cbor-x";
import { usageDocId } from "../model/doc_id.ts";
import { CBOR_TYPE, encodeSyncBody, MAX_SYNC_BODY_BYTES } from "../sync/sync_batch.ts";
import {
  enrollFakeAgent,
  type FakeAgent,
  itemFor,
  newRecordDoc,
  session,
  writeSessions,
} from "./helpers/fake_agent.ts";
import { tempDir } from "./helpers/metered_program.ts";
import { type SiteHandle, startSite } from "./helpers/meter_process.ts";
import { makeToken, sessions } from "./helpers/site_api.ts";
import { snapshotTables } from "./helpers/site_tables.ts";

const DAY = "2026-11-20";

describe("sync body encoding", () => {
  let temp: Awaited<ReturnType<typeof tempDir>>;
  let site: SiteHandle;
  let agent: FakeAgent;
  let admin: string;

  beforeAll(async () => {
    temp = await tempDir();
    site = await startSite(temp.dir);
    admin = await makeToken(site.db, "admin");
    agent = await enrollFakeAgent(site.url, await makeToken(site.db, "enroll"));
  });

  afterAll(async () => {
    await site?.process.stop();
    await temp?.remove();
  });

  const post = (body: Uint8Array, headers: Record<string, string>) =>
    fetch(`${site.url}/v1/sync`, {
      method: "POST",
      headers: { authorization: agent.authorization, "content-type": CBOR_TYPE, ...headers },
      body: body as Uint8Array<ArrayBuffer>,
    });

  test("a deflated batch is stored, and the reply is deflated when asked", async () => {
    const start = Date.parse(`${DAY}T09:00:00Z`);
    const doc = writeSessions(
      newRecordDoc(agent.actor),
      DAY,
      Array.from(
        { length: 20 },
        (_, i) =>
          session({
            id: `${DAY}/${i + 1}`,
            ruleId: "S01-1",
            user: "ann",
            start: start + i * 1000,
            end: start + i * 1000 + 500,
          }),
      ),
    );
    const batch = encodeSyncBody({ items: [itemFor(usageDocId(agent.clientId, DAY), doc)] });
    const compressed = new Uint8Array(deflateSync(batch));
    expect(compressed.length).toBeLessThan(batch.length);
    const response = await post(compressed, {
      "content-encoding": "deflate",
      "accept-encoding": "deflate",
    });
    expect(response.status).toBe(200);
    const reply = new Uint8Array(await response.arrayBuffer());
    const encoding = response.headers.get("content-encoding");
    const decoded = decode(encoding === "deflate" ? inflateSync(reply) : reply);
    expect(decoded.items[0].doc).toBe(usageDocId(agent.clientId, DAY));
    expect(await sessions(site.url, admin, { client: agent.clientId })).toHaveLength(20);
  });

  test("refused encodings change nothing", async () => {
    const before = await snapshotTables(site.db);
    const bomb = new Uint8Array(deflateSync(new Uint8Array(MAX_SYNC_BODY_BYTES + 1)));
    expect(bomb.length).toBeLessThan(64 * 1024);
    const cases: [Uint8Array, string, number, RegExp][] = [
      [bomb, "deflate", 413, /inflates to more than/],
      [new Uint8Array([1, 2, 3, 4]), "deflate", 400, /not valid deflate/],
      [new Uint8Array(8), "br", 415, /unsupported content-encoding br/],
    ];
    for (const [body, encoding, status, message] of cases) {
      const response = await post(body, { "content-encoding": encoding });
      expect(response.status).toBe(status);
      expect((await response.json()).error.message).toMatch(message);
    }
    expect(await snapshotTables(site.db)).toEqual(before);
  });
});
