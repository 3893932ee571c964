/**
 * The version resource of a Windows program or library (what Explorer shows
 * as "Details": product name, file version, company, ...), read from the
 * file's bytes on any platform, so an inventory of Windows software needs no
 * Windows API.
 *
 * The walk: DOS header → PE headers → data directory 2 → section table
 * (RVA to file offset) → resource tree type 16 (RT_VERSION) → name →
 * language → data entry → VS_VERSIONINFO. From disk only the headers, the
 * resource directory and the version data are read, never the whole file.
 *
 * @module
 */
import { ByteView, PeFormatError } from "./pe_bytes.ts";
import {
  type FileRange,
  fileRangeOf,
  parsePeLayout,
  peHeadersLength,
  type PeLayout,
} from "./pe_headers.ts";
import { findVersionEntry, resourceRange, type VersionDataEntry } from "./pe_resources.ts";
import {
  parseVersionInfo,
  type VersionInfo,
  type VersionStrings,
  type VersionTranslation,
} from "./pe_version_info.ts";

export { PeFormatError };
export type { VersionStrings, VersionTranslation };

export interface VersionResource extends VersionInfo {
  /** The resource directory's language id of the RT_VERSION entry (e.g. 1033). */
  resourceLanguage: number;
}

export interface VersionResourceOptions {
  /**
   * The resource language to prefer when a file holds the version resource
   * in several (e.g. 0x0407 for a German desktop); without it, or when it
   * is absent, neutral, then en-US, then English, then the first.
   */
  language?: number;
}

/** VS_VERSIONINFO's length is 16 bits: more of the data entry is never needed. */
const MAX_VERSION_BYTES = 0x10000;

/**
 * The version resource of the PE file in `bytes`: null when it is a valid PE
 * with no version resource; throws PeFormatError when it is malformed or
 * not a PE.
 */
export function parseVersionResource(
  bytes: Uint8Array,
  options: VersionResourceOptions = {},
): VersionResource | null {
  const layout = parsePeLayout(bytes, bytes.length);
  const directory = resourceRange(layout, bytes.length);
  if (!directory) return null;
  const region = new ByteView(slice(bytes, directory), directory.offset);
  const entry = findVersionEntry(region, options.language);
  if (!entry) return null;
  const data = versionRange(layout, entry, bytes.length);
  return resourceOf(new ByteView(slice(bytes, data), data.offset), entry);
}

/**
 * The version resource of the PE file at `path`, reading only its headers,
 * resource directory and version data. Throws PeFormatError as
 * {@link parseVersionResource} does, and Deno's errors when the file cannot
 * be read.
 */
export async function readVersionResource(
  path: string,
  options: VersionResourceOptions = {},
): Promise<VersionResource | null> {
  using file = await Deno.open(path);
  const size = (await file.stat()).size;
  const layout = parsePeLayout(await readHeaders(file, size), size);
  const directory = resourceRange(layout, size);
  if (!directory) return null;
  const directoryBytes = await readRange(file, directory);
  const entry = findVersionEntry(new ByteView(directoryBytes, directory.offset), options.language);
  if (!entry) return null;
  const data = versionRange(layout, entry, size);
  const inDirectory = data.offset >= directory.offset &&
    data.offset + data.length <= directory.offset + directory.length;
  const dataBytes = inDirectory
    ? directoryBytes.subarray(
      data.offset - directory.offset,
      data.offset - directory.offset + data.length,
    )
    : await readRange(file, data);
  return resourceOf(new ByteView(dataBytes, data.offset), entry);
}

/**
 * The string table an agent should use: the first translation that has a
 * string table, else the first string table; null when there is none.
 */
export function versionStrings(resource: VersionResource): VersionStrings | null {
  for (const { language, codePage } of resource.translations) {
    const table = resource.strings.find((t) => t.language === language && t.codePage === codePage);
    if (table) return table;
  }
  return resource.strings[0] ?? null;
}

/**
 * One value of the table {@link versionStrings} picks, e.g. "ProductName";
 * an exact name first, else one differing only in case; null when absent.
 */
export function versionValue(resource: VersionResource, name: string): string | null {
  const values = versionStrings(resource)?.values;
  if (!values) return null;
  if (Object.hasOwn(values, name)) return values[name];
  const lower = name.toLowerCase();
  const key = Object.keys(values).find((k) => k.toLowerCase() === lower);
  return key === undefined ? null : values[key];
}

function resourceOf(data: ByteView, entry: VersionDataEntry): VersionResource {
  return { ...parseVersionInfo(data), resourceLanguage: entry.language };
}

function versionRange(layout: PeLayout, entry: VersionDataEntry, fileSize: number): FileRange {
  const range = fileRangeOf(layout, entry.rva, entry.size, fileSize, "version resource data");
  return { offset: range.offset, length: Math.min(range.length, MAX_VERSION_BYTES) };
}

function slice(bytes: Uint8Array, range: FileRange): Uint8Array {
  return bytes.subarray(range.offset, range.offset + range.length);
}

/** The headers, read in at most three rounds (DOS header, COFF header, section table). */
async function readHeaders(file: Deno.FsFile, size: number): Promise<Uint8Array> {
  let bytes = await readRange(file, { offset: 0, length: Math.min(size, 4096) });
  for (let round = 0; round < 3; round++) {
    const length = peHeadersLength(bytes, size);
    if (length <= bytes.length) return bytes;
    bytes = await readRange(file, { offset: 0, length });
  }
  return bytes;
}

/** Exactly `range` of the file; a file that shrank since its stat is a truncated file. */
async function readRange(file: Deno.FsFile, range: FileRange): Promise<Uint8Array> {
  const bytes = new Uint8Array(range.length);
  await file.seek(range.offset, Deno.SeekMode.Start);
  let filled = 0;
  while (filled < bytes.length) {
    const read = await file.read(bytes.subarray(filled));
    if (read === null) {
      throw new PeFormatError(`the file ended at offset ${range.offset + filled} while reading it`);
    }
    filled += read;
  }
  return bytes;
}
