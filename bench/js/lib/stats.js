'use strict';

/** Small statistics helpers shared by the scenarios and the runner. */

/** @param {number[]} xs @returns {number} the median (NaN for an empty list) */
function median(xs) {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/**
 * Nearest-rank percentile of a sorted typed array or array.
 * @param {ArrayLike<number>} sorted ascending
 * @param {number} p in [0, 100]
 */
function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))];
}

module.exports = { median, percentile };
