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

describe('backfill without a ttl: the smaller of the upper tier\'s own default and the time left', () => {
  const expiresIn = async (keyv, key) => (await keyv.get(key, { raw: true }))?.expires - Date.now();

  // An upper Keyv with a default ttl of `upperTtl` ms over a lower entry with `lowerTtl` ms
  // left; neither wrap nor the cache has a ttl. Returns how long the copy and the original
  // have left.
  async function backfill(create, upperTtl, lowerTtl) {
    const upper = new Keyv({ ttl: upperTtl });
    const lower = new Keyv();
    const cache = create({ stores: [upper, lower] });
    await lower.set('k', 'lower', lowerTtl);
    expect(await cache.wrap('k', () => 'fn')).toBe('lower');
    return { cache, upper, lower, upperLeft: await expiresIn(upper, 'k'), lowerLeft: await expiresIn(lower, 'k') };
  }

  const ours = (options) => {
    const cache = createCache(options);
    caches.push(cache);
    return cache;
  };

  test.each([['cache-manager', cacheManager.createCache], ['ours', ours]])(
    '%s: the upper default (400 ms) is shorter than the time left (60 s): the copy gets the default',
    async (name, create) => {
      const { cache, upper, lower, upperLeft, lowerLeft } = await backfill(create, 400, 60_000);
      expect(upperLeft).toBeLessThanOrEqual(400);
      expect(lowerLeft).toBeGreaterThan(30_000);
      await sleep(450); // the copy was written before upperLeft was read: it has expired now
      expect(await upper.get('k')).toBeUndefined();
      expect(await lower.get('k')).toBe('lower');
      expect(await cache.get('k')).toBe('lower');
    });

  test('cache-manager: with an upper default (60 s) longer than the time left (3 s) the copy outlives the original', async () => {
    const { upperLeft, lowerLeft } = await backfill(cacheManager.createCache, 60_000, 3000);
    expect(upperLeft).toBeGreaterThan(30_000);
    expect(lowerLeft).toBeLessThanOrEqual(3000);
  });

  test('ours: with an upper default (60 s) longer than the time left (3 s) the copy expires with the original', async () => {
    const { cache, upper, upperLeft, lowerLeft } = await backfill(ours, 60_000, 3000);
    // Both expiries are computed from the same clock reading: the copy ends with the original
    // (the margin is far below the 60 s the upper default would give).
    expect(upperLeft).toBeLessThan(lowerLeft + 1000);
    await sleep(upperLeft + 100);
    expect(await upper.get('k')).toBeUndefined();
    expect(await cache.wrap('k', () => 'fn')).toBe('fn');
  });

  test('ours, MemoryStore tiers (no default ttl): the copy gets the time left, not "never"', async () => {
    const [l1, l2] = [new MemoryStore(), new MemoryStore()];
    const cache = ours({ stores: [l1, l2] });
    l2.setSync('k', 'v', 60_000);
    expect(await cache.wrap('k', () => 'fn')).toBe('v');
    expect(l1.expiresAtSync('k')).toBeLessThan(l2.expiresAtSync('k') + 1000);
    expect(l1.expiresAtSync('k') - Date.now()).toBeGreaterThan(30_000);
  });

  test('ours: an explicit wrap ttl still wins over the upper default, capped by the time left', async () => {
    const upper = new Keyv({ ttl: 400 });
    const lower = new Keyv();
    const cache = ours({ stores: [upper, lower] });
    await lower.set('ttl-shorter', 'v', 120_000);
    await lower.set('time-left-shorter', 'v', 120_000);
    await cache.wrap('ttl-shorter', () => 'fn', 60_000);
    await cache.wrap('time-left-shorter', () => 'fn', { ttl: 200_000 });
    expect(await expiresIn(upper, 'ttl-shorter')).toBeGreaterThan(30_000);
    expect(await expiresIn(upper, 'ttl-shorter')).toBeLessThanOrEqual(60_000);
    expect(await expiresIn(upper, 'time-left-shorter')).toBeGreaterThan(60_000);
    expect(await expiresIn(upper, 'time-left-shorter')).toBeLessThanOrEqual(120_000);
  });

  // A refresh writes the new value, not a copy: every tier gets the wrap ttl or, without one,
  // its own default (cache-manager's behaviour), whatever the old entry had left.
  async function refreshAll(create) {
    const upper = new Keyv({ ttl: 400 });
    const lower = new Keyv();
    const cache = create({ stores: [upper, lower], refreshAllStores: true, refreshThreshold: 120_000 });
    await lower.set('k', 'old', 60_000);
    const refreshed = new Promise((resolve) => { cache.on('refresh', resolve); });
    expect(await cache.wrap('k', () => 'new')).toBe('old');
    expect(await refreshed).toEqual({ key: 'k', value: 'new' });
    return {
      upperLeft: await expiresIn(upper, 'k'),
      lower: await lower.get('k', { raw: true }),
    };
  }

  test.each([['cache-manager', cacheManager.createCache], ['ours', ours]])(
    '%s, refreshAllStores: the refreshed value gets each tier\'s default (upper 400 ms, lower none)',
    async (name, create) => {
      const { upperLeft, lower } = await refreshAll(create);
      expect(upperLeft).toBeLessThanOrEqual(400);
      expect(lower).toEqual({ value: 'new' });
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
