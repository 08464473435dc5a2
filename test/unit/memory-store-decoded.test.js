'use strict';

// The decoded-value map in front of the native store (lib/decoded-cache.js): reads of a key
// read before hand out copies of a kept master, and must still behave exactly like parsing
// the stored payload every time.

const binding = require('../../lib/binding');
const { MemoryStore, InvalidArgumentError } = require('../../lib');
const { planOf, copyByPlan, TOO_DEEP } = require('../../lib/decoded-cache');
const { rng } = require('../../bench/js/lib/random');

/** Reads `key` enough times that its master is kept, and returns the last read. */
function readHot(store, key, times = 3) {
  let value;
  for (let i = 0; i < times; i++) value = store.getSync(key);
  return value;
}

/**
 * Differences between `copy` and a fresh JSON.parse of `text`: JSON text, key order at
 * every level, prototypes, and objects shared with `others`. Empty when they agree.
 */
function differencesFromParse(copy, text, others = []) {
  const found = [];
  if (JSON.stringify(copy) !== text) found.push(`text ${JSON.stringify(copy)} != ${text}`);
  const walk = (a, b, path) => {
    if (typeof a !== 'object' || a === null) return;
    if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) found.push(`${path}: prototype`);
    if (Object.keys(a).join('\u0000') !== Object.keys(b).join('\u0000')) found.push(`${path}: key order`);
    if (others.includes(a)) found.push(`${path}: shared with an earlier read`);
    for (const k of Object.keys(a)) walk(a[k], b[k], `${path}.${k}`);
  };
  walk(copy, JSON.parse(text), '$');
  return found;
}

/** Every object inside `value` (for the sharing check). */
function objectsIn(value, out = []) {
  if (typeof value === 'object' && value !== null) {
    out.push(value);
    for (const k of Object.keys(value)) objectsIn(value[k], out);
  }
  return out;
}

function randomJson(random, depth) {
  const r = random();
  if (depth > 4 || r < 0.35) {
    const p = random();
    if (p < 0.25) return Math.floor(random() * 2e6) - 1e6;
    if (p < 0.4) return random() * 1e3;
    if (p < 0.6) return `s${Math.floor(random() * 1e4)}\u00e9\u{1F600}`;
    if (p < 0.75) return random() < 0.5;
    return null;
  }
  if (r < 0.65) {
    return Array.from({ length: Math.floor(random() * 6) }, () => randomJson(random, depth + 1));
  }
  const out = {};
  const n = Math.floor(random() * 6);
  for (let i = 0; i < n; i++) {
    const k = random() < 0.3 ? String(Math.floor(random() * 20)) : `k${Math.floor(random() * 50)}\n`;
    out[k] = randomJson(random, depth + 1);
  }
  return out;
}

