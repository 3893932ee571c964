/**
 * The installed-software records of an inventory document,
 * `inventory/<client>`, beside its `facts` record.
 *
 * One record per installed product, under a key that names its source and
 * its identity there (`dpkg/coreutils:amd64`, `rpm/bash.x86_64`,
 * `snap/firefox`, `flatpak/system/org.gimp.GIMP/stable`,
 * `desktop/code.desktop`), holding one CBOR tuple:
 * `[name, version, publisher, source, installedAtMs | null, files]` where
 * `files` is `[[path, sha256 | null, realName?], ...]`, the executables the
 * product provides (`realName`, the base name behind a link, only where it
 * differs). The agent rewrites a record only when it changed and deletes the
 * records of products that went away, so an unchanged computer sends nothing.
 *
 * @module
 */
import { encode } from "cbor-x";
import { z } from "zod";
import { decodeRecord } from "./cbor_record.ts";
import { PRODUCT_SOURCES, type ProductSource } from "./product_source.ts";

export { PRODUCT_SOURCES, type ProductSource } from "./product_source.ts";

/** Executables listed per product; a product with more keeps the first ones. */
export const MAX_PRODUCT_FILES = 500;
/** The longest name, version or publisher. */
export const MAX_PRODUCT_TEXT = 255;
export const MAX_PATH = 4096;

export interface ProductFile {
  path: string;
  /** Lowercase hex, or `null` until the agent has read the file. */
  sha256: string | null;
  /**
   * The base name of the file a link leads to (`python3.11` for
   * `/usr/bin/python3`), where it differs: what a rule's
   * `originalFileName` names.
   */
  realName?: string;
}

export interface InstalledProduct {
  name: string;
  version: string;
  /** Maintainer, vendor or publisher as the source names it; `""` if none. */
  publisher: string;
  source: ProductSource;
  /** When it was installed (ms since the epoch), where the source knows. */
  installedAt: number | null;
  files: ProductFile[];
}

const text = z.string().max(MAX_PRODUCT_TEXT);
const path = z.string().min(1).max(MAX_PATH);
const sha256 = z.string().regex(/^[0-9a-f]{64}$/).nullable();
const productTuple = z.tuple([
  text.min(1),
  text,
  text,
  z.enum(PRODUCT_SOURCES),
  z.number().int().min(0).nullable(),
  z.array(z.union([
    z.tuple([path, sha256]),
    z.tuple([path, sha256, z.string().min(1).max(MAX_PRODUCT_TEXT)]),
  ])).max(MAX_PRODUCT_FILES),
]);

/** A product key: its source, a slash, and the product's identity there. */
export const productKeySchema = z.string().max(512).regex(
  new RegExp(`^(${PRODUCT_SOURCES.join("|")})/.+`),
  "a product key is <source>/<identity>",
);

export function isProductKey(key: string): boolean {
  return productKeySchema.safeParse(key).success;
}

export function encodeProduct(product: InstalledProduct): Uint8Array {
  return encode([
    product.name,
    product.version,
    product.publisher,
    product.source,
    product.installedAt,
    product.files.map((file) =>
      file.realName === undefined
        ? [file.path, file.sha256]
        : [file.path, file.sha256, file.realName]
    ),
  ]);
}

export function decodeProduct(key: string, value: unknown): InstalledProduct {
  const [name, version, publisher, source, installedAt, files] = decodeRecord(
    `product ${key}`,
    value,
    productTuple,
  );
  return {
    name,
    version,
    publisher,
    source,
    installedAt,
    files: files.map(([path, sha256, realName]) =>
      realName === undefined ? { path, sha256 } : { path, sha256, realName }
    ),
  };
}
