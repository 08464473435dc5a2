'use strict';

/** Loads the compiled addon once per environment (main thread or worker). */

const path = require('node:path');

function load() {
  // NATIVE_CACHE_MANAGER_ADDON selects another build of the addon (the sanitizer build of
  // `npm run test:asan`); by default the release build is loaded.
  const file = process.env.NATIVE_CACHE_MANAGER_ADDON ||
    path.join(__dirname, '..', 'build', 'Release', 'native_cache_manager.node');
  try {
    return require(file);
  } catch (error) {
    const hint = error.code === 'MODULE_NOT_FOUND'
      ? 'the native addon is not built: run `npm rebuild native-cache-manager` (needs a C++20 compiler, python3, make and the hiredis headers: apt-get install -y build-essential pkg-config libhiredis-dev)'
      : `the native addon failed to load: ${error.message}`;
    const wrapped = new Error(`native-cache-manager: ${hint}`, { cause: error });
    wrapped.code = 'ERR_ADDON_NOT_LOADED';
    throw wrapped;
  }
}

module.exports = load();
