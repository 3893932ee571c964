/**
 * The netlink process connector with real programs: a copy of `/bin/true`
 * (it lives about a millisecond) and copies of `/bin/sleep`, their exec and
 * exit events, in order and at the right times; a flood of processes into
 * a tiny receive buffer that makes the kernel drop events; and `close`
 * ending a pending wait. Subscribing needs root (`CAP_NET_ADMIN`) in the
 * initial namespaces, so the real-part tests skip without it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import {
  parseDatagram,
  ProcConnector,
  type ProcConnectorItem,
  ProcConnectorUnavailable,
  type ProcEvent,
} from "../agent/linux/proc_connector.ts";
import { tempDir, uniqueName } from "./helpers/metered_program.ts";
import { waitFor } from "./helpers/wait_for.ts";

/**
 * Event times come from the kernel's monotonic clock turned into wall time
 * with an offset measured to well under a microsecond; the bounds are
 * `Date.now()` taken before spawning and after the wait, whole
 * milliseconds rounded down. 2 ms covers the rounding and a wall clock
 * slewed between the offset's measure and the event.
 */
const CLOCK_TOLERANCE_MS = 2;

async function connectorSkipReason(): Promise<string> {
  if (Deno.build.os !== "linux") return " (skipped: Linux only)";
  if (Deno.uid() !== 0) return " (skipped: subscribing needs root)";
  try {
    await (await ProcConnector.open({ ackTimeoutMs: 2000 })).close();
    return "";
  } catch (error) {
    if (error instanceof ProcConnectorUnavailable) return ` (skipped: ${error.message})`;
    throw error;
  }
}

const skipped = await connectorSkipReason();
const hasSetpriv = ["/usr/bin/setpriv", "/bin/setpriv"].some((path) => {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
});

/** Collects the events of one connector as they come. */
function collect(connector: ProcConnector): { items: ProcConnectorItem[]; done: Promise<void> } {
  const items: ProcConnectorItem[] = [];
  const done = (async () => {
    for await (const item of connector.events()) items.push(item);
  })();
  return { items, done };
}

function eventsOf(items: ProcConnectorItem[], pid: number): ProcEvent[] {
  return items.filter((item): item is ProcEvent => item.type !== "lost" && item.pid === pid);
}

describe("parseDatagram", () => {
  function datagram(what: number, pid: number, tgid: number, extra: number[] = []): Uint8Array {
    const bytes = new Uint8Array(76);
    const view = new DataView(bytes.buffer);
    view.setUint32(0, 76, true);
    view.setUint16(4, 3, true); // NLMSG_DONE
    view.setUint32(16, 1, true); // CN_IDX_PROC
    view.setUint32(20, 1, true); // CN_VAL_PROC
    view.setUint16(32, 40, true); // sizeof(struct proc_event)
    view.setUint32(36, what, true);
    view.setBigUint64(44, 5_000_000_000n, true); // 5 s after boot
    view.setInt32(52, pid, true);
    view.setInt32(56, tgid, true);
    extra.forEach((value, index) => view.setUint32(60 + 4 * index, value, true));
    return bytes;
  }

  it("reads exec and exit events and turns the monotonic time into epoch ms", () => {
    const offset = 1_700_000_000_000_000_000n;
    expect(parseDatagram(datagram(2, 42, 42), 76, offset)).toEqual([{
      kind: "event",
      event: { type: "exec", pid: 42, time: 1_700_000_005_000, monotonicNs: 5_000_000_000n },
    }]);
    expect(parseDatagram(datagram(0x80000000, 42, 42, [256, 17, 7, 7]), 76, offset)).toEqual([{
      kind: "event",
      event: {
        type: "exit",
        pid: 42,
        time: 1_700_000_005_000,
        monotonicNs: 5_000_000_000n,
        exitCode: 256,
        exitSignal: 17,
        parentPid: 7,
      },
    }]);
  });

  it("drops a thread's exit, other events and messages of other connectors", () => {
    expect(parseDatagram(datagram(0x80000000, 43, 42), 76, 0n)).toEqual([{ kind: "other" }]);
    expect(parseDatagram(datagram(1, 42, 42), 76, 0n)).toEqual([{ kind: "other" }]);
    const other = datagram(2, 42, 42);
    new DataView(other.buffer).setUint32(16, 2, true);
    expect(parseDatagram(other, 76, 0n)).toEqual([{ kind: "other" }]);
    expect(parseDatagram(datagram(2, 42, 42), 40, 0n)).toEqual([]);
  });
});

