/**
 * Which actor writes each usage document: a new generation of the agent's
 * enrolled actor for every document it creates (see `model/actor_id.ts`),
 * remembered in `doc_actors` so that later changes continue its history.
 *
 * Load it once per flush, ask for actors, and store `statements()` in the
 * flush's transaction.
 *
 * @module
 */
import { generationActor } from "../../model/actor_id.ts";
import type { Client, InStatement } from "../../store/db.ts";
import { KeyValueTable } from "../../store/key_value_table.ts";

export class DocActors {
  readonly #db: Client;
  readonly #base: string;
  #generation: number;
  readonly #created = new Map<string, string>();

  private constructor(db: Client, base: string, generation: number) {
    this.#db = db;
    this.#base = base;
    this.#generation = generation;
  }

  static async load(db: Client, base: string): Promise<DocActors> {
    const stored = await new KeyValueTable(db, "agent_state").get("actor_generation");
    return new DocActors(db, base, Number(stored ?? 0));
  }

  /**
   * The document's actor. A document stored before actors were recorded per
   * document was written by the enrolled actor, and its history is whole here.
   */
  async actorFor(docId: string, stored: boolean): Promise<string> {
    const created = this.#created.get(docId);
    if (created) return created;
    const result = await this.#db.execute({
      sql: "SELECT actor FROM doc_actors WHERE doc_id = ?",
      args: [docId],
    });
    if (result.rows[0]) return result.rows[0].actor as string;
    if (stored) return this.#base;
    const actor = generationActor(this.#base, ++this.#generation);
    this.#created.set(docId, actor);
    return actor;
  }

  /** What storing the actors created since loading takes. */
  statements(): InStatement[] {
    if (this.#created.size === 0) return [];
    return [
      ...[...this.#created].map(([docId, actor]) => ({
        sql: "INSERT INTO doc_actors (doc_id, actor) VALUES (?, ?)",
        args: [docId, actor],
      })),
      new KeyValueTable(this.#db, "agent_state").setStatement(
        "actor_generation",
        String(this.#generation),
      ),
    ];
  }
}
