import { describe, expect, it } from "vitest";
import { inTimeOrder } from "../agent/linux/events_in_time_order.ts";
import type { ProcConnectorItem } from "../agent/linux/proc_connector.ts";

const exec = (pid: number, ns: bigint): ProcConnectorItem => ({
  type: "exec",
  pid,
  time: Number(ns),
  monotonicNs: ns,
});
const exit = (pid: number, ns: bigint): ProcConnectorItem => ({
  type: "exit",
  pid,
  time: Number(ns),
  monotonicNs: ns,
  exitCode: 0,
  exitSignal: 17,
  parentPid: 1,
});

describe("events from the exec and exit sockets, in time order", () => {
  it("interleaves them by the kernel's time, a pid reused after its exit included", () => {
    const merged = inTimeOrder(
      [exec(100, 1n), exec(200, 3n), exec(100, 5n)],
      [exit(100, 2n), exit(200, 4n)],
    );
    expect(merged.map((e) => e.type === "lost" ? "lost" : `${e.type} ${e.pid}`)).toEqual([
      "exec 100",
      "exit 100",
      "exec 200",
      "exit 200",
      "exec 100",
    ]);
  });

  it("keeps an exec before an exit of the same instant", () => {
    const merged = inTimeOrder([exec(7, 9n)], [exit(7, 9n)]);
    expect(merged.map((e) => e.type)).toEqual(["exec", "exit"]);
  });

  it("puts one loss last, whichever socket lost events", () => {
    const merged = inTimeOrder([{ type: "lost" }, exec(1, 1n)], [exit(1, 2n), { type: "lost" }]);
    expect(merged.map((e) => e.type)).toEqual(["exec", "exit", "lost"]);
  });

  it("leaves the execs as they are when no exit came", () => {
    const execs = [exec(1, 1n), { type: "lost" } as const];
    expect(inTimeOrder(execs, [])).toBe(execs);
  });
});
