'use strict';

/**
 * createCache: the cache-manager 7.2.9 API over our stores and Keyv instances.
 *
 * The methods are own arrow-function properties (like cache-manager's object of closures),
 * so `const { get, wrap } = cache` keeps working. Tiers answer synchronously (memory) or
 * with promises (Redis, Keyv); every path checks for a promise before awaiting, so a
 * synchronous tier costs no extra promise hops, and event payloads are only built when
 * somebody listens.
 */

const { EventEmitter } = require('node:events');
const { kTier } = require('./tier');
const { isKeyvLike, keyvTier } = require('./keyv-tier');
const {
  registryFor, releaseRegistry, runLoad, runDetached, isInside,
} = require('./wrap-context');
const { MemoryStore } = require('./memory-store');
const { validateOptions } = require('./options');
const { describe } = require('./describe');
const {
  InvalidArgumentError, CacheDisconnectedError, WrapRecursionError, DisconnectError,
} = require('./errors');

/** Default of `disconnect({ timeout })`, in milliseconds. */
const DEFAULT_DISCONNECT_TIMEOUT = 5000;

/** Default of `refreshLockTtl`: how long a refresh lock lives if its holder never releases it. */
const DEFAULT_REFRESH_LOCK_TTL = 10_000;

const OPTION_SPEC = {
  stores: {
    type: 'any',
    allowed: 'an array of stores (MemoryStore, RedisStore or Keyv instances)',
    check: Array.isArray,
    default: undefined,
  },
  ttl: { type: 'number', min: 0, max: Number.MAX_SAFE_INTEGER, default: undefined },
  refreshThreshold: { type: 'number', min: 0, max: Number.MAX_SAFE_INTEGER, default: undefined },
  refreshAllStores: { type: 'boolean', default: false },
  nonBlocking: { type: 'boolean', default: false },
  cacheId: { type: 'string', default: undefined },
  waitUntil: { type: 'function', default: undefined },
  refreshLock: { type: 'boolean', default: true },
  refreshLockTtl: { type: 'integer', min: 1, max: 2 ** 31 - 1, default: DEFAULT_REFRESH_LOCK_TTL },
};

const DISCONNECT_SPEC = {
  timeout: { type: 'number', min: 0, max: 2 ** 31 - 1, default: DEFAULT_DISCONNECT_TIMEOUT },
};

const storeLabel = (i) => (i === 0 ? 'primary' : `secondary:${i - 1}`);

function isThenable(value) {
  return value !== null && typeof value === 'object' && typeof value.then === 'function';
}

function toTier(store, index) {
  if (store !== null && typeof store === 'object' && store[kTier] !== undefined) return store[kTier];
  if (isKeyvLike(store)) return keyvTier(store);
  throw new InvalidArgumentError(
    `createCache: option 'stores[${index}]' must be a MemoryStore, a RedisStore or a Keyv instance; ` +
    `received ${describe(store)}`, 'ERR_INVALID_ARG_TYPE');
}

function rejectDisconnected() {
  return Promise.reject(new CacheDisconnectedError());
}

function rejectKey(method, key) {
  return Promise.reject(new InvalidArgumentError(
    `${method}: key must be a string; received ${describe(key)}`, 'ERR_INVALID_ARG_TYPE'));
}

function rejectArgument(message) {
  return Promise.reject(new InvalidArgumentError(message, 'ERR_INVALID_ARG_TYPE'));
}

function badKeyList(method, name, keys) {
  if (!Array.isArray(keys)) return `${method}: ${name} must be an array; received ${describe(keys)}`;
  for (const key of keys) {
    if (typeof key !== 'string') return `${method}: every key must be a string; received ${describe(key)}`;
  }
  return undefined;
}

/**
 * Runs `op(tier, i)` on every tier (all of them, like cache-manager's Promise.all, even
 * when one throws). Returns undefined when every tier answered synchronously and
 * successfully, otherwise a promise that settles like Promise.all over the answers.
 */
function fanOut(tiers, op) {
  let pending;
  for (let i = 0; i < tiers.length; i++) {
    let result;
    try {
      result = op(tiers[i], i);
    } catch (error) {
      result = Promise.reject(error);
    }
    if (isThenable(result)) (pending ??= []).push(result);
  }
  return pending === undefined ? undefined : Promise.all(pending);
}

