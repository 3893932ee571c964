/**
 * The resource directory of a Portable Executable: where the resource
 * section lies in the file, and the walk of its three-level tree
 * (type → name → language → data entry) to the version resource
 * (type 16, RT_VERSION).
 *
 * The walk is bounded: the depth is fixed at three, each directory's entry
 * count must fit in the bytes there, and a directory reached twice (an
 * entry pointing back up the tree) is refused as a cycle.
 *
 * @module
 */
import { ByteView, hex, PeFormatError } from "./pe_bytes.ts";
import { type FileRange, fileRangeOf, type PeLayout, rvaToFile } from "./pe_headers.ts";

/** The version resource's data: where it lies (an RVA, in any section) and its language. */
export interface VersionDataEntry {
  rva: number;
  size: number;
  /** The language id of the tree's third level, e.g. 1033. */
  language: number;
}

/** Bigger resource sections are refused rather than read. */
export const MAX_RESOURCE_SECTION_BYTES = 64 * 1024 * 1024;

const RT_VERSION = 16;
const DIRECTORY_BYTES = 16;
const ENTRY_BYTES = 8;
const DATA_ENTRY_BYTES = 16;
const HIGH_BIT = 0x80000000;
const PRIMARY_LANGUAGE_MASK = 0x3ff;
/** Neutral, en-US, English (neutral sublanguage). */
const FALLBACK_LANGUAGES = [0x0000, 0x0409, 0x0009];

interface DirectoryEntry {
  /** The integer id; null for a named entry. */
  id: number | null;
  /** The target's offset from the start of the resource directory. */
  target: number;
  isDirectory: boolean;
}

/**
 * The file range of the resource directory: data directory 2, cut to its
 * section's raw data (some linkers round the size up to the section's);
 * null when the image has no resources.
 */
export function resourceRange(layout: PeLayout, fileSize: number): FileRange | null {
  if (!layout.resources) return null;
  const { rva, size } = layout.resources;
  if (size > MAX_RESOURCE_SECTION_BYTES) {
    throw new PeFormatError(
      `resource directory at RVA ${hex(rva)} declares ${size} bytes, over the ` +
        `${MAX_RESOURCE_SECTION_BYTES}-byte limit`,
    );
  }
  const inSection = rvaToFile(layout, rva, "resource directory").length;
  return fileRangeOf(layout, rva, Math.min(size, inSection), fileSize, "resource directory");
}

/**
 * The RT_VERSION data entry in the resource directory `region`, or null when
 * there is none. Of several languages (Wine's kernel32.dll holds 33) the
 * choice is Windows' FindResource's for an English user interface, after
 * the caller's `preferred` language: that language, its primary language,
 * neutral, en-US, English, else the first.
 */
export function findVersionEntry(region: ByteView, preferred?: number): VersionDataEntry | null {
  const visited = new Set<number>();
  const types = readDirectory(region, 0, visited);
  const version = types.find((entry) => entry.id === RT_VERSION);
  if (!version) return null;
  const names = readDirectory(region, subdirectory(region, version, "RT_VERSION type"), visited);
  if (names.length === 0) return null;
  const languages = readDirectory(region, subdirectory(region, names[0], "version name"), visited);
  if (languages.length === 0) return null;
  const language = pickLanguage(languages, preferred);
  if (language.isDirectory || language.id === null) {
    throw region.error(
      language.target,
      "the version resource's language entry is not an id leading to a data entry",
    );
  }
  return { ...readDataEntry(region, language.target), language: language.id };
}

function pickLanguage(entries: DirectoryEntry[], preferred?: number): DirectoryEntry {
  const order = preferred === undefined ? [] : [preferred, preferred & PRIMARY_LANGUAGE_MASK];
  for (const id of [...order, ...FALLBACK_LANGUAGES]) {
    const entry = entries.find((e) => e.id === id);
    if (entry) return entry;
  }
  return entries[0];
}

function subdirectory(region: ByteView, entry: DirectoryEntry, what: string): number {
  if (!entry.isDirectory) {
    throw region.error(entry.target, `${what} entry points to data, not to a directory`);
  }
  return entry.target;
}

function readDirectory(region: ByteView, offset: number, visited: Set<number>): DirectoryEntry[] {
  if (visited.has(offset)) {
    throw region.error(offset, "resource directory reached twice (a cycle in the tree)");
  }
  visited.add(offset);
  const named = region.u16(offset + 12, "resource directory NumberOfNamedEntries");
  const ids = region.u16(offset + 14, "resource directory NumberOfIdEntries");
  const count = named + ids;
  region.check(
    offset + DIRECTORY_BYTES,
    count * ENTRY_BYTES,
    `${count} resource directory entries`,
  );
  const entries: DirectoryEntry[] = [];
  for (let i = 0; i < count; i++) {
    const at = offset + DIRECTORY_BYTES + i * ENTRY_BYTES;
    const name = region.u32(at, "resource entry name");
    const target = region.u32(at + 4, "resource entry offset");
    entries.push({
      id: name & HIGH_BIT ? null : name,
      target: (target & ~HIGH_BIT) >>> 0,
      isDirectory: (target & HIGH_BIT) !== 0,
    });
  }
  return entries;
}

function readDataEntry(region: ByteView, offset: number): { rva: number; size: number } {
  region.check(offset, DATA_ENTRY_BYTES, "resource data entry");
  return {
    rva: region.u32(offset, "resource data RVA"),
    size: region.u32(offset + 4, "resource data size"),
  };
}
