/**
 * One inventory run: asks every source what is installed, adds the
 * executables' hashes, and gives the products keyed as the inventory
 * document keeps them. A source that fails or reads a broken input is
 * logged and the others still count; a source that fails outright keeps
 * nothing of its own this run, so the caller keeps that source's previous
 * records instead of deleting them.
 *
 * @module
 */
import { log } from "../../sync/log.ts";
import { type InstalledProduct, MAX_PRODUCT_FILES } from "../../sync/inventory_record.ts";
import type { ExecutableHashes } from "./executable_hashes.ts";
import type { SourceResult } from "./found_product.ts";

/** A source by name (`dpkg`, `rpm`, ...) and how to read it. */
export interface InventorySource {
  name: string;
  read(): Promise<SourceResult>;
}

/** Products beyond this are dropped with a warning: a document stays under ~10,000 records. */
export const MAX_PRODUCTS = 9_000;

export interface Inventory {
  products: Map<string, InstalledProduct>;
  /** Sources that failed outright: their earlier records are kept, not deleted. */
  failedSources: string[];
  problems: string[];
  /** Executables whose hash a later run computes. */
  pendingHashes: number;
  filesHashed: number;
}

export async function collectInventory(
  sources: InventorySource[],
  hashes: ExecutableHashes,
): Promise<Inventory> {
  const results = await Promise.all(sources.map(async (source) => {
    try {
      return { source, result: await source.read() };
    } catch (error) {
      log.error("inventory source failed", { source: source.name, error });
      return { source, result: undefined };
    }
  }));
  const found = results.flatMap(({ result }) => result?.products ?? []);
  const problems = results.flatMap(({ result }) => result?.problems ?? []);
  for (const problem of problems) log.warn("inventory input problem", { problem });
  if (found.length > MAX_PRODUCTS) {
    log.warn("too many products; the inventory keeps the first", {
      found: found.length,
      kept: MAX_PRODUCTS,
    });
  }
  const kept = found.slice(0, MAX_PRODUCTS);
  const run = await hashes.hashAll(kept.flatMap((p) => p.executables.slice(0, MAX_PRODUCT_FILES)));
  const products = new Map<string, InstalledProduct>();
  for (const product of kept) {
    products.set(product.key, {
      name: product.name,
      version: product.version,
      publisher: product.publisher,
      source: product.source,
      installedAt: product.installedAt,
      files: product.executables.slice(0, MAX_PRODUCT_FILES)
        .map((path) => ({ path, sha256: run.hashes.get(path) ?? null })),
    });
  }
  return {
    products,
    failedSources: results.filter(({ result }) => !result).map(({ source }) => source.name),
    problems,
    pendingHashes: run.pending,
    filesHashed: run.filesRead,
  };
}
