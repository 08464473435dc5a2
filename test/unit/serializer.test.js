'use strict';

const { MemoryStore } = require('../../lib');

// The README's round-trip table is this list: keep them in step.
const samples = {
  string: 'plain text',
  'empty string': '',
  number: 42.5,
  'NaN / Infinity / -0': [NaN, Infinity, -0],
  boolean: false,
  null: null,
  'nested object': { a: { b: { c: [1, { d: 'e' }] } } },
  Date: new Date('2024-02-29T12:34:56.789Z'),
  Map: new Map([['a', 1], [2, { b: true }]]),
  Set: new Set([1, 'two', null]),
  BigInt: 12345678901234567890n,
  Buffer: Buffer.from([0, 1, 2, 255]),
  Uint8Array: new Uint8Array([9, 8, 7]),
  'undefined in array': [1, undefined, 3],
  'undefined property': { a: undefined, b: 1 },
  RegExp: /ab+c/gi,
  'cyclic object': (() => { const o = { name: 'self' }; o.self = o; return o; })(),
  'top-level undefined': undefined,
};

describe("the default 'auto' codec keeps every value exactly", () => {
  const store = new MemoryStore();
  afterAll(() => store.disconnect());

  test.each(Object.entries(samples))('%s', async (name, value) => {
    await store.set('k', value);
    const back = await store.get('k');
    if (name === 'cyclic object') {
      expect(back.self).toBe(back);
      expect(back.name).toBe('self');
    } else if (name === 'top-level undefined') {
      expect(back).toBeUndefined();
      expect(await store.has('k')).toBe(true);
    } else {
      expect(back).toStrictEqual(value);
    }
    if (name === 'Buffer') expect(Buffer.isBuffer(back)).toBe(true);
    if (name === 'NaN / Infinity / -0') expect(Object.is(back[2], -0)).toBe(true);
  });
});

describe("the 'json' codec", () => {
  test('is JSON: Dates become strings and Maps become plain objects', async () => {
    const store = new MemoryStore({ serializer: 'json' });
    await store.set('k', { d: new Date(0), m: new Map([[1, 2]]) });
    expect(await store.get('k')).toEqual({ d: '1970-01-01T00:00:00.000Z', m: {} });
    await expect(store.set('b', 1n)).rejects.toMatchObject({ code: 'ERR_SERIALIZATION' });
    await store.disconnect();
  });
});

describe("the 'v8' codec", () => {
  test('keeps Dates and Maps, and strings', async () => {
    const store = new MemoryStore({ serializer: 'v8' });
    await store.set('k', { d: new Date(0), m: new Map([[1, 2]]) });
    expect(await store.get('k')).toEqual({ d: new Date(0), m: new Map([[1, 2]]) });
    await store.set('s', 'text');
    expect(await store.get('s')).toBe('text');
    await store.disconnect();
  });
});

describe('a custom serializer', () => {
  test('is used for every value, with string or byte payloads', async () => {
    const calls = [];
    const serializer = {
      serialize: (v) => { calls.push('s'); return typeof v === 'number' ? Buffer.from(String(v)) : `S:${JSON.stringify(v)}`; },
      deserialize: (p) => { calls.push('d'); return Buffer.isBuffer(p) ? Number(p.toString()) : JSON.parse(p.slice(2)); },
    };
    const store = new MemoryStore({ serializer });
    await store.set('a', { x: 1 });
    await store.set('n', 7);
    expect(await store.get('a')).toEqual({ x: 1 });
    expect(await store.get('n')).toBe(7);
    expect(calls).toEqual(['s', 's', 'd', 'd']);
    await store.disconnect();
  });

  test('a serializer that returns a number is a SerializationError naming what it returned', async () => {
    const store = new MemoryStore({ serializer: { serialize: () => 5, deserialize: (p) => p } });
    await expect(store.set('a', 1)).rejects.toThrow(
      /serializer.serialize must return a string or a Uint8Array; it returned 5 \(number\)/);
    await store.disconnect();
  });
});

describe('strings with a lone surrogate (not valid Unicode)', () => {
  test("'auto' keeps them inside objects; a top-level one gets U+FFFD", async () => {
    const store = new MemoryStore();
    await store.set('top', '\uD800x');
    await store.set('nested', { t: '\uD800x' });
    expect(await store.get('top')).toBe('\uFFFDx');
    expect(await store.get('nested')).toEqual({ t: '\uD800x' });
    await store.disconnect();
  });

  test.each(['json', 'v8'])("'%s' keeps them exactly", async (serializer) => {
    const store = new MemoryStore({ serializer });
    await store.set('top', '\uD800x');
    expect(await store.get('top')).toBe('\uD800x');
    await store.disconnect();
  });
});

describe('the JSON-safety check of the auto codec', () => {
  const { isJsonSafe } = require('../../lib/serializer');

  test('takes plain data and refuses, at any depth, what JSON would change', () => {
    const at = (v, depth) => {
      let out = v;
      for (let i = 0; i < depth; i++) out = i % 2 ? [out] : { k: out };
      return out;
    };
    const safe = ['', 'x', true, null, 0, 1.5, -3, { a: [1, 'b', null, { c: false }] }, [], {}, Object.create(null)];
    const unsafe = [undefined, NaN, Infinity, -Infinity, -0, 1n, Symbol('s'), () => 1, new Date(0),
      new Map(), new Set(), /re/, Buffer.from('a'), new Uint8Array(1), new Array(3), [undefined], { u: undefined },
      { toJSON: () => 1 }, new (class Point { constructor() { this.x = 1; } })(),
      Object.setPrototypeOf([], class extends Array {}.prototype)];
    for (const depth of [0, 1, 2, 5]) {
      for (const v of safe) expect([depth, isJsonSafe(at(v, depth), 0)]).toEqual([depth, true]);
      // At depth 0 a bare primitive like undefined is judged too: every one is refused.
      for (const v of unsafe) expect([depth, String(v), isJsonSafe(at(v, depth), 0)]).toEqual([depth, String(v), false]);
    }
    expect(isJsonSafe(at(1, 64), 0)).toBe(true);
    expect(isJsonSafe(at(1, 70), 0)).toBe(false); // past the depth bound: the v8 format
  });

  test('an enumerable property added to Object.prototype changes no decision about data', () => {
    Object.defineProperty(Object.prototype, 'injected', { value: 1, enumerable: true, configurable: true });
    try {
      expect(isJsonSafe({ a: 1 }, 0)).toBe(true);
      expect(isJsonSafe({ a: undefined }, 0)).toBe(false);
    } finally {
      delete Object.prototype.injected;
    }
  });
});
