/**
 * The `licence` parameter of the licence reports, once its shape is right:
 * the licence it names, or a 400 that names the parameter.
 *
 * @module
 */
import type { Licence } from "../../model/licence.ts";
import type { Client } from "../../store/db.ts";
import { badRequest } from "../http/api_error.ts";
import { findLicence } from "../licences/licences_table.ts";

export async function licenceOf(db: Client, id: string): Promise<Licence> {
  const licence = await findLicence(db, id);
  if (!licence) {
    throw badRequest(
      `invalid query: licence: no licence ${id}; see GET /v1/licences`,
      "invalid_input",
    );
  }
  return licence;
}
