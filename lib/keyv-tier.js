'use strict';

/**
 * Adapts a Keyv 5 instance to the tier interface of lib/tier.js, so `createCache` treats
 * Keyv tiers and our own stores alike. Every call goes through Keyv itself (its
 * namespace, serializer, hooks, stats and error handling stay exactly as Keyv defines
 * them, which is also what cache-manager does with it).
 */

/**
 * Whether `store` looks like a Keyv instance (the same duck-typing Keyv applies to its
 * own storage adapters).
 * @param {unknown} store
 */
function isKeyvLike(store) {
  return store !== null && typeof store === 'object' &&
    typeof store.get === 'function' && typeof store.set === 'function' &&
    typeof store.delete === 'function' && typeof store.clear === 'function';
}

const RAW = Object.freeze({ raw: true });

/**
 * @param {import('keyv').Keyv} keyv
 * @returns {import('./tier').TierOps}
 */
function keyvTier(keyv) {
  return {
    get: (key) => keyv.get(key),
    getEntry: (key) => keyv.get(key, RAW),
    getMany: (keys) => keyv.getMany(keys),
    set: (key, value, ttl) => keyv.set(key, value, ttl),
    setMany: (entries) => keyv.setMany(entries),
    delete: (key) => keyv.delete(key),
    deleteMany: (keys) => Promise.all(keys.map((key) => keyv.delete(key))).then((r) => r.some(Boolean)),
    clear: () => keyv.clear(),
    defaultTtl: () => keyv.ttl,
    disconnect: async () => {
      if (typeof keyv.disconnect === 'function') await keyv.disconnect();
    },
  };
}

module.exports = { isKeyvLike, keyvTier };
