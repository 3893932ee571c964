/**
 * The Debian packages some tests need beyond Node.js and npm, and whether
 * each is here. `tests/setup/system_packages.ts` installs the missing ones
 * before the tests run where it can (as root, with apt); a test file that
 * needs one skips itself when it is still missing, and the setup says so
 * loudly, with the count.
 *
 * @module
 */

export interface SystemTool {
  /** The file the tests run. */
  file: string;
  /** The Debian package that provides it. */
  debianPackage: string;
  /** Packages it needs beside, which Debian's dependencies do not bring in. */
  moreDebianPackages?: readonly string[];
  /** What cannot run without it. */
  tests: string;
}

export const CHROMIUM: SystemTool = {
  file: "/usr/bin/chromium",
  debianPackage: "chromium",
  tests: "the web console's browser tests (tests/console_browser.test.ts)",
};

export const OPENSSL: SystemTool = {
  file: "/usr/bin/openssl",
  debianPackage: "openssl",
  tests: "the HTTPS test's certificates (tests/e2e_https.test.ts)",
};

// The Windows tests (tests/helpers/wine.ts) run the Windows deno.exe under
// Wine. /usr/bin/wine comes from Debian's `wine`, which depends on wine64 OR
// wine32; the tests need wine64 (deno.exe is a 64-bit program), so name it.
export const WINE: SystemTool = {
  file: "/usr/bin/wine",
  debianPackage: "wine",
  moreDebianPackages: ["wine64"],
  tests: "the Windows tests under Wine (tests/wine_environment.test.ts)",
};

export const MINGW: SystemTool = {
  file: "/usr/bin/x86_64-w64-mingw32-gcc",
  debianPackage: "gcc-mingw-w64-x86-64-win32",
  tests: "the Windows programs the Windows tests build and run (tests/wine_environment.test.ts)",
};

export const WINDRES: SystemTool = {
  file: "/usr/bin/x86_64-w64-mingw32-windres",
  debianPackage: "binutils-mingw-w64-x86-64",
  tests: "the version resources of the Windows tests' programs (tests/wine_environment.test.ts)",
};

/** wixl and wixl-heat (msitools), which build the Windows installer on Linux. */
export const WIXL: SystemTool = {
  file: "/usr/bin/wixl",
  debianPackage: "wixl",
  tests: "the Windows installer's test under Wine (tests/package_msi_wine.test.ts)",
};

/** Checks the Debian package's systemd units (systemd need not be running). */
export const SYSTEMD_ANALYZE: SystemTool = {
  file: "/usr/bin/systemd-analyze",
  debianPackage: "systemd",
  tests: "the Debian package's unit check (tests/package_deb.test.ts)",
};

/** A real Windows DLL with a version resource, for tests reading PE files. */
export const MINGW_ZLIB: SystemTool = {
  file: "/usr/x86_64-w64-mingw32/lib/zlib1.dll",
  debianPackage: "libz-mingw-w64",
  tests: "the Windows executable parser's tests on a real DLL",
};

export const SYSTEM_TOOLS: readonly SystemTool[] = [
  CHROMIUM,
  OPENSSL,
  WINE,
  MINGW,
  WINDRES,
  MINGW_ZLIB,
  WIXL,
  SYSTEMD_ANALYZE,
];

/** Every package the tool needs, the one providing its file first. */
export function debianPackages(tool: SystemTool): string[] {
  return [tool.debianPackage, ...tool.moreDebianPackages ?? []];
}

export function hasTool(tool: SystemTool): boolean {
  try {
    return Deno.statSync(tool.file).isFile;
  } catch {
    return false;
  }
}

/** What the Windows tests under Wine need: Wine, and mingw to build their program. */
export const WINDOWS_TEST_TOOLS: readonly SystemTool[] = [WINE, MINGW, WINDRES];

/**
 * `""` when every tool is here, else a `describe` title's suffix naming the
 * missing ones (` (skipped: /usr/bin/wine missing)`), so a skip says why.
 */
export function skipReason(tools: readonly SystemTool[]): string {
  const missing = tools.filter((tool) => !hasTool(tool));
  return missing.length === 0
    ? ""
    : ` (skipped: ${missing.map((tool) => tool.file).join(", ")} missing)`;
}
