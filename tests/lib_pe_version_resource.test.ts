import { afterAll, describe, expect, it } from "vitest";
import { existsSync } from "node:fs";
import { join } from "node:path";
import {
  parseVersionResource,
  PeFormatError,
  readVersionResource,
  type VersionResource,
  versionStrings,
  versionValue,
} from "../lib/pe_version_resource.ts";
import { ByteView } from "../lib/pe_bytes.ts";
import { parseVersionInfo } from "../lib/pe_version_info.ts";
import { SeededRandom } from "../lib/seeded_random.ts";

// Real PE files from Debian's wine (libwine) and libz-mingw-w64 packages.
const WINE64 = "/usr/lib/x86_64-linux-gnu/wine/x86_64-windows";
const WINE32 = "/usr/lib/x86_64-linux-gnu/wine/i386-windows";
const ZLIB64 = "/usr/x86_64-w64-mingw32/lib/zlib1.dll";
const ZLIB32 = "/usr/i686-w64-mingw32/lib/zlib1.dll";
const hasWine = existsSync(WINE64);
const hasZlib = existsSync(ZLIB64) && existsSync(ZLIB32);
/** A suite's title, saying why it is skipped where the files it reads are missing. */
const needing = (title: string, present: boolean, what: string) =>
  present ? title : `${title} (skipped: ${what} not installed)`;
const NEEDS_WINE = `Debian's wine (${WINE64})`;
const NEEDS_ZLIB = `Debian's libz-mingw-w64 (${ZLIB64})`;
const LZ32 = join(WINE64, "lz32.dll");
/** lz32.dll's resource directory: file offset 0x2000, 0x3a0 bytes (objdump -p, entry 2). */
const LZ32_RESOURCES_END = 0x23a0;
/** zlib1.dll (x86_64): .rsrc at file offset 0x20a00, 0x390 bytes (objdump -h). */
const ZLIB64_RESOURCES_START = 0x20a00;
const ZLIB64_RESOURCES_END = 0x20d90;
const WINE_COPYRIGHT =
  /^Copyright \(c\) 1993-\d{4} the Wine project authors \(see the file AUTHORS for a complete list\)$/;

const tempDirs: string[] = [];
afterAll(async () => {
  for (const dir of tempDirs) await Deno.remove(dir, { recursive: true }).catch(() => {});
});

async function tempFile(bytes: Uint8Array): Promise<string> {
  if (tempDirs.length === 0) tempDirs.push(await Deno.makeTempDir({ prefix: "meter-pe-test-" }));
  const path = join(tempDirs[0], `${crypto.randomUUID()}.dll`);
  await Deno.writeFile(path, bytes);
  return path;
}

/** The error `work` throws: it must be a PeFormatError with a message. */
function formatError(work: () => unknown): PeFormatError {
  try {
    work();
  } catch (error) {
    expect(error).toBeInstanceOf(PeFormatError);
    expect((error as Error).message.length).toBeGreaterThan(10);
    return error as PeFormatError;
  }
  throw new Error("expected a PeFormatError, got a result");
}

async function readError(bytes: Uint8Array): Promise<PeFormatError> {
  const error = await readVersionResource(await tempFile(bytes)).catch((e) => e);
  expect(error).toBeInstanceOf(PeFormatError);
  return error;
}

function utf16(text: string): Uint8Array {
  return new Uint8Array(new Uint16Array([...text].map((c) => c.charCodeAt(0))).buffer);
}

function indexOf(bytes: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= bytes.length; i++) {
    for (let j = 0; j < needle.length; j++) if (bytes[i + j] !== needle[j]) continue outer;
    return i;
  }
  throw new Error("needle not found");
}

/** A copy of `bytes` with the u16 or u32 at `at` replaced. */
function patched(bytes: Uint8Array, at: number, value: number, width: 2 | 4): Uint8Array {
  const copy = bytes.slice();
  const view = new DataView(copy.buffer);
  if (width === 2) view.setUint16(at, value, true);
  else view.setUint32(at, value, true);
  return copy;
}

