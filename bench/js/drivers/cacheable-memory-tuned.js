'use strict';

/**
 * @cacheable/memory tuned for speed: `useClone: false` returns the stored object itself
 * (callers can then mutate the cached value) and `storeHashSize: 1` skips the key hashing
 * that picks one of several Maps.
 */

const { cacheableDriver } = require('./cacheable-memory');

module.exports = cacheableDriver({
  name: 'cacheable-memory-tuned',
  label: '@cacheable/memory (useClone:false, storeHashSize:1)',
  options: { useClone: false, storeHashSize: 1 },
});
