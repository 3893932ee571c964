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

export const SYSTEM_TOOLS: readonly SystemTool[] = [CHROMIUM, OPENSSL];

export function hasTool(tool: SystemTool): boolean {
  try {
    return Deno.statSync(tool.file).isFile;
  } catch {
    return false;
  }
}
