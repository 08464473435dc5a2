'use strict';

const { Keyv } = require('keyv');
const {
  createCache, MemoryStore, CacheDisconnectedError, DisconnectError, StoreClosedError, InvalidArgumentError,
} = require('../../lib');
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
    expect(Date.now() - started).toBeLessThan(1000);
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
