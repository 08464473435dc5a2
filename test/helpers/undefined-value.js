'use strict';

/**
 * What `set(key, undefined)` leaves behind, through every read of the cache-manager 7 API.
 * cache-manager 7.2.9 + Keyv stores the entry (`{ value: undefined }`; Keyv's serializer
 * writes `{}`), and every read treats it as a miss: `get`/`mget` resolve undefined, `ttl`
 * gives the entry's expiry, `wrap` calls its fn and stores the result.
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

module.exports = { undefinedValueReads, CACHE_MANAGER_OUTCOME };
