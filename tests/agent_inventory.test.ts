/**
 * The agent's inventory pieces on real files: dpkg's database of this
 * machine read directly (the same packages and versions `dpkg-query`
 * prints), a broken `status` still delivering the rest, the executables'
 * hashes cached by file identity and bounded per run, the collector keeping
 * a failed source's records, the writer sending nothing for an unchanged
 * inventory, and the schedule re-inventorying once an install has settled.
 */
import * as A from "@automerge/automerge";
import { afterAll, describe, expect, it } from "vitest";
import { parseDpkgStatus, readDpkgProducts } from "../agent/linux/inventory/dpkg_source.ts";
import {
  ExecutableHashes,
  executableHashesSchema,
} from "../agent/core/inventory/executable_hashes.ts";
import type { FoundProduct } from "../agent/core/inventory/found_product.ts";
import {
  collectInventory,
  type InventorySource,
} from "../agent/core/inventory/inventory_collector.ts";
import { InventorySchedule, MAX_DEFERRALS } from "../agent/core/inventory/inventory_schedule.ts";
import { fitProduct } from "../agent/core/inventory/product_fit.ts";
import { writeInventory } from "../agent/core/inventory/inventory_writer.ts";
import { realFileName } from "../agent/linux/linux_platform.ts";
import { openDatabase } from "../store/db.ts";
import { inventoryDocId } from "../model/doc_id.ts";
import { DocStore, docStoreSchema } from "../store/doc_store.ts";
import { decodeProduct, isProductKey } from "../model/inventory_record.ts";
import { newActorId } from "../lib/secret.ts";
import { dpkgQueryInstalled } from "./helpers/local_deb.ts";
import { tempDir } from "./helpers/metered_program.ts";
import { waitFor } from "./helpers/wait_for.ts";

const temps: { remove(): Promise<void> }[] = [];
afterAll(async () => {
  for (const temp of temps) await temp.remove();
});

async function scratch(): Promise<string> {
  const temp = await tempDir("meter-inventory-");
  temps.push(temp);
  return temp.dir;
}

const hasDpkg = (() => {
  try {
    return Deno.statSync("/var/lib/dpkg/status").isFile;
  } catch {
    return false;
  }
})();

describe("dpkg source", () => {
  it.skipIf(!hasDpkg)("reads the packages and versions dpkg-query prints", async () => {
    const [found, expected] = await Promise.all([readDpkgProducts(), dpkgQueryInstalled()]);
    expect(found.problems).toEqual([]);
    expect(found.products).toHaveLength(expected.size);
    for (const product of found.products) {
      expect(expected.get(product.key.slice("dpkg/".length)), product.key).toBe(product.version);
    }
    const coreutils = found.products.find((p) => p.name === "coreutils")!;
    expect(coreutils.executables).toContain("/usr/bin/sleep");
    expect(coreutils.executables.every((path) => !path.includes("/share/"))).toBe(true);
    expect(coreutils.installedAt).toBeGreaterThan(0);
  });

  it("names a broken stanza and keeps the others", () => {
    const text = [
      "Package: good",
      "Status: install ok installed",
      "Version: 1.0",
      "Architecture: amd64",
      "Maintainer: A <a@example.org>",
      "Description: fine",
      " with a continuation line",
      "",
      "Package: removed",
      "Status: deinstall ok config-files",
      "Version: 2.0",
      "",
      "Package: cut",
      "Status: install ok installed",
      "Archi", // the file ends mid-stanza, before its Version
    ].join("\n");
    const status = parseDpkgStatus(text);
    expect(status.installed).toEqual([
      { name: "good", version: "1.0", architecture: "amd64", maintainer: "A <a@example.org>" },
    ]);
    expect(status.problems).toEqual(["dpkg status: the stanza at line 13 lacks Version (cut)"]);
  });

  it("is empty where there is no dpkg", async () => {
    const found = await readDpkgProducts({ dpkgRoot: `${await scratch()}/none` });
    expect(found).toEqual({ products: [], problems: [] });
  });
});

async function agentDb(dir: string) {
  return await openDatabase(`${dir}/agent.db`, [...docStoreSchema, ...executableHashesSchema]);
}

