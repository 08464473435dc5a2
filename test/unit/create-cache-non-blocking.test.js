'use strict';

const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { Keyv } = require('keyv');
const cacheManager = require('cache-manager');
const { createCache, MemoryStore, StoreClosedError } = require('../../lib');
const { SlowStore } = require('../helpers/slow-store');

const fixture = path.join(__dirname, '..', 'fixtures', 'non-blocking-failure.js');
const caches = [];
afterAll(() => Promise.all(caches.map((c) => c.disconnect().catch(() => {}))));

describe('nonBlocking reads: a fast miss must not hide a slower hit', () => {
  // The upper tier is an empty Map (answers at once); the lower one answers after 20 ms.
  async function layout(create) {
    const slow = new SlowStore({ delay: 20 });
    const lower = new Keyv({ store: slow });
    await lower.set('k', 'from L2', 10_000);
    const cache = create({ nonBlocking: true, stores: [new Keyv(), lower] });
    caches.push(cache);
    return cache;
  }

  test('cache-manager 7.2.9: get and mget race the tiers and report a miss', async () => {
    const theirs = await layout(cacheManager.createCache);
    expect(await theirs.get('k')).toBeUndefined();
    expect(await theirs.mget(['k'])).toEqual([undefined]);
  });

  test('ours: get, mget and ttl take the first hit', async () => {
    const ours = await layout(createCache);
    expect(await ours.get('k')).toBe('from L2');
    expect(await ours.mget(['k', 'none'])).toEqual(['from L2', undefined]);
    expect(await ours.ttl('k')).toBeGreaterThan(Date.now());
    expect(await ours.get('none')).toBeUndefined();
  });

  test('ours: the fastest hit wins when several tiers have the key', async () => {
    const slow = new SlowStore({ delay: 20 });
    const cache = createCache({ nonBlocking: true, stores: [slow, new MemoryStore()] });
    caches.push(cache);
    await slow.tier.set('k', 'slow copy');
    await cache.stores[1].set('k', 'fast copy');
    expect(await cache.get('k')).toBe('fast copy');
  });
});

describe('nonBlocking writes', () => {
  test('set/del resolve before a slow store has finished; settled() waits for it', async () => {
    const slow = new SlowStore({ delay: 20 });
    const l1 = new MemoryStore();
    const cache = createCache({ nonBlocking: true, stores: [l1, slow] });
    caches.push(cache);
    expect(await cache.set('k', 'v')).toBe('v');
    expect(l1.getSync('k')).toBe('v');
    expect(slow.memory.getSync('k')).toBeUndefined();
    await cache.settled();
    expect(slow.memory.getSync('k')).toBe('v');
    expect(await cache.del('k')).toBe(true);
    expect(slow.memory.getSync('k')).toBe('v');
    await cache.settled();
    expect(slow.memory.getSync('k')).toBeUndefined();
  });

  test('a failed write is an unhandled rejection in cache-manager 7.2.9, an error event in ours', () => {
    const run = (which) => spawnSync(process.execPath, [fixture, which], { encoding: 'utf8', timeout: 20_000 });
    const theirs = run('cache-manager');
    expect(theirs.status).not.toBe(0);
    expect(theirs.stderr).toMatch(/ERR_STORE_CLOSED/);
    const ours = run('ours');
    expect(ours.stderr).toBe('');
    expect(ours.status).toBe(0);
    expect(JSON.parse(ours.stdout)).toEqual({ value: 1, errors: ['ERR_STORE_CLOSED'] });
  });

  test('every kind of failed non-blocking write is reported on its event and on error', async () => {
    const broken = new SlowStore({ delay: 5 });
    await broken.memory.disconnect();
    const closed = new MemoryStore();
    await closed.disconnect();
    const cache = createCache({ nonBlocking: true, stores: [new MemoryStore(), broken, closed] });
    caches.push(cache);
    const errors = [];
    const sets = [];
    const clears = [];
    cache.on('error', (e) => errors.push(e));
    cache.on('set', (e) => sets.push(e));
    cache.on('clear', (e) => clears.push(e));
    expect(await cache.set('k', 1)).toBe(1);
    expect(await cache.mset([{ key: 'm', value: 2 }])).toEqual([{ key: 'm', value: 2, ttl: undefined }]);
    expect(await cache.del('k')).toBe(true);
    expect(await cache.mdel(['m'])).toBe(true);
    expect(await cache.clear()).toBe(true);
    await cache.settled();
    expect(errors).toHaveLength(5);
    for (const error of errors) expect(error).toBeInstanceOf(StoreClosedError);
    expect(sets).toContainEqual({ key: 'k', value: 1, error: expect.any(StoreClosedError) });
    expect(clears).toEqual([undefined, expect.any(StoreClosedError)]);
  });

  test('without an error listener a failed write is dropped quietly', async () => {
    const closed = new MemoryStore();
    await closed.disconnect();
    const cache = createCache({ nonBlocking: true, stores: [closed] });
    caches.push(cache);
    expect(await cache.set('k', 1)).toBe(1);
    await expect(cache.settled()).resolves.toBeUndefined();
  });

  test('a wrap miss in nonBlocking mode returns before the slow store has the value', async () => {
    const slow = new SlowStore({ delay: 20 });
    const cache = createCache({ nonBlocking: true, stores: [new MemoryStore(), slow] });
    caches.push(cache);
    expect(await cache.wrap('w', () => 'v')).toBe('v');
    expect(slow.memory.getSync('w')).toBeUndefined();
    await cache.settled();
    expect(slow.memory.getSync('w')).toBe('v');
  });
});
