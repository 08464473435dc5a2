'use strict';

/**
 * Our native MemoryStore through its Keyv storage-adapter methods (`await get/set`), the
 * path taken when it is used as `new Keyv({ store })` inside cache-manager.
 */

const { createStore } = require('./native-sync');

module.exports = {
  name: 'native-async',
  label: 'MemoryStore (await get/set)',
  package: 'native-cache-manager',
  async: true,
  // Same store as native-sync: scenarios about contents (memory, hit ratio) skip it.
  sameStoreAs: 'native-sync',
  create({ maxEntries } = {}) {
    const store = createStore(maxEntries);
    return {
      get: (key) => store.get(key),
      set: (key, value) => store.set(key, value),
      size: () => store.stats().entries,
      close: () => store.disconnect(),
    };
  },
};
