'use strict';

const { Keyv } = require('keyv');
const keyvSuite = require('@keyv/test-suite');
const cacheManager = require('cache-manager');
const { MemoryStore } = require('../../lib');
const { runKeyvSuite } = require('../helpers/keyv-suite');

const stores = [];
const factory = () => {
  const store = new MemoryStore();
  stores.push(store);
  return store;
};
afterAll(() => Promise.all(stores.map((s) => s.disconnect())));

describe('@keyv/test-suite over MemoryStore', () => {
  runKeyvSuite(keyvSuite.default, Keyv, factory);
});

describe('Keyv namespaces sharing one MemoryStore', () => {
  test('clear() of one namespace leaves the other intact', async () => {
    const a = new Keyv({ store: new MemoryStore(), namespace: 'a' });
    const b = new Keyv({ store: new MemoryStore(), namespace: 'b' });
    await a.set('x', 1);
    await b.set('x', 2);
    await a.clear();
    expect(await a.get('x')).toBeUndefined();
    expect(await b.get('x')).toBe(2);
    await a.disconnect();
    await b.disconnect();
  });

  test('store errors reach Keyv listeners through the store\'s error event', async () => {
    const store = new MemoryStore();
    const keyv = new Keyv({ store });
    const seen = [];
    keyv.on('error', (e) => seen.push(e));
    store.emit('error', new Error('boom'));
    expect(seen.map((e) => e.message)).toEqual(['boom']);
    await keyv.disconnect();
  });
});

describe('the real cache-manager 7.2.9 over Keyv(MemoryStore)', () => {
  let cache;
  let store;
  beforeEach(() => {
    store = new MemoryStore();
    cache = cacheManager.createCache({ stores: [new Keyv({ store })] });
  });
  afterEach(() => cache.disconnect());

  test('get / set / del / mget / mset / clear', async () => {
    expect(await cache.get('k')).toBeUndefined();
    await cache.set('k', { v: new Date(5) }, 10_000);
    expect(await cache.get('k')).toEqual({ v: new Date(5).toISOString() }); // Keyv's JSON serializer
    await cache.mset([{ key: 'a', value: 1 }, { key: 'b', value: 2 }]);
    expect(await cache.mget(['a', 'b', 'c'])).toEqual([1, 2, undefined]);
    expect(await cache.del('a')).toBe(true);
    expect(await cache.get('a')).toBeUndefined();
    await cache.clear();
    expect(await cache.get('b')).toBeUndefined();
    expect(store.stats().entries).toBe(0);
  });

  test('ttl() returns the absolute expiry and entries expire', async () => {
    const before = Date.now();
    await cache.set('t', 'v', 500);
    const at = await cache.ttl('t');
    expect(at).toBeGreaterThanOrEqual(before + 500);
    expect(at).toBeLessThanOrEqual(Date.now() + 500);
    await new Promise((r) => setTimeout(r, 550));
    expect(await cache.get('t')).toBeUndefined();
  });

  test('wrap calls fn once, then serves the cached value', async () => {
    let calls = 0;
    const fn = async () => { calls += 1; return { n: calls }; };
    expect(await cache.wrap('w', fn, 10_000)).toEqual({ n: 1 });
    expect(await cache.wrap('w', fn, 10_000)).toEqual({ n: 1 });
    expect(calls).toBe(1);
    expect(store.stats().entries).toBe(1);
  });
});
