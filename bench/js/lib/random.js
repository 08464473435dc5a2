'use strict';

/**
 * Seeded pseudo-random numbers and a Zipf sampler, so every competitor sees exactly the
 * same trace in every run.
 */

/** mulberry32: a tiny 32-bit generator, good enough for traces. @returns {() => number} in [0,1) */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher-Yates permutation of 0..n-1. */
function permutation(n, random) {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

/**
 * A trace of `length` key ids drawn from a Zipf(alpha) law over `keys` ids. Rank r (1-based)
 * has weight 1/r^alpha; ranks are mapped to ids through a random permutation so that
 * popular keys are not neighbours in any hash table.
 * @returns {Uint32Array}
 */
function zipfTrace({ keys, length, alpha, seed }) {
  const random = rng(seed);
  const cdf = new Float64Array(keys);
  let sum = 0;
  for (let r = 0; r < keys; r++) {
    sum += 1 / Math.pow(r + 1, alpha);
    cdf[r] = sum;
  }
  const ids = permutation(keys, random);
  const trace = new Uint32Array(length);
  for (let i = 0; i < length; i++) {
    const u = random() * sum;
    let lo = 0;
    let hi = keys - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    trace[i] = ids[lo];
  }
  return trace;
}

module.exports = { rng, permutation, zipfTrace };
