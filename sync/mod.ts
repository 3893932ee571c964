/**
 * The sync protocol, as the agent, the site and the benchmarks use it: the
 * batch format on the wire, the client that brings local documents in sync
 * with a server, and the server's half that answers a peer's batch, deciding
 * per document what the peer may read and write.
 *
 * @module
 */
export {
  CBOR_TYPE,
  decodeSyncBody,
  encodeSyncBody,
  MAX_SYNC_BODY_BYTES,
  type SyncItem,
  type SyncReply,
  syncReplySchema,
  type SyncRequest,
} from "./sync_batch.ts";
export { compressBody } from "./body_compression.ts";
export {
  MAX_RULES_WAIT_SECONDS,
  rulesWaitQuerySchema,
  type RulesWaitReply,
  rulesWaitReplySchema,
  waitForRules,
} from "./rules_wait.ts";
export { CLOCK_TOLERANCE_MS, type ClockOffset, clockOffset } from "./clock_offset.ts";
export {
  SyncClient,
  type SyncClientOptions,
  SyncError,
  type SyncOutcome,
  type SyncTarget,
} from "./sync_client.ts";
export {
  type MaterializeFrom,
  type Materializer,
  SyncBusy,
  type SyncHandled,
  SyncHandler,
  type SyncHandlerOptions,
} from "./sync_handler.ts";
export {
  type Access,
  agentPeer,
  childSitePeer,
  fallbackAgentPeer,
  followedLicences,
  followedRules,
  peerOf,
  type PeerSpec,
  type SyncPeer,
} from "./sync_peer.ts";
export { readSyncRequest, type SyncBodyHeaders, writeSyncReply } from "./sync_body.ts";
export { SyncRefusal, type SyncRefusalStatus } from "./sync_refusal.ts";