/** The offset of a version block's header: `key` follows its 6-byte header. */
function blockAt(bytes: Uint8Array, key: string): number {
  return indexOf(bytes, utf16(`${key}\0`)) - 6;
}

describe.skipIf(!hasWine)(
  needing("version resources of Wine's 64-bit (PE32+) files", hasWine, NEEDS_WINE),
  () => {
    it("reads lz32.dll's fixed versions, strings and translation", async () => {
      const resource = (await readVersionResource(LZ32))!;
      expect(resource.fileVersion).toBe("5.1.2600.2180");
      expect(resource.productVersion).toBe("5.1.2600.2180");
      expect(resource.translations).toEqual([{ language: 0x0409, codePage: 1200 }]);
      expect(resource.resourceLanguage).toBe(0); // Wine's resources are language-neutral
      expect(resource.strings).toHaveLength(1);
      const { values, ...key } = resource.strings[0];
      expect(key).toEqual({ language: 0x0409, codePage: 1200 });
      expect(values).toEqual({
        CompanyName: "Microsoft Corporation",
        FileDescription: "Wine lz32",
        FileVersion: "5.1.2600.2180",
        InternalName: "",
        LegalCopyright: expect.stringMatching(WINE_COPYRIGHT),
        OriginalFilename: "lz32.dll",
        ProductName: "Wine",
        ProductVersion: "5.1.2600.2180",
      });
      expect(Object.keys(values)).toEqual([
        "CompanyName",
        "FileDescription",
        "FileVersion",
        "InternalName",
        "LegalCopyright",
        "OriginalFilename",
        "ProductName",
        "ProductVersion",
      ]);
    });

    it("keeps shfolder.dll's FileVersion string as written, apart from its fixed version", async () => {
      const resource = (await readVersionResource(join(WINE64, "shfolder.dll")))!;
      expect(resource.fileVersion).toBe("6.0.2800.1106");
      expect(versionValue(resource, "FileVersion")).toBe("6,00,2800,1106");
      expect(versionValue(resource, "ProductVersion")).toBe("6,00,2800,1106");
      expect(versionValue(resource, "OLESelfRegister")).toBe("");
      expect(versionValue(resource, "originalfilename")).toBe("shfolder.dll");
      expect(versionValue(resource, "NoSuchValue")).toBeNull();
    });

    it("gives null for programs with no version resource", async () => {
      // notepad.exe has resources (icons, menus, dialogs) but no RT_VERSION; ping.exe has none.
      for (const name of ["notepad.exe", "ping.exe"]) {
        expect(await readVersionResource(join(WINE64, name))).toBeNull();
        expect(parseVersionResource(await Deno.readFile(join(WINE64, name)))).toBeNull();
      }
    });

    it("picks kernel32.dll's English resource of 36 languages, or the preferred one", async () => {
      const path = join(WINE64, "kernel32.dll");
      const english = (await readVersionResource(path))!;
      expect(english.resourceLanguage).toBe(0x0409);
      expect(versionValue(english, "FileDescription")).toBe("Wine kernel DLL");
      expect(english.fileVersion).toBe("10.0.18362.1350");
      const german = (await readVersionResource(path, { language: 0x0407 }))!;
      // Stored under LANG_GERMAN, SUBLANG_NEUTRAL: found through de-DE's primary language.
      expect(german.resourceLanguage).toBe(0x0007);
      expect(versionStrings(german)).toMatchObject({ language: 0x0407, codePage: 1200 });
      expect(versionValue(german, "FileDescription")).toBe("Wine-Kernel-DLL");
      const arabic = parseVersionResource(await Deno.readFile(path), { language: 0x0001 })!;
      expect(versionValue(arabic, "ProductName")).toBe("واين");
    });

    it("parses every file in the folder, from disk as from memory", async () => {
      let withVersion = 0;
      const names = [...Deno.readDirSync(WINE64)].map((entry) => entry.name).sort();
      for (const name of names) {
        const path = join(WINE64, name);
        const fromDisk = await readVersionResource(path);
        expect(parseVersionResource(await Deno.readFile(path)), name).toEqual(fromDisk);
        if (fromDisk) withVersion++;
      }
      expect(names.length).toBeGreaterThan(500);
      expect(withVersion).toBeGreaterThan(100);
    });
  },
);

