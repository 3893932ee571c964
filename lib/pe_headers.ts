/**
 * The headers of a Portable Executable (PE32 or PE32+): the DOS header's
 * pointer to the PE signature, the COFF header, the optional header's data
 * directory for resources, and the section table, which maps the relative
 * virtual addresses (RVAs) that PE structures hold to file offsets.
 *
 * Only what finding resources needs is read; nothing past the headers is
 * checked here, so a file cut short after its resource section still reads
 * (the loader would refuse it, an inventory need not).
 *
 * @module
 */
import { ByteView, hex, PeFormatError } from "./pe_bytes.ts";

/** A section's place in memory (RVA) and in the file. */
export interface PeSection {
  name: string;
  virtualAddress: number;
  virtualSize: number;
  rawOffset: number;
  rawSize: number;
}

export interface PeLayout {
  /** Optional header magic 0x20b (64-bit images) rather than 0x10b. */
  pe32Plus: boolean;
  sizeOfHeaders: number;
  sections: PeSection[];
  /** Data directory 2; null when the image declares no resources. */
  resources: { rva: number; size: number } | null;
}

/** A range of the file: where some RVA's bytes lie, and how many there are. */
export interface FileRange {
  offset: number;
  length: number;
}

const DOS_HEADER_BYTES = 64;
const COFF_END = 24; // "PE\0\0" and the 20-byte COFF header
const SECTION_BYTES = 40;
const RESOURCE_DIRECTORY = 2;
/** No real image has headers this long; refusing more bounds what a reader reads first. */
const MAX_HEADERS_BYTES = 4 * 1024 * 1024;

/**
 * How many bytes from the start of the file the headers span, as far as
 * `prefix` (the file's first bytes) tells: a reader reads that many and asks
 * again until the answer fits in what it read (at most three rounds: DOS
 * header, COFF header, section table).
 */
export function peHeadersLength(prefix: Uint8Array, fileSize: number): number {
  if (fileSize === 0) throw new PeFormatError("not a PE file: the file is empty");
  const needs = (length: number, what: string) => {
    if (length > fileSize) {
      throw new PeFormatError(
        `${what} ends at offset ${hex(length)}, past the end of the file (${fileSize} bytes)`,
      );
    }
    return length;
  };
  if (prefix.length < DOS_HEADER_BYTES) return needs(DOS_HEADER_BYTES, "DOS header");
  const view = new ByteView(prefix);
  if (view.u16(0, "DOS signature") !== 0x5a4d) {
    throw new PeFormatError("not a PE file: no MZ signature at offset 0x0");
  }
  const peOffset = view.u32(0x3c, "e_lfanew");
  if (peOffset + COFF_END > MAX_HEADERS_BYTES) {
    throw view.error(0x3c, `e_lfanew ${hex(peOffset)} points past any plausible header`);
  }
  if (prefix.length < peOffset + COFF_END) return needs(peOffset + COFF_END, "COFF header");
  if (view.u32(peOffset, "PE signature") !== 0x4550) {
    throw view.error(peOffset, "not a PE file: no PE\\0\\0 signature");
  }
  const sections = view.u16(peOffset + 6, "NumberOfSections");
  const optionalBytes = view.u16(peOffset + 20, "SizeOfOptionalHeader");
  return needs(peOffset + COFF_END + optionalBytes + sections * SECTION_BYTES, "section table");
}

/** The layout from `headers`, the file's first bytes (at least {@link peHeadersLength} of them). */
export function parsePeLayout(headers: Uint8Array, fileSize: number): PeLayout {
  const length = peHeadersLength(headers, fileSize);
  if (headers.length < length) {
    throw new PeFormatError(`headers need ${length} bytes, only ${headers.length} were given`);
  }
  const view = new ByteView(headers);
  const peOffset = view.u32(0x3c, "e_lfanew");
  const optional = peOffset + COFF_END;
  const optionalBytes = view.u16(peOffset + 20, "SizeOfOptionalHeader");
  const optionalHeader = view.view(optional, optionalBytes, "optional header");
  const sectionCount = view.u16(peOffset + 6, "NumberOfSections");
  const sectionTable = view.view(
    optional + optionalBytes,
    sectionCount * SECTION_BYTES,
    "section table",
  );
  return { ...optionalFields(optionalHeader), sections: readSections(sectionTable, sectionCount) };
}

