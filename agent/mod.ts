/**
 * The agent, as the command line and the benchmarks use it: the agent loop
 * and this computer's platform parts, and the pieces the benchmarks time on
 * their own (the usage writer and what it syncs, the `/proc` process source,
 * the inventory's collection and writing, the agent's schema).
 *
 * @module
 */
export { Agent, type AgentOptions } from "./core/agent.ts";
export { defaultAgentDatabase, thisPlatform } from "./platform.ts";
export type { AgentPlatform } from "./core/platform.ts";
export { agentSchema, openAgentDatabase } from "./agent_db.ts";
export { UsageWriter } from "./core/usage_writer.ts";
export { agentSyncTargets } from "./core/sync_targets.ts";
export { ExecutableHashes } from "./core/inventory/executable_hashes.ts";
export { collectInventory } from "./core/inventory/inventory_collector.ts";
export { writeInventory } from "./core/inventory/inventory_writer.ts";
export { LinuxProcSource } from "./linux/linux_proc_source.ts";
export { defaultInventorySources } from "./linux/inventory/inventory_sources.ts";
export { realFileName } from "./linux/linux_platform.ts";
export { type AgentConfig, agentConfigSchema, loadAgentConfig } from "./agent_config.ts";