describe.skipIf(!hasZlib)(
  needing("version resources of zlib1.dll, 64 and 32 bit", hasZlib, NEEDS_ZLIB),
  () => {
    const expected: VersionResource = {
      fileVersion: "1.2.13.0",
      productVersion: "1.2.13.0",
      translations: [{ language: 0x0409, codePage: 1252 }],
      strings: [{
        language: 0x0409,
        codePage: 1252, // 040904e4, not the usual 040904b0
        values: {
          FileDescription: "zlib data compression library",
          FileVersion: "1.2.13",
          InternalName: "zlib1.dll",
          LegalCopyright: "(C) 1995-2022 Jean-loup Gailly & Mark Adler",
          OriginalFilename: "zlib1.dll",
          ProductName: "zlib",
          ProductVersion: "1.2.13",
          Comments: "For more information visit http://www.zlib.net/",
        },
      }],
      resourceLanguage: 1033,
    };

    it("reads the PE32+ and the PE32 build alike", async () => {
      for (const path of [ZLIB64, ZLIB32]) {
        expect(await readVersionResource(path)).toEqual(expected);
        expect(parseVersionResource(await Deno.readFile(path))).toEqual(expected);
      }
      expect(versionStrings(expected)?.values.FileVersion).toBe("1.2.13");
    });

    it.skipIf(!existsSync(WINE32))(
      needing("parses every file of Wine's 32-bit folder", existsSync(WINE32), WINE32),
      async () => {
        for (const entry of Deno.readDirSync(WINE32)) {
          const path = join(WINE32, entry.name);
          expect(await readVersionResource(path)).toEqual(
            parseVersionResource(await Deno.readFile(path)),
          );
        }
      },
    );

    it("reads a copy cut anywhere in its resource section as malformed", async () => {
      const bytes = await Deno.readFile(ZLIB64);
      for (let end = ZLIB64_RESOURCES_START; end < ZLIB64_RESOURCES_END; end += 7) {
        formatError(() => parseVersionResource(bytes.subarray(0, end)));
      }
      await readError(bytes.subarray(0, ZLIB64_RESOURCES_START + 0x200));
      // Cut after the resources, the version resource is still whole.
      expect(parseVersionResource(bytes.subarray(0, ZLIB64_RESOURCES_END))).toEqual(expected);
    });
  },
);

describe("versionStrings", () => {
  const table = (language: number, codePage: number) => ({
    language,
    codePage,
    values: { ProductName: `${language}/${codePage}` },
  });
  const resource = (translations: { language: number; codePage: number }[]) => ({
    fileVersion: null,
    productVersion: null,
    translations,
    strings: [table(0x0407, 1200), table(0x0409, 1252), table(0x0409, 1200)],
    resourceLanguage: 0,
  });

  it("takes the first translation that has a string table", () => {
    const chosen = versionStrings(resource([{ language: 0x0411, codePage: 1200 }, {
      language: 0x0409,
      codePage: 1200,
    }]));
    expect(chosen?.values.ProductName).toBe("1033/1200");
  });

  it("else the first string table, else null", () => {
    expect(versionStrings(resource([]))?.values.ProductName).toBe("1031/1200");
    expect(versionStrings({ ...resource([]), strings: [] })).toBeNull();
    expect(versionValue({ ...resource([]), strings: [] }, "ProductName")).toBeNull();
  });
});

