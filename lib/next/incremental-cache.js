'use strict';

/**
 * next.config: `cacheHandler: require.resolve('native-cache-manager/next/incremental-cache')`.
 * ISR pages, route handlers and `fetch` data in memory over the Redis at REDIS_URL.
 */

const { createIncrementalCacheHandler } = require('./index');
const { optionsFromEnv } = require('./env');

module.exports = createIncrementalCacheHandler(optionsFromEnv());
