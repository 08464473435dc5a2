'use strict';

/**
 * The competitors. A driver is a small module exporting
 * `{ name, label, package, async, sameStoreAs?, create({ maxEntries? }) }`, where
 * `create` returns `{ get(key), set(key, value), size(), close() }` (promises when `async`).
 * To add a competitor, add a file here and its name to DRIVER_FILES.
 */

const path = require('node:path');

const DRIVER_FILES = {
  'native-sync': 'native-sync.js',
  'native-async': 'native-async.js',
  'lru-cache': 'lru-cache.js',
  'cacheable-memory': 'cacheable-memory.js',
  'cacheable-memory-tuned': 'cacheable-memory-tuned.js',
};

/** Loads one driver by name (only in the child process that measures it). */
function loadDriver(name) {
  const file = DRIVER_FILES[name];
  if (file === undefined) {
    throw new Error(`unknown driver '${name}'; known: ${Object.keys(DRIVER_FILES).join(', ')}`);
  }
  return require(path.join(__dirname, file));
}

module.exports = { DRIVER_FILES, driverNames: Object.keys(DRIVER_FILES), loadDriver };
