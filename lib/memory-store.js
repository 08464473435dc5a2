'use strict';

/**
 * MemoryStore: the off-heap native memory store, as a Keyv 5 storage adapter and as a
 * fast tier for `createCache`.
 */

const { EventEmitter } = require('node:events');
const binding = require('./binding');
const { resolveCodec, TAG_JSON, TAG_STRING } = require('./serializer');
const { describe } = require('./describe');
const { validateOptions, checkKey, checkTtl } = require('./options');
const { kTier } = require('./tier');
const { DecodedCache, deepFreeze } = require('./decoded-cache');
const {
  InvalidArgumentError, KeyTooLargeError, ValueTooLargeError, StoreClosedError,
} = require('./errors');

const MiB = 1024 * 1024;

/** Defaults, documented in the README and index.d.ts. */
const MEMORY_STORE_DEFAULTS = Object.freeze({
  maxEntries: 1_000_000,
  maxBytes: 256 * MiB,
  maxValueBytes: 64 * MiB,
  maxKeyBytes: 64 * 1024,
  sweepInterval: 1000,
  decodedCacheBytes: 64 * MiB,
  frozen: false,
});

const OPTION_SPEC = {
  maxEntries: { type: 'integer', min: 1, max: 2 ** 40, default: MEMORY_STORE_DEFAULTS.maxEntries },
  maxBytes: { type: 'integer', min: 1024, max: 2 ** 50, default: MEMORY_STORE_DEFAULTS.maxBytes },
  maxValueBytes: { type: 'integer', min: 0, max: 2 ** 32 - 1, default: MEMORY_STORE_DEFAULTS.maxValueBytes },
  maxKeyBytes: { type: 'integer', min: 0, max: 2 ** 32 - 1, default: MEMORY_STORE_DEFAULTS.maxKeyBytes },
  sweepInterval: { type: 'integer', min: 0, max: 2 ** 31 - 1, default: MEMORY_STORE_DEFAULTS.sweepInterval },
  decodedCacheBytes: { type: 'integer', min: 0, max: 2 ** 40, default: MEMORY_STORE_DEFAULTS.decodedCacheBytes },
  frozen: { type: 'boolean', default: MEMORY_STORE_DEFAULTS.frozen },
  namespace: { type: 'string', default: undefined },
  serializer: {
    type: 'any',
    allowed: "'auto', 'json', 'v8' or { serialize, deserialize }",
    check: (v) => v === 'auto' || v === 'json' || v === 'v8' ||
      (v !== null && typeof v === 'object' && typeof v.serialize === 'function' &&
        typeof v.deserialize === 'function'),
    default: 'auto',
  },
};

function translateNativeError(error) {
  switch (error?.code) {
    case 'ERR_KEY_TOO_LARGE':
      return new KeyTooLargeError(`set: ${error.message}`);
    case 'ERR_VALUE_TOO_LARGE':
      return new ValueTooLargeError(`set: ${error.message}`);
    case 'ERR_STORE_CLOSED':
      return new StoreClosedError();
    default:
      return error;
  }
}

/** What #read returns for a missing key (a stored value may itself be undefined). */
const MISS = Symbol('miss');

// Stops the sweep timer of a store that was garbage-collected without disconnect().
const sweepTimers = new FinalizationRegistry((timer) => clearInterval(timer));

/**
 * The native memory store. Entries live outside the JS heap; values are encoded in through
 * the configured serializer, and every read hands out a fresh value (decoded again, or a
 * deep copy of a decoded master kept on the JS heap, see lib/decoded-cache.js), so a cached
 * object can never be mutated by a caller. With `frozen: true`, strings and JSON values are
 * handed out shared and deep-frozen instead (the master itself): no copy, and still no way
 * for a caller to change what the cache holds.
 */
class MemoryStore extends EventEmitter {
  #native;
  // Written by the native store on every hit: [tag, expiry, generation, read before (0/1),
  // slot of a decoded master (0 = none)].
  #meta = new Float64Array(5);
  #codec;
  #decoded;
  #encodeOut = { tag: 0 };
  #closed = false;
  #sweepTimer;
  #sweeping = false;
  #frozen;
  #tier;

