'use strict';

/**
 * native-cache-manager: a cache-manager 7 compatible cache with a native memory store
 * and a Redis connection manager.
 */

const { MemoryStore, MEMORY_STORE_DEFAULTS } = require('./memory-store');
const { kTier } = require('./tier');
const { createCache, DEFAULT_DISCONNECT_TIMEOUT } = require('./create-cache');
const { RedisStore, REDIS_STORE_DEFAULTS } = require('./redis-store');
const { RedisClient } = require('./redis-client');
const { RedisClusterClient } = require('./redis-cluster');
const { RedisSentinelClient } = require('./redis-sentinel');
const { REDIS_CLIENT_DEFAULTS, parseRedisUrl } = require('./redis-options');

module.exports = {
  createCache,
  DEFAULT_DISCONNECT_TIMEOUT,
  MemoryStore,
  MEMORY_STORE_DEFAULTS,
  RedisStore,
  REDIS_STORE_DEFAULTS,
  RedisClient,
  RedisClusterClient,
  RedisSentinelClient,
  REDIS_CLIENT_DEFAULTS,
  parseRedisUrl,
  kTier,
  // Spread from a require() call (not a variable) so that Node's ES module loader sees each
  // error class as a named export: `import { RedisServerError } from 'native-cache-manager'`.
  ...require('./errors'),
};
