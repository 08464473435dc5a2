'use strict';

// R19: stampede. 1,000 concurrent wrap() calls on a cold key run the loader once and all
// get the same value (or the same error); the next call after an error retries once; with
// refreshThreshold there is exactly one background refresh per key per window.

const { createCache, MemoryStore } = require('../../lib');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

describe('wrap under a stampede', () => {
  let cache;
  beforeEach(() => { cache = createCache({ stores: [new MemoryStore(), new MemoryStore()] }); });
  afterEach(() => cache.disconnect());

  test('1,000 concurrent callers on a cold key: one loader call, one value for all', async () => {
    let calls = 0;
    const loader = async () => {
      calls += 1;
      await sleep(30);
      return { version: calls, key: 'cold' };
    };
    const results = await Promise.all(Array.from({ length: 1000 }, () => cache.wrap('cold', loader, 10_000)));
    expect(calls).toBe(1);
    expect(new Set(results.map((r) => JSON.stringify(r)))).toEqual(new Set(['{"version":1,"key":"cold"}']));
    expect(await cache.get('cold')).toEqual({ version: 1, key: 'cold' });
  });

  test('a throwing loader: all 1,000 get the same error, nothing is cached, the next call retries once', async () => {
    let calls = 0;
    const failing = async () => {
      calls += 1;
      await sleep(10);
      throw new Error(`upstream down #${calls}`);
    };
    const settled = await Promise.allSettled(Array.from({ length: 1000 }, () => cache.wrap('bad', failing, 10_000)));
    expect(calls).toBe(1);
    expect(settled.every((r) => r.status === 'rejected' && r.reason.message === 'upstream down #1')).toBe(true);
    expect(await cache.get('bad')).toBeUndefined();

    const ok = async () => { calls += 1; return 'recovered'; };
    const again = await Promise.all(Array.from({ length: 100 }, () => cache.wrap('bad', ok, 10_000)));
    expect(calls).toBe(2);
    expect(again.every((v) => v === 'recovered')).toBe(true);
  });

  test('inside the refresh window: 1,000 callers get the cached value and share one refresh', async () => {
    let calls = 0;
    const loader = async () => {
      calls += 1;
      await sleep(20);
      return calls;
    };
    const options = { ttl: 2000, refreshThreshold: 1900 };
    expect(await cache.wrap('hot', loader, options)).toBe(1);
    await sleep(150); // inside the window now
    const handed = [];
    const values = await Promise.all(Array.from({ length: 1000 }, () =>
      cache.wrap('hot', loader, { ...options, waitUntil: (p) => handed.push(p) })));
    expect(values.every((v) => v === 1)).toBe(true);
    expect(handed.length).toBe(1000);
    expect(new Set(handed).size).toBe(1); // one shared refresh promise
    await cache.settled();
    expect(calls).toBe(2);
    expect(await cache.get('hot')).toBe(2);
  });
});
