/**
 * A site that runs out of open files keeps running (`http/lasting_server.ts`).
 *
 * A real `meter site` process is started with a low limit of open files
 * (`prlimit`), and a stranger without a token opens more bare TCP
 * connections than it may accept. Deno's own server then stops listening
 * and, with nobody handling that, the process exits. Here the site must
 * say it ran out, listen again once the connections are gone, and answer
 * `GET /v1/health` on the same port, with nothing stored lost.
 */
import { afterAll, expect, test } from "vitest";
import { join } from "node:path";
import { MeterProcess } from "./helpers/meter_process.ts";
import { waitFor } from "./helpers/wait_for.ts";
import { tempDir } from "./helpers/metered_program.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
/** Enough for the site's own files, far fewer than the connections below. */
const OPEN_FILES = 200;
const CONNECTIONS = 400;

/**
 * `GET /v1/health` on a connection of its own: one kept alive from before
 * would be answered even while the site does not listen.
 */
async function healthOnNewConnection(url: string): Promise<number> {
  const client = Deno.createHttpClient({});
  try {
    const response = await fetch(`${url}/v1/health`, { client });
    await response.body?.cancel();
    return response.status;
  } finally {
    client.close();
  }
}

let temp: Awaited<ReturnType<typeof tempDir>>;
let site: MeterProcess | undefined;

afterAll(async () => {
  await site?.kill();
  await temp?.remove();
});

test("a site out of open files listens again once connections close", async () => {
  temp = await tempDir();
  const db = join(temp.dir, "site.db");
  const args = ["site", "--db", db, "--port", "0", "--hostname", "127.0.0.1", "--code", "S01"];
  site = new MeterProcess(args, {}, (all, env) =>
    new Deno.Command("prlimit", {
      args: [`--nofile=${OPEN_FILES}:${OPEN_FILES}`, Deno.execPath(), "run", "-A", MAIN, ...all],
      stdout: "piped",
      stderr: "piped",
      env,
    }).spawn());
  const running = site;
  const line = await waitFor(`the site to start\n${running.tail()}`, () => {
    if (running.exited) throw new Error(`site exited:\n${running.tail()}`);
    return running.stdout.find((l) => /https?:\/\//.test(l));
  }, { timeoutMs: 30_000 });
  const url = /(https?:\/\/\S+)/.exec(line)![1];
  const port = Number(new URL(url).port);
  expect(await healthOnNewConnection(url)).toBe(200);

  const connections: Deno.TcpConn[] = [];
  for (let i = 0; i < CONNECTIONS; i++) {
    try {
      connections.push(await Deno.connect({ hostname: "127.0.0.1", port }));
    } catch {
      break; // refused: the site is not listening for now
    }
  }
  await waitFor(`the site to say it ran out of open files\n${running.tail()}`, () => {
    if (running.exited) throw new Error(`site exited:\n${running.tail()}`);
    return running.logged("the site ran out of open files; listening again shortly").length > 0;
  }, { timeoutMs: 20_000 });
  for (const connection of connections) connection.close();

  // It may listen again while it still holds the connections it accepted,
  // and run out once more: what counts is that it answers once they close.
  const status = await waitFor(`the site to answer again\n${running.tail()}`, () => {
    if (running.exited) throw new Error(`site exited:\n${running.tail()}`);
    return healthOnNewConnection(url).then((code) => code === 200 && code, () => undefined);
  }, { timeoutMs: 30_000 });
  expect(status).toBe(200);
  expect(running.logged("the site listens again")[0]).toMatchObject({ port });
  expect(running.exited).toBe(false);
  // And it still stops as a service manager stops it.
  await running.stop();
  expect((await running.status).code).toBe(0);
  expect(running.logged("site stopped")).toHaveLength(1);
}, 90_000);
