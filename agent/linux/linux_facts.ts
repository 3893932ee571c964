/**
 * Collects a Linux computer's facts (host name, OS from `/etc/os-release`,
 * kernel, architecture, IANA time zone, agent version).
 *
 * @module
 */
import type { ClientFacts } from "../../model/client_facts.ts";
import { METER_VERSION } from "../../model/version.ts";

export async function collectFacts(): Promise<ClientFacts> {
  const release = await readOsRelease();
  return {
    hostName: Deno.hostname(),
    osName: release.NAME ?? Deno.build.os,
    osVersion: release.VERSION_ID ?? release.VERSION ?? "",
    kernel: Deno.osRelease(),
    arch: Deno.build.arch,
    timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone ?? "UTC",
    agentVersion: METER_VERSION,
  };
}

async function readOsRelease(): Promise<Record<string, string>> {
  try {
    const text = await Deno.readTextFile("/etc/os-release");
    const fields: Record<string, string> = {};
    for (const line of text.split("\n")) {
      const match = /^([A-Z_]+)=(.*)$/.exec(line.trim());
      if (match) fields[match[1]] = match[2].replace(/^"(.*)"$/, "$1");
    }
    return fields;
  } catch {
    return {};
  }
}