describe('MemoryStore decoded copies', () => {
  test('each read of a kept value is a fresh deep copy: mutating one changes nothing', () => {
    const store = new MemoryStore();
    store.setSync('k', { a: 1, list: [1, { deep: 'x' }], nested: { b: [2, 3] } });
    const first = readHot(store, 'k');
    expect(store.stats().decodedEntries).toBe(1);
    first.a = 99;
    first.list[1].deep = 'changed';
    first.nested.b.push(4);
    const second = store.getSync('k');
    expect(second).toEqual({ a: 1, list: [1, { deep: 'x' }], nested: { b: [2, 3] } });
    expect(second).not.toBe(first);
    expect(second.list).not.toBe(first.list);
    expect(second.nested).not.toBe(first.nested);
    store.disconnect();
  });

  test('copies equal a fresh JSON.parse for 2,000 random JSON values (key order, prototypes, no sharing)', () => {
    const random = rng(99);
    const store = new MemoryStore({ serializer: 'json' });
    const problems = [];
    for (let i = 0; i < 2000; i++) {
      const value = randomJson(random, 0);
      const text = JSON.stringify(value);
      store.setSync(`v${i}`, value);
      const a = readHot(store, `v${i}`);
      const b = store.getSync(`v${i}`);
      problems.push(...differencesFromParse(a, text), ...differencesFromParse(b, text, objectsIn(a)));
    }
    expect(problems).toEqual([]);
    expect(store.stats().decodedEntries).toBeGreaterThan(1000);
    store.disconnect();
  });

  test('a write through any method of the store is seen by the next read', async () => {
    const store = new MemoryStore();
    store.setSync('k', { v: 1 });
    expect(readHot(store, 'k')).toEqual({ v: 1 });
    store.setSync('k', { v: 2 });
    expect(store.getSync('k')).toEqual({ v: 2 });
    await store.set('k', { v: 3 });
    expect(readHot(store, 'k')).toEqual({ v: 3 });
    await store.setMany([{ key: 'k', value: { v: 4 } }]);
    expect(store.getSync('k')).toEqual({ v: 4 });
    readHot(store, 'k');
    expect(store.deleteSync('k')).toBe(true);
    expect(store.getSync('k')).toBeUndefined();
    store.setSync('k', 'text');
    readHot(store, 'k');
    store.clearSync();
    expect(store.getSync('k')).toBeUndefined();
    expect(store.stats().decodedEntries).toBe(0);
    await store.disconnect();
  });

  test('expiry and eviction inside the native store end a kept value at once', async () => {
    const store = new MemoryStore({ maxEntries: 10, sweepInterval: 0 });
    store.setSync('short', { v: 'short' }, 400); // room for a pause before it is read
    store.setSync('evicted', { v: 'evicted' });
    expect(readHot(store, 'short')).toEqual({ v: 'short' });
    expect(readHot(store, 'evicted')).toEqual({ v: 'evicted' });
    expect(store.stats().decodedEntries).toBe(2);
    // Fill the store until the eviction policy drops 'evicted', without reading it through
    // getSync in between (hasSync does not count as a read). Each filler is read once, so
    // SIEVE's hand walks past them and comes back round to 'evicted'.
    for (let i = 0; i < 10_000 && store.hasSync('evicted'); i++) {
      store.setSync(`filler${i}`, i);
      store.getSync(`filler${i}`);
    }
    expect(store.hasSync('evicted')).toBe(false);
    expect(store.stats().decodedEntries).toBe(2);
    expect(store.getSync('evicted')).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 450));
    expect(store.getSync('short')).toBeUndefined();
    // Their masters stay until the CLOCK hand reaches them (within the byte budget), but
    // nothing can reach them: a new entry under either key starts without a master.
    store.setSync('short', { v: 'again' });
    store.setSync('evicted', 'again');
    expect(readHot(store, 'short')).toEqual({ v: 'again' });
    expect(readHot(store, 'evicted')).toBe('again');
    await store.disconnect();
  });

  test('the native entry carries the slot hint of its own write only, and the board its generation', () => {
    const meta = new Float64Array(5);
    const native = new binding.MemoryStoreWrap(
      { maxEntries: 100, maxBytes: 1 << 20, maxValueBytes: 1 << 16, maxKeyBytes: 1024 }, meta);
    native.set('k', '{"v":1}', 2, 0);
    expect(native.setDecodedSlot('k', 1, 1)).toBe(false); // no board: no slot has a row
    for (const bad of [new Float64Array(3), new Float64Array(2), new Float32Array(16), [0, 0, 0, 0], undefined]) {
      expect(() => native.attachBoard(bad)).toThrow(/attachBoard/);
    }
    const board = new Float64Array(16).fill(-1); // 8 rows
    native.attachBoard(board);
    expect([...board]).toEqual(new Array(16).fill(0));
    expect(native.get('k', true)).toBe('{"v":1}'); // no hint yet: the value
    const generation = meta[2];
    expect(generation).toBeGreaterThan(0);
    expect(meta[3]).toBe(0); // first read
    expect(meta[4]).toBe(0);
    expect(native.setDecodedSlot('k', generation + 1, 7)).toBe(false); // another write's
    expect(native.setDecodedSlot('k', generation, 8)).toBe(false); // past the board's rows
    expect(native.setDecodedSlot('k', generation, 7)).toBe(true);
    expect(board[14]).toBe(generation);
    expect(native.get('k', true)).toBe(true);
    expect(meta[3]).toBe(1); // read before
    expect(meta[4]).toBe(7);
    expect(native.get('k', false)).toBe('{"v":1}'); // the value when asked for it
    native.set('k', '{"v":2}', 2, 0); // a new write: a new entry, without a hint
    expect(board[14]).toBe(0); // the old entry's row is zeroed
    expect(native.get('k', true)).toBe('{"v":2}');
    expect(meta[2]).toBeGreaterThan(generation);
    expect(meta[4]).toBe(0);
    expect(native.setDecodedSlot('k', meta[2], 3)).toBe(true);
    const bigger = new Float64Array(32);
    native.attachBoard(bigger); // rows carried over
    expect(bigger[6]).toBe(meta[2]);
    expect(native.setDecodedSlot('k', meta[2], 0)).toBe(true); // cleared
    expect(bigger[6]).toBe(0);
    expect(native.get('k', true)).toBe('{"v":2}');
    for (const [g, slot] of [[0, 1], [-1, 1], [NaN, 1], [2 ** 53, 1], [1, -1], [1, 2 ** 32]]) {
      expect(() => native.setDecodedSlot('k', g, slot)).toThrow(/out of range/);
    }
    expect(() => native.setDecodedSlot('k', '1', 1)).toThrow(/expected numbers/);
    expect(native.setDecodedSlot('k', meta[2], 5)).toBe(true);
    expect(bigger[10]).toBe(meta[2]);
    native.delete('k');
    expect(bigger[10]).toBe(0);
    expect(native.get('k', true)).toBeUndefined();
    expect(native.setDecodedSlot('k', meta[2], 1)).toBe(false);
    native.close();
    expect(() => native.attachBoard(new Float64Array(4))).toThrow(/closed/);
  });

  test('hits and misses are counted as without the map', () => {
    const store = new MemoryStore();
    store.setSync('k', { v: 1 });
    readHot(store, 'k', 10);
    store.getSync('missing');
    const stats = store.stats();
    expect(stats.hits).toBe(10);
    expect(stats.misses).toBe(1);
    store.disconnect();
  });

  test('own "__proto__" keys and deep nesting come back exactly', () => {
    const store = new MemoryStore({ serializer: 'json' });
    const text = '{"__proto__":{"polluted":true},"a":[{"__proto__":1}]}';
    store.setSync('proto', JSON.parse(text));
    const got = readHot(store, 'proto');
    expect(Object.getPrototypeOf(got)).toBe(Object.prototype);
    expect(Object.hasOwn(got, '__proto__')).toBe(true);
    expect(JSON.stringify(got)).toBe(text);
    expect({}.polluted).toBeUndefined();

    let deep = { end: true };
    for (let i = 0; i < 200; i++) deep = { next: deep };
    store.setSync('deep', deep);
    const text2 = JSON.stringify(deep);
    expect(JSON.stringify(readHot(store, 'deep'))).toBe(text2);
    expect(planOf(JSON.parse(text2), 0)).toBe(TOO_DEEP);
    store.disconnect();
  });

  test('the byte budget holds; 0 keeps nothing; other codecs and Buffers are never kept', () => {
    const small = new MemoryStore({ decodedCacheBytes: 10_000 });
    for (let i = 0; i < 1000; i++) small.setSync(`k${i}`, { i, pad: 'x'.repeat(i % 50) });
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 1000; i++) {
        expect(small.getSync(`k${i}`)).toEqual({ i, pad: 'x'.repeat(i % 50) });
        expect(small.stats().decodedBytes).toBeLessThanOrEqual(10_000);
      }
    }
    expect(small.stats().decodedEntries).toBeGreaterThan(0);
    small.disconnect();

    const off = new MemoryStore({ decodedCacheBytes: 0 });
    off.setSync('k', { v: 1 });
    expect(readHot(off, 'k')).toEqual({ v: 1 });
    expect(off.stats()).toMatchObject({ decodedEntries: 0, decodedBytes: 0 });
    off.disconnect();

    const v8store = new MemoryStore({ serializer: 'v8' });
    v8store.setSync('d', new Date(5));
    v8store.setSync('b', Buffer.from('abc'));
    expect(readHot(v8store, 'd')).toEqual(new Date(5));
    const buf = readHot(v8store, 'b');
    buf[0] = 0;
    expect(v8store.getSync('b')).toEqual(Buffer.from('abc'));
    expect(v8store.stats().decodedEntries).toBe(0);
    v8store.disconnect();
  });

  test('copyByPlan follows the plan of the value it was made from', () => {
    const value = JSON.parse('{"rows":[{"a":1},{"b":[2]}],"flat":[1,2],"s":"x","n":null}');
    const copy = copyByPlan(value, planOf(value, 0));
    expect(copy).toEqual(value);
    expect(copy.rows[1].b).not.toBe(value.rows[1].b);
    expect(copy.flat).not.toBe(value.flat);
  });

  test('decodedCacheBytes is validated by name', () => {
    expect(() => new MemoryStore({ decodedCacheBytes: -1 })).toThrow(InvalidArgumentError);
    expect(() => new MemoryStore({ decodedCacheBytes: 1.5 })).toThrow(/decodedCacheBytes/);
    expect(() => new MemoryStore({ decodedCacheBytes: '8mb' })).toThrow(/decodedCacheBytes/);
  });
});

