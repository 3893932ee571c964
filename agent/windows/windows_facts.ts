/**
 * Collects a Windows computer's facts: host name, `Windows` and its version
 * (`10.0.19045` from the kernel's release), architecture, IANA time zone and
 * agent version.
 *
 * @module
 */
import type { ClientFacts } from "../../model/client_facts.ts";
import { METER_VERSION } from "../../model/version.ts";

export function collectWindowsFacts(): Promise<ClientFacts> {
  const release = Deno.osRelease();
  return Promise.resolve({
    hostName: Deno.hostname(),
    osName: "Windows",
    osVersion: release,
    kernel: release,
    arch: Deno.build.arch,
    timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone ?? "UTC",
    agentVersion: METER_VERSION,
  });
}
