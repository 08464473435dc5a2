'use strict';

const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { Keyv } = require('keyv');
const {
  createCache, MemoryStore, CacheDisconnectedError, DisconnectError, StoreClosedError, InvalidArgumentError,
} = require('../../lib');
const { registryCount } = require('../../lib/wrap-context');
const { SlowStore, sleep } = require('../helpers/slow-store');

describe('disconnect', () => {
  test('every later call rejects with CacheDisconnectedError', async () => {
    const cache = createCache();
    await cache.set('k', 1);
    await cache.disconnect();
    const calls = [
      cache.get('k'), cache.mget(['k']), cache.set('k', 2), cache.mset([{ key: 'k', value: 2 }]),
      cache.del('k'), cache.mdel(['k']), cache.clear(), cache.ttl('k'), cache.wrap('k', () => 3),
    ];
    for (const call of calls) {
      await expect(call).rejects.toBeInstanceOf(CacheDisconnectedError);
    }
    await expect(cache.get('k')).rejects.toMatchObject({ code: 'ERR_CACHE_DISCONNECTED' });
    expect(cache.cacheId()).toEqual(expect.any(String));
    await expect(cache.settled()).resolves.toBeUndefined();
  });

  test('closes every store: MemoryStore, Keyv over MemoryStore, async store', async () => {
    const memory = new MemoryStore();
    const underKeyv = new MemoryStore();
    const slow = new SlowStore({ delay: 1 });
    const cache = createCache({ stores: [memory, new Keyv({ store: underKeyv }), slow] });
    await expect(cache.disconnect()).resolves.toBeUndefined();
    expect(() => memory.getSync('k')).toThrow(StoreClosedError);
    expect(() => underKeyv.getSync('k')).toThrow(StoreClosedError);
    expect(() => slow.memory.getSync('k')).toThrow(StoreClosedError);
  });

  test('is idempotent: one close per store, the same promise every time', async () => {
    const slow = new SlowStore({ delay: 1 });
    const cache = createCache({ stores: [slow] });
    const first = cache.disconnect();
    expect(cache.disconnect()).toBe(first);
    await first;
    await cache.disconnect();
    expect(slow.calls.disconnect).toBe(1);
  });

  test('lets a running wrap and a background refresh finish before closing', async () => {
    const slow = new SlowStore({ delay: 2 });
    const cache = createCache({ stores: [slow] });
    const refreshes = [];
    cache.on('refresh', (e) => refreshes.push(e));
    await cache.set('old', 'old', 1000);
    await cache.wrap('old', async () => { await sleep(30); return 'new'; }, 10_000, 2000);
    const loading = cache.wrap('miss', async () => { await sleep(30); return 'loaded'; });
    await cache.disconnect();
    await expect(loading).resolves.toBe('loaded');
    expect(refreshes).toEqual([{ key: 'old', value: 'new' }]);
  });

  test('does not wait past its timeout, and still closes the stores', async () => {
    const memory = new MemoryStore();
    const cache = createCache({ stores: [memory] });
    await cache.set('k', 'old', 1000);
    await cache.wrap('k', () => new Promise(() => {}), 10_000, 2000);
    const started = Date.now();
    await cache.disconnect({ timeout: 50 });
    // The 50 ms timeout, late timers allowed for: the refresh it gave up on never settles.
    expect(Date.now() - started).toBeLessThan(5000);
    expect(() => memory.getSync('k')).toThrow(StoreClosedError);
  });

  test('reports every store\'s error together', async () => {
    const a = new SlowStore({ delay: 1, disconnectError: new Error('a refused') });
    const b = new SlowStore({ delay: 1, disconnectError: new Error('b refused') });
    const ok = new MemoryStore();
    const cache = createCache({ stores: [a, ok, b] });
    const error = await cache.disconnect().catch((e) => e);
    expect(error).toBeInstanceOf(DisconnectError);
    expect(error.code).toBe('ERR_DISCONNECT');
    expect(error.errors.map((e) => e.message).sort()).toEqual(['a refused', 'b refused']);
    expect(() => ok.getSync('k')).toThrow(StoreClosedError);
  });

  test('checks its options', async () => {
    const cache = createCache();
    await expect(cache.disconnect({ timeout: -1 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(cache.get('k')).resolves.toBeUndefined();
    await cache.disconnect();
  });

  test('Symbol.asyncDispose disconnects', async () => {
    const memory = new MemoryStore();
    const cache = createCache({ stores: [memory] });
    await cache[Symbol.asyncDispose]();
    await expect(cache.get('k')).rejects.toBeInstanceOf(CacheDisconnectedError);
    expect(() => memory.getSync('k')).toThrow(StoreClosedError);
  });
});

describe('coalescing tables per cacheId', () => {
  test('short-lived caches leave nothing behind once disconnected', async () => {
    const before = registryCount();
    const many = Array.from({ length: 50 }, () => createCache());
    expect(registryCount()).toBe(before + 50);
    await Promise.all(many.map((c) => c.disconnect()));
    expect(registryCount()).toBe(before);
  });

  test('caches dropped without disconnect() release their tables when collected', () => {
    const script = path.join(__dirname, '..', 'fixtures', 'cache-gc.js');
    const run = spawnSync(process.execPath, ['--expose-gc', script], { encoding: 'utf8', timeout: 20_000 });
    expect(run.status).toBe(0);
    const { before, after } = JSON.parse(run.stdout);
    expect(before).toBe(200);
    expect(after).toBeLessThan(10);
  });

  test('a cacheId stays shared while one of its caches is open', async () => {
    const a = createCache({ cacheId: 'kept' });
    const b = createCache({ cacheId: 'kept' });
    await a.disconnect();
    const c = createCache({ cacheId: 'kept' });
    let calls = 0;
    const fn = async () => { calls++; await sleep(5); return calls; };
    expect(await Promise.all([b.wrap('k', fn), c.wrap('k', fn)])).toEqual([1, 1]);
    await b.disconnect();
    await c.disconnect();
  });
});
