'use strict';

// Seeded random inputs for the argument checks at the boundary (keys, ttls, values): every
// call either succeeds and the store then agrees with a model of what it must hold, or
// fails with a typed error that names the bad argument. The addon never crashes and no
// failed call changes the store.

const assert = require('node:assert');
const { seededInts } = require('../helpers/random');
const { MemoryStore, createCache } = require('../../lib');
const { NativeCacheError } = require('../../lib/errors');
const { MAX_TTL } = require('../../lib/options');

const ITERATIONS = Number(process.env.NCM_FUZZ_ITERATIONS || 30_000);
const MAX_KEY_BYTES = 200;

// The same sequence every run, so a failure replays.
function makeRandom(seed) {
  const int = seededInts(seed);
  return { int, pick: (list) => list[int(list.length)] };
}

function randomString(r, maxLength) {
  const length = r.int(maxLength + 1);
  let s = '';
  for (let i = 0; i < length; i++) {
    switch (r.int(6)) {
      case 0: s += String.fromCharCode(r.int(32)); break; // control characters, NUL
      case 1: s += String.fromCharCode(0xd800 + r.int(0x800)); break; // surrogates, often lone
      case 2: s += String.fromCharCode(r.int(0x10000)); break;
      default: s += String.fromCharCode(32 + r.int(95)); break;
    }
  }
  return s;
}

function randomKey(r) {
  if (r.int(20) === 0) {
    return r.pick([undefined, null, 1, 0, NaN, true, {}, [], Symbol('k'), 1n, Buffer.from('k'), () => {}]);
  }
  if (r.int(10) === 0) return r.pick(['__proto__', 'constructor', 'toString', '']);
  // A small alphabet half the time, so keys repeat and overwrite each other.
  return r.int(2) === 0 ? `k${r.int(50)}` : randomString(r, r.int(8) === 0 ? 120 : 12);
}

function randomTtl(r) {
  switch (r.int(12)) {
    case 0: return r.pick([-1, -0.5, -Infinity, NaN, Infinity, MAX_TTL + 1, Number.MAX_VALUE]);
    case 1: return r.pick(['100', null, true, {}, 10n, [5]]);
    case 2: return 0;
    case 3: return r.pick([MAX_TTL, 1e15, 2 ** 53]);
    case 4: return r.int(1_000_000) + 0.25;
    default: return r.int(3) === 0 ? undefined : 600_000 + r.int(600_000);
  }
}

function randomValue(r) {
  switch (r.int(9)) {
    case 0: return randomString(r, 40);
    case 1: return r.int(1000) - 500;
    case 2: return null;
    case 3: return { a: r.int(10), s: randomString(r, 8), nested: [1, { b: true }] };
    case 4: return new Date(r.int(2 ** 31) * 1000);
    case 5: return new Map([[r.int(5), randomString(r, 4)]]);
    case 6: return BigInt(r.int(1e9)) * 10n ** 20n;
    case 7: return Buffer.from(randomString(r, 16));
    default: return [r.int(3), 'x', false];
  }
}

// Keys that are equal once converted to UTF-8 (lone surrogates become U+FFFD) name the same entry.
const identity = (key) => Buffer.from(key, 'utf8').toString('latin1');
// A string value is stored as UTF-8 too, so it comes back well-formed (README: lone surrogates).
const stored = (value) => (typeof value === 'string' ? Buffer.from(value, 'utf8').toString('utf8') : value);

// What a call with these arguments must do: undefined = succeed, or the error it must throw.
// createCache, like cache-manager, reads a null ttl as "the cache's default" (`ttl ?? default`).
function expectedFailure(key, ttl, nullIsDefault = false) {
  if (nullIsDefault && ttl === null) ttl = undefined;
  if (typeof key !== 'string') return { code: 'ERR_INVALID_ARG_TYPE', mentions: 'key' };
  if (ttl !== undefined && (typeof ttl !== 'number' || !(ttl >= 0) || ttl > MAX_TTL)) {
    return { code: 'ERR_INVALID_ARG_VALUE', mentions: 'ttl' };
  }
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) return { code: 'ERR_KEY_TOO_LARGE', mentions: 'key' };
  return undefined;
}