describe('MemoryStore decoded copies through getEntrySync', () => {
  test('entries of kept values carry the expiry and a fresh copy; stored undefined is not a miss', () => {
    const store = new MemoryStore();
    const before = Date.now();
    store.setSync('k', { v: [1] }, 60_000);
    let entry;
    for (let i = 0; i < 3; i++) entry = store.getEntrySync('k');
    expect(store.stats().decodedEntries).toBe(1);
    expect(entry.value).toEqual({ v: [1] });
    expect(entry.expires).toBeGreaterThanOrEqual(before + 60_000);
    entry.value.v.push(2);
    expect(store.getEntrySync('k').value).toEqual({ v: [1] });
    store.setSync('u', undefined);
    expect(store.getEntrySync('u')).toEqual({ value: undefined, expires: undefined });
    expect(store.getEntrySync('missing')).toBeUndefined();
    store.disconnect();
  });
});

describe('shared plans', () => {
  test('values of one shape share one plan; values of another shape are copied by their own', () => {
    const store = new MemoryStore();
    for (let i = 0; i < 50; i++) store.setSync(`a${i}`, { id: i, tags: [String(i)], deep: { list: [{ x: i }] } });
    for (let i = 0; i < 50; i++) store.setSync(`b${i}`, [{ id: i }, [i, { y: [i] }]]);
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 50; i++) {
        const a = store.getSync(`a${i}`);
        const b = store.getSync(`b${i}`);
        expect(a).toEqual({ id: i, tags: [String(i)], deep: { list: [{ x: i }] } });
        expect(b).toEqual([{ id: i }, [i, { y: [i] }]]);
        a.deep.list[0].x = -1;
        b[1][1].y.push(-1);
      }
    }
    expect(store.stats().decodedEntries).toBe(100);
    store.disconnect();
  });
});

