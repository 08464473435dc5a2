'use strict';

const { Keyv } = require('keyv');
const cacheManager = require('cache-manager');
const { createCache, MemoryStore, InvalidArgumentError } = require('../../lib');
const { sleep } = require('../helpers/slow-store');
const { undefinedValueReads, CACHE_MANAGER_OUTCOME } = require('../helpers/compat-scenarios');

const caches = [];
const make = (options) => {
  const cache = createCache(options);
  caches.push(cache);
  return cache;
};
afterAll(() => Promise.all(caches.map((c) => c.disconnect())));

describe('createCache: get / set / del', () => {
  test('a miss is undefined, null is a value, set returns the value', async () => {
    const cache = make();
    expect(await cache.get('k')).toBeUndefined();
    expect(await cache.set('k', null)).toBeNull();
    expect(await cache.get('k')).toBeNull();
    const value = { a: [1, 2], d: new Date(3) };
    expect(await cache.set('o', value)).toBe(value);
    expect(await cache.get('o')).toEqual(value);
  });

  test('del returns true and removes the key', async () => {
    const cache = make();
    await cache.set('k', 1);
    expect(await cache.del('k')).toBe(true);
    expect(await cache.get('k')).toBeUndefined();
    expect(await cache.del('never-set')).toBe(true);
  });

  test('the default store is one MemoryStore, exposed as stores[0]', async () => {
    const cache = make();
    expect(cache.stores).toHaveLength(1);
    expect(cache.stores[0]).toBeInstanceOf(MemoryStore);
    await cache.set('k', 'v');
    expect(cache.stores[0].getSync('k')).toBe('v');
  });

  test('methods work when destructured, like cache-manager\'s object of functions', async () => {
    const { get, set, wrap } = make();
    await set('k', 1);
    expect(await get('k')).toBe(1);
    expect(await wrap('w', () => 2)).toBe(2);
  });
});

describe('set(key, undefined) as in cache-manager 7.2.9: stored, read back as undefined (a miss)', () => {
  const everyStore = (stores) => async (key) => (await Promise.all(stores.map((s) => s.has(key)))).every(Boolean);

  test('cache-manager + Keyv', async () => {
    const theirs = cacheManager.createCache({ stores: [new Keyv()] });
    expect(await undefinedValueReads(theirs, everyStore(theirs.stores))).toStrictEqual({ ...CACHE_MANAGER_OUTCOME });
  });

  test.each([
    ['the default MemoryStore', () => make()],
    ['two MemoryStores', () => make({ stores: [new MemoryStore(), new MemoryStore()] })],
    ['a Keyv over a MemoryStore', () => make({ stores: [new Keyv({ store: new MemoryStore() })] })],
  ])('ours, %s', async (name, create) => {
    const cache = create();
    expect(await undefinedValueReads(cache, everyStore(cache.stores))).toStrictEqual({ ...CACHE_MANAGER_OUTCOME });
  });
});

describe('createCache: ttl', () => {
  test('set ttl is in milliseconds and ttl(key) is the absolute expiry in epoch ms', async () => {
    const cache = make();
    const before = Date.now();
    // Long enough that a pause of the test (GC, a loaded machine) cannot expire it before
    // ttl() reads it.
    await cache.set('k', 'v', 600);
    const at = await cache.ttl('k');
    expect(at).toBeGreaterThanOrEqual(before + 600);
    expect(at).toBeLessThanOrEqual(Date.now() + 600);
    await sleep(650);
    expect(await cache.get('k')).toBeUndefined();
    expect(await cache.ttl('k')).toBeUndefined();
  });

  test('the cache-wide ttl is the default; ttl 0 means no expiry', async () => {
    const cache = make({ ttl: 400 });
    const before = Date.now();
    await cache.set('short', 1);
    await cache.set('forever', 2, 0);
    expect(await cache.ttl('forever')).toBeUndefined();
    const at = await cache.ttl('short');
    expect(at).toBeGreaterThanOrEqual(before + 400);
    expect(at - Date.now()).toBeLessThanOrEqual(400);
    await sleep(450);
    expect(await cache.get('short')).toBeUndefined();
    expect(await cache.get('forever')).toBe(2);
  });
});