function optionalFields(header: ByteView): Omit<PeLayout, "sections"> {
  const magic = header.u16(0, "optional header magic");
  if (magic !== 0x10b && magic !== 0x20b) {
    throw header.error(
      0,
      `optional header magic ${hex(magic)} is neither PE32 (0x10b) nor PE32+ (0x20b)`,
    );
  }
  const pe32Plus = magic === 0x20b;
  const countAt = pe32Plus ? 108 : 92;
  const directoryCount = header.u32(countAt, "NumberOfRvaAndSizes");
  const sizeOfHeaders = header.u32(60, "SizeOfHeaders");
  if (directoryCount <= RESOURCE_DIRECTORY) return { pe32Plus, sizeOfHeaders, resources: null };
  const entry = countAt + 4 + RESOURCE_DIRECTORY * 8;
  const rva = header.u32(entry, "resource data directory");
  const size = header.u32(entry + 4, "resource data directory size");
  const resources = rva === 0 || size === 0 ? null : { rva, size };
  return { pe32Plus, sizeOfHeaders, resources };
}

function readSections(table: ByteView, count: number): PeSection[] {
  const sections: PeSection[] = [];
  for (let i = 0; i < count; i++) {
    const at = i * SECTION_BYTES;
    const name = String.fromCharCode(...table.bytes.subarray(at, at + 8)).replace(/\0.*$/s, "");
    sections.push({
      name,
      virtualSize: table.u32(at + 8, "section VirtualSize"),
      virtualAddress: table.u32(at + 12, "section VirtualAddress"),
      rawSize: table.u32(at + 16, "section SizeOfRawData"),
      rawOffset: table.u32(at + 20, "section PointerToRawData"),
    });
  }
  return sections;
}

/**
 * Where the file holds the bytes at `rva`: the file offset and how many
 * bytes follow it in the same section's raw data (the rest of a section's
 * memory image is zeros the file does not hold). Headers map one to one.
 */
export function rvaToFile(layout: PeLayout, rva: number, what: string): FileRange {
  for (const section of layout.sections) {
    const into = rva - section.virtualAddress;
    const span = Math.max(section.virtualSize, section.rawSize);
    if (into < 0 || into >= span) continue;
    if (into >= section.rawSize) {
      throw new PeFormatError(
        `${what} at RVA ${
          hex(rva)
        } lies in section ${section.name}'s zero-filled tail, not in the file`,
      );
    }
    return { offset: section.rawOffset + into, length: section.rawSize - into };
  }
  if (rva < layout.sizeOfHeaders) return { offset: rva, length: layout.sizeOfHeaders - rva };
  throw new PeFormatError(`${what} at RVA ${hex(rva)} lies in no section`);
}

/**
 * The file range holding `size` bytes at `rva`, all of them in the file:
 * throws when the section's raw data or the file ends first.
 */
export function fileRangeOf(
  layout: PeLayout,
  rva: number,
  size: number,
  fileSize: number,
  what: string,
): FileRange {
  const range = rvaToFile(layout, rva, what);
  if (size > range.length) {
    throw new PeFormatError(
      `${what} at RVA ${hex(rva)} (${size} bytes) runs past its section's raw data ` +
        `(${range.length} bytes from file offset ${hex(range.offset)})`,
    );
  }
  if (range.offset + size > fileSize) {
    throw new PeFormatError(
      `${what} at file offset ${hex(range.offset)} (${size} bytes) runs past the end of the ` +
        `file (${fileSize} bytes)`,
    );
  }
  return { offset: range.offset, length: size };
}
