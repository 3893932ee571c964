/**
 * What an inventory source reports for one installed product, before the
 * collector adds the executables' hashes and writes it into the inventory
 * document (`model/inventory_record.ts`).
 *
 * @module
 */
import type { ProductSource } from "../../../model/inventory_record.ts";

export interface FoundProduct {
  /** `<source>/<identity in that source>`, stable across runs: the record's key. */
  key: string;
  name: string;
  version: string;
  publisher: string;
  source: ProductSource;
  installedAt: number | null;
  /** Absolute paths of the executables it provides (regular files a person or script runs). */
  executables: string[];
}

/**
 * What a source found, and what it could not read: a broken or truncated
 * input becomes a problem to log, and the products read before it still
 * count.
 */
export interface SourceResult {
  products: FoundProduct[];
  problems: string[];
  /**
   * The tool failed or was stopped part way: what it found still counts, but
   * products it did not list may still be installed, so none is deleted.
   */
  failed?: boolean;
}
