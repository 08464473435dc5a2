'use strict';

/**
 * Options of the zero-config entry files (native-cache-manager/next/incremental-cache and
 * /use-cache): Redis from REDIS_URL, memory only (with one warning per process) without it.
 */

const kWarned = Symbol.for('native-cache-manager.next.memoryOnlyWarned');

function optionsFromEnv() {
  const url = process.env.REDIS_URL;
  if (url) return { redis: url };
  if (!globalThis[kWarned]) {
    globalThis[kWarned] = true;
    console.warn('[native-cache-manager/next] REDIS_URL is not set: the Next.js cache is kept in this ' +
      "process's memory only (not shared with other instances)");
  }
  return undefined;
}

module.exports = { optionsFromEnv };
