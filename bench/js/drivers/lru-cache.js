'use strict';

/** lru-cache: the most used in-process LRU for Node.js; keeps references to JS values. */

const { LRUCache } = require('lru-cache');

module.exports = {
  name: 'lru-cache',
  label: 'lru-cache',
  package: 'lru-cache',
  async: false,
  create({ maxEntries } = {}) {
    // lru-cache needs a bound and preallocates for it, so "unbounded" means a large max.
    const cache = new LRUCache({ max: maxEntries ?? 1_000_000 });
    return {
      get: (key) => cache.get(key),
      set: (key, value) => { cache.set(key, value); },
      size: () => cache.size,
      close: () => cache.clear(),
    };
  },
};
