'use strict';

const { Keyv } = require('keyv');
const cacheManager = require('cache-manager');
const { createCache, MemoryStore } = require('../../lib');
const { SlowStore, sleep } = require('../helpers/slow-store');

const caches = [];
afterAll(() => Promise.all(caches.map((c) => c.disconnect())));

// Each layout: [name, () => [upper, lower]].
const layouts = [
  ['two MemoryStores', () => [new MemoryStore(), new MemoryStore()]],
  ['two Keyv (default Map store)', () => [new Keyv(), new Keyv()]],
  ['two Keyv over MemoryStore', () => [new Keyv({ store: new MemoryStore() }), new Keyv({ store: new MemoryStore() })]],
  ['MemoryStore over an async store', () => [new MemoryStore(), new SlowStore({ delay: 2 })]],
  ['async store over Keyv', () => [new SlowStore({ delay: 2 }), new Keyv()]],
];

// A direct write/read on one tier, whatever kind it is.
const put = (store, key, value, ttl) => (store instanceof SlowStore ? store.tier.set(key, value, ttl) : store.set(key, value, ttl));
const peek = (store, key) => (store instanceof SlowStore ? store.memory.getSync(key) : store.get(key));

describe.each(layouts)('two tiers: %s', (name, makeStores) => {
  let cache;
  let upper;
  let lower;
  beforeEach(() => {
    [upper, lower] = makeStores();
    cache = createCache({ stores: [upper, lower] });
    caches.push(cache);
  });

  test('set writes every tier; get reads the upper tier first', async () => {
    await cache.set('k', { v: 1 }, 10_000);
    expect(await peek(upper, 'k')).toEqual({ v: 1 });
    expect(await peek(lower, 'k')).toEqual({ v: 1 });
    await put(upper, 'k', 'upper');
    expect(await cache.get('k')).toBe('upper');
  });

  test('get falls through to the lower tier (and does not backfill)', async () => {
    await put(lower, 'k', 'lower');
    expect(await cache.get('k')).toBe('lower');
    expect(await peek(upper, 'k')).toBeUndefined();
  });

  test('mget fills each key from the first tier that has it', async () => {
    await put(upper, 'a', 'A');
    await put(lower, 'a', 'lower-a');
    await put(lower, 'b', 'B');
    expect(await cache.mget(['a', 'b', 'c'])).toEqual(['A', 'B', undefined]);
  });

  test('wrap: a lower-tier hit is returned and backfilled into the upper tier', async () => {
    await put(lower, 'k', 'lower', 10_000);
    expect(await cache.wrap('k', () => 'fn')).toBe('lower');
    expect(await peek(upper, 'k')).toBe('lower');
  });

  test('del, mdel, clear and ttl cover every tier', async () => {
    await cache.mset([{ key: 'a', value: 1 }, { key: 'b', value: 2 }, { key: 'c', value: 3, ttl: 5000 }]);
    await cache.del('a');
    await cache.mdel(['b']);
    for (const store of [upper, lower]) {
      expect(await peek(store, 'a')).toBeUndefined();
      expect(await peek(store, 'b')).toBeUndefined();
    }
    expect(await cache.ttl('c')).toBeGreaterThan(Date.now());
    await cache.clear();
    expect(await peek(upper, 'c')).toBeUndefined();
    expect(await peek(lower, 'c')).toBeUndefined();
  });
});

describe('backfill keeps the lower tier\'s expiry (cache-manager 7.2.9 gives the full ttl)', () => {
  async function backfilledExpiry(cache, lower) {
    await lower.set('k', 'v', 300);
    const lowerExpiry = (await lower.get('k', { raw: true })).expires;
    await cache.wrap('k', () => 'fn', 60_000);
    const upperExpiry = (await cache.stores[0].get('k', { raw: true })).expires;
    return upperExpiry - lowerExpiry;
  }

  test('cache-manager: the upper copy outlives the lower entry by about the wrap ttl', async () => {
    const lower = new Keyv();
    const theirs = cacheManager.createCache({ stores: [new Keyv({ store: new MemoryStore() }), lower] });
    expect(await backfilledExpiry(theirs, lower)).toBeGreaterThan(50_000);
  });

  test('ours: the upper copy expires with the lower entry', async () => {
    const lower = new Keyv();
    const cache = createCache({ stores: [new Keyv({ store: new MemoryStore() }), lower] });
    caches.push(cache);
    expect(Math.abs(await backfilledExpiry(cache, lower))).toBeLessThanOrEqual(20);
    await sleep(320);
    expect(await cache.get('k')).toBeUndefined();
  });

  test('ours, MemoryStore tiers: the same, and a lower entry without expiry gets the wrap ttl', async () => {
    const [l1, l2] = [new MemoryStore(), new MemoryStore()];
    const cache = createCache({ stores: [l1, l2] });
    caches.push(cache);
    l2.setSync('short', 'v', 300);
    l2.setSync('forever', 'v', 0);
    await cache.wrap('short', () => 'fn', 60_000);
    await cache.wrap('forever', () => 'fn', 60_000);
    expect(Math.abs(l1.expiresAtSync('short') - l2.expiresAtSync('short'))).toBeLessThanOrEqual(20);
    expect(l1.expiresAtSync('forever') - Date.now()).toBeGreaterThan(59_000);
  });
});

describe('Keyv tiers keep Keyv\'s own behaviour', () => {
  test('a namespaced Keyv over a MemoryStore stores under its prefix, and clear() stays in it', async () => {
    const store = new MemoryStore();
    const other = new Keyv({ store, namespace: 'other' });
    await other.set('k', 'theirs');
    const cache = createCache({ stores: [new Keyv({ store, namespace: 'app' })] });
    caches.push(cache);
    await cache.set('k', 'ours');
    expect(await cache.get('k')).toBe('ours');
    expect(await other.get('k')).toBe('theirs');
    await cache.clear();
    expect(await cache.get('k')).toBeUndefined();
    expect(await other.get('k')).toBe('theirs');
  });

  test('data written through createCache is readable by the real cache-manager on the same Keyv', async () => {
    const keyv = new Keyv({ store: new MemoryStore() });
    const ours = createCache({ stores: [keyv] });
    caches.push(ours);
    const theirs = cacheManager.createCache({ stores: [keyv] });
    await ours.set('k', { n: 1 }, 10_000);
    expect(await theirs.get('k')).toEqual({ n: 1 });
    expect(await theirs.ttl('k')).toBe(await ours.ttl('k'));
    await theirs.set('t', 'from cache-manager');
    expect(await ours.wrap('t', () => 'fn')).toBe('from cache-manager');
  });
});