/**
 * A cache with the cache-manager 7.2.9 API. Create it with {@link createCache}.
 */
class Cache {
  #tiers;
  #single;
  #emitter = new EventEmitter();
  #defaultTtl;
  #defaultThreshold;
  #refreshAllStores;
  #nonBlocking;
  #waitUntil;
  #cacheId;
  #flights;
  #refreshes;
  #closed = false;
  #disconnecting;
  #background = new Set();
  #foreground = new Set();
  #lockIndex;
  #lockTtl;

  /** @param {object} [options] */
  constructor(options) {
    const opts = validateOptions('createCache', options, OPTION_SPEC);
    const stores = opts.stores?.length ? opts.stores.slice() : [new MemoryStore()];
    this.#tiers = stores.map(toTier);
    this.#single = this.#tiers.length === 1 ? this.#tiers[0] : undefined;
    this.#defaultTtl = opts.ttl;
    this.#defaultThreshold = opts.refreshThreshold;
    this.#refreshAllStores = opts.refreshAllStores;
    this.#nonBlocking = opts.nonBlocking;
    this.#waitUntil = opts.waitUntil;
    // Refreshes are coordinated through the lowest tier that can hold a lock (Redis): it
    // is the one every process shares.
    this.#lockIndex = opts.refreshLock
      ? this.#tiers.findLastIndex((tier) => typeof tier.tryLock === 'function' &&
        typeof tier.unlock === 'function')
      : -1;
    this.#lockTtl = opts.refreshLockTtl;
    this.#cacheId = opts.cacheId ?? Math.random().toString(36).slice(2);
    const registry = registryFor(this.#cacheId, this);
    this.#flights = registry.flights;
    this.#refreshes = registry.refreshes;
    /** The stores, in tier order (what was passed in `stores`, or the default MemoryStore). */
    this.stores = stores;
  }

  // --- events ------------------------------------------------------------------------------