  /**
   * @param {object} [options] see README "MemoryStore options"
   */
  constructor(options) {
    super();
    const opts = validateOptions('MemoryStore', options, OPTION_SPEC);
    this.opts = opts;
    /** Keyv sets this; `clear()` then removes only keys under `${namespace}:`. */
    this.namespace = opts.namespace;
    this.#codec = resolveCodec(opts.serializer);
    this.#native = new binding.MemoryStoreWrap({
      maxEntries: opts.maxEntries,
      maxBytes: opts.maxBytes,
      maxValueBytes: opts.maxValueBytes,
      maxKeyBytes: opts.maxKeyBytes,
    }, this.#meta);
    this.#frozen = opts.frozen;
    if (opts.decodedCacheBytes > 0) {
      this.#decoded = new DecodedCache(opts.decodedCacheBytes, this.#native,
        { frozen: opts.frozen, clock: binding.wallClockMs });
    }
    if (opts.sweepInterval > 0) this.#startSweep(opts.sweepInterval);
  }

  #startSweep(interval) {
    const ref = new WeakRef(this);
    const timer = setInterval(() => {
      const store = ref.deref();
      if (store === undefined) clearInterval(timer);
      else store.#sweepOnce();
    }, interval);
    timer.unref();
    this.#sweepTimer = timer;
    sweepTimers.register(this, timer, this);
  }

  #sweepOnce() {
    if (this.#sweeping || this.#closed) return;
    this.#sweeping = true;
    this.#native.sweep().then(
      () => { this.#sweeping = false; },
      (error) => { this.#sweeping = false; this.emit('error', error); });
  }

  /** Removes expired entries now (normally done by the background sweep). */
  async sweep() {
    this.#checkOpen();
    return this.#native.sweep();
  }

  #checkOpen() {
    if (this.#closed) throw new StoreClosedError('the memory store is closed: disconnect() was called');
  }

  // --- synchronous core, shared by the Keyv methods and the createCache tier -------------

  /** @returns {unknown} the value, or undefined on a miss */
  getSync(key) {
    checkKey('get', key);
    this.#checkOpen();
    const value = this.#read(key);
    return value === MISS ? undefined : value;
  }

  /** @returns {{value: unknown, expires: number|undefined}|undefined} */
  getEntrySync(key) {
    checkKey('get', key);
    this.#checkOpen();
    const value = this.#read(key);
    if (value === MISS) return undefined;
    const expires = this.#meta[1];
    return { value, expires: expires === 0 ? undefined : expires };
  }

  /** The value of `key`, or MISS; after a hit `#meta[1]` holds the entry's expiry. */
  #read(key) {
    const decoded = this.#decoded;
    if (decoded !== undefined) {
      // A master still valid by the board: served without a native call.
      const kept = decoded.hit(key);
      if (kept !== undefined) {
        this.#meta[1] = kept.expiresAt;
        return kept.copy();
      }
    }
    const answer = this.#native.get(key, decoded !== undefined);
    if (answer === true) {
      // The entry carries the slot of a decoded master (see lib/decoded-cache.js).
      const meta = this.#meta;
      const kept = decoded.at(meta[4] | 0, meta[2]); // a slot is below 2^32: an int index
      if (kept !== undefined) return kept.copy();
      // A hint without its master should not happen (masters are dropped only after
      // their entry's hint is cleared); if it does, read the value itself.
      decoded.forget(meta[4]);
      this.#native.setDecodedSlot(key, meta[2], 0);
      const payload = this.#native.get(key, false);
      return payload === undefined ? MISS : this.#decode(key, payload);
    }
    return answer === undefined ? MISS : this.#decode(key, answer);
  }

  /** Decodes the payload the last native get returned (its tag etc. are in #meta). */
  #decode(key, payload) {
    const meta = this.#meta;
    const tag = meta[0];
    // An entry read before is worth a decoded master copy (see lib/decoded-cache.js); with
    // `frozen`, every JSON value is frozen and shared from its first read.
    if ((meta[3] === 1 || this.#frozen) && meta[4] === 0 && this.#decoded !== undefined &&
        (tag === TAG_JSON || tag === TAG_STRING)) {
      return this.#decoded.keep(key, tag, payload, meta[2], meta[1]);
    }
    const value = this.#codec.decode(tag, payload);
    return this.#frozen && tag === TAG_JSON ? deepFreeze(value) : value;
  }

  /**
   * @param {string} key
   * @param {unknown} value
   * @param {number} [ttl] milliseconds; 0 or undefined = no expiry
   */
  setSync(key, value, ttl) {
    checkKey('set', key);
    checkTtl('set', ttl);
    this.#checkOpen();
    this.setUntilSync(key, value, ttl ? Date.now() + ttl : 0);
  }

  /**
   * Stores `value` with an absolute expiry (epoch ms; 0 = never).
   * @param {string} key
   * @param {unknown} value
   * @param {number} expiresAt
   */
  setUntilSync(key, value, expiresAt) {
    const out = this.#encodeOut;
    const payload = this.#codec.encode(value, out);
    try {
      this.#native.set(key, payload, out.tag, expiresAt);
    } catch (error) {
      throw translateNativeError(error);
    }
  }

  /** @returns {boolean} whether a live entry was removed */
  deleteSync(key) {
    checkKey('delete', key);
    this.#checkOpen();
    return this.#native.delete(key);
  }

  /** @returns {boolean} */
  hasSync(key) {
    checkKey('has', key);
    this.#checkOpen();
    return this.#native.has(key);
  }

  /** @returns {number|undefined} absolute expiry in epoch ms; undefined if missing or no expiry */
  expiresAtSync(key) {
    checkKey('ttl', key);
    this.#checkOpen();
    const at = this.#native.expiresAt(key);
    return at > 0 ? at : undefined;
  }

  /** Removes this store's namespace, or everything when it has none. */
  clearSync() {
    this.#checkOpen();
    if (this.namespace) {
      this.#native.deletePrefix(`${this.namespace}:`);
      this.#decoded?.dropPrefix(`${this.namespace}:`);
    } else {
      this.#native.clear();
      this.#decoded?.clear();
    }
  }

  /**
   * Counters and sizes: hits, misses, sets, deletes, evictions, expirations, entries, bytes,
   * and the decoded copies kept on the JS heap: decodedEntries, decodedBytes (estimated),
   * decodedHits (hits served from them without a native call, counted in `hits` too).
   */
  stats() {
    this.#checkOpen();
    const stats = this.#native.stats();
    const decodedHits = this.#decoded?.hits ?? 0;
    stats.hits += decodedHits;
    stats.decodedEntries = this.#decoded?.size ?? 0;
    stats.decodedBytes = this.#decoded?.bytes ?? 0;
    stats.decodedHits = decodedHits;
    return stats;
  }

  // --- Keyv 5 storage adapter ------------------------------------------------------------

  async get(key) { return this.getSync(key); }

  async set(key, value, ttl) {
    this.setSync(key, value, ttl);
    return true;
  }

  async delete(key) { return this.deleteSync(key); }

  async has(key) { return this.hasSync(key); }

  async clear() { this.clearSync(); }

  async getMany(keys) {
    checkArray('getMany', keys);
    return keys.map((key) => this.getSync(key));
  }

  async setMany(entries) {
    checkArray('setMany', entries);
    return entries.map((entry) => {
      this.setSync(entry.key, entry.value, entry.ttl);
      return true;
    });
  }

  async deleteMany(keys) {
    checkArray('deleteMany', keys);
    let removed = false;
    for (const key of keys) removed = this.deleteSync(key) || removed;
    return removed;
  }

  /** Frees every entry and stops the sweep; later calls reject with StoreClosedError. */
  async disconnect() {
    if (this.#closed) return;
    this.#closed = true;
    this.#decoded?.clear();
    if (this.#sweepTimer) {
      clearInterval(this.#sweepTimer);
      sweepTimers.unregister(this);
    }
    this.#native.close();
  }

  /** The fast path used by createCache (see lib/tier.js). */
  get [kTier]() {
    if (this.#tier === undefined) this.#tier = memoryTier(this);
    return this.#tier;
  }
}

function checkArray(method, value) {
  if (!Array.isArray(value)) {
    throw new InvalidArgumentError(`${method}: expected an array; received ${describe(value)}`,
      'ERR_INVALID_ARG_TYPE');
  }
}

/**
 * The createCache tier of a store. Keys get the store's namespace (`${namespace}:key`) when
 * it has one, exactly as Keyv prefixes them, so `clear()` (which removes only that
 * namespace) and a Keyv sharing the store see the same entries.
 * @returns {import('./tier').TierOps}
 */
function memoryTier(store) {
  const k = (key) => {
    if (typeof key !== 'string') return key; // the store reports the typed error
    const ns = store.namespace;
    return ns ? `${ns}:${key}` : key;
  };
  return {
    get: (key) => store.getSync(k(key)),
    getEntry: (key) => store.getEntrySync(k(key)),
    getMany: (keys) => keys.map((key) => store.getSync(k(key))),
    set: (key, value, ttl) => store.setSync(k(key), value, ttl),
    setMany: (entries) => {
      for (const e of entries) store.setSync(k(e.key), e.value, e.ttl);
    },
    delete: (key) => store.deleteSync(k(key)),
    deleteMany: (keys) => {
      let removed = false;
      for (const key of keys) removed = store.deleteSync(k(key)) || removed;
      return removed;
    },
    clear: () => store.clearSync(),
    disconnect: () => store.disconnect(),
  };
}

module.exports = { MemoryStore, MEMORY_STORE_DEFAULTS };
