'use strict';

// MemoryStore({ frozen: true }): strings and JSON values are handed out shared and
// deep-frozen, never copied; everything the store decides (hit, miss, expiry, overwrite,
// eviction) is as without it.
const { MemoryStore, createCache, MEMORY_STORE_DEFAULTS } = require('../../lib');

const stores = [];
const open = (options) => {
  const store = new MemoryStore({ frozen: true, sweepInterval: 0, ...options });
  stores.push(store);
  return store;
};
afterAll(async () => {
  for (const store of stores) await store.disconnect();
});

/** Whether every object reachable from `value` is frozen. */
function deepFrozen(value) {
  if (typeof value !== 'object' || value === null) return true;
  if (!Object.isFrozen(value)) return false;
  return Object.values(value).every(deepFrozen);
}

const record = () => ({ id: 7, name: 'Ada', tags: ['a', 'b'], nested: { deep: { list: [{ x: 1 }, { y: [2, 3] }] } } });

test('defaults: off, and a 64 MiB decoded budget when it is on', () => {
  expect(MEMORY_STORE_DEFAULTS.frozen).toBe(false);
  expect(open().opts.decodedCacheBytes).toBe(64 * 1024 * 1024);
  expect(open({ decodedCacheBytes: 1024 }).opts.decodedCacheBytes).toBe(1024);
  expect(new MemoryStore({ sweepInterval: 0 }).opts.decodedCacheBytes).toBe(MEMORY_STORE_DEFAULTS.decodedCacheBytes);
  expect(() => new MemoryStore({ frozen: 'yes' })).toThrow("MemoryStore: option 'frozen' must be a boolean; received 'yes' (string)");
});

test('the first read and every later one return the same deep-frozen value, equal to what was set', () => {
  const store = open();
  const original = record();
  store.setSync('k', original);
  expect(Object.isFrozen(original)).toBe(false); // the caller's object is never touched
  const first = store.getSync('k');
  expect(first).toEqual(original);
  expect(deepFrozen(first)).toBe(true);
  expect(store.getSync('k')).toBe(first);
  expect(store.getEntrySync('k').value).toBe(first);
  expect(() => { 'use strict'; first.nested.deep.list[0].x = 2; }).toThrow(TypeError);
  expect(() => first.tags.push('c')).toThrow(TypeError);
  expect(store.getSync('k').nested.deep.list[0].x).toBe(1);
});

test('an overwrite, a delete and an expiry are seen at once', async () => {
  const store = open();
  store.setSync('k', { v: 1 });
  const before = store.getSync('k');
  store.setSync('k', { v: 2 });
  const after = store.getSync('k');
  expect(after).toEqual({ v: 2 });
  expect(after).not.toBe(before);
  expect(Object.isFrozen(after)).toBe(true);
  store.deleteSync('k');
  expect(store.getSync('k')).toBeUndefined();
  store.setSync('short', { v: 3 }, 30);
  expect(store.getSync('short')).toEqual({ v: 3 });
  await new Promise((resolve) => setTimeout(resolve, 60));
  expect(store.getSync('short')).toBeUndefined();
});

test('values over the decoded budget (or with no budget) are still frozen, parsed per read', () => {
  for (const decodedCacheBytes of [0, 1024]) {
    const store = open({ decodedCacheBytes });
    const big = { text: 'x'.repeat(4096), list: [{ a: 1 }] };
    store.setSync('big', big);
    const one = store.getSync('big');
    const two = store.getSync('big');
    expect(one).toEqual(big);
    expect(deepFrozen(one)).toBe(true);
    expect(deepFrozen(two)).toBe(true);
    expect(one).not.toBe(two); // not kept: each read parsed its own
  }
});

test('strings are handed out as they are; non-JSON values are decoded per read and not frozen', () => {
  const store = open();
  store.setSync('s', 'hello');
  expect(store.getSync('s')).toBe('hello');
  const when = new Date(5);
  store.setSync('d', { when, map: new Map([['a', 1]]) }); // needs v8 serialization
  const got = store.getSync('d');
  expect(got.when).toEqual(when);
  expect(got.map.get('a')).toBe(1);
  expect(Object.isFrozen(got)).toBe(false);
  expect(store.getSync('d')).not.toBe(got);
  store.setSync('b', Buffer.from('bytes'));
  const bytes = store.getSync('b');
  bytes[0] = 0; // a Buffer is a copy per read, as without frozen
  expect(store.getSync('b').toString()).toBe('bytes');
});

test('JSON nesting is frozen to the leaves; deeper values (kept with v8) are copies; an own "__proto__" stays a plain key', () => {
  const store = open();
  const nest = (levels) => {
    let value = { leaf: true };
    for (let i = 0; i < levels; i++) value = { child: value };
    return value;
  };
  store.setSync('deep', nest(60)); // JSON (the auto codec takes JSON up to 64 levels)
  let node = store.getSync('deep');
  for (let i = 0; i < 60; i++) {
    expect(Object.isFrozen(node)).toBe(true);
    node = node.child;
  }
  expect(node).toEqual({ leaf: true });
  expect(Object.isFrozen(node)).toBe(true);
  store.setSync('deeper', nest(100)); // past JSON's depth: v8, decoded per read
  expect(Object.isFrozen(store.getSync('deeper'))).toBe(false);
  expect(store.getSync('deeper')).not.toBe(store.getSync('deeper'));
  store.setSync('proto', JSON.parse('{"__proto__": {"polluted": true}, "ok": 1}'));
  const got = store.getSync('proto');
  expect(Object.getPrototypeOf(got)).toBe(Object.prototype);
  expect(Object.hasOwn(got, '__proto__')).toBe(true);
  expect(({}).polluted).toBeUndefined();
});

test('through createCache: get and wrap hits return the shared frozen value; a miss returns what fn made', async () => {
  const cache = createCache({ stores: [open()] });
  const made = await cache.wrap('w', async () => ({ n: 1, list: [1, 2] }), 60_000);
  expect(Object.isFrozen(made)).toBe(false); // fn's own object, as cache-manager returns it
  const hit = await cache.wrap('w', async () => { throw new Error('not called'); }, 60_000);
  expect(hit).toEqual({ n: 1, list: [1, 2] });
  expect(deepFrozen(hit)).toBe(true);
  expect(await cache.get('w')).toBe(hit);
});
