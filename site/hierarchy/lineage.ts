/**
 * A site's place in the hierarchy: its ancestors, its parent first, up to
 * the top; empty for a top site. Learnt from the parent when it registers or
 * syncs (`parent_link.ts`), which replaces the list, so services that need
 * it read it from the running site each time rather than keep a copy.
 *
 * @module
 */
export interface Lineage {
  ancestors: string[];
}
