'use strict';

/**
 * @cacheable/memory (CacheableMemory) with its default options: values are cloned with
 * structuredClone on every get, keys are spread over 16 Maps by hash.
 */

const { CacheableMemory } = require('@cacheable/memory');

/** Builds a driver for the given CacheableMemory options. */
function cacheableDriver({ name, label, options }) {
  return {
    name,
    label,
    package: '@cacheable/memory',
    async: false,
    create({ maxEntries } = {}) {
      // lruSize = 0 means unbounded; a bound turns on its LRU list.
      const cache = new CacheableMemory({ ...options, lruSize: maxEntries ?? 0 });
      return {
        get: (key) => cache.get(key),
        set: (key, value) => { cache.set(key, value); },
        size: () => cache.size,
        close: () => cache.clear(),
      };
    },
  };
}

module.exports = cacheableDriver({
  name: 'cacheable-memory',
  label: '@cacheable/memory (defaults)',
  options: {},
});
module.exports.cacheableDriver = cacheableDriver;
