/**
 * The VS_VERSIONINFO structure inside a version resource: the fixed file
 * info (VS_FIXEDFILEINFO, the binary file and product versions), the
 * StringFileInfo's string tables (one per language and code page, e.g.
 * "040904b0", holding ProductName, FileVersion, ...) and the VarFileInfo's
 * Translation list.
 *
 * Every block is `wLength, wValueLength, wType`, a NUL-terminated UTF-16LE
 * key, padding to 32 bits, the value, padding, then child blocks, each
 * 32-bit aligned. A child must end inside its parent and be at least a
 * header long, so each loop advances and ends. `wValueLength` counts bytes
 * for binary values but UTF-16 units for strings, and writers disagree on
 * whether it counts the NUL (some count bytes): a string value is read up
 * to its NUL, never past its block.
 *
 * @module
 */
import { ByteView, hex } from "./pe_bytes.ts";

export interface VersionTranslation {
  language: number;
  codePage: number;
}

export interface VersionStrings extends VersionTranslation {
  /** OriginalFilename, FileVersion, ProductName, ..., as the table holds them. */
  values: Record<string, string>;
}

/** What VS_VERSIONINFO holds, without where the resource was found. */
export interface VersionInfo {
  /** From VS_FIXEDFILEINFO, dotted "a.b.c.d"; null when absent. */
  fileVersion: string | null;
  productVersion: string | null;
  /** VarFileInfo\Translation, in file order (may be empty). */
  translations: VersionTranslation[];
  /** One entry per StringTable, in file order. */
  strings: VersionStrings[];
}

interface Block {
  key: string;
  type: number;
  valueLength: number;
  valueStart: number;
  end: number;
}

const HEADER_BYTES = 6;
const FIXED_INFO_BYTES = 52;
const FIXED_INFO_SIGNATURE = 0xfeef04bd;
const utf16 = new TextDecoder("utf-16le");

/** Parses the version resource's bytes; throws PeFormatError when they are malformed. */
export function parseVersionInfo(data: ByteView): VersionInfo {
  const root = readBlock(data, 0, data.length);
  if (root.key !== "VS_VERSION_INFO") {
    throw data.error(HEADER_BYTES, `version resource key is "${root.key}", not "VS_VERSION_INFO"`);
  }
  const info: VersionInfo = {
    ...fixedVersions(data, root),
    translations: [],
    strings: [],
  };
  for (const child of children(data, root, root.valueLength)) {
    if (child.key === "StringFileInfo") info.strings.push(...stringTables(data, child));
    if (child.key === "VarFileInfo") info.translations.push(...translations(data, child));
  }
  return info;
}

function readBlock(data: ByteView, at: number, parentEnd: number): Block {
  const length = data.u16(at, "version block wLength");
  const valueLength = data.u16(at + 2, "version block wValueLength");
  const type = data.u16(at + 4, "version block wType");
  const end = at + length;
  if (length < HEADER_BYTES) throw data.error(at, `version block wLength ${length} is too short`);
  if (end > parentEnd) {
    throw data.error(
      at,
      `version block wLength ${length} runs past its parent's end at ${hex(data.base + parentEnd)}`,
    );
  }
  const key = readText(data, at + HEADER_BYTES, end, "version block key");
  if (key.next === null) {
    throw data.error(at + HEADER_BYTES, "version block key has no NUL before the block ends");
  }
  return { key: key.text, type, valueLength, valueStart: align4(key.next), end };
}

/** The child blocks after a value of `valueBytes`; trailing zero padding ends the list. */
function* children(data: ByteView, parent: Block, valueBytes: number): Generator<Block> {
  let at = align4(parent.valueStart + valueBytes);
  while (at + HEADER_BYTES <= parent.end) {
    if (data.u16(at, "version block wLength") === 0) return;
    const child = readBlock(data, at, parent.end);
    yield child;
    at = align4(child.end);
  }
}

