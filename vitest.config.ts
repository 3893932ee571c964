import { defineConfig } from "vitest/config";

// Tests start real sites, agents and programs: give them time, and run the
// files two at a time (the machines have two cores).
export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    maxWorkers: 2,
    pool: "forks",
  },
});