describe.skipIf(!hasWine)(needing("malformed and hostile files", hasWine, NEEDS_WINE), () => {
  it("reads a copy cut at every offset as malformed, up to the end of its resources", async () => {
    const bytes = await Deno.readFile(LZ32);
    const whole = parseVersionResource(bytes);
    for (let end = 0; end < bytes.length; end++) {
      const cut = bytes.subarray(0, end);
      if (end < LZ32_RESOURCES_END) formatError(() => parseVersionResource(cut));
      else expect(parseVersionResource(cut)).toEqual(whole);
    }
    for (const end of [0, 1, 63, 64, 0x80, 0x200, 0x1000, 0x2000, 0x2010, 0x2100, 0x239f]) {
      await readError(bytes.subarray(0, end));
    }
  });

  it("refuses an empty file and files that are no PE", async () => {
    expect(formatError(() => parseVersionResource(new Uint8Array())).message).toMatch(/empty/);
    expect((await readError(new Uint8Array())).message).toMatch(/empty/);
    const elf = await Deno.readFile("/bin/sh");
    expect(formatError(() => parseVersionResource(elf)).message).toMatch(/not a PE file: no MZ/);
    const text = new TextEncoder().encode(
      "MZ but nothing else of a program, only text.\n".repeat(3),
    );
    expect(formatError(() => parseVersionResource(text)).message).toMatch(/e_lfanew|PE/);
  });

  it("refuses broken headers, naming the offset", async () => {
    const bytes = readLz32(); // e_lfanew 0x60: the PE signature is at 0x60
    const pe = new DataView(bytes.buffer).getUint32(0x3c, true);
    const cases: [Uint8Array, RegExp][] = [
      [patched(bytes, 0x3c, 0xffffffff, 4), /e_lfanew 0xffffffff/],
      [patched(bytes, pe, 0x4551, 4), /no PE\\0\\0 signature at offset 0x60/],
      [patched(bytes, pe + 24, 0x0107, 2), /magic 0x107 is neither/],
      [patched(bytes, pe + 6, 0xffff, 2), /section table/],
      [patched(bytes, pe + 20, 0xffff, 2), /past the end of the file/],
      // Resource data directory (entry 2 of PE32+'s, at 112 + 16): an RVA in no section.
      [patched(bytes, pe + 24 + 112 + 16, 0x00f00000, 4), /RVA 0xf00000 lies in no section/],
      // ... or a size over the 64 MiB a reader would read.
      [patched(bytes, pe + 24 + 112 + 20, 80 * 1024 * 1024, 4), /over the 67108864-byte limit/],
    ];
    for (const [broken, message] of cases) {
      expect(formatError(() => parseVersionResource(broken)).message).toMatch(message);
      expect((await readError(broken)).message).toMatch(message);
    }
  });

  it("refuses cycles and impossible counts in the resource tree", () => {
    const bytes = readLz32();
    // Root (0x2000): one id entry, type 16, whose subdirectory is at +0x18.
    const root = 0x2000;
    const selfLoop = patched(bytes, root + 0x14, 0x80000000, 4);
    expect(formatError(() => parseVersionResource(selfLoop)).message).toMatch(
      /cycle.* at offset 0x2000/,
    );
    const backUp = patched(bytes, root + 0x18 + 0x14, 0x80000000, 4);
    expect(formatError(() => parseVersionResource(backUp)).message).toMatch(/cycle/);
    const manyIds = patched(patched(bytes, root + 12, 0xffff, 2), root + 14, 0xffff, 2);
    expect(formatError(() => parseVersionResource(manyIds)).message).toMatch(
      /131070 resource directory entries at offset 0x2010/,
    );
    const toData = patched(bytes, root + 0x14, 0x18, 4);
    expect(formatError(() => parseVersionResource(toData)).message).toMatch(/points to data/);
  });

  it("refuses version data that overruns its block, entry or section", () => {
    const bytes = readLz32();
    const version = blockAt(bytes, "VS_VERSION_INFO");
    const tooLong = patched(bytes, version, 0xffff, 2);
    expect(formatError(() => parseVersionResource(tooLong)).message).toMatch(
      /wLength 65535 runs past/,
    );
    const tooShort = patched(bytes, blockAt(bytes, "StringFileInfo"), 4, 2);
    expect(formatError(() => parseVersionResource(tooShort)).message).toMatch(/too short/);
    const child = blockAt(bytes, "VarFileInfo");
    const childTooLong = patched(bytes, child, 0x400, 2);
    expect(formatError(() => parseVersionResource(childTooLong)).message).toMatch(
      /runs past its parent's end/,
    );
    const translation = blockAt(bytes, "Translation");
    const wideTranslation = patched(bytes, translation + 2, 0x100, 2);
    expect(formatError(() => parseVersionResource(wideTranslation)).message).toMatch(
      /Translation value of 256 bytes/,
    );
    const badSignature = patched(bytes, blockAt(bytes, "VS_VERSION_INFO") + 40, 0xfeef04be, 4);
    expect(formatError(() => parseVersionResource(badSignature)).message).toMatch(
      /signature is 0xfeef04be/,
    );
    // The RT_VERSION data entry (the last 16 bytes before the data): a size past the section.
    const dataEntry = version - 16;
    // lz32's .rsrc lies at RVA 0x2000 and file offset 0x2000: the entry's RVA is the data's offset.
    expect(new DataView(bytes.buffer).getUint32(dataEntry, true)).toBe(version);
    const hugeEntry = patched(bytes, dataEntry + 4, 0x7fffffff, 4);
    expect(formatError(() => parseVersionResource(hugeEntry)).message).toMatch(
      /version resource data .* runs past its section's raw data/,
    );
  });

  it("survives random damage to headers and resources with a result or a PeFormatError", () => {
    const bytes = readLz32();
    const random = new SeededRandom(20240601);
    for (let round = 0; round < 3000; round++) {
      const copy = bytes.slice();
      const flips = random.int(1, 4);
      for (let i = 0; i < flips; i++) {
        const at = random.next() < 0.3 ? random.int(0, 0x200) : random.int(0x2000, 0x239f);
        copy[at] = random.int(0, 255);
      }
      try {
        parseVersionResource(copy);
      } catch (error) {
        if (!(error instanceof PeFormatError)) throw error;
      }
    }
  });

  it("reads a file's headers and resources without reading the rest", async () => {
    const path = await tempFile(await Deno.readFile(LZ32));
    // A 4 GiB sparse tail: reading the whole file would not fit in memory.
    await Deno.truncate(path, 4 * 1024 ** 3);
    expect(await readVersionResource(path)).toEqual(await readVersionResource(LZ32));
  });

  it("lets a missing file's own error through", async () => {
    await expect(readVersionResource("/nonexistent/app.exe")).rejects.toBeInstanceOf(
      Deno.errors.NotFound,
    );
  });
});

