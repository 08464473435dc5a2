'use strict';

const { Keyv } = require('keyv');
const cacheManager = require('cache-manager');
const { createCache, MemoryStore, WrapRecursionError } = require('../../lib');
const { SlowStore, sleep } = require('../helpers/slow-store');

const caches = [];
const make = (options) => {
  const cache = createCache(options);
  caches.push(cache);
  return cache;
};
afterAll(() => Promise.all(caches.map((c) => c.disconnect())));

describe('wrap: forms and options', () => {
  test('calls fn on a miss, stores the result, serves it afterwards', async () => {
    const cache = make();
    let calls = 0;
    const fn = async () => ({ n: ++calls });
    expect(await cache.wrap('k', fn)).toEqual({ n: 1 });
    expect(await cache.wrap('k', fn)).toEqual({ n: 1 });
    expect(calls).toBe(1);
    expect(await cache.get('k')).toEqual({ n: 1 });
  });

  test('fn may return a plain value; null is cached, undefined is not', async () => {
    const cache = make();
    let calls = 0;
    expect(await cache.wrap('n', () => { calls++; return null; })).toBeNull();
    expect(await cache.wrap('n', () => { calls++; return 1; })).toBeNull();
    expect(await cache.wrap('u', () => { calls++; return undefined; })).toBeUndefined();
    expect(await cache.wrap('u', () => { calls++; return 2; })).toBe(2);
    expect(calls).toBe(3);
  });

  test('positional ttl, and ttl in the options object, in ms', async () => {
    const cache = make();
    const before = Date.now();
    await cache.wrap('p', () => 1, 5000);
    await cache.wrap('o', () => 1, { ttl: 7000 });
    expect(await cache.ttl('p')).toBeGreaterThanOrEqual(before + 5000);
    expect(await cache.ttl('p')).toBeLessThanOrEqual(Date.now() + 5000);
    expect(await cache.ttl('o')).toBeGreaterThanOrEqual(before + 7000);
  });

  test('ttl as a function of the value; the cache ttl is the fallback', async () => {
    const cache = make({ ttl: 3000 });
    const before = Date.now();
    await cache.wrap('f', () => 9, (v) => v * 1000);
    await cache.wrap('d', () => 1);
    await cache.wrap('fallback', () => 1, () => undefined);
    expect(await cache.ttl('f') - before).toBeGreaterThanOrEqual(9000);
    expect(await cache.ttl('f')).toBeLessThanOrEqual(Date.now() + 9000);
    expect(await cache.ttl('d') - before).toBeGreaterThanOrEqual(3000);
    expect(await cache.ttl('d')).toBeLessThanOrEqual(Date.now() + 3000);
    expect(await cache.ttl('fallback') - before).toBeGreaterThanOrEqual(3000);
    expect(await cache.ttl('fallback')).toBeLessThanOrEqual(Date.now() + 3000);
  });

  test('raw: true returns { value, expires } on a miss and on a hit', async () => {
    const cache = make();
    const before = Date.now();
    const miss = await cache.wrap('r', () => 'v', { ttl: 1000, raw: true });
    expect(miss).toEqual({ value: 'v', expires: expect.any(Number) });
    expect(miss.expires).toBeGreaterThanOrEqual(before + 1000);
    const hit = await cache.wrap('r', () => 'other', { raw: true });
    expect(hit.value).toBe('v');
    expect(hit.expires).toBe(await cache.ttl('r'));
    expect(await cache.wrap('never', () => 1, { raw: true })).toEqual({ value: 1, expires: undefined });
  });

  test('raw on a miss without expiry: expires is undefined (cache-manager 7.2.9 gives NaN)', async () => {
    const theirs = cacheManager.createCache({ stores: [new Keyv()] });
    expect((await theirs.wrap('r', () => 1, { raw: true })).expires).toBeNaN();
    const cache = make();
    expect(await cache.wrap('r', () => 1, { raw: true })).toEqual({ value: 1, expires: undefined });
  });

  test('coalesced callers each get the shape they asked for', async () => {
    const cache = make();
    const fn = async () => { await sleep(5); return 'v'; };
    const [plain, raw] = await Promise.all([cache.wrap('s', fn, 1000), cache.wrap('s', fn, { raw: true })]);
    expect(plain).toBe('v');
    expect(raw).toEqual({ value: 'v', expires: expect.any(Number) });
  });

  test('an error from fn rejects every caller and caches nothing', async () => {
    const cache = make();
    const boom = new Error('boom');
    const calls = [cache.wrap('e', async () => { await sleep(5); throw boom; }), cache.wrap('e', () => 1)];
    await expect(calls[0]).rejects.toBe(boom);
    await expect(calls[1]).rejects.toBe(boom);
    expect(await cache.get('e')).toBeUndefined();
    expect(await cache.wrap('e', () => 2)).toBe(2);
  });

  test('a synchronous throw from fn is a rejection', async () => {
    const cache = make();
    await expect(cache.wrap('t', () => { throw new Error('sync'); })).rejects.toThrow('sync');
  });
});

