'use strict';

const { MemoryStore, InvalidArgumentError } = require('../../lib');

describe('MemoryStore input validation', () => {
  let store;
  beforeAll(() => { store = new MemoryStore(); });
  afterAll(() => store.disconnect());

  test.each([
    [{ maxEntries: 0 }, /option 'maxEntries' must be an integer in \[1, .*received 0 \(number\)/],
    [{ maxEntries: 1.5 }, /'maxEntries'.*received 1.5/],
    [{ maxBytes: '1mb' }, /option 'maxBytes' must be an integer.*received '1mb' \(string\)/],
    [{ maxValueBytes: -1 }, /'maxValueBytes'.*received -1/],
    [{ sweepInterval: NaN }, /'sweepInterval'.*received NaN/],
    [{ serializer: 'msgpack' }, /option 'serializer' must be 'auto', 'json', 'v8' or \{ serialize, deserialize \}; received 'msgpack'/],
    [{ namespace: 5 }, /option 'namespace' must be a string; received 5/],
    [{ maxEntires: 10 }, /unknown option 'maxEntires'; known options are maxEntries/],
  ])('options %p are refused with a message naming the option and the value', (options, message) => {
    let error;
    try {
      new MemoryStore(options);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error.message).toMatch(message);
  });

  test('options must be an object', () => {
    expect(() => new MemoryStore(42)).toThrow(/MemoryStore options must be an object; received 42/);
  });

  test.each([
    [undefined, 'undefined'], [42, '42 (number)'], [null, 'null'], [{}, 'an object (Object)'], [Symbol('s'), 'symbol'],
  ])('a non-string key (%p) is a typed error naming what was received', async (key, shown) => {
    await expect(store.get(key)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    await expect(store.set(key, 1)).rejects.toThrow(`set: key must be a string; received ${shown}`);
    await expect(store.delete(key)).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  test.each([[-1], [NaN], [Infinity], ['100'], [null], [1e300], [Number.MAX_VALUE], [8_640_000_000_000_001]])('ttl %p is refused and nothing is stored', async (ttl) => {
    await expect(store.set('k', 'v', ttl)).rejects.toThrow(/set: ttl must be a number of milliseconds from 0 \(no expiry\) to 8640000000000000/);
    expect(await store.has('k')).toBe(false);
  });

  test('values the serializer cannot encode are a SerializationError and the old value stays', async () => {
    await store.set('f', 'old');
    await expect(store.set('f', { fn() {} })).rejects.toMatchObject({ code: 'ERR_SERIALIZATION' });
    await expect(store.set('f', Symbol('x'))).rejects.toMatchObject({ code: 'ERR_SERIALIZATION' });
    expect(await store.get('f')).toBe('old');
  });

  test('getMany/setMany/deleteMany need arrays', async () => {
    await expect(store.getMany('a')).rejects.toThrow(/getMany: expected an array; received 'a'/);
    await expect(store.setMany({})).rejects.toThrow(/setMany: expected an array/);
    await expect(store.deleteMany(1)).rejects.toThrow(/deleteMany: expected an array/);
  });
});
