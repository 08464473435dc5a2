'use strict';

// createCache with a RedisStore tier where it must behave like cache-manager 7.2.9:
// undefined values, the end of a failed background refresh under the refresh lock, and the
// ttl of a value copied from Redis into an upper tier that has its own default ttl.
const { Keyv } = require('keyv');
const KeyvRedis = require('@keyv/redis').default;
const cacheManager = require('cache-manager');
const { defaultSerialize } = require('@keyv/serialize');
const { startRedis } = require('../helpers/redis-server');
const {
  undefinedValueReads, CACHE_MANAGER_OUTCOME, wrapFromFailedRefreshEvent, retried,
} = require('../helpers/compat-scenarios');
const { createCache, MemoryStore, RedisStore, kTier } = require('../../lib');

let redis;
const caches = [];
beforeAll(async () => { redis = await startRedis(); });
afterAll(async () => {
  await Promise.all(caches.map((c) => c.disconnect()));
  await redis.cleanup();
});

let namespaces = 0;
/** A RedisStore in a namespace of its own, and the Redis key of a createCache key in it. */
function redisTier() {
  const namespace = `compat${++namespaces}`;
  return { store: new RedisStore(redis.url, { namespace }), redisKey: (key) => `${namespace}::${namespace}:${key}` };
}

/** The tier layouts with Redis: [name, (redisStore) => stores]. */
const LAYOUTS = [
  ['RedisStore', (store) => [store]],
  ['MemoryStore over RedisStore', (store) => [new MemoryStore(), store]],
];

function make(options) {
  const cache = createCache(options);
  caches.push(cache);
  return cache;
}

describe('set(key, undefined): stored as Keyv stores it ({}), read back as undefined', () => {
  test('cache-manager + Keyv + @keyv/redis', async () => {
    const theirs = cacheManager.createCache({
      stores: [new Keyv({ store: new KeyvRedis(redis.url), namespace: 'theirs' })],
    });
    const isStored = async (key) => (await redis.cli('EXISTS', `theirs::theirs:${key}`)) === '1';
    expect(await undefinedValueReads(theirs, isStored)).toStrictEqual({ ...CACHE_MANAGER_OUTCOME });
    expect(await redis.cli('GET', 'theirs::theirs:t')).toMatch(/^\{"expires":\d+\}$/);
    await theirs.disconnect();
  });

  test.each(LAYOUTS)('ours, %s', async (name, layout) => {
    const { store, redisKey } = redisTier();
    const stores = layout(store);
    const cache = make({ stores });
    const isStored = async (key) => {
      const inRedis = (await redis.cli('EXISTS', redisKey(key))) === '1';
      return inRedis && (stores.length === 1 || stores[0].hasSync(key));
    };
    expect(await undefinedValueReads(cache, isStored)).toStrictEqual({ ...CACHE_MANAGER_OUTCOME });
    // The text Keyv's own serializer writes for an undefined value, with and without expiry.
    await cache.set('text', undefined);
    expect(await redis.cli('GET', redisKey('text'))).toBe(defaultSerialize({ value: undefined, expires: undefined }));
    const withTtl = await redis.cli('GET', redisKey('t'));
    expect(withTtl).toBe(defaultSerialize({ value: undefined, expires: JSON.parse(withTtl).expires }));
  });

  test('cache-manager + @keyv/redis and ours read each other\'s undefined as undefined', async () => {
    const ours = make({ stores: [new RedisStore(redis.url)] }); // Keyv's layout: keyv::keyv:<key>
    const theirs = cacheManager.createCache({ stores: [new Keyv({ store: new KeyvRedis(redis.url) })] });
    await ours.set('from-ours', undefined, 60_000);
    await theirs.set('from-theirs', undefined, 60_000);
    expect(await redis.cli('GET', 'keyv::keyv:from-ours')).toMatch(/^\{"expires":\d+\}$/);
    expect(await theirs.get('from-ours')).toBeUndefined();
    expect(await theirs.ttl('from-ours')).toBe(await ours.ttl('from-ours'));
    expect(await ours.get('from-theirs')).toBeUndefined();
    expect(await ours.ttl('from-theirs')).toBe(await theirs.ttl('from-theirs'));
    await theirs.disconnect();
  });
});

describe('refresh lock: the refresh event comes after the lock and the registration are let go', () => {
  test.each(LAYOUTS)('%s: a wrap made from the event of a failed refresh serves the stale value and refreshes again', async (name, layout) => {
    const { store, redisKey } = redisTier();
    const cache = make({ stores: layout(store) });
    // Sent from the event, ahead of anything the wrap made there sends: whether the failed
    // refresh still held the key's lock when its event was emitted (it must not).
    const lockHeld = () => store.client.command(['EXISTS', `${store.namespace}::ncm-refresh-lock:k`]);
    const seen = await wrapFromFailedRefreshEvent(cache, lockHeld);
    expect(seen).toEqual(retried(seen.error, 0));
    expect(JSON.parse(await redis.cli('GET', redisKey('k'))).value).toBe('new');
  });
});

describe('a fresh value adopted from Redis by a refresh: the smaller of the upper default and the time left', () => {
  test('an upper Keyv with a 400 ms default gets the copy for 400 ms, not the 60 s left in Redis', async () => {
    const { store, redisKey } = redisTier();
    const upper = new Keyv({ ttl: 400 });
    const cache = make({ stores: [upper, store] });
    await upper.set('k', 'stale', 10_000);
    // Another process already refreshed the key in Redis.
    await store[kTier].set('k', 'fresh', 60_000);
    let calls = 0;
    expect(await cache.wrap('k', async () => { calls++; return 'mine'; }, { refreshThreshold: 30_000 })).toBe('stale');
    await cache.settled();
    expect(calls).toBe(0);
    const copy = await upper.get('k', { raw: true });
    expect(copy.value).toBe('fresh');
    expect(copy.expires - Date.now()).toBeLessThanOrEqual(400);
    expect(JSON.parse(await redis.cli('GET', redisKey('k'))).expires - Date.now()).toBeGreaterThan(30_000);
  });
});
