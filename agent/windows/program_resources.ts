/**
 * What a Windows program's own file says about it, from its version
 * resource: the name it was built under (`OriginalFilename`, which survives
 * a rename), its `FileVersion`, and the language of its strings. These are
 * what Configuration Manager's metering rules match, and so do Meter's on
 * Windows.
 *
 * Each file is read once: the answer is kept by path (without regard to
 * case, as Windows compares paths) with the file's size and modification
 * time, so a program updated in place is read again.
 *
 * @module
 */
import {
  readVersionResource,
  type VersionResource,
  versionStrings,
} from "../../lib/pe_version_resource.ts";
import { languageTag } from "../../lib/windows_language.ts";
import { log } from "../../lib/log.ts";

export interface ProgramResource {
  /** `OriginalFilename`; `null` when the file has no version resource or no such string. */
  originalFileName: string | null;
  /** The `FileVersion` string, else the fixed file version (`a.b.c.d`); `null` when neither. */
  version: string | null;
  /** The strings' language as a tag (`de-DE`); `null` when neutral or unknown. */
  language: string | null;
}

const NOTHING: ProgramResource = { originalFileName: null, version: null, language: null };

/** Files whose answer is kept; beyond it the oldest is forgotten. */
const MAX_FILES = 4_096;

interface Cached {
  size: number;
  mtimeMs: number;
  resource: ProgramResource;
}

export class ProgramResources {
  readonly #files = new Map<string, Cached>();

  /** What `path`'s version resource says; nothing when it has none or cannot be read. */
  async of(path: string): Promise<ProgramResource> {
    const key = path.toLowerCase();
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(path);
    } catch {
      return NOTHING;
    }
    const mtimeMs = info.mtime?.getTime() ?? 0;
    const cached = this.#files.get(key);
    if (cached && cached.size === info.size && cached.mtimeMs === mtimeMs) return cached.resource;
    const resource = await read(path);
    this.#files.delete(key);
    this.#files.set(key, { size: info.size, mtimeMs, resource });
    if (this.#files.size > MAX_FILES) this.#files.delete(this.#files.keys().next().value!);
    return resource;
  }
}

async function read(path: string): Promise<ProgramResource> {
  try {
    const resource = await readVersionResource(path);
    return resource ? describe(resource) : NOTHING;
  } catch (error) {
    // A damaged or hostile file is metered by its name alone.
    log.debug("unreadable version resource", { path, error: String(error) });
    return NOTHING;
  }
}

/** The strings of the table Windows would show, and their language. */
export function describe(resource: VersionResource): ProgramResource {
  const strings = versionStrings(resource);
  const text = (name: string) => strings?.values[name]?.trim() || null;
  // 0 is "language neutral" (a `000004b0` table): look further for a real one.
  const langId = [strings?.language, resource.translations[0]?.language, resource.resourceLanguage]
    .find((id) => id !== undefined && id !== 0) ?? 0;
  return {
    originalFileName: text("OriginalFilename"),
    version: text("FileVersion") ?? resource.fileVersion,
    language: languageTag(langId),
  };
}
