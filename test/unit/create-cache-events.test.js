'use strict';

const { Keyv } = require('keyv');
const cacheManager = require('cache-manager');
const { createCache, MemoryStore, StoreClosedError } = require('../../lib');
const { SlowStore } = require('../helpers/slow-store');

const EVENTS = ['get', 'mget', 'set', 'mset', 'del', 'mdel', 'clear', 'ttl', 'refresh'];

function record(cache) {
  const seen = [];
  for (const name of EVENTS) cache.on(name, (payload) => seen.push([name, payload]));
  return seen;
}

// Expiry timestamps differ between two runs; everything else must match exactly.
function normalize(value) {
  return JSON.parse(JSON.stringify(value, (k, v) => (k === 'expires' && typeof v === 'number' ? 'ms' : v)));
}

async function scenario(cache, putInSecondary) {
  await cache.set('a', 1);
  await cache.get('a');
  await cache.get('missing');
  await putInSecondary('b', 2);
  await cache.get('b');
  await cache.mget(['a', 'b', 'zz']);
  await cache.mset([{ key: 'm', value: 3, ttl: 1000 }]);
  await cache.ttl('m');
  await cache.ttl('nope');
  await cache.del('a');
  await cache.mdel(['m']);
  await cache.wrap('w', () => 5, 1000);
  await cache.clear();
}

describe('createCache events', () => {
  test('names, payloads, order and per-store labels match cache-manager 7.2.9', async () => {
    const theirs = cacheManager.createCache({ stores: [new Keyv(), new Keyv()] });
    const theirEvents = record(theirs);
    await scenario(theirs, (k, v) => theirs.stores[1].set(k, v));

    const ours = createCache({ stores: [new MemoryStore(), new MemoryStore()] });
    const ourEvents = record(ours);
    await scenario(ours, (k, v) => ours.stores[1].set(k, v));

    expect(normalize(ourEvents)).toEqual(normalize(theirEvents));
    expect(ourEvents.map(([name]) => name)).toContain('clear');
    expect(ourEvents).toContainEqual(['get', { key: 'b', value: 2, store: 'secondary:0' }]);
    expect(ourEvents).toContainEqual(['set', { key: 'a', value: 1, store: 'secondary:0' }]);
    await ours.disconnect();
    await theirs.disconnect();
  });

  test('on returns the emitter (chainable) and off removes a listener', async () => {
    const cache = createCache();
    const seen = [];
    const listener = (e) => seen.push(e.key);
    const emitter = cache.on('set', listener);
    expect(typeof emitter.on).toBe('function');
    await cache.set('one', 1);
    cache.off('set', listener);
    await cache.set('two', 2);
    expect(seen).toEqual(['one', 'one']);
    await cache.disconnect();
  });

  test('a failing store: get reports the error and misses, set rejects and reports it', async () => {
    const store = new MemoryStore();
    const cache = createCache({ stores: [store] });
    await store.disconnect();
    const gets = [];
    const sets = [];
    cache.on('get', (e) => gets.push(e));
    cache.on('set', (e) => sets.push(e));
    expect(await cache.get('k')).toBeUndefined();
    expect(gets).toEqual([{ key: 'k', error: expect.any(StoreClosedError), store: 'primary' }]);
    await expect(cache.set('k', 1)).rejects.toThrow(StoreClosedError);
    expect(sets).toEqual([{ key: 'k', value: 1, error: expect.any(StoreClosedError) }]);
    const clears = [];
    cache.on('clear', (e) => clears.push(e));
    await expect(cache.clear()).rejects.toThrow(StoreClosedError);
    expect(clears).toEqual([expect.any(StoreClosedError)]);
  });

  test('a failing lower tier does not hide the upper tier\'s answer', async () => {
    const broken = new MemoryStore();
    await broken.disconnect();
    const cache = createCache({ stores: [new MemoryStore(), broken] });
    const gets = [];
    cache.on('get', (e) => gets.push(e));
    await cache.stores[0].set('k', 'v');
    expect(await cache.get('k')).toBe('v');
    expect(await cache.get('other')).toBeUndefined();
    expect(gets).toEqual([
      { key: 'k', value: 'v', store: 'primary' },
      { key: 'other', error: expect.any(StoreClosedError), store: 'secondary:0' },
    ]);
    await cache.stores[0].disconnect();
  });
});

