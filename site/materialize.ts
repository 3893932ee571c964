/**
 * Materialisation by document kind: the one {@linkcode Materializer} the
 * sync handler and the rules editor call.
 *
 * @module
 */
import { parseDocId } from "../model/doc_id.ts";
import { factsStatements } from "./clients/facts_materializer.ts";
import { softwareStatements } from "./inventory/software_materializer.ts";
import { sitesDocStatements } from "./hierarchy/known_sites.ts";
import { credentialsStatements } from "./hierarchy/client_credentials.ts";
import { summaryStatements } from "./hierarchy/summary_materializer.ts";
import { rulesStatements } from "./rules/rules_materializer.ts";
import { licencesStatements } from "./licences/licences_materializer.ts";
import type { Materializer } from "../sync/mod.ts";
import { usageStatements } from "./usage/usage_materializer.ts";

export const materialize: Materializer = (docId, doc, changed, before, from) => {
  const id = parseDocId(docId);
  switch (id?.kind) {
    case "usage":
      return usageStatements(id.client, id.day, doc, changed, before, {
        clockCorrectionMs: from?.clockCorrectionMs,
        ruleSites: from?.ruleSites,
      });
    case "inventory":
      return [
        ...factsStatements(id.client, doc, changed),
        ...softwareStatements(id.client, doc, changed),
      ];
    case "rules":
      return rulesStatements(doc, changed);
    case "licences":
      return licencesStatements(doc, changed);
    case "sites":
      return sitesDocStatements(id.site, doc);
    case "summary":
      return summaryStatements(id.site, id.day, doc, changed);
    case "clients":
      return credentialsStatements(id.site, doc, changed);
    default:
      return [];
  }
};
