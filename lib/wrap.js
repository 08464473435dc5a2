'use strict';

/**
 * `wrap`: read the tiers in order, use a hit (copying it into the tiers above, or starting
 * a background refresh when it is close to expiry), or load the value with `fn` once for
 * every concurrent caller of the key (a "flight", shared per cacheId) and store it.
 */

const { runLoad, isInside } = require('./wrap-context');
const { isThenable, resolveOption } = require('./tier-set');
const { describe } = require('./describe');
const { InvalidArgumentError, WrapRecursionError } = require('./errors');

/** The `wrap` of one cache. */
class Wrapper {
  #tiers;
  #events;
  #refresher;
  #flights;
  #defaultTtl;
  #defaultThreshold;
  #waitUntil;

  /**
   * @param {object} options
   * @param {import('./tier-set').TierSet} options.tiers
   * @param {import('./cache-events').CacheEvents} options.events
   * @param {import('./refresh').Refresher} options.refresher
   * @param {import('./key-table').KeyTable} options.flights running loads (key → {key, promise})
   *   of the cacheId
   * @param {number|undefined} options.ttl the cache's default ttl
   * @param {number|undefined} options.refreshThreshold the cache's default threshold
   * @param {((promise: Promise<void>) => void)|undefined} options.waitUntil
   */
  constructor({ tiers, events, refresher, flights, ttl, refreshThreshold, waitUntil }) {
    this.#tiers = tiers;
    this.#events = events;
    this.#refresher = refresher;
    this.#flights = flights;
    this.#defaultTtl = ttl;
    this.#defaultThreshold = refreshThreshold;
    this.#waitUntil = waitUntil;
  }

  /**
   * `wrap(key, fn, ttl?, refreshThreshold?)` or `wrap(key, fn, { ttl, refreshThreshold, raw,
   * waitUntil })`, for a key and fn already checked.
   * @param {string} key
   * @param {() => unknown} fn
   * @param {unknown} ttlOrOptions
   * @param {unknown} refreshThresholdArg
   * @returns {Promise<unknown>}
   */
  wrap(key, fn, ttlOrOptions, refreshThresholdArg) {
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
          return Promise.reject(new InvalidArgumentError("wrap: option 'waitUntil' must be a " +
            `function; received ${describe(ttlOrOptions.waitUntil)}`, 'ERR_INVALID_ARG_TYPE'));
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
    const tiers = this.#tiers.tiers;
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
  }

  /** Hands a caller its share of a wrap outcome (and the refresh to its waitUntil). */
  #deliver(outcome, raw, waitUntil) {
    if (outcome.refresh !== undefined && waitUntil !== undefined) {
      try {
        waitUntil(outcome.refresh);
      } catch (error) {
        this.#events.emit('error', error);
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
    this.#events.loadStarted(); // ended by #fly, whatever happens
    this.#fly(flight, key, fn, ttl, threshold, index, pendingEntry).then(settle, fail);
    return flight.promise.then((outcome) => this.#deliver(outcome, raw, waitUntil));
  }

  /**
   * The body of a coalesced wrap: finish reading the tiers from `index` (whose read may
   * already be pending), then either use the hit or load with `fn` and store the result.
   */
  async #fly(flight, key, fn, ttl, threshold, index, pendingEntry) {
    try {
      const tiers = this.#tiers.tiers;
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
      const resolvedTtl = resolveOption(ttl, value, this.#defaultTtl);
      await this.#tiers.write(tiers.length, key, value, resolvedTtl, false);
      const expires = resolvedTtl ? Date.now() + resolvedTtl : undefined;
      return { value, raw: { value, expires }, refresh: undefined };
    } finally {
      if (this.#flights.get(key) === flight) this.#flights.delete(key);
      this.#events.loadEnded();
    }
  }

  /**
   * A hit at tier `i`: start a background refresh when the remaining ttl is below the
   * threshold, otherwise copy the entry into the tiers above `i`. Returns the outcome, or a
   * promise of it while the copies are written.
   */
  #hit(key, fn, entry, i, ttl, threshold) {
    const value = entry.value;
    const limit = resolveOption(threshold, value, this.#defaultThreshold);
    const expires = entry.expires;
    let refresh;
    if (typeof limit === 'number' && typeof expires === 'number' &&
        Math.max(0, expires - Date.now()) < limit) {
      refresh = this.#refresher.start(key, fn, value, i, ttl, limit);
    }
    const outcome = { value, raw: entry, refresh };
    if (refresh !== undefined || i === 0) return outcome;
    const copied = this.#tiers.copy(i, key, entry, resolveOption(ttl, value, this.#defaultTtl), false);
    return copied.then(() => outcome);
  }
}

module.exports = { Wrapper };
