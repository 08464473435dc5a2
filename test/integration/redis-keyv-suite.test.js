'use strict';

// Runs the official Keyv adapter test suite (@keyv/test-suite, written for vitest) against
// RedisStore and a real redis-server, through a thin mapping of vitest's API onto Jest's.
const { Keyv } = require('keyv');
const keyvTestSuite = require('@keyv/test-suite');
const { startRedis } = require('../helpers/redis-server');
const { RedisStore } = require('../../lib');

let redis;
const created = [];

beforeAll(async () => { redis = await startRedis(); });
afterAll(async () => {
  await Promise.all(created.map((s) => s.disconnect()));
  await redis.cleanup();
});

const jestApi = {
  it: (name, fn) => test(name, () => fn({ expect })),
  test: (name, fn) => test(name, () => fn({ expect })),
  beforeEach: (fn) => beforeEach(() => fn({ expect })),
  afterEach: (fn) => afterEach(() => fn({ expect })),
  afterAll: (fn) => afterAll(() => fn({ expect })),
  beforeAll: (fn) => beforeAll(() => fn({ expect })),
  describe,
};

const storeFactory = () => {
  const store = new RedisStore(redis.url);
  created.push(store);
  return store;
};

describe('@keyv/test-suite', () => {
  keyvTestSuite.keyvApiTests(jestApi, Keyv, storeFactory);
  keyvTestSuite.keyvValueTests(jestApi, Keyv, storeFactory);
  keyvTestSuite.keyvNamespaceTest(jestApi, Keyv, storeFactory);
});
