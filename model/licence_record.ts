/**
 * A licence as a record of the `licences/<site>` document: one CBOR-encoded
 * map per licence under its id. The site writes them; its child sites read
 * them from their replica, as they read its rules.
 *
 * @module
 */
import { encode } from "cbor-x";
import { decodeRecord } from "./cbor_record.ts";
import { type Licence, licenceSchema } from "./licence.ts";

export function encodeLicence(licence: Licence): Uint8Array {
  return encode(licence);
}

/** Decodes a licence record; throws with a message naming the key. */
export function decodeLicence(key: string, value: unknown): Licence {
  const licence = decodeRecord(`licence ${key}`, value, licenceSchema);
  if (licence.id !== key) throw new Error(`licence ${key} carries the id ${licence.id}`);
  return licence;
}
