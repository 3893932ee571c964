/**
 * Whether an Automerge change chunk is intact. Automerge's
 * `receiveSyncMessage` refuses a message whose first change is corrupt, but
 * silently applies none of a message whose later change is: the sync would
 * answer 200 and store nothing. Checking every change first lets the site
 * refuse such a message with 400, as any other malformed one.
 *
 * A chunk is `magic (4) | checksum (4) | type (1) | length | contents`; its
 * hash is SHA-256 of everything after the checksum, whose first four bytes
 * the checksum must be. A whole document (type 0, which a sync message
 * carries to a peer that has nothing yet) and a plain change (type 1) are
 * checked with one hash; a compressed change (type 2), whose hash is of its
 * uncompressed form, is decoded; another type is left to Automerge.
 *
 * @module
 */
import * as A from "@automerge/automerge";
import { createHash } from "node:crypto";

const MAGIC = [0x85, 0x6f, 0x4a, 0x83];
const DOCUMENT = 0;
const PLAIN_CHANGE = 1;
const COMPRESSED_CHANGE = 2;

export function isIntactChange(change: Uint8Array): boolean {
  if (change.length < 9 || MAGIC.some((byte, i) => change[i] !== byte)) return false;
  const checksum = change.subarray(4, 8);
  if (change[8] === DOCUMENT || change[8] === PLAIN_CHANGE) {
    const hash = createHash("sha256").update(change.subarray(8)).digest();
    return checksum.every((byte, i) => hash[i] === byte);
  }
  if (change[8] !== COMPRESSED_CHANGE) return true;
  try {
    const hash = A.decodeChange(change).hash;
    return checksum.every((byte, i) => parseInt(hash.slice(2 * i, 2 * i + 2), 16) === byte);
  } catch {
    return false;
  }
}