function fixedVersions(
  data: ByteView,
  root: Block,
): Pick<VersionInfo, "fileVersion" | "productVersion"> {
  if (root.valueLength === 0) return { fileVersion: null, productVersion: null };
  const at = root.valueStart;
  if (root.valueLength < FIXED_INFO_BYTES || at + root.valueLength > root.end) {
    throw data.error(at, `VS_FIXEDFILEINFO of ${root.valueLength} bytes does not fit its block`);
  }
  const signature = data.u32(at, "VS_FIXEDFILEINFO signature");
  if (signature !== FIXED_INFO_SIGNATURE) {
    throw data.error(at, `VS_FIXEDFILEINFO signature is ${hex(signature)}, not 0xfeef04bd`);
  }
  const dotted = (ms: number, ls: number) =>
    `${ms >>> 16}.${ms & 0xffff}.${ls >>> 16}.${ls & 0xffff}`;
  return {
    fileVersion: dotted(data.u32(at + 8, "dwFileVersionMS"), data.u32(at + 12, "dwFileVersionLS")),
    productVersion: dotted(
      data.u32(at + 16, "dwProductVersionMS"),
      data.u32(at + 20, "dwProductVersionLS"),
    ),
  };
}

function stringTables(data: ByteView, fileInfo: Block): VersionStrings[] {
  const tables: VersionStrings[] = [];
  for (const table of children(data, fileInfo, textBytes(fileInfo))) {
    if (!/^[0-9a-f]{8}$/i.test(table.key)) {
      throw data.error(table.valueStart, `string table key "${table.key}" is not 8 hex digits`);
    }
    tables.push({
      language: parseInt(table.key.slice(0, 4), 16),
      codePage: parseInt(table.key.slice(4), 16),
      values: stringValues(data, table),
    });
  }
  return tables;
}

/** The table's strings; the first of a repeated name wins, as VerQueryValue finds it. */
function stringValues(data: ByteView, table: Block): Record<string, string> {
  const values = new Map<string, string>();
  for (const entry of children(data, table, textBytes(table))) {
    if (values.has(entry.key)) continue;
    const end = Math.min(entry.end, entry.valueStart + entry.valueLength * 2);
    values.set(
      entry.key,
      entry.valueStart < end ? readText(data, entry.valueStart, end, "version string").text : "",
    );
  }
  // fromEntries defines own properties, so a "__proto__" key stays a string.
  return Object.fromEntries(values);
}

function translations(data: ByteView, varInfo: Block): VersionTranslation[] {
  const pairs: VersionTranslation[] = [];
  for (const variable of children(data, varInfo, textBytes(varInfo))) {
    if (variable.key !== "Translation") continue;
    const at = variable.valueStart;
    if (at + variable.valueLength > variable.end) {
      throw data.error(
        at,
        `Translation value of ${variable.valueLength} bytes runs past its block`,
      );
    }
    for (let i = 0; i + 4 <= variable.valueLength; i += 4) {
      pairs.push({
        language: data.u16(at + i, "translation language"),
        codePage: data.u16(at + i + 2, "translation code page"),
      });
    }
  }
  return pairs;
}

/** A block's value length in bytes when it is text (wType 1): wValueLength counts UTF-16 units. */
function textBytes(block: Block): number {
  return block.type === 1 ? block.valueLength * 2 : block.valueLength;
}

/**
 * UTF-16LE text from `start` up to a NUL or `end`; `next` is the offset
 * after the NUL, null when there was none.
 */
function readText(data: ByteView, start: number, end: number, what: string) {
  data.check(start, Math.max(0, end - start), what);
  let at = start;
  while (at + 2 <= end && (data.bytes[at] | data.bytes[at + 1]) !== 0) at += 2;
  const text = utf16.decode(data.bytes.subarray(start, at));
  return { text, next: at + 2 <= end ? at + 2 : null };
}

function align4(offset: number): number {
  return (offset + 3) & ~3;
}