describe.skipIf(!hasWine)(
  needing("string values whatever their wValueLength says", hasWine, NEEDS_WINE),
  () => {
    const fileVersion = (wValueLength: number) => {
      const bytes = readLz32();
      const copy = patched(bytes, blockAt(bytes, "FileVersion") + 2, wValueLength, 2);
      return versionValue(parseVersionResource(copy)!, "FileVersion");
    };

    it("reads the string up to its NUL, however its length is counted", () => {
      expect(fileVersion(14)).toBe("5.1.2600.2180"); // UTF-16 units with the NUL (as written)
      expect(fileVersion(13)).toBe("5.1.2600.2180"); // without the NUL
      expect(fileVersion(28)).toBe("5.1.2600.2180"); // bytes
      expect(fileVersion(0xffff)).toBe("5.1.2600.2180"); // never past the block
    });

    it("takes a shorter length at its word, as VerQueryValue does", () => {
      expect(fileVersion(5)).toBe("5.1.2");
      expect(fileVersion(0)).toBe("");
    });
  },
);

let lz32Bytes: Uint8Array | undefined;
/** lz32.dll's bytes, read once (the guard skips these tests where Wine is missing). */
function readLz32(): Uint8Array {
  lz32Bytes ??= Deno.readFileSync(LZ32);
  return lz32Bytes;
}