  #listening(name) {
    return this.#emitter.listenerCount(name) !== 0;
  }

  #emit(name, payload) {
    if (this.#emitter.listenerCount(name) !== 0) this.#emitter.emit(name, payload);
  }

  /** Reports a failure nobody awaits: its own event, then `error` (when listened to). */
  #reportBackground(name, payload, error) {
    this.#emit(name, payload);
    if (this.#listening('error')) this.#emitter.emit('error', error);
  }

  #track(set, promise) {
    set.add(promise);
    promise.then(() => set.delete(promise));
  }

  /**
   * Finishes a write-like call: `pending` is undefined (all tiers done) or the fan-out
   * promise. Emits `name` with `payload` like cache-manager and resolves with `result`.
   */
  #finish(pending, name, payload, errorPayload, result) {
    if (pending === undefined) {
      this.#emit(name, payload);
      return Promise.resolve(result);
    }
    if (this.#nonBlocking) {
      this.#track(this.#background, pending.then(undefined,
        (error) => this.#reportBackground(name, errorPayload(error), error)));
      this.#emit(name, payload);
      return Promise.resolve(result);
    }
    return pending.then(() => {
      this.#emit(name, payload);
      return result;
    }, (error) => {
      this.#emit(name, errorPayload(error));
      throw error;
    });
  }

  /**
   * Writes one entry to `tiers` in parallel, emitting a `set` event per store and one for
   * the whole call. With `wait` the returned promise waits for every store even in
   * non-blocking mode (used by refreshes).
   */
  #write(tiers, key, value, ttl, wait) {
    let pending;
    let failed = false;
    let failure;
    for (let i = 0; i < tiers.length; i++) {
      let result;
      try {
        result = tiers[i].set(key, value, ttl);
      } catch (error) {
        if (!failed) {
          failed = true;
          failure = error;
        }
        continue;
      }
      if (isThenable(result)) {
        (pending ??= []).push(result.then(() => this.#emit('set', { key, value, store: storeLabel(i) })));
      } else if (this.#listening('set')) {
        this.#emitter.emit('set', { key, value, store: storeLabel(i) });
      }
    }
    if (pending === undefined && !failed) {
      if (this.#listening('set')) this.#emitter.emit('set', { key, value });
      return Promise.resolve(value);
    }
    let all;
    if (pending === undefined) {
      all = Promise.reject(failure);
    } else {
      if (failed) pending.push(Promise.reject(failure));
      all = Promise.all(pending);
    }
    if (this.#nonBlocking && !wait) {
      this.#track(this.#background, all.then(undefined,
        (error) => this.#reportBackground('set', { key, value, error }, error)));
      this.#emit('set', { key, value });
      return Promise.resolve(value);
    }
    return all.then(() => {
      this.#emit('set', { key, value });
      return value;
    }, (error) => {
      this.#emit('set', { key, value, error });
      throw error;
    });
  }

  // --- reads -------------------------------------------------------------------------------

  /**
   * @param {string} key
   * @returns {Promise<unknown>} the value, or undefined on a miss
   */
  get = (key) => {
    if (this.#closed) return rejectDisconnected();
    if (typeof key !== 'string') return rejectKey('get', key);
    const tier = this.#single;
    if (tier === undefined) return this.#nonBlocking ? this.#getFirstHit(key) : this.#getInOrder(key);
    let value;
    try {
      value = tier.get(key);
    } catch (error) {
      this.#getFailed(key, error, 0);
      return Promise.resolve(undefined);
    }
    if (isThenable(value)) {
      return value.then((v) => {
        if (v !== undefined && !this.#nonBlocking) this.#emit('get', { key, value: v, store: 'primary' });
        return v;
      }, (error) => {
        this.#getFailed(key, error, 0);
        return undefined;
      });
    }
    if (value !== undefined && !this.#nonBlocking && this.#listening('get')) {
      this.#emitter.emit('get', { key, value, store: 'primary' });
    }
    return Promise.resolve(value);
  };

  #getFailed(key, error, i) {
    if (!this.#listening('get')) return;
    this.#emitter.emit('get', this.#nonBlocking ? { key, error } : { key, error, store: storeLabel(i) });
  }

  async #getInOrder(key) {
    const tiers = this.#tiers;
    for (let i = 0; i < tiers.length; i++) {
      try {
        let value = tiers[i].get(key);
        if (isThenable(value)) value = await value;
        if (value !== undefined) {
          this.#emit('get', { key, value, store: storeLabel(i) });
          return value;
        }
      } catch (error) {
        this.#getFailed(key, error, i);
      }
    }
    return undefined;
  }

  /**
   * Asks every tier at once and resolves with the first hit (cache-manager races the tiers
   * and lets a fast miss win over a slower hit).
   */
  #getFirstHit(key) {
    return this.#firstHit((tier) => tier.get(key), (error) => this.#getFailed(key, error, 0));
  }

  #firstHit(read, onError) {
    const tiers = this.#tiers;
    return new Promise((resolve) => {
      let left = tiers.length;
      let done = false;
      const onValue = (value) => {
        left--;
        if (done) return;
        if (value !== undefined || left === 0) {
          done = true;
          resolve(value);
        }
      };
      const onFailure = (error) => {
        left--;
        onError(error);
        if (!done && left === 0) {
          done = true;
          resolve(undefined);
        }
      };
      for (const tier of tiers) {
        let value;
        try {
          value = read(tier);
        } catch (error) {
          onFailure(error);
          continue;
        }
        if (isThenable(value)) value.then(onValue, onFailure);
        else onValue(value);
      }
    });
  }

  /**
   * @param {string[]} keys
   * @returns {Promise<unknown[]>} one value (or undefined) per key
   */
  mget = (keys) => {
    if (this.#closed) return rejectDisconnected();
    const bad = badKeyList('mget', 'keys', keys);
    if (bad !== undefined) return rejectArgument(bad);
    return this.#nonBlocking ? this.#mgetFirstHits(keys) : this.#mgetInOrder(keys);
  };

  async #mgetInOrder(keys) {
    const result = keys.map(() => undefined);
    for (const tier of this.#tiers) {
      try {
        const missing = [];
        for (let i = 0; i < result.length; i++) if (result[i] === undefined) missing.push(i);
        if (missing.length === 0) break;
        let values = tier.getMany(missing.length === keys.length ? keys : missing.map((i) => keys[i]));
        if (isThenable(values)) values = await values;
        for (let j = 0; j < missing.length; j++) {
          if (values[j] !== undefined) result[missing[j]] = values[j];
        }
      } catch (error) {
        this.#emit('mget', { keys, error });
      }
    }
    this.#emit('mget', { keys, values: result });
    return result;
  }

  /** Every tier at once; each key takes the first hit any tier gives it. */
  async #mgetFirstHits(keys) {
    const result = keys.map(() => undefined);
    await new Promise((resolve) => {
      let left = this.#tiers.length;
      let unresolved = keys.length;
      let done = false;
      const finish = () => {
        if (!done && (left === 0 || unresolved === 0)) {
          done = true;
          resolve();
        }
      };
      const onValues = (values) => {
        left--;
        if (!done) {
          for (let i = 0; i < keys.length; i++) {
            if (result[i] === undefined && values[i] !== undefined) {
              result[i] = values[i];
              unresolved--;
            }
          }
        }
        finish();
      };
      const onFailure = (error) => {
        left--;
        this.#emit('mget', { keys, error });
        finish();
      };
      if (keys.length === 0) finish();
      for (const tier of this.#tiers) {
        let values;
        try {
          values = tier.getMany(keys);
        } catch (error) {
          onFailure(error);
          continue;
        }
        if (isThenable(values)) values.then(onValues, onFailure);
        else onValues(values);
      }
    });
    this.#emit('mget', { keys, values: result });
    return result;
  }

  /**
   * @param {string} key
   * @returns {Promise<number|undefined>} absolute expiry in epoch ms; undefined when the key
   *   is missing or never expires
   */
  ttl = (key) => {
    if (this.#closed) return rejectDisconnected();
    if (typeof key !== 'string') return rejectKey('ttl', key);
    return this.#nonBlocking ? this.#ttlFirstHit(key) : this.#ttlInOrder(key);
  };

  async #ttlInOrder(key) {
    for (const tier of this.#tiers) {
      try {
        let entry = tier.getEntry(key);
        if (isThenable(entry)) entry = await entry;
        if (entry !== undefined) {
          this.#emit('ttl', { key, value: entry });
          return entry.expires || undefined;
        }
      } catch (error) {
        this.#emit('ttl', { key, error });
      }
    }
    return undefined;
  }

  async #ttlFirstHit(key) {
    const entry = await this.#firstHit((tier) => tier.getEntry(key),
      (error) => this.#emit('ttl', { key, error }));
    return entry?.expires || undefined;
  }

  // --- writes ------------------------------------------------------------------------------

  /**
   * @param {string} key
   * @param {unknown} value
   * @param {number} [ttl] milliseconds; defaults to the cache's `ttl`; 0 = no expiry
   * @returns {Promise<unknown>} the value
   */
  set = (key, value, ttl) => {
    if (this.#closed) return rejectDisconnected();
    if (typeof key !== 'string') return rejectKey('set', key);
    return this.#write(this.#tiers, key, value, ttl ?? this.#defaultTtl, false);
  };

  /**
   * @param {{key: string, value: unknown, ttl?: number}[]} list
   * @returns {Promise<{key: string, value: unknown, ttl?: number}[]>} the list, with default ttls
   */
  mset = (list) => {
    if (this.#closed) return rejectDisconnected();
    if (!Array.isArray(list)) {
      return rejectArgument(`mset: list must be an array; received ${describe(list)}`);
    }
    const entries = [];
    for (const item of list) {
      if (item === null || typeof item !== 'object' || typeof item.key !== 'string') {
        return rejectArgument(
          `mset: every entry must be { key: string, value, ttl? }; received ${describe(item)}`);
      }
      entries.push({ key: item.key, value: item.value, ttl: item.ttl ?? this.#defaultTtl });
    }
    const pending = fanOut(this.#tiers, (tier) => tier.setMany(entries));
    return this.#finish(pending, 'mset', { list: entries },
      (error) => ({ list: entries, error }), entries);
  };

  /**
   * @param {string} key
   * @returns {Promise<boolean>} true
   */
  del = (key) => {
    if (this.#closed) return rejectDisconnected();
    if (typeof key !== 'string') return rejectKey('del', key);
    const pending = fanOut(this.#tiers, (tier) => tier.delete(key));
    return this.#finish(pending, 'del', { key }, (error) => ({ key, error }), true);
  };

  /**
   * @param {string[]} keys
   * @returns {Promise<boolean>} true
   */
  mdel = (keys) => {
    if (this.#closed) return rejectDisconnected();
    const bad = badKeyList('mdel', 'keys', keys);
    if (bad !== undefined) return rejectArgument(bad);
    const pending = fanOut(this.#tiers, (tier) => tier.deleteMany(keys));
    return this.#finish(pending, 'mdel', { keys }, (error) => ({ keys, error }), true);
  };

  /**
   * Empties every store (a namespaced store only its namespace).
   * @returns {Promise<boolean>} true
   */
  clear = () => {
    if (this.#closed) return rejectDisconnected();
    const pending = fanOut(this.#tiers, (tier) => tier.clear());
    return this.#finish(pending, 'clear', undefined, (error) => error, true);
  };

  // --- wrap --------------------------------------------------------------------------------

  /**
   * Returns the cached value of `key`, or calls `fn`, stores and returns its result.
   * `wrap(key, fn, ttl?, refreshThreshold?)` or `wrap(key, fn, { ttl, refreshThreshold, raw,
   * waitUntil })`; ttl and refreshThreshold may be functions of the value.
   */
  wrap = (key, fn, ttlOrOptions, refreshThresholdArg) => {
    if (this.#closed) return rejectDisconnected();
    if (typeof key !== 'string') return rejectKey('wrap', key);
    if (typeof fn !== 'function') {
      return rejectArgument(`wrap: fn must be a function; received ${describe(fn)}`);
    }
    let ttl = ttlOrOptions;
    let threshold = refreshThresholdArg;
    let raw = false;
    let waitUntil = this.#waitUntil;
    if (ttlOrOptions !== null && typeof ttlOrOptions === 'object' && !Array.isArray(ttlOrOptions)) {
      ttl = ttlOrOptions.ttl;
      threshold = ttlOrOptions.refreshThreshold;
      raw = Boolean(ttlOrOptions.raw);
      if (ttlOrOptions.waitUntil !== undefined) {
        if (typeof ttlOrOptions.waitUntil !== 'function') {
          return rejectArgument("wrap: option 'waitUntil' must be a function; received " +
            describe(ttlOrOptions.waitUntil));
        }
        waitUntil = ttlOrOptions.waitUntil;
      }
    }

    const flight = this.#flights.get(key);
    if (flight !== undefined) {
      if (isInside(flight)) return Promise.reject(new WrapRecursionError(key));
      return flight.promise.then((outcome) => this.#deliver(outcome, raw, waitUntil));
    }

    // Read the tiers that answer synchronously without setting up a flight: nothing can
    // join in between, so coalescing is unaffected.
    const tiers = this.#tiers;
    for (let i = 0; i < tiers.length; i++) {
      let entry;
      try {
        entry = tiers[i].getEntry(key);
      } catch {
        continue;
      }
      if (isThenable(entry)) {
        return this.#startFlight(key, fn, ttl, threshold, raw, waitUntil, i, entry);
      }
      if (entry !== undefined && entry.value !== undefined) {
        if (i === 0 && threshold === undefined && this.#defaultThreshold === undefined) {
          return Promise.resolve(raw ? entry : entry.value);
        }
        let outcome;
        try {
          outcome = this.#hit(key, fn, entry, i, ttl, threshold); // calls the user's ttl/threshold
        } catch (error) {
          return Promise.reject(error);
        }
        if (isThenable(outcome)) return outcome.then((o) => this.#deliver(o, raw, waitUntil));
        return Promise.resolve(this.#deliver(outcome, raw, waitUntil));
      }
    }
    return this.#startFlight(key, fn, ttl, threshold, raw, waitUntil, tiers.length, undefined);
  };

  /** Hands a caller its share of a wrap outcome (and the refresh to its waitUntil). */
  #deliver(outcome, raw, waitUntil) {
    if (outcome.refresh !== undefined && waitUntil !== undefined) {
      try {
        waitUntil(outcome.refresh);
      } catch (error) {
        if (this.#listening('error')) this.#emitter.emit('error', error);
      }
    }
    return raw ? outcome.raw : outcome.value;
  }

  #startFlight(key, fn, ttl, threshold, raw, waitUntil, index, pendingEntry) {
    // The promise exists before fn runs: fn (or a refresh it triggers) may join at once.
    let settle;
    let fail;
    const flight = { key, promise: new Promise((resolve, reject) => { settle = resolve; fail = reject; }) };
    this.#flights.set(key, flight);
    this.#fly(flight, key, fn, ttl, threshold, index, pendingEntry).then(settle, fail);
    this.#track(this.#foreground, flight.promise.then(undefined, () => {}));
    return flight.promise.then((outcome) => this.#deliver(outcome, raw, waitUntil));
  }

  /**
   * The body of a coalesced wrap: finish reading the tiers from `index` (whose read may
   * already be pending), then either use the hit or load with `fn` and store the result.
   */
  async #fly(flight, key, fn, ttl, threshold, index, pendingEntry) {
    try {
      const tiers = this.#tiers;
      for (let i = index; i < tiers.length; i++) {
        let entry;
        try {
          entry = i === index && pendingEntry !== undefined ? pendingEntry : tiers[i].getEntry(key);
          if (isThenable(entry)) entry = await entry;
        } catch {
          continue;
        }
        if (entry !== undefined && entry.value !== undefined) {
          return await this.#hit(key, fn, entry, i, ttl, threshold);
        }
      }
      const value = await runLoad(flight, fn);
      const resolvedTtl = (typeof ttl === 'function' ? ttl(value) : ttl) ?? this.#defaultTtl;
      await this.#write(tiers, key, value, resolvedTtl, false);
      const expires = resolvedTtl ? Date.now() + resolvedTtl : undefined;
      return { value, raw: { value, expires }, refresh: undefined };
    } finally {
      if (this.#flights.get(key) === flight) this.#flights.delete(key);
    }
  }

  /**
   * A hit at tier `i`: start a background refresh when the remaining ttl is below the
   * threshold, otherwise backfill the tiers above `i`. Returns the outcome, or a promise of
   * it while a backfill is written.
   */
  #hit(key, fn, entry, i, ttl, threshold) {
    const value = entry.value;
    const limit = (typeof threshold === 'function' ? threshold(value) : threshold) ??
      this.#defaultThreshold;
    const expires = entry.expires;
    let refresh;
    if (typeof limit === 'number' && typeof expires === 'number' &&
        Math.max(0, expires - Date.now()) < limit) {
      refresh = this.#refresh(key, fn, value, i, ttl, limit);
    }
    const outcome = { value, raw: entry, refresh };
    if (refresh !== undefined || i === 0) return outcome;
    // Backfill, but never past the expiry of the entry that was found.
    let backfillTtl = (typeof ttl === 'function' ? ttl(value) : ttl) ?? this.#defaultTtl;
    if (typeof expires === 'number') {
      const remaining = Math.max(1, expires - Date.now());
      if (!backfillTtl || remaining < backfillTtl) backfillTtl = remaining;
    }
    const written = this.#write(this.#tiers.slice(0, i), key, value, backfillTtl, false);
    return written.then(() => outcome);
  }

  /**
   * Starts (or joins) the one background refresh of `key` for this cacheId. The promise
   * never rejects and settles once the new value is in every tier it is written to.
   */
  #refresh(key, fn, oldValue, i, ttl, limit) {
    const running = this.#refreshes.get(key);
    if (running !== undefined) return running;
    let settle;
    const promise = new Promise((resolve) => { settle = resolve; });
    this.#refreshes.set(key, promise);
    this.#track(this.#background, promise);
    const run = this.#lockIndex < 0
      ? this.#runRefresh(key, fn, oldValue, this.#refreshTiers(i), ttl)
      : this.#runLockedRefresh(key, fn, oldValue, i, ttl, limit);
    run.then(() => {
      if (this.#refreshes.get(key) === promise) this.#refreshes.delete(key);
      settle();
    });
    return promise;
  }

  #refreshTiers(lowest) {
    return this.#refreshAllStores ? this.#tiers : this.#tiers.slice(0, lowest + 1);
  }

  async #runRefresh(key, fn, oldValue, tiers, ttl) {
    try {
      const value = await runDetached(fn);
      const resolvedTtl = (typeof ttl === 'function' ? ttl(value) : ttl) ?? this.#defaultTtl;
      await this.#write(tiers, key, value, resolvedTtl, true);
      this.#emit('refresh', { key, value });
    } catch (error) {
      this.#emit('refresh', { key, value: oldValue, error });
    }
  }

  /**
   * A refresh shared by every process that uses the lock tier: only the holder of the
   * key's lock runs `fn`; the others keep serving the stale value. The new value is also
   * written to the lock tier, so the other processes find it there. Never rejects.
   */
  async #runLockedRefresh(key, fn, oldValue, i, ttl, limit) {
    const lockTier = this.#tiers[this.#lockIndex];
    let token;
    try {
      token = await lockTier.tryLock(key, this.#lockTtl);
    } catch (error) {
      // The lock tier is unreachable: refresh this process's tiers rather than serve the
      // stale value until it expires. The write to the lock tier will report its error.
      this.#emit('error', error);
      return this.#runRefresh(key, fn, oldValue, this.#refreshTiers(Math.max(i, this.#lockIndex)), ttl);
    }
    if (token === undefined || token === null) return undefined; // another process refreshes
    try {
      // The lock may have just been released by a process that finished this refresh:
      // then the shared tier already holds a fresh value and fn must not run again.
      if (await this.#adoptFresh(lockTier, key, limit)) return undefined;
      return await this.#runRefresh(key, fn, oldValue,
        this.#refreshTiers(Math.max(i, this.#lockIndex)), ttl);
    } finally {
      try {
        await lockTier.unlock(key, token);
      } catch {
        // The lock expires by itself after refreshLockTtl.
      }
    }
  }

  /**
   * Whether the lock tier holds an entry of `key` outside the refresh window; if so it is
   * copied into the tiers above (with its remaining ttl).
   */
  async #adoptFresh(lockTier, key, limit) {
    let entry;
    try {
      entry = lockTier.getEntry(key);
      if (isThenable(entry)) entry = await entry;
    } catch {
      return false;
    }
    if (entry === undefined || entry.value === undefined) return false;
    const left = typeof entry.expires === 'number' ? entry.expires - Date.now() : Infinity;
    if (left < limit || left <= 0) return false;
    const above = this.#tiers.slice(0, this.#lockIndex);
    if (above.length > 0) {
      try {
        await this.#write(above, key, entry.value, left === Infinity ? undefined : left, true);
      } catch {
        // The value stays stale above; the next hit in the window tries again.
      }
    }
    return true;
  }

  // --- lifecycle -------------------------------------------------------------------------

  /**
   * Resolves once every background refresh and non-blocking write started so far has
   * settled. Never rejects.
   * @returns {Promise<void>}
   */
  settled = () => Promise.all([...this.#background]).then(() => undefined);

  /**
   * Stops accepting calls, lets in-flight work finish (at most `timeout` ms), then closes
   * every store. Rejects with a DisconnectError listing every store's error. Idempotent.
   * @param {{timeout?: number}} [options]
   * @returns {Promise<undefined>}
   */
  disconnect = (options) => {
    if (this.#disconnecting !== undefined) return this.#disconnecting;
    let timeout;
    try {
      ({ timeout } = validateOptions('disconnect', options, DISCONNECT_SPEC));
    } catch (error) {
      return Promise.reject(error);
    }
    this.#closed = true;
    releaseRegistry(this.#cacheId, this);
    this.#disconnecting = this.#close(timeout);
    return this.#disconnecting;
  };

  async #close(timeout) {
    // One budget for the whole shutdown: waiting for work and closing the stores share it.
    const deadline = Date.now() + timeout;
    const work = Promise.all([...this.#background, ...this.#foreground]);
    let timer;
    await Promise.race([work, new Promise((resolve) => {
      timer = setTimeout(resolve, timeout);
      timer.unref();
    })]);
    clearTimeout(timer);
    const remaining = Math.max(0, deadline - Date.now());
    const errors = [];
    await Promise.all(this.#tiers.map(async (tier) => {
      try {
        await tier.disconnect({ timeout: remaining });
      } catch (error) {
        errors.push(error);
      }
    }));
    if (errors.length > 0) throw new DisconnectError(errors);
    return undefined;
  }

  [Symbol.asyncDispose]() {
    return this.disconnect();
  }

  /**
   * @param {string} event
   * @param {(...args: any[]) => void} listener
   * @returns {EventEmitter}
   */
  on = (event, listener) => this.#emitter.addListener(event, listener);

  /**
   * @param {string} event
   * @param {(...args: any[]) => void} listener
   * @returns {EventEmitter}
   */
  off = (event, listener) => this.#emitter.removeListener(event, listener);

  /** @returns {string} */
  cacheId = () => this.#cacheId;
}

/**
 * Creates a cache with the cache-manager 7.2.9 API.
 * @param {object} [options] see README "createCache"
 * @returns {Cache}
 */
function createCache(options) {
  return new Cache(options);
}

module.exports = { createCache, Cache, DEFAULT_DISCONNECT_TIMEOUT, DEFAULT_REFRESH_LOCK_TTL };
