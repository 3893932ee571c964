/**
 * How late a process's timers run while a load goes on: the delay every
 * request it times carries on top of the server's answer. A load driver
 * with a busy event loop reports slow answers that the server gave on time.
 *
 * @module
 */

/** Sets a timer of `everyMs`, again and again until stopped; `stop` gives how late each ran, ms. */
export function sampleEventLoopDelay(everyMs: number): { stop(): number[] } {
  const delays: number[] = [];
  let timer: ReturnType<typeof setTimeout>;
  const next = () => {
    const due = performance.now() + everyMs;
    timer = setTimeout(() => {
      delays.push(Math.max(0, performance.now() - due));
      next();
    }, everyMs);
  };
  next();
  return {
    stop() {
      clearTimeout(timer);
      return delays;
    },
  };
}