/** A VS_VERSIONINFO-style block: header, key, value and children, each 32-bit aligned. */
function block(
  key: string,
  value: { text?: string; binary?: Uint8Array; valueLength?: number } = {},
  children: Uint8Array[] = [],
): Uint8Array {
  const pad = (bytes: number[]) => {
    while (bytes.length % 4) bytes.push(0);
  };
  const out = [0, 0, 0, 0, 0, 0, ...utf16(`${key}\0`)];
  pad(out);
  const valueBytes = value.text !== undefined ? utf16(`${value.text}\0`) : value.binary ?? [];
  out.push(...valueBytes);
  pad(out);
  for (const child of children) {
    out.push(...child);
    pad(out);
  }
  const bytes = new Uint8Array(out);
  const view = new DataView(bytes.buffer);
  const units = value.text !== undefined ? value.text.length + 1 : valueBytes.length;
  view.setUint16(0, bytes.length, true);
  view.setUint16(2, value.valueLength ?? units, true);
  view.setUint16(4, value.text !== undefined || value.binary === undefined ? 1 : 0, true);
  return bytes;
}

function translation(...pairs: number[]): Uint8Array {
  return new Uint8Array(new Uint16Array(pairs).buffer);
}

describe("VS_VERSIONINFO built by hand", () => {
  const parse = (bytes: Uint8Array) => parseVersionInfo(new ByteView(bytes));

  it("has null versions without VS_FIXEDFILEINFO, and tables and translations in file order", () => {
    const info = parse(block("VS_VERSION_INFO", { binary: new Uint8Array() }, [
      block("VarFileInfo", {}, [
        block("Translation", { binary: translation(0x0407, 1200, 0x0409, 1252) }),
      ]),
      block("StringFileInfo", {}, [
        block("040704B0", {}, [block("ProductName", { text: "Beispiel" })]),
        block("040904e4", {}, [block("ProductName", { text: "Example" })]),
      ]),
    ]));
    expect(info).toEqual({
      fileVersion: null,
      productVersion: null,
      translations: [{ language: 0x0407, codePage: 1200 }, { language: 0x0409, codePage: 1252 }],
      strings: [
        { language: 0x0407, codePage: 1200, values: { ProductName: "Beispiel" } },
        { language: 0x0409, codePage: 1252, values: { ProductName: "Example" } },
      ],
    });
  });

  it("keeps the first of a repeated name, and a __proto__ name as a plain value", () => {
    const info = parse(block("VS_VERSION_INFO", { binary: new Uint8Array() }, [
      block("StringFileInfo", {}, [
        block("040904b0", {}, [
          block("ProductName", { text: "First" }),
          block("ProductName", { text: "Second" }),
          block("__proto__", { text: "polluted?" }),
        ]),
      ]),
    ]));
    const values = info.strings[0].values;
    expect(values.ProductName).toBe("First");
    expect(Object.hasOwn(values, "__proto__")).toBe(true);
    expect(Object.getPrototypeOf(values)).toBe(Object.prototype);
  });

  it("ends a child list at zero padding, and refuses a table key that is no LANGID and code page", () => {
    const padded = block("VS_VERSION_INFO", { binary: new Uint8Array() }, [
      block("StringFileInfo", {}, [block("040904b0", {}, [block("A", { text: "a" })])]),
      new Uint8Array(16),
    ]);
    expect(parse(padded).strings[0].values).toEqual({ A: "a" });
    const badKey = block("VS_VERSION_INFO", { binary: new Uint8Array() }, [
      block("StringFileInfo", {}, [block("English", {}, [])]),
    ]);
    expect(formatError(() => parse(badKey)).message).toMatch(/"English" is not 8 hex digits/);
    const otherRoot = block("VS_VERSION_INFOX", { binary: new Uint8Array() });
    expect(formatError(() => parse(otherRoot)).message).toMatch(/not "VS_VERSION_INFO"/);
    const shortFixed = block("VS_VERSION_INFO", { binary: new Uint8Array(12) });
    expect(formatError(() => parse(shortFixed)).message).toMatch(/VS_FIXEDFILEINFO of 12 bytes/);
    const unterminated = block("VS_VERSION_INFO").subarray(0, 20);
    new DataView(unterminated.buffer).setUint16(0, 20, true);
    expect(formatError(() => parse(unterminated)).message).toMatch(/no NUL/);
  });
});