// Values decoded by v8.deserialize come from Node's realm, not the test's: compare with
// Jest's equality (realm-independent), keeping the call in the message.
function sameValue(actual, expected, context) {
  try {
    expect(actual).toEqual(expected);
  } catch (error) {
    throw new Error(`${context}\n${error.message}`);
  }
}

function checkError(error, failure, context) {
  assert.ok(error instanceof NativeCacheError, `${context}: not a NativeCacheError: ${error && error.stack}`);
  assert.strictEqual(error.code, failure.code, `${context}: ${error.message}`);
  assert.ok(error.message.includes(failure.mentions), `${context}: message does not name ${failure.mentions}: ${error.message}`);
}

describe('seeded random arguments at the boundary', () => {
  test(`MemoryStore.setSync/getSync: ${ITERATIONS} calls agree with the model`, () => {
    const r = makeRandom(0x5eed);
    const store = new MemoryStore({ maxKeyBytes: MAX_KEY_BYTES, maxEntries: 1_000_000, sweepInterval: 0 });
    const model = new Map();
    const counts = { ok: 0, refused: 0 };
    try {
      for (let i = 0; i < ITERATIONS; i++) {
        const key = randomKey(r);
        const ttl = randomTtl(r);
        const value = randomValue(r);
        const failure = expectedFailure(key, ttl);
        const context = `call ${i}: set(${typeof key === 'string' ? JSON.stringify(key) : typeof key}, ttl ${String(ttl)})`;
        let error;
        try {
          store.setSync(key, value, ttl);
        } catch (e) {
          error = e;
        }
        if (failure) {
          checkError(error, failure, context);
          counts.refused++;
        } else {
          assert.strictEqual(error, undefined, `${context}: ${error && error.message}`);
          model.set(identity(key), stored(value));
          counts.ok++;
        }
        // Probe a key: the store holds exactly what the model says (no ttl here is under 1 s
        // except ttl 0 = never, so nothing expires during the test).
        if (typeof key === 'string' && Buffer.byteLength(key) <= MAX_KEY_BYTES) {
          sameValue(store.getSync(key), model.get(identity(key)), `${context}: read back`);
        }
      }
      assert.strictEqual(store.stats().entries, model.size);
      expect(counts.ok).toBeGreaterThan(ITERATIONS / 2);
      expect(counts.refused).toBeGreaterThan(ITERATIONS / 20);
    } finally {
      store.disconnect();
    }
  }, 180_000);

  test('createCache.set/get/ttl: the same checks through the cache-manager API', async () => {
    const r = makeRandom(0xcafe);
    const cache = createCache({ stores: [new MemoryStore({ maxKeyBytes: MAX_KEY_BYTES, sweepInterval: 0 })] });
    const n = Math.ceil(ITERATIONS / 10);
    try {
      for (let i = 0; i < n; i++) {
        const key = randomKey(r);
        const ttl = randomTtl(r);
        const value = randomValue(r);
        const failure = expectedFailure(key, ttl, true);
        const context = `call ${i}: set(${typeof key === "string" ? JSON.stringify(key) : typeof key}, ttl ${String(ttl)})`;
        let error;
        const before = Date.now();
        try {
          await cache.set(key, value, ttl);
        } catch (e) {
          error = e;
        }
        if (failure) {
          checkError(error, failure, context);
          continue;
        }
        assert.strictEqual(error, undefined, `${context}: ${error && error.message}`);
        sameValue(await cache.get(key), stored(value), `${context}: read back`);
        const expires = await cache.ttl(key);
        if (ttl === 0) {
          assert.strictEqual(expires, undefined, `${context}: ttl 0 means no expiry`);
        } else if (ttl !== undefined && ttl !== null) {
          assert.ok(expires >= before + Math.floor(ttl) - 1 && expires <= Date.now() + ttl + 1,
            `${context}: expiry ${expires} for ttl ${ttl}`);
        }
      }
    } finally {
      await cache.disconnect();
    }
  }, 180_000);
});
