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
  const latencies = [];
  let ops = 0;
  let wrong = 0;
  let measuring = false;
  let stop = false;
  const caller = async (c) => {
    let n = c * 7919;
    while (!stop) {
      const t0 = process.hrtime.bigint();
      wrong += await step(n++);
      if (measuring) {
        latencies.push(Number(process.hrtime.bigint() - t0) / 1000);
        ops++;
      }
    }
  };
  const callers = Array.from({ length: concurrency }, (_, c) => caller(c));
  await new Promise((r) => setTimeout(r, seconds * 250));
  measuring = true;
  const started = process.hrtime.bigint();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  measuring = false;
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  stop = true;
  await Promise.all(callers);
  latencies.sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))];
  return { opsPerSec: ops / elapsed, p50: pct(0.5), p99: pct(0.99), wrong };
}

module.exports = { closedLoop };
