'use strict';

// RedisStore next to the real cache-manager 7 + Keyv 5 + @keyv/redis: same keys, same
// value text, so each reads what the other wrote.
const { Keyv } = require('keyv');
const KeyvRedis = require('@keyv/redis').default;
const { createCache } = require('cache-manager');
const { defaultSerialize } = require('@keyv/serialize');
const { startRedis } = require('../helpers/redis-server');
const { RedisStore, kTier } = require('../../lib');
const { encodeEnvelope, decodeEnvelope } = require('../../lib/keyv-format');

let redis;
beforeAll(async () => { redis = await startRedis(); });
afterAll(async () => { await redis.cleanup(); });

const sample = {
  text: 'hello', colon: ':starts with a colon', twoColons: '::x', num: 42.5, flag: true, none: null,
  list: [1, 'two', null, undefined, { deep: ':y' }], buf: Buffer.from([0, 1, 2, 255]),
  date: new Date(1_700_000_000_000), skipped: undefined, fn: () => 1,
};

test('lib/keyv-format writes exactly the text Keyv\'s default serializer writes', () => {
  for (const value of [sample, 'plain', ':colon', 0, null, [undefined], { a: undefined }, Buffer.from('x')]) {
    expect(encodeEnvelope(value, 123)).toBe(defaultSerialize({ value, expires: 123 }));
    expect(encodeEnvelope(value, undefined)).toBe(defaultSerialize({ value, expires: undefined }));
  }
  expect(decodeEnvelope(defaultSerialize({ value: sample, expires: 5 })).value.buf).toEqual(sample.buf);
});

test('real cache-manager 7 over Keyv(RedisStore): get/set/mget/mset/del/ttl/wrap/clear', async () => {
  const cache = createCache({ stores: [new Keyv({ store: new RedisStore(redis.url) })] });
  await cache.set('a', { v: 1 }, 10_000);
  expect(await cache.get('a')).toEqual({ v: 1 });
  const ttl = await cache.ttl('a');
  expect(ttl).toBeGreaterThan(Date.now() + 9000);
  await cache.mset([{ key: 'b', value: 'B' }, { key: 'c', value: [1, 2] }]);
  expect(await cache.mget(['a', 'b', 'c', 'missing'])).toEqual([{ v: 1 }, 'B', [1, 2], undefined]);
  let calls = 0;
  const loader = async () => { calls++; return 'loaded'; };
  expect(await cache.wrap('w', loader, 10_000)).toBe('loaded');
  expect(await cache.wrap('w', loader, 10_000)).toBe('loaded');
  expect(calls).toBe(1);
  await cache.del('b');
  expect(await cache.get('b')).toBeUndefined();
  await cache.clear();
  expect(await cache.get('a')).toBeUndefined();
  await cache.disconnect();
});

test('@keyv/redis writes, RedisStore (as Keyv adapter and as tier) reads — and the reverse', async () => {
  const theirs = new Keyv({ store: new KeyvRedis(redis.url) });
  const theirCache = createCache({ stores: [theirs] });
  const oursAdapter = new Keyv({ store: new RedisStore(redis.url) });
  const ourCache = createCache({ stores: [oursAdapter] });
  const tierStore = new RedisStore(redis.url);
  const tier = tierStore[kTier];

  await theirCache.set('from-them', sample, 60_000);
  const viaAdapter = await ourCache.get('from-them');
  const viaTier = await tier.get('from-them');
  const expected = JSON.parse(JSON.stringify({ ...sample, buf: null })); // Date as ISO text etc.
  for (const got of [viaAdapter, viaTier]) {
    expect({ ...got, buf: null }).toEqual(expected);
    expect(got.buf).toEqual(sample.buf);
    expect(got.colon).toBe(sample.colon);
  }
  const expires = (await tier.getEntry('from-them')).expires;
  expect(Math.abs(expires - (await theirCache.ttl('from-them')))).toBe(0);

  await tier.set('from-tier', sample, 60_000);
  await ourCache.set('from-adapter', ':v', 60_000);
  const back = await theirCache.get('from-tier');
  expect({ ...back, buf: null }).toEqual(expected);
  expect(back.buf).toEqual(sample.buf);
  expect(await theirCache.get('from-adapter')).toBe(':v');
  expect(await theirCache.ttl('from-tier')).toBeGreaterThan(Date.now() + 59_000);

  // Same Redis keys on both sides.
  const keys = (await redis.cli('KEYS', '*')).split('\n').sort();
  expect(keys).toEqual(['keyv::keyv:from-adapter', 'keyv::keyv:from-them', 'keyv::keyv:from-tier']);

  await tier.delete('from-them');
  expect(await theirCache.get('from-them')).toBeUndefined();
  await Promise.all([theirCache.disconnect(), ourCache.disconnect(), tierStore.disconnect()]);
});
