'use strict';

/**
 * The tiers of a cache and every operation that spans them: reads in tier order (or of
 * every tier at once, first hit wins, when non-blocking) and writes to all of them at once
 * through one fan-out (`fanOut`; a waited-for write to one tier takes a shorter path,
 * `#putOne`), with the events cache-manager emits for each.
 *
 * Tiers answer synchronously (memory) or with promises (Redis, Keyv); every path checks for
 * a promise before awaiting, so a synchronous tier costs no extra promise hops.
 */

const { kTier } = require('./tier');
const { isKeyvLike, keyvTier } = require('./keyv-tier');
const { describe } = require('./describe');
const { InvalidArgumentError } = require('./errors');

/**
 * The `store` label of an event: `primary`, `secondary:0`, …
 * @param {number} i tier index
 */
const storeLabel = (i) => (i === 0 ? 'primary' : `secondary:${i - 1}`);

/**
 * @param {unknown} value
 * @returns {value is PromiseLike<unknown>}
 */
function isThenable(value) {
  return value !== null && typeof value === 'object' && typeof value.then === 'function';
}

/**
 * The value of a `wrap` option that may be a function of the value (ttl, refreshThreshold):
 * `option`, or its result for `value`, or else `fallback` (the cache-wide option).
 * @param {number|((value: unknown) => number)|undefined} option
 * @param {unknown} value
 * @param {number|undefined} fallback
 * @returns {number|undefined}
 */
function resolveOption(option, value, fallback) {
  return (typeof option === 'function' ? option(value) : option) ?? fallback;
}

function toTier(store, index) {
  if (store !== null && typeof store === 'object' && store[kTier] !== undefined) return store[kTier];
  if (isKeyvLike(store)) return keyvTier(store);
  throw new InvalidArgumentError(
    `createCache: option 'stores[${index}]' must be a MemoryStore, a RedisStore or a Keyv instance; ` +
    `received ${describe(store)}`, 'ERR_INVALID_ARG_TYPE');
}

/**
 * The one fan-out: runs `op(tier, request)` on the first `count` tiers at once (all of
 * them, like cache-manager's Promise.all, even when one throws) and calls
 * `each(i, request)` once tier i has succeeded. Returns undefined when every tier answered
 * synchronously and successfully, otherwise a promise that settles like Promise.all over
 * the answers. `op` and `each` are fixed functions and `request` carries the arguments, so
 * a write allocates no closures.
 * @template R
 * @param {import('./tier').TierOps[]} tiers
 * @param {number} count
 * @param {(tier: import('./tier').TierOps, request: R) => unknown} op
 * @param {R} request
 * @param {(i: number, request: R) => void} [each]
 * @returns {Promise<unknown[]>|undefined}
 */
function fanOut(tiers, count, op, request, each) {
  let pending;
  for (let i = 0; i < count; i++) {
    let result;
    try {
      result = op(tiers[i], request);
    } catch (error) {
      (pending ??= []).push(Promise.reject(error));
      continue;
    }
    if (isThenable(result)) {
      (pending ??= []).push(each === undefined ? result : result.then(() => each(i, request)));
    } else if (each !== undefined) {
      each(i, request);
    }
  }
  return pending === undefined ? undefined : Promise.all(pending);
}

/**
 * Writes `{ key, value, ttl, left }` to a tier. `left` is set for a copy of an entry found
 * elsewhere: the copy gets `ttl`, or without one the tier's own default (what the store
 * would give it), but never more than the `left` ms the original has.
 */
function setEntry(tier, { key, value, ttl, left }) {
  if (left === undefined) return tier.set(key, value, ttl);
  const own = ttl ?? tier.defaultTtl?.();
  return tier.set(key, value, !own || left < own ? left : own);
}

const setMany = (tier, entries) => tier.setMany(entries);
const deleteKey = (tier, key) => tier.delete(key);
const deleteKeys = (tier, keys) => tier.deleteMany(keys);
const clearTier = (tier) => tier.clear();

/**
 * The tiers of one cache, with cache-wide reads and writes over them.
 */
class TierSet {
  #tiers;
  #single;
  #events;
  #nonBlocking;
  #storeWritten;