describe('createCache: mget / mset / mdel / clear', () => {
  test('mset returns the list with default ttls filled in; mget keeps key order', async () => {
    const cache = make({ ttl: 5000 });
    const list = await cache.mset([{ key: 'a', value: 1 }, { key: 'b', value: null, ttl: 0 }]);
    expect(list).toEqual([{ key: 'a', value: 1, ttl: 5000 }, { key: 'b', value: null, ttl: 0 }]);
    expect(await cache.mget(['b', 'x', 'a'])).toEqual([null, undefined, 1]);
    expect(await cache.ttl('b')).toBeUndefined();
    expect(await cache.ttl('a')).toBeGreaterThan(Date.now());
  });

  test('mdel and clear return true and remove entries', async () => {
    const cache = make();
    await cache.mset([{ key: 'a', value: 1 }, { key: 'b', value: 2 }, { key: 'c', value: 3 }]);
    expect(await cache.mdel(['a', 'b'])).toBe(true);
    expect(await cache.mget(['a', 'b', 'c'])).toEqual([undefined, undefined, 3]);
    expect(await cache.clear()).toBe(true);
    expect(await cache.get('c')).toBeUndefined();
  });
});

describe('createCache: options and arguments', () => {
  test('cacheId is kept, or a random id is made', () => {
    expect(make({ cacheId: 'mine' }).cacheId()).toBe('mine');
    const a = make().cacheId();
    const b = make().cacheId();
    expect(typeof a).toBe('string');
    expect(a).not.toBe(b);
  });

  test('bad options throw InvalidArgumentError naming the option and the value', () => {
    expect(() => createCache({ ttl: -1 })).toThrow(/'ttl'.*-1/);
    expect(() => createCache({ nonBlocking: 'yes' })).toThrow(/'nonBlocking'/);
    expect(() => createCache({ refreshThreshold: 'soon' })).toThrow(/'refreshThreshold'/);
    expect(() => createCache({ waitUntil: 1 })).toThrow(/'waitUntil'/);
    expect(() => createCache({ stores: {} })).toThrow(InvalidArgumentError);
    expect(() => createCache({ stores: [42] })).toThrow(/stores\[0\].*42/);
    expect(() => createCache({ tll: 5 })).toThrow(/unknown option 'tll'/);
  });

  test('non-string keys reject with InvalidArgumentError; nothing is stored', async () => {
    const cache = make();
    await expect(cache.get(1)).rejects.toThrow(InvalidArgumentError);
    await expect(cache.set({}, 1)).rejects.toThrow(/key must be a string/);
    await expect(cache.mget('a')).rejects.toThrow(/keys must be an array/);
    await expect(cache.mset([{ value: 1 }])).rejects.toThrow(/every entry/);
    await expect(cache.wrap('k', 'not a function')).rejects.toThrow(/fn must be a function/);
    expect(cache.stores[0].stats().entries).toBe(0);
  });

  test('a store error rejects set (a bad ttl is refused by the store)', async () => {
    const cache = make();
    await expect(cache.set('k', 1, -5)).rejects.toThrow(InvalidArgumentError);
    expect(await cache.get('k')).toBeUndefined();
  });
});

describe('values are copies (cache-manager 7.2.9\'s default Map store keeps references)', () => {
  test('cache-manager: mutating a value returned by get changes the cached value', async () => {
    const theirs = cacheManager.createCache();
    await theirs.set('k', { n: 1 });
    (await theirs.get('k')).n = 2;
    expect(await theirs.get('k')).toEqual({ n: 2 });
    expect(theirs.stores[0]).toBeInstanceOf(Keyv);
  });

  test('ours: the cached value cannot be changed through a returned or stored object', async () => {
    const cache = make();
    const value = { n: 1 };
    await cache.set('k', value);
    value.n = 5;
    (await cache.get('k')).n = 2;
    expect(await cache.get('k')).toEqual({ n: 1 });
  });
});
