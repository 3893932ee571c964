/**
 * HTTPS with a private certificate authority, with real processes and a
 * certificate the test makes with openssl: a site serves HTTPS (`--cert`,
 * `--key`); an agent given the CA (`--ca`) enrols and syncs; an agent
 * without it refuses the certificate and never enrols; a child site given
 * the CA (`--parent-ca`) registers and syncs.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { fetchTrusting } from "../lib/trusted_fetch.ts";
import {
  type MeterProcess,
  type SiteHandle,
  startAgent,
  startSite,
} from "./helpers/meter_process.ts";
import { makeToken } from "./helpers/site_api.ts";
import { hasTool, OPENSSL } from "./helpers/system_tools.ts";
import { waitFor } from "./helpers/wait_for.ts";

async function openssl(dir: string, ...args: string[]): Promise<void> {
  const output = await new Deno.Command("openssl", { args, cwd: dir, stderr: "piped" }).output();
  if (!output.success) throw new Error(new TextDecoder().decode(output.stderr));
}

/** A CA, and a certificate for 127.0.0.1 it signed. */
async function makeCertificates(dir: string): Promise<void> {
  await openssl(
    dir,
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "2",
    "-subj",
    "/CN=Meter Test CA",
  );
  await openssl(
    dir,
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "site.key",
    "-out",
    "site.csr",
    "-subj",
    "/CN=127.0.0.1",
  );
  await Deno.writeTextFile(
    join(dir, "ext.cnf"),
    "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
  );
  await openssl(
    dir,
    "x509",
    "-req",
    "-in",
    "site.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "site.pem",
    "-days",
    "2",
    "-extfile",
    "ext.cnf",
  );
}

describe.skipIf(!hasTool(OPENSSL))("a site serving HTTPS with a private CA", () => {
  let dir: string;
  let site: SiteHandle;
  let trusted: MeterProcess;
  let untrusted: MeterProcess;
  let admin: string;

  beforeAll(async () => {
    dir = await Deno.makeTempDir({ prefix: "meter-https-" });
    await makeCertificates(dir);
    site = await startSite(dir, {
      extra: ["--cert", join(dir, "site.pem"), "--key", join(dir, "site.key")],
    });
    admin = await makeToken(site.db, "admin");
    const enroll = await makeToken(site.db, "enroll");
    trusted = startAgent(site.url, {
      db: join(dir, "trusted.db"),
      enrollToken: enroll,
      extra: ["--ca", join(dir, "ca.pem")],
    });
    untrusted = startAgent(site.url, { db: join(dir, "untrusted.db"), enrollToken: enroll });
  });

  afterAll(async () => {
    await trusted?.stop();
    await untrusted?.stop();
    await site?.process.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  });

  test("only the agent that trusts the CA enrols; plain HTTP gets nothing", async () => {
    expect(site.url.startsWith("https://")).toBe(true);
    const viaCa = fetchTrusting(join(dir, "ca.pem"));
    const clients = async () => {
      const response = await viaCa(new URL("/v1/clients", site.url), {
        headers: { authorization: `Bearer ${admin}` },
      });
      return (await response.json()).clients as { clientId: string }[];
    };
    await waitFor(
      "the trusting agent to enrol and sync",
      async () => (await clients()).length === 1,
    );
    // The other agent had its chances: it tried, was refused, and tried again.
    const refusals = () =>
      untrusted.logs.filter((line) => /certificate|UnknownIssuer|invalid peer/i.test(line));
    await waitFor(
      `the agent without the CA to be refused twice\n${untrusted.tail()}`,
      () => refusals().length >= 2,
      { timeoutMs: 60_000 },
    );
    expect(await clients()).toHaveLength(1);
    expect(untrusted.logged("agent enrolled")).toEqual([]);
    await expect(fetch(new URL("/v1/health", site.url))).rejects.toThrow();
    await expect(fetch(site.url.replace("https://", "http://") + "/v1/health")).rejects.toThrow();
  });

  test("a child site registers and syncs over HTTPS with --parent-ca", async () => {
    const child = await startSite(dir, {
      code: "CHD",
      extra: [
        "--parent",
        site.url,
        "--parent-token",
        await makeToken(site.db, "site"),
        "--parent-ca",
        join(dir, "ca.pem"),
        "--parent-interval",
        "1",
      ],
    });
    try {
      const viaCa = fetchTrusting(join(dir, "ca.pem"));
      await waitFor("the child to register and sync", async () => {
        const response = await viaCa(new URL("/v1/sites", site.url), {
          headers: { authorization: `Bearer ${admin}` },
        });
        const { sites } = await response.json();
        return sites.some((s: { code: string; lastSyncAt: string | null }) =>
          s.code === "CHD" && s.lastSyncAt !== null
        );
      });
    } finally {
      await child.process.stop();
    }
  });
});
