'use strict';

// Time bounds that hold on a busy machine. A timer never fires early, only late, and on a
// loaded machine (a shared CI runner, a laptop compiling something) it can be hundreds of
// milliseconds late. Tests that check "this happened within the time the design allows"
// measure how late this process's own timers ran during the scenario and add that to the
// design's bound, so a slow machine gives a slow pass and a real delay still fails.

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts watching how late this thread's timers fire (every `periodMs`).
 * `worst()` is the largest lateness seen so far in ms; `stop()` ends the watch and returns it.
 */
function watchTimerLag(periodMs = 10) {
  let worst = 0;
  let due = performance.now() + periodMs;
  const timer = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - due);
    due = now + periodMs;
  }, periodMs);
  timer.unref();
  return {
    worst: () => worst,
    stop() {
      clearInterval(timer);
      return worst;
    },
  };
}

/**
 * A bound for "within `designMs`": the design's figure, plus twice the worst timer lateness
 * seen (one late timer to start the work, one to observe its end), plus a fixed margin.
 */
function allowing(designMs, lagMs, marginMs = 100) {
  return designMs + 2 * lagMs + marginMs;
}

module.exports = { sleep, watchTimerLag, allowing };
