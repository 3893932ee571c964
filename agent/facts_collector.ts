/**
 * Collects this computer's facts (host name, OS, kernel, architecture, IANA
 * time zone, agent version) and writes them into `inventory/<client>` when,
 * and only when, they changed.
 *
 * @module
 */
import * as A from "@automerge/automerge";
import { type ClientFacts, decodeFacts, encodeFacts, FACTS_KEY } from "../model/client_facts.ts";
import { inventoryDocId } from "../model/doc_id.ts";
import type { DocStore } from "../store/doc_store.ts";
import { METER_VERSION } from "../model/version.ts";

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

/** Stores the facts if they differ from what the document holds; true if written. */
export async function writeFacts(
  docs: DocStore,
  clientId: string,
  actor: string,
  facts: ClientFacts,
): Promise<boolean> {
  const docId = inventoryDocId(clientId);
  const doc = await docs.load<Record<string, Uint8Array>>(docId, actor) ?? A.init({ actor });
  const current = doc[FACTS_KEY] ? decodeFacts(doc[FACTS_KEY]) : undefined;
  if (current && JSON.stringify(current) === JSON.stringify(facts)) return false;
  const next = A.change(doc, "facts", (d) => {
    d[FACTS_KEY] = encodeFacts(facts);
  });
  await docs.save(docId, next);
  return true;
}
