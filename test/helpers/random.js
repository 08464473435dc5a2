'use strict';

/**
 * xorshift32: a deterministic pseudo-random sequence, so a failing generated case replays.
 * Returns a function that answers an integer in [0, n).
 * @param {number} seed
 */
function seededInts(seed) {
  let x = seed >>> 0 || 1;
  return (n) => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x % n;
  };
}

module.exports = { seededInts };
