'use strict';

// Our createCache with RedisStore as a tier (the kTier fast path), next to the real
// cache-manager 7 + Keyv + @keyv/redis reading and writing the same entries.
const { Keyv } = require('keyv');
const KeyvRedis = require('@keyv/redis').default;
const cacheManager = require('cache-manager');
const { startRedis } = require('../helpers/redis-server');
const { createCache, MemoryStore, RedisStore } = require('../../lib');

let redis;
beforeAll(async () => { redis = await startRedis(); });
afterAll(async () => { await redis.cleanup(); });

test('createCache([MemoryStore, RedisStore]): set/get/ttl/mget/del/wrap go through both tiers', async () => {
  const l2 = new RedisStore(redis.url);
  const cache = createCache({ stores: [new MemoryStore(), l2] });
  await cache.set('a', { n: 1 }, 30_000);
  expect(await l2.client.command(['EXISTS', 'keyv::keyv:a'])).toBe(1);
  expect(await cache.get('a')).toEqual({ n: 1 });
  const ttl = await cache.ttl('a');
  expect(Math.abs(ttl - (Date.now() + 30_000))).toBeLessThan(1000);
  await cache.mset([{ key: 'b', value: 'B' }, { key: 'c', value: [1] }]);
  expect(await cache.mget(['a', 'b', 'c', 'zz'])).toEqual([{ n: 1 }, 'B', [1], undefined]);
  let calls = 0;
  expect(await cache.wrap('w', async () => { calls++; return 'loaded'; }, 30_000)).toBe('loaded');
  expect(await cache.wrap('w', async () => { calls++; return 'again'; }, 30_000)).toBe('loaded');
  expect(calls).toBe(1);
  await cache.del('a');
  expect(await l2.client.command(['EXISTS', 'keyv::keyv:a'])).toBe(0);
  await cache.disconnect();
});

test('a fleet moving over: our createCache and cache-manager + @keyv/redis share entries both ways', async () => {
  const ours = createCache({ stores: [new RedisStore(redis.url)] });
  const theirs = cacheManager.createCache({ stores: [new Keyv({ store: new KeyvRedis(redis.url) })] });
  await ours.set('from-ours', { list: [1, ':two'], buf: Buffer.from('hi') }, 60_000);
  await theirs.set('from-theirs', { s: ':colon' }, 60_000);
  const seen = await theirs.get('from-ours');
  expect(seen.list).toEqual([1, ':two']);
  expect(seen.buf).toEqual(Buffer.from('hi'));
  expect(await ours.get('from-theirs')).toEqual({ s: ':colon' });
  // Same expiry (set 60 s ahead); each side turns PTTL into epoch ms at its own reply time.
  expect(Math.abs((await ours.ttl('from-theirs')) - (await theirs.ttl('from-theirs')))).toBeLessThan(1000);
  await ours.del('from-theirs');
  expect(await theirs.get('from-theirs')).toBeUndefined();
  await Promise.all([ours.disconnect(), theirs.disconnect()]);
});
