/**
 * A whole rule for the agent's tests from the few fields a test cares about:
 * enabled, manual, any version, of the site its id names.
 *
 * @module
 */
import type { Rule } from "../../model/rule.ts";

export function testRule(id: string, fields: Partial<Rule>): Rule {
  return {
    id,
    name: `rule ${id}`,
    fileName: null,
    originalFileName: null,
    sha256: null,
    version: "*",
    language: null,
    siteCode: id.split("-")[0],
    applyToChildSites: false,
    enabled: true,
    comment: "",
    origin: "manual",
    createdAt: 0,
    updatedAt: 0,
    ...fields,
  };
}
