'use strict';

/**
 * Our native MemoryStore through its synchronous fast path (getSync/setSync), the path
 * createCache uses for its memory tier.
 */

const { MemoryStore } = require('../../../lib');

/** A store bounded by entry count only, so hit ratios compare like with like. */
function createStore(maxEntries) {
  return new MemoryStore({ maxEntries: maxEntries ?? 10_000_000, maxBytes: 2 ** 40 });
}

module.exports = {
  name: 'native-sync',
  label: 'MemoryStore (getSync/setSync)',
  package: 'native-cache-manager',
  async: false,
  /** @param {{maxEntries?: number}} options */
  create({ maxEntries } = {}) {
    const store = createStore(maxEntries);
    return {
      get: (key) => store.getSync(key),
      set: (key, value) => store.setSync(key, value),
      size: () => store.stats().entries,
      close: () => store.disconnect(),
    };
  },
  createStore,
};