  /**
   * @param {unknown[]} stores MemoryStore, RedisStore or Keyv instances, fastest first
   * @param {import('./cache-events').CacheEvents} events
   * @param {boolean} nonBlocking
   */
  constructor(stores, events, nonBlocking) {
    this.#tiers = stores.map(toTier);
    this.#single = this.#tiers.length === 1 ? this.#tiers[0] : undefined;
    this.#events = events;
    this.#nonBlocking = nonBlocking;
    // The per-store `set` event of a write (its payload is only built for a listener).
    this.#storeWritten = (i, { key, value }) => {
      if (events.listening('set')) events.emit('set', { key, value, store: storeLabel(i) });
    };
  }

  /** The tiers, in order (not to be modified). */
  get tiers() {
    return this.#tiers;
  }

  // --- reads -------------------------------------------------------------------------------

  /**
   * @param {string} key
   * @returns {Promise<unknown>} the value, or undefined on a miss
   */
  get(key) {
    const tier = this.#single;
    if (tier === undefined) return this.#nonBlocking ? this.#getFirstHit(key) : this.#getInOrder(key);
    let value;
    try {
      value = tier.get(key);
    } catch (error) {
      this.#getFailed(key, error, 0);
      return Promise.resolve(undefined);
    }
    const events = this.#events;
    if (isThenable(value)) {
      return value.then((v) => {
        if (v !== undefined && !this.#nonBlocking) events.emit('get', { key, value: v, store: 'primary' });
        return v;
      }, (error) => {
        this.#getFailed(key, error, 0);
        return undefined;
      });
    }
    if (value !== undefined && !this.#nonBlocking && events.listening('get')) {
      events.emit('get', { key, value, store: 'primary' });
    }
    return Promise.resolve(value);
  }

  #getFailed(key, error, i) {
    if (!this.#events.listening('get')) return;
    this.#events.emit('get', this.#nonBlocking ? { key, error } : { key, error, store: storeLabel(i) });
  }

  async #getInOrder(key) {
    const tiers = this.#tiers;
    for (let i = 0; i < tiers.length; i++) {
      try {
        let value = tiers[i].get(key);
        if (isThenable(value)) value = await value;
        if (value !== undefined) {
          this.#events.emit('get', { key, value, store: storeLabel(i) });
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
  mget(keys) {
    return this.#nonBlocking ? this.#mgetFirstHits(keys) : this.#mgetInOrder(keys);
  }

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
        this.#events.emit('mget', { keys, error });
      }
    }
    this.#events.emit('mget', { keys, values: result });
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
        this.#events.emit('mget', { keys, error });
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
    this.#events.emit('mget', { keys, values: result });
    return result;
  }

  /**
   * @param {string} key
   * @returns {Promise<number|undefined>} absolute expiry in epoch ms; undefined when the key
   *   is missing or never expires
   */
  ttl(key) {
    return this.#nonBlocking ? this.#ttlFirstHit(key) : this.#ttlInOrder(key);
  }

  async #ttlInOrder(key) {
    for (const tier of this.#tiers) {
      try {
        let entry = tier.getEntry(key);
        if (isThenable(entry)) entry = await entry;
        if (entry !== undefined) {
          this.#events.emit('ttl', { key, value: entry });
          return entry.expires || undefined;
        }
      } catch (error) {
        this.#events.emit('ttl', { key, error });
      }
    }
    return undefined;
  }

  async #ttlFirstHit(key) {
    const entry = await this.#firstHit((tier) => tier.getEntry(key),
      (error) => this.#events.emit('ttl', { key, error }));
    return entry?.expires || undefined;
  }

  // --- writes ------------------------------------------------------------------------------

  /**
   * Writes one entry to the first `count` tiers at once, emitting a `set` event per store and
   * one for the whole call.
   * @param {number} count
   * @param {string} key
   * @param {unknown} value
   * @param {number|undefined} ttl ms; undefined = each store's default
   * @param {boolean} wait wait for every store even when non-blocking (refreshes)
   * @returns {Promise<unknown>} the value
   */
  write(count, key, value, ttl, wait) {
    return this.#put(count, { key, value, ttl, left: undefined }, wait);
  }

  /**
   * Copies an entry found in a lower tier (or written by another process) into the first
   * `count` tiers, like `write`. Each copy gets `ttl`, or without one the tier's own default
   * (what the store would give it), and never more than the time the entry has left.
   * @param {number} count
   * @param {string} key
   * @param {{value: unknown, expires: number|undefined}} entry
   * @param {number|undefined} ttl
   * @param {boolean} wait
   * @returns {Promise<unknown>} the value
   */
  copy(count, key, entry, ttl, wait) {
    const { value, expires } = entry;
    const left = typeof expires === 'number' ? Math.max(1, expires - Date.now()) : undefined;
    return this.#put(count, { key, value, ttl, left }, wait);
  }

  #put(count, request, wait) {
    const events = this.#events;
    if (count === 1 && !(this.#nonBlocking && !wait)) return this.#putOne(request);
    const pending = fanOut(this.#tiers, count, setEntry, request, this.#storeWritten);
    const { key, value } = request;
    // The common write (synchronous tiers, nobody listening) builds no event payload.
    if (pending === undefined && !events.listening('set')) return Promise.resolve(value);
    return events.finish(pending, 'set', { key, value }, value, wait);
  }

  /**
   * `#put` to the first tier alone, waiting for it: for each call, what the fan-out and
   * `finish` do for one tier (the same events, in the same order, and the same outcome),
   * with one promise hop after the store's answer instead of three (each hop is a promise
   * and a microtask per write, a few percent of a Redis write at 128 in flight). Across
   * calls answered together, each call's events now come before the next call's.
   */
  #putOne(request) {
    const events = this.#events;
    const { key, value } = request;
    let answer;
    try {
      answer = setEntry(this.#tiers[0], request);
    } catch (error) {
      return events.finish(Promise.reject(error), 'set', { key, value }, value, true);
    }
    if (!isThenable(answer)) {
      this.#storeWritten(0, request);
      if (!events.listening('set')) return Promise.resolve(value);
      return events.finish(undefined, 'set', { key, value }, value, true);
    }
    // Promise.resolve: a Keyv tier may answer with any thenable; a native promise passes as is.
    return Promise.resolve(answer).then(() => {
      try {
        this.#storeWritten(0, request);
      } catch (error) {
        events.emit('set', { key, value, error });
        throw error;
      }
      if (events.listening('set')) events.emit('set', { key, value });
      return value;
    }, (error) => {
      events.emit('set', { key, value, error });
      throw error;
    });
  }

  /**
   * @param {{key: string, value: unknown, ttl?: number}[]} entries
   * @returns {Promise<object[]>} the entries
   */
  setMany(entries) {
    const pending = fanOut(this.#tiers, this.#tiers.length, setMany, entries);
    return this.#events.finish(pending, 'mset', { list: entries }, entries, false);
  }

  /**
   * @param {string} key
   * @returns {Promise<boolean>} true
   */
  delete(key) {
    const pending = fanOut(this.#tiers, this.#tiers.length, deleteKey, key);
    return this.#events.finish(pending, 'del', { key }, true, false);
  }

  /**
   * @param {string[]} keys
   * @returns {Promise<boolean>} true
   */
  deleteMany(keys) {
    const pending = fanOut(this.#tiers, this.#tiers.length, deleteKeys, keys);
    return this.#events.finish(pending, 'mdel', { keys }, true, false);
  }

  /** @returns {Promise<boolean>} true */
  clear() {
    const pending = fanOut(this.#tiers, this.#tiers.length, clearTier, undefined);
    return this.#events.finish(pending, 'clear', undefined, true, false);
  }

  /**
   * Closes every tier within `timeout` ms.
   * @param {number} timeout
   * @returns {Promise<unknown[]>} the errors of the tiers that failed to close
   */
  async disconnect(timeout) {
    const errors = [];
    await Promise.all(this.#tiers.map(async (tier) => {
      try {
        await tier.disconnect({ timeout });
      } catch (error) {
        errors.push(error);
      }
    }));
    return errors;
  }
}

module.exports = { TierSet, isThenable, resolveOption };
