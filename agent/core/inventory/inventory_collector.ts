/**
 * One inventory run: asks every source what is installed, adds the
 * executables' hashes, and gives the products keyed as the inventory
 * document keeps them. A source that fails or reads a broken input is
 * logged and the others still count. A source that throws, or whose tool
 * failed part way, is named in `failedSources`: what it found still counts,
 * and the writer keeps its earlier records instead of deleting them. Every
 * product is first made to fit the record (`product_fit.ts`).
 *
 * @module
 */
import { baseName } from "../../../lib/base_name.ts";
import { log } from "../../../lib/log.ts";
import type { InstalledProduct, ProductFile } from "../../../model/inventory_record.ts";
import type { ExecutableHashes } from "./executable_hashes.ts";
import type { FoundProduct, SourceResult } from "./found_product.ts";
import { fitProduct } from "./product_fit.ts";

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

/** The name a rule's `originalFileName` matches for the program at a path; `null` if unknown. */
export type OriginalNameReader = (path: string) => Promise<string | null>;

export async function collectInventory(
  sources: InventorySource[],
  hashes: ExecutableHashes,
  originalNameOf: OriginalNameReader,
): Promise<Inventory> {
  const results = await Promise.all(sources.map((source) => readSource(source)));
  const problems = results.flatMap(({ result }) => result?.problems ?? []);
  const found: FoundProduct[] = [];
  for (const product of results.flatMap(({ result }) => result?.products ?? [])) {
    const fitted = fitProduct(product);
    if (typeof fitted === "string") problems.push(fitted);
    else found.push(fitted);
  }
  for (const problem of problems) log.warn("inventory input problem", { problem });
  if (found.length > MAX_PRODUCTS) {
    log.warn("too many products; the inventory keeps the first", {
      found: found.length,
      kept: MAX_PRODUCTS,
    });
  }
  const kept = found.slice(0, MAX_PRODUCTS);
  const paths = kept.flatMap((product) => product.executables);
  const [run, realNames] = await Promise.all([
    hashes.hashAll(paths),
    realNamesOf(paths, originalNameOf),
  ]);
  const products = new Map<string, InstalledProduct>();
  for (const product of kept) {
    products.set(product.key, {
      name: product.name,
      version: product.version,
      publisher: product.publisher,
      source: product.source,
      installedAt: product.installedAt,
      files: product.executables.map((path) => fileOf(path, run.hashes, realNames)),
    });
  }
  return {
    products,
    failedSources: results.filter(({ result }) => !result || result.failed)
      .map(({ source }) => source.name),
    problems,
    pendingHashes: run.pending,
    filesHashed: run.filesRead,
  };
}

/** A source's result; `undefined` when it threw, which the log says. */
async function readSource(source: InventorySource) {
  try {
    return { source, result: await source.read() };
  } catch (error) {
    log.error("inventory source failed", { source: source.name, error });
    return { source, result: undefined };
  }
}

function fileOf(
  path: string,
  hashes: Map<string, string | null>,
  realNames: Map<string, string>,
): ProductFile {
  const file: ProductFile = { path, sha256: hashes.get(path) ?? null };
  const realName = realNames.get(path);
  if (realName !== undefined) file.realName = realName;
  return file;
}

/**
 * The names a rule's `originalFileName` matches, for the paths where it
 * differs from the file's own name (a link to another name on Linux, a
 * renamed program on Windows).
 */
async function realNamesOf(
  paths: string[],
  originalNameOf: OriginalNameReader,
): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  await Promise.all([...new Set(paths)].map(async (path) => {
    const name = await originalNameOf(path);
    if (name && name !== baseName(path)) names.set(path, name);
  }));
  return names;
}
