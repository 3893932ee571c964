/**
 * Vitest's global setup: installs the Debian packages the tests need
 * (`tests/helpers/system_tools.ts`) when they are missing, so that
 * `npm install && npm test` runs every test on a fresh Debian or Ubuntu
 * machine as root. Without root or apt it cannot; the tests that need a
 * missing tool then skip themselves, and this prints which and why, in a
 * banner no one can miss. Under CI (`CI=true`) a missing tool is an error
 * instead: CI must run every test.
 *
 * `METER_TEST_NO_INSTALL=1` leaves the system alone.
 *
 * @module
 */
import { debianPackages, hasTool, SYSTEM_TOOLS, type SystemTool } from "../helpers/system_tools.ts";

function canInstall(): boolean {
  if (Deno.env.get("METER_TEST_NO_INSTALL") === "1") return false;
  try {
    return Deno.uid() === 0 && Deno.statSync("/usr/bin/apt-get").isFile;
  } catch {
    return false;
  }
}

async function aptGet(...args: string[]): Promise<boolean> {
  const { success } = await new Deno.Command("apt-get", {
    args,
    env: { DEBIAN_FRONTEND: "noninteractive" },
    stdout: "null",
    stderr: "inherit",
  }).output();
  return success;
}

async function install(tools: readonly SystemTool[]): Promise<void> {
  const packages = [...new Set(tools.flatMap(debianPackages))];
  console.error(`[setup] installing ${packages.join(", ")} with apt-get for the tests ...`);
  const done = await aptGet("install", "-y", "-qq", "--no-install-recommends", ...packages) ||
    (await aptGet("update", "-qq") &&
      await aptGet("install", "-y", "-qq", "--no-install-recommends", ...packages));
  console.error(`[setup] ${done ? "installed" : "could not install"} ${packages.join(", ")}`);
}

function banner(tools: readonly SystemTool[]): string {
  const lines = tools.map((tool) =>
    `  SKIPPED: ${tool.tests}: ${tool.file} is missing; install it with ` +
    `'sudo apt-get install ${debianPackages(tool).join(" ")}'`
  );
  const rule = "!".repeat(78);
  return [rule, ...lines, rule].join("\n");
}

export default async function setup(): Promise<void> {
  let missing = SYSTEM_TOOLS.filter((tool) => !hasTool(tool));
  if (missing.length > 0 && canInstall()) {
    await install(missing);
    missing = missing.filter((tool) => !hasTool(tool));
  }
  if (missing.length === 0) return;
  if (Deno.env.get("CI") === "true") {
    throw new Error(`CI runs every test, but these are missing:\n${banner(missing)}`);
  }
  console.error(banner(missing));
}
