/**
 * The reports' public surface: the catalog of every report and what a
 * report declares (its name, parameters and row columns). The command line
 * reads it for `meter report --help` and its checks, which must run without
 * permissions, so nothing here loads storage, network or HTTP code; the
 * rest of the site stays behind `site/mod.ts`.
 *
 * A report's declaration stays beside its computation (rather than in
 * `model/`) because one factory makes both from one spec: apart, they would
 * be two files that must always change together.
 *
 * @module
 */
export { findReport, REPORTS } from "./report_registry.ts";
export { isRequired, type Report, reportColumns, reportParameters } from "./report.ts";
