/**
 * A full garbage collection on demand (V8's `gc`, exposed once on first
 * use). The summariser's worker runs one after each run: a run's garbage is
 * a fleet's day of sessions, which V8 would otherwise keep for a while, and
 * a collection there holds up no one but that thread.
 *
 * @module
 */
import v8 from "node:v8";
import vm from "node:vm";

let collect: (() => void) | undefined;

export function collectGarbage(): void {
  if (!collect) {
    v8.setFlagsFromString("--expose-gc");
    collect = vm.runInNewContext("gc") as () => void;
  }
  collect();
}
