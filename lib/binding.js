'use strict';

/**
 * Loads the native addon once per environment (main thread or worker): a local build
 * (build/Release, made by `npm run build` or by the install script when no prebuilt binary
 * matches) if there is one, else the prebuilt binary for this platform, architecture and C
 * library (prebuilds/, shipped in the package). NATIVE_CACHE_MANAGER_ADDON names another file
 * (the sanitizer build of `npm run test:asan`).
 */

const { BUILD_COMMAND, BUILD_REQUIREMENTS, locateAddon, notFoundMessage } = require('./addon-locator');

function fail(message, cause) {
  const error = new Error(message, cause ? { cause } : undefined);
  error.code = 'ERR_ADDON_NOT_LOADED';
  return error;
}

function load() {
  const located = locateAddon();
  if (located.file === null) throw fail(notFoundMessage(located));
  try {
    return require(located.file);
  } catch (error) {
    throw fail([
      `native-cache-manager: the ${located.kind} ${located.file} failed to load on ` +
        `${located.target.label}, Node.js ${process.version}: ${error.message}`,
      `To build it from source, install ${BUILD_REQUIREMENTS},`,
      `then run ${BUILD_COMMAND}.`,
    ].join('\n'), error);
  }
}

module.exports = load();
