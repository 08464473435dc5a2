'use strict';

// Load for the fault tests: many callers of one client, each op recorded with when it
// started and ended and how it settled, so a test can check that every op settled, that no
// value came back for the wrong key, and how long the failures took.
const util = require('node:util');
const { sleep } = require('./timing');

/** The rejection of `promise` (fails the test when it resolves). */
async function rejectionOf(promise) {
  let value;
  try {
    value = await promise;
  } catch (error) {
    return error;
  }
  throw new Error(`expected a rejection; resolved with ${util.inspect(value)}`);
}

/**
 * Values that say which key and which write they belong to: `${key}:v${n}:${payload}`.
 * @param {string} payload
 */
function versionedValues(payload) {
  return {
    versioned: (key, v) => `${key}:v${v}:${payload}`,
    isOwn: (key, value) => typeof value === 'string' && value.startsWith(`${key}:v`)
      && /^\d+$/.test(value.slice(key.length + 2, -payload.length - 1)) && value.endsWith(`:${payload}`),
  };
}

/**
 * Runs `concurrency` callers of `client` until `until(lastOkStart)` is true, where
 * `lastOkStart` is when the latest successful op started. Caller `w`'s op `n` uses key
 * `keyOf(w, n)`: a SET of `versioned(key, w * 1_000_000 + n)` every `setEvery`th op (0: never),
 * otherwise a GET whose value must pass `isOwn(key, value)`.
 *
 * Each op: { start, end, ok, wrong } when it resolved, { start, end, code, tlsCode, typed }
 * when it rejected (`typed`: a string code and a message naming `address`). After a
 * rejection the caller pauses `pauseAfterErrorMs`, as one serving a miss would, instead of
 * spinning on fail-fast errors. `counts` (issued, settled) is updated as it goes.
 * @returns {Promise<object[]>} the ops, in the order they settled
 */
async function runLoad(client, {
  concurrency, until, keyOf, isOwn, versioned, setEvery = 5, address, pauseAfterErrorMs = 0,
  counts = { issued: 0, settled: 0 },
}) {
  const ops = [];
  let lastOkStart = -Infinity;
  async function caller(w) {
    for (let n = 0; !until(lastOkStart); n++) {
      const key = keyOf(w, n);
      const op = { start: performance.now() };
      counts.issued++;
      try {
        if (setEvery > 0 && n % setEvery === setEvery - 1) {
          op.ok = (await client.command(['SET', key, versioned(key, w * 1_000_000 + n)])) === 'OK';
        } else {
          op.ok = isOwn(key, await client.command(['GET', key]));
        }
        op.wrong = !op.ok;
        if (op.ok) lastOkStart = op.start;
      } catch (error) {
        op.code = error.code;
        op.tlsCode = error.tlsCode;
        op.typed = typeof error.code === 'string' && (address === undefined || error.message.includes(address));
      }
      op.end = performance.now();
      counts.settled++;
      ops.push(op);
      if (op.code !== undefined && pauseAfterErrorMs > 0) await sleep(pauseAfterErrorMs);
    }
  }
  await Promise.all(Array.from({ length: concurrency }, (_, w) => caller(w)));
  return ops;
}

module.exports = { rejectionOf, versionedValues, runLoad };
