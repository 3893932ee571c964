/**
 * The libSQL document store passes the same conformance suite on a database
 * file and on `:memory:`: round trips, incremental chunks and compaction, no
 * write when the heads are unchanged, heads without loading, prefix listing
 * and deletion.
 */
import { afterAll } from "vitest";
import { join } from "node:path";
import { openDatabase } from "../store/db.ts";
import { docStoreSchema } from "../store/doc_store.ts";
import { runDocStoreSuite } from "./helpers/doc_store_suite.ts";
import { tempDir } from "./helpers/metered_program.ts";

const temp = await tempDir("meter-docstore-");
let files = 0;

afterAll(async () => {
  await temp.remove();
});

runDocStoreSuite(
  "libSQL file",
  () => openDatabase(join(temp.dir, `docs-${files++}.db`), docStoreSchema),
);
runDocStoreSuite("libSQL :memory:", () => openDatabase(":memory:", docStoreSchema));
