'use strict';

/**
 * A closed-loop load: `concurrency` callers, each issuing its next call when the last one
 * answered. A warm-up of a quarter of `seconds`, then `seconds` measured.
 * @param {{concurrency: number, seconds: number, step: (n: number) => Promise<number>}} options
 *   `step(n)` makes one call, the n-th of its caller (callers start at different n), and
 *   resolves with the number of wrong values it saw
 * @returns {Promise<{opsPerSec: number, p50: number, p99: number, wrong: number}>} latencies in µs
 */
async function closedLoop({ concurrency, seconds, step }) {
  // The harness's own cost per call is kept small and the same for every client: a clock
  // read that allocates nothing (a double, not a BigInt) and a preallocated sample buffer
  // that doubles when full, so its growth does not add garbage-collection work per call.
  const now = performance.now.bind(performance);
  let latencies = new Float64Array(1 << 16);
  let ops = 0;
  let wrong = 0;
  let measuring = false;
  let stop = false;
  const record = (us) => {
    if (ops === latencies.length) {
      const bigger = new Float64Array(latencies.length * 2);
      bigger.set(latencies);
      latencies = bigger;
    }
    latencies[ops++] = us;
  };
  const caller = async (c) => {
    let n = c * 7919;
    while (!stop) {
      const t0 = now();
      wrong += await step(n++);
      if (measuring) record((now() - t0) * 1000);
    }
  };
  const callers = Array.from({ length: concurrency }, (_, c) => caller(c));
  await new Promise((r) => setTimeout(r, seconds * 250));
  measuring = true;
  const started = now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  measuring = false;
  const elapsed = (now() - started) / 1000;
  stop = true;
  await Promise.all(callers);
  const sorted = latencies.subarray(0, ops).sort();
  const pct = (p) => sorted[Math.min(ops - 1, Math.floor(ops * p))];
  return { opsPerSec: ops / elapsed, p50: pct(0.5), p99: pct(0.99), wrong };
}

module.exports = { closedLoop };
