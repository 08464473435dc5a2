'use strict';

/**
 * Whole caches with the cache-manager 7 API, for the `cache` scenario: ours, and the two
 * set-ups cache-manager users have today. Each `create()` returns the cache object itself
 * (`get`, `set`, `wrap`, `disconnect`).
 */

const CACHE_DRIVERS = {
  'ncm-create-cache': {
    label: 'native-cache-manager createCache (MemoryStore)',
    short: 'ours',
    package: 'native-cache-manager',
    create() {
      const { createCache, MemoryStore } = require('../../..');
      return createCache({ stores: [new MemoryStore()] });
    },
  },
  'ncm-create-cache-frozen': {
    label: 'native-cache-manager createCache (MemoryStore, frozen: true)',
    short: 'frozen',
    package: 'native-cache-manager',
    create() {
      // Opt-in: shared deep-frozen values, no copy per read.
      const { createCache, MemoryStore } = require('../../..');
      return createCache({ stores: [new MemoryStore({ frozen: true })] });
    },
  },
  'cm-cacheable-memory': {
    label: 'cache-manager + Keyv(CacheableMemory)',
    package: 'cache-manager',
    create() {
      // The set-up cache-manager 7's README shows for an in-memory store.
      const { createCache } = require('cache-manager');
      const { Keyv } = require('keyv');
      const { CacheableMemory } = require('@cacheable/memory');
      return createCache({ stores: [new Keyv({ store: new CacheableMemory({ lruSize: 100_000 }) })] });
    },
  },
  'lru-cache-await': {
    label: 'lru-cache behind await',
    short: 'lru-await',
    package: 'lru-cache',
    create() {
      // The floor for an awaited in-process cache: a plain LRU of references, each call
      // behind an async function as the cache-manager API is.
      const { LRUCache } = require('lru-cache');
      const lru = new LRUCache({ max: 100_000 });
      return {
        get: async (key) => lru.get(key),
        set: async (key, value, ttl) => { lru.set(key, value, { ttl }); return value; },
        mget: async (keys) => keys.map((key) => lru.get(key)),
        wrap: async (key, fn, ttl) => {
          const hit = lru.get(key);
          if (hit !== undefined) return hit;
          const value = await fn();
          lru.set(key, value, { ttl });
          return value;
        },
        disconnect: async () => { lru.clear(); },
      };
    },
  },
  'cm-default': {
    label: 'cache-manager default (Keyv + Map, returns references)',
    package: 'cache-manager',
    create() {
      const { createCache } = require('cache-manager');
      return createCache();
    },
  },
};

const BASELINE_CACHE = 'cm-cacheable-memory';
const OUR_CACHE = 'ncm-create-cache';
/** Our other set-ups: compared with the competitors too, never counted as one. */
const OUR_OTHER_CACHES = ['ncm-create-cache-frozen'];

module.exports = { CACHE_DRIVERS, BASELINE_CACHE, OUR_CACHE, OUR_OTHER_CACHES };
