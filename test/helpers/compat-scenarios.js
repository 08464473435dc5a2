'use strict';

/**
 * Scenarios of the cache-manager 7 API run the same way against cache-manager 7.2.9 and
 * against our createCache over different tiers (memory in test/unit, Redis in
 * test/integration).
 *
 * `undefinedValueReads`: what `set(key, undefined)` leaves behind, through every read.
 * cache-manager 7.2.9 + Keyv stores the entry (`{ value: undefined }`; Keyv's serializer
 * writes `{}`), and every read treats it as a miss: `get`/`mget` resolve undefined, `ttl`
 * gives the entry's expiry, `wrap` calls its fn and stores the result.
 *
 * `wrapFromFailedRefreshEvent`: a background refresh fails, and a `wrap` made from its
 * `refresh` event serves the stale value and starts a new refresh (cache-manager 7.2.9
 * retries on the next stale hit).
 */

/** The outcome of `undefinedValueReads` for cache-manager 7.2.9 + Keyv. */
const CACHE_MANAGER_OUTCOME = Object.freeze({
  set: undefined,
  get: undefined,
  mget: [undefined],
  stored: true,
  ttlWithout: undefined,
  ttlWith: 'about 60 s ahead',
  wrap: 'loaded',
  fnCalls: 1,
  afterWrap: 'loaded',
});

/**
 * @param {object} cache a cache with the cache-manager 7 API
 * @param {(key: string) => Promise<boolean>} isStored whether every store holds an entry
 * @returns {Promise<object>} comparable with CACHE_MANAGER_OUTCOME
 */
async function undefinedValueReads(cache, isStored) {
  const set = await cache.set('u', undefined);
  const get = await cache.get('u');
  const mget = await cache.mget(['u']);
  const stored = await isStored('u');
  const ttlWithout = await cache.ttl('u');
  await cache.set('t', undefined, 60_000);
  const expires = await cache.ttl('t');
  const ttlWith = expires > Date.now() + 30_000 && expires <= Date.now() + 60_000
    ? 'about 60 s ahead' : expires;
  let fnCalls = 0;
  const wrap = await cache.wrap('u', () => {
    fnCalls++;
    return 'loaded';
  });
  const afterWrap = await cache.get('u');
  return { set, get, mget, stored, ttlWithout, ttlWith, wrap, fnCalls, afterWrap };
}

/**
 * Makes the first background refresh of key `k` fail and calls `wrap` from its `refresh`
 * event; that wrap's refresh succeeds. Every hit is in the refresh window (threshold above
 * the ttl), so nothing depends on timing.
 * @param {object} cache a cache with the cache-manager 7 API and `settled()`
 * @param {() => Promise<unknown>} [inEvent] called from the failed refresh's event, before
 *   the wrap; what it resolves with is returned as `inEvent`
 * @returns {Promise<{first: unknown, fromEvent: unknown, calls: number, refreshes: object[],
 *   error: Error, inEvent: unknown}>}
 */
async function wrapFromFailedRefreshEvent(cache, inEvent = async () => undefined) {
  const options = { ttl: 60_000, refreshThreshold: 120_000 };
  await cache.set('k', 'old', options.ttl);
  const error = new Error('origin down');
  let calls = 0;
  const fn = async () => {
    calls++;
    if (calls === 1) throw error;
    return 'new';
  };
  const refreshes = [];
  let fromEvent;
  let seenInEvent;
  cache.on('refresh', (payload) => {
    refreshes.push(payload);
    if (refreshes.length > 1) return;
    seenInEvent = inEvent();
    fromEvent = cache.wrap('k', fn, options);
  });
  const first = await cache.wrap('k', fn, options);
  await cache.settled(); // the failed refresh, its event and the wrap made from it
  const fromEventValue = await fromEvent;
  await cache.settled(); // the refresh started by the wrap made from the event
  return { first, fromEvent: fromEventValue, calls, refreshes, error, inEvent: await seenInEvent };
}

/** What `wrapFromFailedRefreshEvent` gives when the wrap made from the event refreshes again. */
const retried = (error, inEvent) => ({
  first: 'old',
  fromEvent: 'old',
  calls: 2,
  refreshes: [{ key: 'k', value: 'old', error }, { key: 'k', value: 'new' }],
  error,
  inEvent,
});

module.exports = {
  undefinedValueReads, CACHE_MANAGER_OUTCOME, wrapFromFailedRefreshEvent, retried,
};