describe('set events with one asynchronous tier (the single-tier write path)', () => {
  test('a write emits the store\'s event, then the call\'s, and resolves with the value', async () => {
    const slow = new SlowStore({ delay: 2 });
    const cache = createCache({ stores: [slow] });
    const seen = [];
    cache.on('set', (e) => seen.push(e));
    await expect(cache.set('k', { n: 1 }, 1000)).resolves.toEqual({ n: 1 });
    expect(seen).toEqual([
      { key: 'k', value: { n: 1 }, store: 'primary' },
      { key: 'k', value: { n: 1 } },
    ]);
    expect(slow.memory.getSync('k')).toEqual({ n: 1 });
    expect(slow.calls.set).toBe(1);
    await cache.disconnect();
  });

  test('a failing write rejects with the store\'s error and reports it once, without a store event', async () => {
    const slow = new SlowStore({ delay: 2 });
    await slow.memory.disconnect();
    const cache = createCache({ stores: [slow] });
    const seen = [];
    cache.on('set', (e) => seen.push(e));
    await expect(cache.set('k', 1)).rejects.toThrow(StoreClosedError);
    expect(seen).toEqual([{ key: 'k', value: 1, error: expect.any(StoreClosedError) }]);
    await cache.disconnect().catch(() => {});
  });

  test('a listener that throws on the store\'s event fails the call, which reports that error', async () => {
    const cache = createCache({ stores: [new SlowStore({ delay: 2 })] });
    const boom = new Error('listener failed');
    const seen = [];
    cache.on('set', (e) => {
      seen.push(e);
      if (e.store !== undefined) throw boom;
    });
    await expect(cache.set('k', 1)).rejects.toBe(boom);
    expect(seen).toEqual([
      { key: 'k', value: 1, store: 'primary' },
      { key: 'k', value: 1, error: boom },
    ]);
    await cache.disconnect();
  });

  test('a listener that throws on the call\'s event fails the call, with no error event', async () => {
    const cache = createCache({ stores: [new SlowStore({ delay: 2 })] });
    const boom = new Error('listener failed');
    const seen = [];
    cache.on('set', (e) => {
      seen.push(e);
      if (e.store === undefined && e.error === undefined) throw boom;
    });
    await expect(cache.set('k', 1)).rejects.toBe(boom);
    expect(seen).toEqual([
      { key: 'k', value: 1, store: 'primary' },
      { key: 'k', value: 1 },
    ]);
    await cache.disconnect();
  });

  test('a Keyv-like tier that answers with a bare thenable: the call still resolves with the value', async () => {
    const data = new Map();
    const thenable = (v) => ({ then(ok) { ok(v); } });
    const store = {
      get: (k) => thenable(data.get(k)),
      set: (k, v) => { data.set(k, v); return thenable(true); },
      delete: (k) => thenable(data.delete(k)),
      clear: () => { data.clear(); return thenable(undefined); },
    };
    const cache = createCache({ stores: [store] });
    const seen = [];
    cache.on('set', (e) => seen.push(e));
    const call = cache.set('k', { n: 1 });
    expect(call).toBeInstanceOf(Promise);
    await expect(call).resolves.toEqual({ n: 1 });
    expect(seen).toEqual([
      { key: 'k', value: { n: 1 }, store: 'primary' },
      { key: 'k', value: { n: 1 } },
    ]);
    expect(data.has('k')).toBe(true);
  });

  test('writes answered together: each call\'s events, then the next call\'s', async () => {
    // Every write waits on one gate, so both answers settle in the same microtask run, as
    // replies read from one socket read do.
    let open;
    const gate = new Promise((resolve) => { open = resolve; });
    const data = new Map();
    const store = {
      get: async (k) => data.get(k),
      set: (k, v) => gate.then(() => { data.set(k, v); return true; }),
      delete: async (k) => data.delete(k),
      clear: async () => data.clear(),
    };
    const cache = createCache({ stores: [store] });
    const seen = [];
    cache.on('set', (e) => seen.push(e.store === undefined ? `call ${e.key}` : `store ${e.key}`));
    const calls = Promise.all([cache.set('a', 1), cache.set('b', 2)]);
    open();
    expect(await calls).toEqual([1, 2]);
    expect(seen).toEqual(['store a', 'call a', 'store b', 'call b']);
  });
});

describe('clear is emitted with no argument, as cache-manager 7.2.9 emits it', () => {
  async function clearArgs(cache) {
    const counts = [];
    cache.on('clear', (...args) => counts.push(args.length));
    await cache.set('k', 1);
    expect(await cache.clear()).toBe(true);
    await cache.settled?.();
    expect(await cache.get('k')).toBeUndefined();
    await cache.disconnect();
    return counts;
  }

  test('cache-manager: none', async () => {
    expect(await clearArgs(cacheManager.createCache({ stores: [new Keyv()] }))).toEqual([0]);
  });

  test.each([
    ['MemoryStore', () => createCache()],
    ['an asynchronous tier', () => createCache({ stores: [new SlowStore({ delay: 2 })] })],
    ['non-blocking, MemoryStore over an asynchronous tier',
      () => createCache({ stores: [new MemoryStore(), new SlowStore({ delay: 2 })], nonBlocking: true })],
  ])('ours (%s): none', async (name, create) => {
    expect(await clearArgs(create())).toEqual([0]);
  });
});

describe('createCache events with a failing asynchronous tier', () => {
  test('blocking writes reject with the store error; reads report it and fall through', async () => {
    const broken = new SlowStore({ delay: 2 });
    await broken.memory.disconnect();
    const upper = new MemoryStore();
    const cache = createCache({ stores: [upper, broken] });
    const seen = [];
    for (const name of ['get', 'set', 'del', 'mget', 'ttl']) cache.on(name, (e) => seen.push([name, e]));
    await expect(cache.set('k', 1)).rejects.toThrow(StoreClosedError);
    expect(upper.getSync('k')).toBe(1);
    await expect(cache.del('k')).rejects.toThrow(StoreClosedError);
    expect(await cache.get('k')).toBeUndefined();
    expect(await cache.mget(['k'])).toEqual([undefined]);
    expect(await cache.ttl('k')).toBeUndefined();
    const error = expect.any(StoreClosedError);
    expect(seen).toEqual([
      ['set', { key: 'k', value: 1, store: 'primary' }],
      ['set', { key: 'k', value: 1, error }],
      ['del', { key: 'k', error }],
      ['get', { key: 'k', error, store: 'secondary:0' }],
      ['mget', { keys: ['k'], error }],
      ['mget', { keys: ['k'], values: [undefined] }],
      ['ttl', { key: 'k', error }],
    ]);
    await upper.disconnect();
  });
});
