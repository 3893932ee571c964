import { defineConfig } from "vitest/config";

// Tests start real sites, agents and programs: give them time, and run the
// files two at a time (the machines have two cores). The global setup
// installs the Debian packages some tests need, where it can.
export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    globalSetup: ["tests/setup/system_packages.ts"],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    maxWorkers: 2,
    pool: "forks",
  },
});
