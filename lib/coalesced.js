'use strict';

/**
 * A task that callers share: `run()` while it runs returns the same promise, and a new run
 * starts no sooner than `minIntervalMs` after the last one ended, so a storm of callers (every
 * command that saw a MOVED, every call that lost the primary) makes one run, not one each.
 * @param {() => Promise<unknown>} task
 * @param {number} minIntervalMs
 * @returns {{run: () => Promise<unknown>}}
 */
function coalesced(task, minIntervalMs) {
  let running;
  let lastEnded = 0;
  return {
    run() {
      if (running !== undefined) return running;
      const wait = lastEnded + minIntervalMs - Date.now();
      // The pause is not unref'd: a caller waits on it, and the process must not exit under it.
      running = (wait > 0 ? new Promise((resolve) => setTimeout(resolve, wait)) : Promise.resolve())
        .then(task)
        .finally(() => {
          lastEnded = Date.now();
          running = undefined;
        });
      return running;
    },
  };
}

module.exports = { coalesced };