describe('decoded copies of a namespaced store', () => {
  test('clear() drops the namespace\'s masters and keeps the others', () => {
    const store = new MemoryStore({ namespace: 'ns' });
    store.setSync('ns:a', { v: 'a' });
    store.setSync('other:b', { v: 'b' });
    readHot(store, 'ns:a');
    readHot(store, 'other:b');
    expect(store.stats().decodedEntries).toBe(2);
    store.clearSync();
    expect(store.getSync('ns:a')).toBeUndefined();
    expect(store.stats().decodedEntries).toBe(1);
    expect(readHot(store, 'other:b')).toEqual({ v: 'b' });
    store.setSync('ns:a', { v: 'new' });
    expect(readHot(store, 'ns:a')).toEqual({ v: 'new' });
    store.disconnect();
  });
});

describe('reads served from the board, without a native call', () => {
  const { largeObject } = require('../../bench/js/lib/values');
  const { estimate, MASTER_OVERHEAD } = require('../../lib/decoded-cache');

  test('a kept value is served from its master and counted as a hit', () => {
    const store = new MemoryStore();
    store.setSync('k', { v: 1 });
    readHot(store, 'k', 2); // the second read keeps the master
    expect(store.stats()).toMatchObject({ hits: 2, decodedHits: 0, decodedEntries: 1 });
    for (let i = 0; i < 5; i++) expect(store.getSync('k')).toEqual({ v: 1 });
    expect(store.stats()).toMatchObject({ hits: 7, misses: 0, decodedHits: 5 });
    store.disconnect();
  });

  test('a random trace gives the same values, hits, misses and evictions with masters as without', () => {
    // Eviction decisions depend on SIEVE's visited bits: reads served from a master must
    // count as visits exactly as native reads do, or the two stores drift apart.
    const run = (decodedCacheBytes) => {
      const store = new MemoryStore({ maxEntries: 200, decodedCacheBytes, sweepInterval: 0 });
      const random = rng(5);
      const seen = [];
      // Read-through, as `wrap` does: a miss writes the key; a few rewrites and deletes.
      for (let step = 0; step < 60_000; step++) {
        const key = `k${Math.floor(random() ** 2 * 400)}`;
        const r = random();
        if (r < 0.005) {
          store.setSync(key, { key, step, list: [step, { n: step }] });
        } else if (r < 0.007) {
          store.deleteSync(key);
        } else {
          const value = store.getSync(key);
          seen.push(JSON.stringify(value) ?? '-');
          if (value === undefined) store.setSync(key, { key, step, list: [step, { n: step }] });
        }
      }
      const { hits, misses, evictions, decodedHits } = store.stats();
      store.disconnect();
      return { seen, hits, misses, evictions, decodedHits };
    };
    const plain = run(0);
    const kept = run(64 * 1024 * 1024);
    expect(plain.decodedHits).toBe(0);
    expect(kept.decodedHits).toBeGreaterThan(kept.hits / 2);
    expect(plain.evictions).toBeGreaterThan(1000);
    expect({ ...kept, seen: undefined, decodedHits: 0 }).toEqual({ ...plain, seen: undefined });
    const firstDifference = plain.seen.findIndex((text, i) => kept.seen[i] !== text);
    expect(firstDifference).toBe(-1);
    expect(kept.seen.length).toBe(plain.seen.length);
  });

  test('an entry removed by the background sweep is a miss even though its master is kept', async () => {
    const store = new MemoryStore({ sweepInterval: 0 });
    store.setSync('k', { v: 1 }, 60);
    readHot(store, 'k');
    expect(store.stats().decodedEntries).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await store.sweep()).toBe(1);
    expect(store.getSync('k')).toBeUndefined();
    expect(store.stats()).toMatchObject({ expirations: 1, decodedEntries: 0 });
    store.disconnect();
  });

  test('a master past its expiry is never served, whatever the sweep did', async () => {
    const store = new MemoryStore({ sweepInterval: 0 });
    store.setSync('k', 'text', 60);
    expect(store.getEntrySync('k')).toMatchObject({ value: 'text' });
    const entry = store.getEntrySync('k'); // kept now
    expect(store.getEntrySync('k')).toEqual(entry); // from the master, with its expiry
    expect(store.stats().decodedHits).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(store.getSync('k')).toBeUndefined();
    expect(store.stats().expirations).toBe(1);
    store.disconnect();
  });

  test('the board grows past its first 1,024 rows as masters are kept', () => {
    const store = new MemoryStore();
    for (let i = 0; i < 5000; i++) store.setSync(`k${i}`, { i });
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 5000; i++) expect(store.getSync(`k${i}`)).toEqual({ i });
    }
    expect(store.stats()).toMatchObject({ decodedEntries: 5000, decodedHits: 5000 });
    // Rows moved to the bigger boards still follow their entries.
    for (let i = 0; i < 5000; i += 2) store.setSync(`k${i}`, { i, again: true });
    for (let i = 0; i < 5000; i++) expect(store.getSync(`k${i}`)).toEqual(i % 2 === 0 ? { i, again: true } : { i });
    store.disconnect();
  });

  test('10,000 values of 4 KiB (pages of 45 records) fit the default budget and are all served from masters', () => {
    const store = new MemoryStore();
    const n = 10_000;
    for (let i = 0; i < n; i++) store.setSync(`p${i}`, largeObject(i));
    for (let round = 0; round < 2; round++) for (let i = 0; i < n; i++) store.getSync(`p${i}`);
    const before = store.stats();
    expect(before.decodedEntries).toBe(n);
    expect(before.decodedBytes).toBeLessThanOrEqual(64 * 1024 * 1024);
    for (let i = 0; i < n; i++) expect(store.getSync(`p${i}`).page).toBe(i);
    expect(store.stats().decodedHits - before.decodedHits).toBe(n);
    store.disconnect();
  });

  test('the size estimate follows the structure, and characters beyond Latin-1 count double', () => {
    expect(estimate('a'.repeat(1000))).toBe(1016);
    expect(estimate('\u20ac'.repeat(1000))).toBe(2016);
    expect(estimate('\u00e9'.repeat(1000))).toBe(1016); // Latin-1: one byte each
    expect(estimate({ a: 1, b: 2 })).toBe(48); // header + two small integers
    expect(estimate([1.5])).toBe(32 + 8 + 16); // a boxed double
    expect(estimate({ s: 'abc' })).toBe(40 + 8); // short: shared by JSON.parse, counted as a slot
    expect(estimate({ s: 'abcdefghijk' })).toBe(40 + 32); // 11 characters: its own string
    let deep = 'end';
    for (let i = 0; i < 100_000; i++) deep = [deep]; // no recursion limit
    expect(estimate(deep)).toBe(100_000 * 40 + 8);
    expect(MASTER_OVERHEAD).toBeGreaterThan(0);
    // A budget of a few masters holds by the same measure.
    const store = new MemoryStore({ decodedCacheBytes: 3 * (estimate('\u20ac'.repeat(500)) + MASTER_OVERHEAD) });
    for (let i = 0; i < 10; i++) store.setSync(`s${i}`, '\u20ac'.repeat(500));
    for (let round = 0; round < 3; round++) for (let i = 0; i < 10; i++) store.getSync(`s${i}`);
    expect(store.stats().decodedEntries).toBe(3);
    store.disconnect();
  });
});