describe.skipIf(skipped !== "")(`the process connector with real programs${skipped}`, () => {
  let dir = "";
  let removeDir = async () => {};
  let truePath = "";
  let sleepPath = "";

  beforeAll(async () => {
    ({ dir, remove: removeDir } = await tempDir("meter-proc-connector-"));
    truePath = join(dir, uniqueName("mtest-true"));
    sleepPath = join(dir, uniqueName("mtest-sleep"));
    await Deno.copyFile("/bin/true", truePath);
    await Deno.copyFile("/bin/sleep", sleepPath);
    await Deno.chmod(truePath, 0o755);
    await Deno.chmod(sleepPath, 0o755);
  });

  afterAll(async () => {
    await removeDir();
  });

  async function runAndWatch(program: string, args: string[]) {
    const connector = await ProcConnector.open();
    const { items, done } = collect(connector);
    try {
      const startedAt = Date.now();
      const child = new Deno.Command(program, { args, stdout: "null", stderr: "null" }).spawn();
      await child.status;
      const endedAt = Date.now();
      await waitFor(
        `the exit event of ${program}`,
        () => eventsOf(items, child.pid).some((event) => event.type === "exit"),
        { timeoutMs: 5000, intervalMs: 10 },
      );
      return { pid: child.pid, startedAt, endedAt, events: eventsOf(items, child.pid) };
    } finally {
      await connector.close();
      await done;
    }
  }

  it("asks a kernel that filters (6.6 and later) for exec and exit events only", async () => {
    const [major, minor] = Deno.osRelease().split(".").map(Number);
    const filters = major > 6 || (major === 6 && minor >= 6);
    const connector = await ProcConnector.open();
    try {
      expect(connector.filtered).toBe(filters);
      const before = connector.otherMessages;
      // Each subshell is a fork without an exec: a fork event, unless filtered away.
      for (let i = 0; i < 20; i++) {
        await new Deno.Command("sh", { args: ["-c", "(:); (:); (:)"] }).output();
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
      connector.take();
      const dropped = connector.otherMessages - before;
      // Other processes' threads may end meanwhile; 60 forks would be far more.
      if (filters) expect(dropped).toBeLessThan(30);
      else expect(dropped).toBeGreaterThanOrEqual(60);
    } finally {
      await connector.close();
    }
  });

  for (const [name, args, minimumMs] of [["true", [], 0], ["sleep", ["0.05"], 50]] as const) {
    it(`sees the exec and exit of a ${name} copy, in order, at the times they happened`, async () => {
      const program = name === "true" ? truePath : sleepPath;
      const { pid, startedAt, endedAt, events } = await runAndWatch(program, [...args]);
      expect(events.map((event) => event.type)).toEqual(["exec", "exit"]);
      const [exec, exit] = events;
      expect(exec.time).toBeGreaterThanOrEqual(startedAt - CLOCK_TOLERANCE_MS);
      expect(exit.time).toBeLessThanOrEqual(endedAt + CLOCK_TOLERANCE_MS);
      expect(exit.monotonicNs).toBeGreaterThan(exec.monotonicNs);
      expect(exit.time - exec.time).toBeGreaterThanOrEqual(minimumMs);
      expect(exit.type === "exit" && exit.exitCode).toBe(0);
      expect(exit.type === "exit" && exit.parentPid).toBe(Deno.pid);
      expect(pid).toBeGreaterThan(0);
    });
  }

  it("reports a program killed by a signal with its exit code", async () => {
    const connector = await ProcConnector.open();
    const { items, done } = collect(connector);
    try {
      const child = new Deno.Command(sleepPath, { args: ["5"] }).spawn();
      child.kill("SIGKILL");
      await child.status;
      const exit = await waitFor(
        "the exit event",
        () => eventsOf(items, child.pid).find((event) => event.type === "exit"),
        { timeoutMs: 5000, intervalMs: 10 },
      );
      expect(exit.type === "exit" && exit.exitCode).toBe(9);
    } finally {
      await connector.close();
      await done;
    }
  });

  it("reports lost events when a flood overflows a tiny receive buffer", async () => {
    const connector = await ProcConnector.open({ receiveBufferBytes: 1 });
    try {
      // Nothing reads while 500 processes start and end: far more events
      // than the smallest buffer the kernel allows (a few KiB) can hold.
      const flood = await new Deno.Command("sh", {
        args: ["-c", `i=0; while [ $i -lt 500 ]; do ${truePath}; i=$((i+1)); done`],
      }).output();
      expect(flood.success).toBe(true);
      const closer = setTimeout(() => connector.close(), 10_000);
      let lost = false;
      let events = 0;
      for await (const item of connector.events()) {
        if (item.type === "lost") {
          lost = true;
          break;
        }
        events++;
      }
      clearTimeout(closer);
      expect(lost).toBe(true);
      expect(events).toBeLessThan(1000);
    } finally {
      await connector.close();
    }
  });

  it("keeps delivering events after a loss", async () => {
    const connector = await ProcConnector.open({ receiveBufferBytes: 1 });
    const { items, done } = collect(connector);
    try {
      await new Deno.Command("sh", {
        args: ["-c", `i=0; while [ $i -lt 500 ]; do ${truePath}; i=$((i+1)); done`],
      }).output();
      await waitFor("a lost signal", () => items.some((item) => item.type === "lost"), {
        timeoutMs: 10_000,
        intervalMs: 20,
      });
      // The buffer holds two or three events, so other processes on the
      // machine may overflow it again: try a few runs until one is seen whole.
      let seen = false;
      for (let attempt = 0; attempt < 20 && !seen; attempt++) {
        const child = new Deno.Command(truePath).spawn();
        await child.status;
        await new Promise((resolve) => setTimeout(resolve, 100));
        seen = eventsOf(items, child.pid).some((event) => event.type === "exit");
      }
      expect(seen).toBe(true);
    } finally {
      await connector.close();
      await done;
    }
  });

  it.skipIf(!hasSetpriv)(
    "open refuses clearly without CAP_NET_ADMIN, so the agent can fall back to polling",
    async () => {
      const module = new URL("../agent/linux/proc_connector.ts", import.meta.url).href;
      const script = await writeScript(
        "open.ts",
        `import { ProcConnector } from ${JSON.stringify(module)};\n` +
          "try { await ProcConnector.open(); console.log('opened'); }\n" +
          "catch (error) { console.log(JSON.stringify([error.name, error.errno, error.message])); }\n",
      );
      // Root without CAP_NET_ADMIN, as the agent is when run unprivileged.
      const [name, errno, message] = JSON.parse(await runScript(script, "-net_admin"));
      expect(name).toBe("ProcConnectorUnavailable");
      expect(errno).toBe(1); // EPERM
      expect(message).toMatch(/Operation not permitted/);
    },
  );

  it.skipIf(!hasSetpriv)(
    "ignores an exec event forged by a process and sent to its socket",
    async () => {
      const connector = await ProcConnector.open();
      try {
        const port = connectorPort();
        const module = new URL("../agent/linux/libc_netlink.ts", import.meta.url).href;
        // An exec event of pid 4242424, as the kernel would send it, but from a process.
        const script = await writeScript(
          "forge.ts",
          `import { libcSymbols } from ${JSON.stringify(module)};\n` +
            "const libc = libcSymbols();\n" +
            "const fd = libc.socket(16, 2, 11);\n" +
            "const m = new DataView(new ArrayBuffer(76));\n" +
            "m.setUint32(0, 76, true); m.setUint16(4, 3, true);\n" +
            "m.setUint32(16, 1, true); m.setUint32(20, 1, true); m.setUint16(32, 40, true);\n" +
            "m.setUint32(36, 2, true); m.setBigUint64(44, 1n, true);\n" +
            "m.setInt32(52, 4242424, true); m.setInt32(56, 4242424, true);\n" +
            "const to = new DataView(new ArrayBuffer(12));\n" +
            `to.setUint16(0, 16, true); to.setUint32(4, ${port}, true);\n` +
            "const sent = libc.sendto(fd, new Uint8Array(m.buffer), 76n, 0, new Uint8Array(to.buffer), 12);\n" +
            "console.log(Number(sent));\n",
        );
        // Without CAP_NET_ADMIN the kernel refuses to send to another process's socket.
        expect(await runScript(script, "-all")).toBe("-1");
        // With it, the datagram arrives, and the connector drops it: its sender is not the kernel.
        const before = connector.otherMessages;
        expect(await runScript(script)).toBe("76");
        await new Promise((resolve) => setTimeout(resolve, 100));
        const items = connector.take();
        expect(items.some((item) => item.type === "exec" && item.pid === 4242424)).toBe(false);
        expect(connector.otherMessages).toBeGreaterThan(before); // it arrived, and was dropped
      } finally {
        await connector.close();
      }
    },
  );

  async function writeScript(name: string, source: string): Promise<string> {
    const script = join(dir, name);
    await Deno.writeTextFile(script, source);
    return script;
  }

  /** Runs a Deno script, within the capability bounding set `setpriv` is given if any; its output. */
  async function runScript(script: string, boundingSet?: string): Promise<string> {
    const run = [Deno.execPath(), "run", "-A", script];
    const [command, ...args] = boundingSet === undefined
      ? run
      : ["setpriv", `--bounding-set=${boundingSet}`, "--", ...run];
    const output = await new Deno.Command(command, { args, stdout: "piped" }).output();
    return new TextDecoder().decode(output.stdout).trim();
  }

  it("close ends a pending wait promptly and the iteration with it", async () => {
    const connector = await ProcConnector.open({ waitMs: 200 });
    const { done } = collect(connector);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const before = performance.now();
    await connector.close();
    await done;
    expect(performance.now() - before).toBeLessThan(1000);
  });
});

/** The port id of this process's process-connector socket, from `/proc/net/netlink`. */
function connectorPort(): number {
  const inodes = new Set<string>();
  for (const entry of Deno.readDirSync("/proc/self/fd")) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(Deno.readLinkSync(`/proc/self/fd/${entry.name}`));
      if (match) inodes.add(match[1]);
    } catch {
      // Closed meanwhile.
    }
  }
  // Columns: sk, Eth (the protocol: 11 is NETLINK_CONNECTOR), Pid (the port), ..., Inode.
  for (const line of Deno.readTextFileSync("/proc/net/netlink").split("\n").slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields[1] === "11" && inodes.has(fields.at(-1)!)) return Number(fields[2]);
  }
  throw new Error("no process-connector socket in /proc/net/netlink");
}