describe("executable hashes", () => {
  it("reads a file once, again when it changes, and stays within the budget", async () => {
    const dir = await scratch();
    const db = await agentDb(dir);
    const a = `${dir}/a`;
    const b = `${dir}/b`;
    await Deno.writeTextFile(a, "x".repeat(1000));
    await Deno.writeTextFile(b, "y".repeat(1000));
    const bounded = new ExecutableHashes(db, 1500);
    const first = await bounded.hashAll([a, b]);
    expect(first).toMatchObject({ filesRead: 1, pending: 1 });
    expect(first.hashes.get(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(first.hashes.get(b)).toBeNull();
    const second = await bounded.hashAll([a, b]);
    expect(second).toMatchObject({ filesRead: 1, pending: 0 });
    expect(second.hashes.get(a)).toBe(first.hashes.get(a));
    const third = await bounded.hashAll([a, b]);
    expect(third.filesRead).toBe(0);
    await Deno.writeTextFile(a, "z".repeat(1001));
    const fourth = await bounded.hashAll([a, b, `${dir}/missing`]);
    expect(fourth.filesRead).toBe(1);
    expect(fourth.hashes.get(a)).not.toBe(first.hashes.get(a));
    expect(fourth.hashes.get(`${dir}/missing`)).toBeNull();
    // A program larger than the whole budget is still hashed: one file a run at least.
    await Deno.writeTextFile(b, "w".repeat(5000));
    const fifth = await bounded.hashAll([b]);
    expect(fifth).toMatchObject({ filesRead: 1, pending: 0 });
    db.close();
  });
});

function product(key: string, version: string, executables: string[] = []): FoundProduct {
  const source = key.split("/")[0] as FoundProduct["source"];
  return {
    key,
    name: key.split("/")[1],
    version,
    publisher: "",
    source,
    installedAt: null,
    executables,
  };
}

const source = (name: string, products: FoundProduct[], problems: string[] = []) => ({
  name,
  read: () => Promise.resolve({ products, problems }),
});

describe("collecting and writing the inventory", () => {
  it("writes changes only, deletes what went, and keeps a failed source's records", async () => {
    const dir = await scratch();
    const db = await agentDb(dir);
    const docs = new DocStore(db);
    const hashes = new ExecutableHashes(db);
    const actor = newActorId();
    const docId = inventoryDocId("c1");
    await Deno.copyFile("/bin/sleep", `${dir}/tool`);
    const heads = async () => A.getHeads((await docs.load(docId, actor))!).join();

    let sources: InventorySource[] = [
      source("dpkg", [product("dpkg/tool:amd64", "1.0", [`${dir}/tool`]), product("dpkg/b", "2")]),
      source("snap", [product("snap/c", "3")], ["snap list: line 4 is not a row"]),
    ];
    const first = await collectInventory(sources, hashes, realFileName);
    expect(first.problems).toEqual(["snap list: line 4 is not a row"]);
    expect(await writeInventory(docs, "c1", actor, first)).toEqual({
      put: 3,
      deleted: 0,
      products: 3,
    });
    const doc = (await docs.load<Record<string, Uint8Array>>(docId, actor))!;
    const tool = decodeProduct("dpkg/tool:amd64", doc["dpkg/tool:amd64"]);
    expect(tool.files[0].sha256).toMatch(/^[0-9a-f]{64}$/);
    const before = await heads();

    // Nothing changed: no write, the document keeps its heads (a sync sends nothing).
    const again = await collectInventory(sources, hashes, realFileName);
    expect(again.filesHashed).toBe(0);
    expect(await writeInventory(docs, "c1", actor, again)).toMatchObject({ put: 0, deleted: 0 });
    expect(await heads()).toBe(before);

    // b upgraded, c removed, and a source that throws keeps its records.
    sources = [
      source("dpkg", [
        product("dpkg/tool:amd64", "1.0", [`${dir}/tool`]),
        product("dpkg/b", "2.1"),
      ]),
      source("snap", []),
      { name: "rpm", read: () => Promise.reject(new Error("rpm database locked")) },
    ];
    // An earlier run had found an rpm package.
    await writeInventory(docs, "c1", actor, {
      products: new Map([...first.products, ["rpm/kept.x86_64", {
        name: "kept",
        version: "1",
        publisher: "",
        source: "rpm",
        installedAt: null,
        files: [],
      }]]),
      failedSources: [],
    });
    const third = await collectInventory(sources, hashes, realFileName);
    expect(third.failedSources).toEqual(["rpm"]);
    expect(await writeInventory(docs, "c1", actor, third)).toEqual({
      put: 1,
      deleted: 1,
      products: 3,
    });
    const keys = Object.keys((await docs.load<Record<string, Uint8Array>>(docId, actor))!)
      .filter(isProductKey).sort();
    expect(keys).toEqual(["dpkg/b", "dpkg/tool:amd64", "rpm/kept.x86_64"]);

    // A tool that failed part way: what it listed counts, nothing of it is deleted.
    const partial = await collectInventory(
      [
        {
          name: "dpkg",
          read: () =>
            Promise.resolve({ products: [product("dpkg/b", "2.2")], problems: [], failed: true }),
        },
        source("rpm", []),
      ],
      hashes,
      realFileName,
    );
    expect(partial.failedSources).toEqual(["dpkg"]);
    expect(await writeInventory(docs, "c1", actor, partial)).toEqual({
      put: 1,
      deleted: 1,
      products: 2,
    });
    const after = (await docs.load<Record<string, Uint8Array>>(docId, actor))!;
    expect(Object.keys(after).filter(isProductKey).sort()).toEqual(["dpkg/b", "dpkg/tool:amd64"]);
    expect(decodeProduct("dpkg/b", after["dpkg/b"]).version).toBe("2.2");
    db.close();
  });
});

describe("fitting products to the record", () => {
  it("cuts long texts, drops a time before 1970 and bad paths, and names a bad key", () => {
    const fitted = fitProduct({
      ...product("rpm/tool.x86_64", "1.0", ["/usr/bin/tool", "relative/tool", "/usr/bin/tool"]),
      publisher: "P".repeat(300),
      installedAt: -1000,
    });
    expect(fitted).toMatchObject({
      publisher: "P".repeat(255),
      installedAt: null,
      executables: ["/usr/bin/tool"],
    });
    expect(fitProduct(product("nosuchsource/x", "1"))).toMatch(/is not valid/);
    expect(fitProduct({ ...product("dpkg/x", "1"), name: "  " })).toMatch(/has no name/);
  });
});

describe("inventory schedule", () => {
  it("runs at start, then once a change has settled, then on its interval", async () => {
    let signature = "a";
    let checks = 0;
    const runs: string[] = [];
    const schedule = new InventorySchedule({
      intervalMs: 60_000,
      checkMs: 20,
      signature: () => {
        checks++;
        return Promise.resolve(signature);
      },
      run: (reason) => {
        runs.push(reason);
        return Promise.resolve(0);
      },
    });
    schedule.start();
    await waitFor("the first run", () => runs.length === 1);
    signature = "b";
    await waitFor("the run after the change", () => runs.length === 2, { intervalMs: 10 });
    expect(runs).toEqual(["start", "software changed"]);
    // No third run however many times it checks the unchanged signature.
    const checked = checks;
    await waitFor("five more checks", () => checks >= checked + 5, { intervalMs: 10 });
    expect(runs).toHaveLength(2);
    await schedule.stop();
  });

  it("runs even while the signature never settles", async () => {
    let checks = 0;
    const runs: string[] = [];
    const schedule = new InventorySchedule({
      intervalMs: 60_000,
      checkMs: 10,
      signature: () => Promise.resolve(String(checks++)),
      run: (reason) => {
        runs.push(reason);
        return Promise.resolve(0);
      },
    });
    schedule.start();
    await waitFor("a run after the deferrals", () => runs.length >= 2, { intervalMs: 10 });
    expect(runs.slice(0, 2)).toEqual(["start", "software changed"]);
    expect(checks).toBeGreaterThanOrEqual(MAX_DEFERRALS + 2);
    await schedule.stop();
  });
});
