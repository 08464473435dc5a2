'use strict';

/**
 * native-cache-manager: a cache-manager 7 compatible cache with a native memory store
 * and a Redis connection manager.
 */

// Named one by one (not spread) so that Node's ES module loader sees every export by name:
// `import { RedisServerError } from 'native-cache-manager'` works.
const {
  NativeCacheError, InvalidArgumentError, KeyTooLargeError, ValueTooLargeError, SerializationError,
  StoreClosedError, CacheDisconnectedError, WrapRecursionError, DisconnectError, RedisError,
  RedisConnectionError, RedisConnectTimeoutError, RedisTimeoutError, RedisProtocolError,
  RedisReplyTooLargeError, RedisClosedError, RedisServerError, RedisUnsupportedCommandError
} = require('./errors');
const { MemoryStore, MEMORY_STORE_DEFAULTS } = require('./memory-store');
const { kTier } = require('./tier');
const { createCache, DEFAULT_DISCONNECT_TIMEOUT } = require('./create-cache');
const { RedisStore, REDIS_STORE_DEFAULTS } = require('./redis-store');
const { RedisClient, REDIS_CLIENT_DEFAULTS, parseRedisUrl } = require('./redis-client');

module.exports = {
  createCache,
  DEFAULT_DISCONNECT_TIMEOUT,
  MemoryStore,
  MEMORY_STORE_DEFAULTS,
  RedisStore,
  REDIS_STORE_DEFAULTS,
  RedisClient,
  REDIS_CLIENT_DEFAULTS,
  parseRedisUrl,
  kTier,
  NativeCacheError,
  InvalidArgumentError,
  KeyTooLargeError,
  ValueTooLargeError,
  SerializationError,
  StoreClosedError,
  CacheDisconnectedError,
  WrapRecursionError,
  DisconnectError,
  RedisError,
  RedisConnectionError,
  RedisConnectTimeoutError,
  RedisTimeoutError,
  RedisProtocolError,
  RedisReplyTooLargeError,
  RedisClosedError,
  RedisServerError,
  RedisUnsupportedCommandError,
};
