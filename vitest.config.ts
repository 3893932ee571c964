import { configDefaults, defineConfig } from "vitest/config";

/**
 * Loads that take both cores for a minute or more: they run alone, after
 * the rest, so that tests which need a spare core (the agent's process
 * events catch runs of half a millisecond) never run beside them.
 */
const HEAVY = ["tests/site_fleet_load.test.ts"];

// Tests start real sites, agents and programs: give them time, and run the
// files two at a time (the machines have two cores). The global setup
// installs the Debian packages some tests need, where it can.
export default defineConfig({
  test: {
    globalSetup: ["tests/setup/system_packages.ts"],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    maxWorkers: 2,
    pool: "forks",
    projects: [
      {
        extends: true,
        test: {
          name: "tests",
          include: ["tests/**/*.test.ts"],
          exclude: [...configDefaults.exclude, ...HEAVY],
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: { name: "heavy", include: HEAVY, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
