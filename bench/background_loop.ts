/**
 * A step repeated in the background with a pause between runs, until
 * stopped: samplers that watch a server while a load runs. Stopping cuts
 * the pause short and waits for the step under way, so nothing of it
 * reaches a server that is shut down next.
 *
 * @module
 */

export function backgroundLoop(
  everyMs: number,
  step: () => Promise<void>,
): { stop(): Promise<void> } {
  let running = true;
  let wake = () => {};
  const loop = async () => {
    while (running) {
      await step();
      if (!running) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, everyMs);
      });
    }
  };
  const done = loop();
  return {
    async stop() {
      running = false;
      wake();
      await done;
    },
  };
}
