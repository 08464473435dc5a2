'use strict';

/**
 * createCache: the cache-manager 7.2.9 API over our stores and Keyv instances.
 *
 * This is the public shell: it checks options and arguments, refuses calls after
 * `disconnect()`, and hands the work to its parts: the tiers and their fan-out
 * (lib/tier-set.js), events and background work (lib/cache-events.js), `wrap` and its
 * coalesced loads (lib/wrap.js), and background refreshes with their lock (lib/refresh.js).
 *
 * The methods are own arrow-function properties (like cache-manager's object of closures),
 * so `const { get, wrap } = cache` keeps working.
 */

const { registryFor, releaseRegistry } = require('./wrap-context');
const { MemoryStore } = require('./memory-store');
const { validateOptions } = require('./options');
const { describe } = require('./describe');
const { CacheEvents } = require('./cache-events');
const { TierSet } = require('./tier-set');
const { Wrapper } = require('./wrap');
const { Refresher, DEFAULT_REFRESH_LOCK_TTL } = require('./refresh');
const { InvalidArgumentError, CacheDisconnectedError, DisconnectError } = require('./errors');

/** Default of `disconnect({ timeout })`, in milliseconds. */
const DEFAULT_DISCONNECT_TIMEOUT = 5000;

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

function rejectDisconnected() {
  return Promise.reject(new CacheDisconnectedError());
}

function rejectKey(method, key) {
  return rejectArgument(`${method}: key must be a string; received ${describe(key)}`);
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
 * A cache with the cache-manager 7.2.9 API. Create it with {@link createCache}.
 */
class Cache {
  #tiers;
  #events;
  #wrapper;
  #defaultTtl;
  #cacheId;
  #closed = false;
  #disconnecting;

  /** @param {object} [options] */
  constructor(options) {
    const opts = validateOptions('createCache', options, OPTION_SPEC);
    const stores = opts.stores?.length ? opts.stores.slice() : [new MemoryStore()];
    const events = new CacheEvents(opts.nonBlocking);
    const tiers = new TierSet(stores, events, opts.nonBlocking);
    this.#tiers = tiers;
    this.#events = events;
    this.#defaultTtl = opts.ttl;
    this.#cacheId = opts.cacheId ?? Math.random().toString(36).slice(2);
    const registry = registryFor(this.#cacheId, this);
    const refresher = new Refresher({
      tiers,
      events,
      refreshes: registry.refreshes,
      refreshAllStores: opts.refreshAllStores,
      ttl: opts.ttl,
      refreshLock: opts.refreshLock,
      refreshLockTtl: opts.refreshLockTtl,
    });
    this.#wrapper = new Wrapper({
      tiers,
      events,
      refresher,
      flights: registry.flights,
      ttl: opts.ttl,
      refreshThreshold: opts.refreshThreshold,
      waitUntil: opts.waitUntil,
    });
    /** The stores, in tier order (what was passed in `stores`, or the default MemoryStore). */
    this.stores = stores;
  }

  // --- reads -------------------------------------------------------------------------------

  /**
   * @param {string} key
   * @returns {Promise<unknown>} the value, or undefined on a miss
   */
  get = (key) => {
    if (this.#closed) return rejectDisconnected();
    if (typeof key !== 'string') return rejectKey('get', key);
    return this.#tiers.get(key);
  };

  /**
   * @param {string[]} keys
   * @returns {Promise<unknown[]>} one value (or undefined) per key
   */
  mget = (keys) => {
    if (this.#closed) return rejectDisconnected();
    const bad = badKeyList('mget', 'keys', keys);
    if (bad !== undefined) return rejectArgument(bad);
    return this.#tiers.mget(keys);
  };

  /**
   * @param {string} key
   * @returns {Promise<number|undefined>} absolute expiry in epoch ms; undefined when the key
   *   is missing or never expires
   */
  ttl = (key) => {
    if (this.#closed) return rejectDisconnected();
    if (typeof key !== 'string') return rejectKey('ttl', key);
    return this.#tiers.ttl(key);
  };

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
    const tiers = this.#tiers;
    return tiers.write(tiers.tiers.length, key, value, ttl ?? this.#defaultTtl, false);
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
    return this.#tiers.setMany(entries);
  };

  /**
   * @param {string} key
   * @returns {Promise<boolean>} true
   */
  del = (key) => {
    if (this.#closed) return rejectDisconnected();
    if (typeof key !== 'string') return rejectKey('del', key);
    return this.#tiers.delete(key);
  };

  /**
   * @param {string[]} keys
   * @returns {Promise<boolean>} true
   */
  mdel = (keys) => {
    if (this.#closed) return rejectDisconnected();
    const bad = badKeyList('mdel', 'keys', keys);
    if (bad !== undefined) return rejectArgument(bad);
    return this.#tiers.deleteMany(keys);
  };

  /**
   * Empties every store (a namespaced store only its namespace).
   * @returns {Promise<boolean>} true
   */
  clear = () => {
    if (this.#closed) return rejectDisconnected();
    return this.#tiers.clear();
  };

  // --- wrap --------------------------------------------------------------------------------

  /**
   * Returns the cached value of `key`, or calls `fn`, stores and returns its result.
   * `wrap(key, fn, ttl?, refreshThreshold?)` or `wrap(key, fn, { ttl, refreshThreshold, raw,
   * waitUntil })`; ttl and refreshThreshold may be functions of the value.
   */
  wrap = (key, fn, ttlOrOptions, refreshThreshold) => {
    if (this.#closed) return rejectDisconnected();
    if (typeof key !== 'string') return rejectKey('wrap', key);
    if (typeof fn !== 'function') {
      return rejectArgument(`wrap: fn must be a function; received ${describe(fn)}`);
    }
    return this.#wrapper.wrap(key, fn, ttlOrOptions, refreshThreshold);
  };

  // --- lifecycle -------------------------------------------------------------------------

  /**
   * Resolves once every background refresh and non-blocking write started so far has
   * settled. Never rejects.
   * @returns {Promise<void>}
   */
  settled = () => this.#events.settled();

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
    await this.#events.idle(timeout);
    const errors = await this.#tiers.disconnect(Math.max(0, deadline - Date.now()));
    if (errors.length > 0) throw new DisconnectError(errors);
    return undefined;
  }

  [Symbol.asyncDispose]() {
    return this.disconnect();
  }

  /**
   * @param {string} event
   * @param {(...args: any[]) => void} listener
   * @returns {import('node:events').EventEmitter}
   */
  on = (event, listener) => this.#events.on(event, listener);

  /**
   * @param {string} event
   * @param {(...args: any[]) => void} listener
   * @returns {import('node:events').EventEmitter}
   */
  off = (event, listener) => this.#events.off(event, listener);

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
