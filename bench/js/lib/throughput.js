'use strict';

/**
 * Times a batch-running function: warms it up, picks a batch size that takes a few
 * milliseconds, and returns the median ns/op over several batches.
 *
 * `runBatch(n)` performs n operations (returns a promise when `async`).
 */

const { median } = require('./stats');

function nowNs() {
  return Number(process.hrtime.bigint());
}

async function measureThroughput(runBatch, { async = false, quick = false } = {}) {
  const warmupMs = quick ? 5 : 300;
  const batchMs = quick ? 2 : 25;
  const batches = quick ? 3 : 15;

  const timeBatch = async (n) => {
    const t0 = nowNs();
    if (async) await runBatch(n);
    else runBatch(n);
    return nowNs() - t0;
  };

  // Warm-up, growing the batch until one takes at least batchMs.
  let n = 64;
  const warmEnd = nowNs() + warmupMs * 1e6;
  let elapsed = await timeBatch(n);
  while (nowNs() < warmEnd || elapsed < batchMs * 1e6) {
    if (elapsed < batchMs * 1e6) n *= 2;
    elapsed = await timeBatch(n);
  }
  const samples = [];
  for (let b = 0; b < batches; b++) samples.push((await timeBatch(n)) / n);
  return { nsPerOp: median(samples), batch: n, batches };
}

module.exports = { measureThroughput, nowNs };
