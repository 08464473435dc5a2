'use strict';

/**
 * Waiting on shared work: a task callers share, and a deadline for one caller's wait.
 */

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

/**
 * `promise`, or `makeError()` as a rejection once `ms` have passed, whichever comes first. The
 * promise goes on (a shared task serves its other callers); its outcome is then ignored here.
 * @template T
 * @param {Promise<T>} promise
 * @param {number} ms
 * @param {() => Error} makeError
 * @returns {Promise<T>}
 */
async function beforeDeadline(promise, ms, makeError) {
  let timer;
  const late = new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(makeError()), Math.max(0, ms));
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

module.exports = { coalesced, beforeDeadline };
