'use strict';

/**
 * Background refreshes of `wrap` hits close to expiry: one per key and cacheId at a time,
 * and, with a tier that can hold a lock (Redis), one per key across every process that
 * shares that tier. The `refresh` event is emitted once a refresh is over: its value
 * written (or its failure known), its lock released and its registration removed, so that
 * a `wrap` made from the event (or after it) starts a new refresh when the value is still
 * stale.
 */

const { runDetached } = require('./wrap-context');
const { isThenable, resolveOption } = require('./tier-set');

/** Default of `refreshLockTtl`: how long a refresh lock lives if its holder never releases it. */
const DEFAULT_REFRESH_LOCK_TTL = 10_000;

/** Starts and coordinates the background refreshes of one cache. */
class Refresher {
  #tiers;
  #events;
  #refreshes;
  #refreshAllStores;
  #defaultTtl;
  #lockIndex;
  #lockTtl;

  /**
   * @param {object} options
   * @param {import('./tier-set').TierSet} options.tiers
   * @param {import('./cache-events').CacheEvents} options.events
   * @param {Map<string, Promise<void>>} options.refreshes running refreshes of the cacheId
   * @param {boolean} options.refreshAllStores
   * @param {number|undefined} options.ttl the cache's default ttl
   * @param {boolean} options.refreshLock
   * @param {number} options.refreshLockTtl
   */
  constructor({ tiers, events, refreshes, refreshAllStores, ttl, refreshLock, refreshLockTtl }) {
    this.#tiers = tiers;
    this.#events = events;
    this.#refreshes = refreshes;
    this.#refreshAllStores = refreshAllStores;
    this.#defaultTtl = ttl;
    // Refreshes are coordinated through the lowest tier that can hold a lock (Redis): it
    // is the one every process shares.
    this.#lockIndex = refreshLock
      ? tiers.tiers.findLastIndex((tier) => typeof tier.tryLock === 'function' &&
        typeof tier.unlock === 'function')
      : -1;
    this.#lockTtl = refreshLockTtl;
  }

  /**
   * Starts (or joins) the one background refresh of `key` for this cacheId, after a hit at
   * tier `i` whose remaining ttl is below `limit`. The promise never rejects and settles
   * once the refresh is over and its `refresh` event emitted.
   * @param {string} key
   * @param {() => unknown} fn
   * @param {unknown} oldValue the stale value
   * @param {number} i tier of the hit
   * @param {number|((value: unknown) => number)|undefined} ttl the `wrap` ttl
   * @param {number} limit the refresh threshold
   * @returns {Promise<void>}
   */
  start(key, fn, oldValue, i, ttl, limit) {
    const running = this.#refreshes.get(key);
    if (running !== undefined) return running;
    let settle;
    const promise = new Promise((resolve) => { settle = resolve; });
    this.#refreshes.set(key, promise);
    this.#events.trackBackground(promise);
    const run = this.#lockIndex < 0
      ? this.#run(key, fn, oldValue, this.#countFor(i), ttl)
      : this.#runLocked(key, fn, oldValue, i, ttl, limit);
    run.then((report) => {
      if (this.#refreshes.get(key) === promise) this.#refreshes.delete(key);
      if (report !== undefined) this.#events.emit('refresh', report);
      settle();
    });
    return promise;
  }

  /** How many tiers a refresh of a hit at tier `lowest` writes. */
  #countFor(lowest) {
    return this.#refreshAllStores ? this.#tiers.tiers.length : lowest + 1;
  }

  /**
   * Runs `fn` and writes its result to the first `count` tiers. Never rejects; resolves with
   * the payload of the `refresh` event.
   */
  async #run(key, fn, oldValue, count, ttl) {
    try {
      const value = await runDetached(fn);
      await this.#tiers.write(count, key, value, resolveOption(ttl, value, this.#defaultTtl), true);
      return { key, value };
    } catch (error) {
      return { key, value: oldValue, error };
    }
  }

  /**
   * A refresh shared by every process that uses the lock tier: only the holder of the
   * key's lock runs `fn`; the others keep serving the stale value. The new value is also
   * written to the lock tier, so the other processes find it there. Never rejects; resolves
   * with the payload of the `refresh` event once the lock is released, or undefined when
   * this process did not refresh.
   */
  async #runLocked(key, fn, oldValue, i, ttl, limit) {
    const lockTier = this.#tiers.tiers[this.#lockIndex];
    const count = this.#countFor(Math.max(i, this.#lockIndex));
    let token;
    try {
      token = await lockTier.tryLock(key, this.#lockTtl);
    } catch (error) {
      // The lock tier is unreachable: refresh this process's tiers rather than serve the
      // stale value until it expires. The write to the lock tier will report its error.
      this.#events.emit('error', error);
      return this.#run(key, fn, oldValue, count, ttl);
    }
    if (token === undefined || token === null) return undefined; // another process refreshes
    try {
      // The lock may have just been released by a process that finished this refresh:
      // then the shared tier already holds a fresh value and fn must not run again.
      if (await this.#adoptFresh(lockTier, key, limit)) return undefined;
      return await this.#run(key, fn, oldValue, count, ttl);
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
   * copied into the tiers above (for at most its remaining ttl).
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
    if (this.#lockIndex > 0) {
      try {
        await this.#tiers.copy(this.#lockIndex, key, entry, undefined, true);
      } catch {
        // The value stays stale above; the next hit in the window tries again.
      }
    }
    return true;
  }
}

module.exports = { Refresher, DEFAULT_REFRESH_LOCK_TTL };
