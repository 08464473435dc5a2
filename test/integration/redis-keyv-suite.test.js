'use strict';

// The official Keyv adapter test suite (@keyv/test-suite) against RedisStore and a real
// redis-server.
const { Keyv } = require('keyv');
const keyvSuite = require('@keyv/test-suite');
const { startRedis } = require('../helpers/redis-server');
const { runKeyvSuite } = require('../helpers/keyv-suite');
const { RedisStore } = require('../../lib');

let redis;
const created = [];

beforeAll(async () => { redis = await startRedis(); });
afterAll(async () => {
  await Promise.all(created.map((s) => s.disconnect()));
  await redis.cleanup();
});

const storeFactory = () => {
  const store = new RedisStore(redis.url);
  created.push(store);
  return store;
};

describe('@keyv/test-suite over RedisStore', () => {
  runKeyvSuite(keyvSuite.default, Keyv, storeFactory);
  runKeyvSuite(keyvSuite.keyvIteratorTests, Keyv, storeFactory);
});