describe('wrap: coalescing', () => {
  test('concurrent calls for one key share one fn call', async () => {
    const cache = make();
    let calls = 0;
    const fn = async () => { calls++; await sleep(10); return calls; };
    const results = await Promise.all([cache.wrap('k', fn), cache.wrap('k', fn), cache.wrap('k', fn)]);
    expect(results).toEqual([1, 1, 1]);
    expect(calls).toBe(1);
  });

  test('different keys do not wait for each other', async () => {
    const cache = make();
    const order = [];
    await Promise.all([
      cache.wrap('slow', async () => { await sleep(30); order.push('slow'); return 1; }),
      cache.wrap('fast', async () => { order.push('fast'); return 2; }),
    ]);
    expect(order).toEqual(['fast', 'slow']);
  });

  test('coalescing is per cacheId: two caches with one id share a load', async () => {
    const a = make({ cacheId: 'shared-id' });
    const b = make({ cacheId: 'shared-id' });
    const c = make({ cacheId: 'other-id' });
    let calls = 0;
    const fn = async () => { const n = ++calls; await sleep(10); return n; };
    const [x, y, z] = await Promise.all([a.wrap('k', fn), b.wrap('k', fn), c.wrap('k', fn)]);
    expect(x).toBe(y);
    expect(calls).toBe(2);
    expect(z).not.toBe(x);
  });

  test('with an async store, concurrent hits share one store read', async () => {
    const slow = new SlowStore({ delay: 5 });
    const cache = make({ stores: [slow] });
    await cache.set('k', 'v');
    const reads = slow.calls.get;
    expect(await Promise.all([cache.wrap('k', () => 'x'), cache.wrap('k', () => 'y')])).toEqual(['v', 'v']);
    expect(slow.calls.get - reads).toBe(1);
  });
});

describe('wrap nested inside its own fn (cache-manager 7.2.9 waits forever)', () => {
  test('cache-manager deadlocks', async () => {
    const theirs = cacheManager.createCache({ stores: [new Keyv()] });
    const outer = theirs.wrap('k', () => theirs.wrap('k', () => 1));
    expect(await Promise.race([outer, sleep(100).then(() => 'still waiting')])).toBe('still waiting');
  });

  test('we reject the inner call with WrapRecursionError', async () => {
    const cache = make();
    const outer = cache.wrap('k', async () => {
      await sleep(1);
      return cache.wrap('k', () => 1);
    });
    await expect(outer).rejects.toBeInstanceOf(WrapRecursionError);
    await expect(outer).rejects.toMatchObject({ code: 'ERR_WRAP_RECURSION', key: 'k' });
  });

  test('a cycle through another key is caught too, and the fn may catch it', async () => {
    const cache = make();
    const result = await cache.wrap('a', () => cache.wrap('b', () => cache.wrap('a', () => 'inner')
      .catch((error) => error.code)));
    expect(result).toBe('ERR_WRAP_RECURSION');
    expect(await cache.get('b')).toBe('ERR_WRAP_RECURSION');
  });

  test('nested wraps of other keys, and concurrent callers of the same key, still work', async () => {
    const cache = make();
    const outer = cache.wrap('page', async () => {
      const parts = await Promise.all([cache.wrap('p1', () => 1), cache.wrap('p2', async () => 2)]);
      await sleep(5);
      return parts[0] + parts[1];
    });
    const joiner = cache.wrap('page', () => 0);
    expect(await outer).toBe(3);
    expect(await joiner).toBe(3);
  });

  test('a Keyv tier: the same protection', async () => {
    const cache = make({ stores: [new Keyv({ store: new MemoryStore() })] });
    await expect(cache.wrap('k', () => cache.wrap('k', () => 1))).rejects.toThrow(WrapRecursionError);
  });
});

describe('wrap inside a background refresh', () => {
  test('may wait for the load that started the refresh: that is not a cycle', async () => {
    const cache = make();
    await cache.set('b', 'old b', 1000);
    let refreshedB;
    const a = await cache.wrap('a', async () => {
      const b = await cache.wrap('b', async () => {
        refreshedB = await cache.wrap('a', () => 'unused');
        return `b after ${refreshedB}`;
      }, 10_000, 2000);
      await sleep(10);
      return `a with ${b}`;
    });
    expect(a).toBe('a with old b');
    await cache.settled();
    expect(refreshedB).toBe('a with old b');
    expect(await cache.get('b')).toBe('b after a with old b');
  });
});

describe('wrap: errors from the ttl and threshold functions', () => {
  test('reject the call instead of throwing synchronously', async () => {
    const cache = make();
    await cache.set('k', 'v', 1000);
    const boom = () => { throw new Error('bad threshold'); };
    let result;
    expect(() => { result = cache.wrap('k', () => 'x', { refreshThreshold: boom }); }).not.toThrow();
    await expect(result).rejects.toThrow('bad threshold');
    await expect(cache.wrap('miss', () => 'x', () => { throw new Error('bad ttl'); })).rejects.toThrow('bad ttl');
    expect(await cache.get('miss')).toBeUndefined();
  });
});
