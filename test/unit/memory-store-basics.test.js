'use strict';

const { MemoryStore } = require('../../lib');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

describe('MemoryStore basics', () => {
  let store;
  beforeEach(() => { store = new MemoryStore(); });
  afterEach(() => store.disconnect());

  test('a miss is undefined and null is a value', async () => {
    expect(await store.get('missing')).toBeUndefined();
    await store.set('n', null);
    expect(await store.get('n')).toBeNull();
    expect(await store.has('n')).toBe(true);
    expect(await store.has('missing')).toBe(false);
  });

  test('set resolves to true and get returns what was stored', async () => {
    await expect(store.set('k', { a: 1, b: [1, 2, 3], c: 'x' })).resolves.toBe(true);
    expect(await store.get('k')).toEqual({ a: 1, b: [1, 2, 3], c: 'x' });
    await store.set('k', 'replaced');
    expect(await store.get('k')).toBe('replaced');
    expect(store.stats().entries).toBe(1);
  });

  test('keys may be empty, contain NUL/CR/LF, 0xFF-range characters and any Unicode', async () => {
    const keys = ['', '\u0000', 'a\r\nb', '\u00ff\u00fe', 'emoji 🚀', '\u{10FFFF}', '__proto__', 'constructor'];
    for (const [i, key] of keys.entries()) await store.set(key, `v${i}`);
    for (const [i, key] of keys.entries()) expect(await store.get(key)).toBe(`v${i}`);
    expect(store.stats().entries).toBe(keys.length);
    expect(Object.prototype.polluted).toBeUndefined();
  });

  test('keys and values with multibyte characters around the 1 KiB inline buffer are kept whole', async () => {
    // Every length from 1000 to 1040 bytes, ending in a 2-, 3- or 4-byte character, so one
    // of them straddles the end of the addon's inline key buffer.
    const seen = new Set();
    for (let n = 1000; n <= 1040; n++) {
      for (const tail of ['é', '漢', '🚀']) {
        const key = 'a'.repeat(n - Buffer.byteLength(tail)) + tail;
        const value = `${'я'.repeat(n)}|${key.length}`;
        await store.set(key, value);
        expect(await store.get(key)).toBe(value);
        expect(await store.get(key.slice(0, -tail.length))).toBeUndefined();
        seen.add(key);
      }
    }
    expect(store.stats().entries).toBe(seen.size);
    const object = { text: 'ü'.repeat(700), n: 1 }; // JSON over 1 KiB with non-ASCII text
    await store.set('obj', object);
    expect(await store.get('obj')).toEqual(object);
  });

  test('returned objects are copies: mutating them does not change the cache', async () => {
    const original = { list: [1, 2] };
    await store.set('obj', original);
    original.list.push(3);
    const first = await store.get('obj');
    first.list.push(99);
    expect(await store.get('obj')).toEqual({ list: [1, 2] });
  });

  test('entries expire after their ttl (ms) and ttl 0 means never', async () => {
    // 400 ms: long enough that a pause of the test itself (GC, a loaded machine) does not
    // expire it before it is read back.
    const before = Date.now();
    await store.set('short', 'v', 400);
    await store.set('forever', 'v', 0);
    await store.set('default', 'v');
    expect(await store.get('short')).toBe('v');
    const expires = store.getEntrySync('short').expires;
    expect(expires).toBeGreaterThanOrEqual(before + 400);
    expect(expires).toBeLessThanOrEqual(Date.now() + 400);
    expect(store.getEntrySync('forever').expires).toBeUndefined();
    await sleep(450);
    expect(await store.get('short')).toBeUndefined();
    expect(await store.has('short')).toBe(false);
    expect(await store.get('forever')).toBe('v');
    expect(await store.get('default')).toBe('v');
    expect(store.stats().expirations).toBe(1);
  });

  test('expiresAtSync reports the absolute expiry, undefined without one or when missing', async () => {
    const before = Date.now();
    await store.set('a', 1, 10_000);
    await store.set('b', 1);
    const at = store.expiresAtSync('a');
    expect(at).toBeGreaterThanOrEqual(before + 10_000);
    expect(at).toBeLessThanOrEqual(Date.now() + 10_000);
    expect(store.expiresAtSync('b')).toBeUndefined();
    expect(store.expiresAtSync('nope')).toBeUndefined();
  });

  test('delete reports whether something was removed', async () => {
    await store.set('a', 1);
    expect(await store.delete('a')).toBe(true);
    expect(await store.delete('a')).toBe(false);
    expect(await store.get('a')).toBeUndefined();
  });

  test('getMany, setMany and deleteMany', async () => {
    expect(await store.setMany([{ key: 'a', value: 1 }, { key: 'b', value: 'two', ttl: 10_000 }]))
      .toEqual([true, true]);
    expect(await store.getMany(['a', 'x', 'b'])).toEqual([1, undefined, 'two']);
    expect(await store.deleteMany(['x', 'y'])).toBe(false);
    expect(await store.deleteMany(['a', 'x'])).toBe(true);
    expect(await store.getMany(['a', 'b'])).toEqual([undefined, 'two']);
  });

  test('clear empties a store without a namespace', async () => {
    await store.set('a', 1);
    await store.set('b', 2);
    await store.clear();
    expect(await store.getMany(['a', 'b'])).toEqual([undefined, undefined]);
    expect(store.stats()).toMatchObject({ entries: 0, bytes: 0 });
  });

  test('clear with a namespace removes only keys under `${namespace}:`', async () => {
    const scoped = new MemoryStore({ namespace: 'ns1' });
    await scoped.set('ns1:a', 1);
    await scoped.set('ns1:b', 2);
    await scoped.set('ns2:a', 3);
    await scoped.set('ns1', 4); // no colon: not inside the namespace
    await scoped.clear();
    expect(await scoped.getMany(['ns1:a', 'ns1:b', 'ns2:a', 'ns1'])).toEqual([undefined, undefined, 3, 4]);
    await scoped.disconnect();
  });

  test('stats count hits, misses, sets, deletes and bytes', async () => {
    await store.set('a', 'x'.repeat(100));
    await store.get('a');
    await store.get('a');
    await store.get('b');
    await store.delete('a');
    const stats = store.stats();
    expect(stats).toMatchObject({ hits: 2, misses: 1, sets: 1, deletes: 1, entries: 0, bytes: 0 });
    await store.set('k', 'x'.repeat(100));
    // key + value + the fixed per-entry header
    expect(store.stats().bytes).toBe(1 + 100 + 56);
  });

  test('a namespaced store used as a createCache tier keeps its keys inside the namespace', async () => {
    const { createCache } = require('../../lib');
    const scoped = new MemoryStore({ namespace: 'app' });
    await scoped.set('other:k', 'outside');
    const cache = createCache({ stores: [scoped] });
    await cache.set('k', 'v');
    expect(await scoped.get('app:k')).toBe('v');
    await cache.clear();
    expect(await cache.get('k')).toBeUndefined();
    expect(await scoped.get('other:k')).toBe('outside');
    await cache.disconnect();
  });

  test('a disconnected store rejects every call with StoreClosedError and disconnect is idempotent', async () => {
    const s = new MemoryStore();
    await s.set('a', 1);
    await s.disconnect();
    await s.disconnect();
    await expect(s.get('a')).rejects.toMatchObject({ name: 'StoreClosedError', code: 'ERR_STORE_CLOSED' });
    await expect(s.set('a', 1)).rejects.toMatchObject({ code: 'ERR_STORE_CLOSED' });
    expect(() => s.stats()).toThrow(/closed/);
  });
});
