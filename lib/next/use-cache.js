'use strict';

/**
 * next.config: `cacheHandlers: { default: require.resolve('native-cache-manager/next/use-cache') }`.
 * `'use cache'` entries in memory over the Redis at REDIS_URL.
 */

const { createUseCacheHandler } = require('./index');
const { optionsFromEnv } = require('./env');

module.exports = createUseCacheHandler(optionsFromEnv());
