'use strict';

const { MemoryStore, ValueTooLargeError, KeyTooLargeError } = require('../../lib');

const HEADER = 56; // bytes counted per entry on top of key and value

describe('MemoryStore limits and eviction', () => {
  test('maxEntries bounds the entry count and counts evictions', async () => {
    const store = new MemoryStore({ maxEntries: 100 });
    for (let i = 0; i < 1000; i++) await store.set(`k${i}`, i);
    const stats = store.stats();
    expect(stats.entries).toBe(100);
    expect(stats.evictions).toBe(900);
    // the newest entry always survives its own insertion
    expect(await store.get('k999')).toBe(999);
    await store.disconnect();
  });

  test('maxBytes bounds the bytes held, counting the per-entry header', async () => {
    const maxBytes = 64 * 1024;
    const store = new MemoryStore({ maxBytes });
    let maxSeen = 0;
    for (let i = 0; i < 5000; i++) {
      await store.set(`key-${i}`, 'v'.repeat(10 + (i * 7919) % 2000));
      maxSeen = Math.max(maxSeen, store.stats().bytes);
    }
    expect(maxSeen).toBeLessThanOrEqual(maxBytes);
    expect(store.stats().evictions).toBeGreaterThan(0);
    await store.disconnect();
  });

  test('an evicted key is a miss, never another key\'s value', async () => {
    const store = new MemoryStore({ maxEntries: 50 });
    for (let i = 0; i < 2000; i++) await store.set(`k${i}`, `value-of-k${i}`);
    for (let i = 0; i < 2000; i++) {
      const v = await store.get(`k${i}`);
      if (v !== undefined) expect(v).toBe(`value-of-k${i}`);
    }
    await store.disconnect();
  });

  test('SIEVE keeps a frequently read key through a one-pass scan that fills the store', async () => {
    const store = new MemoryStore({ maxEntries: 100 });
    for (let i = 0; i < 100; i++) await store.set(`warm${i}`, i);
    await store.get('warm0'); // visited once
    for (let i = 0; i < 99; i++) await store.set(`scan${i}`, i);
    expect(await store.get('warm0')).toBe(0);
    expect(await store.get('warm1')).toBeUndefined();
    await store.disconnect();
  });

  test('a value over maxValueBytes is rejected with ValueTooLargeError and nothing changes', async () => {
    const store = new MemoryStore({ maxValueBytes: 1000 });
    await store.set('k', 'old');
    const error = await store.set('k', 'x'.repeat(1001)).catch((e) => e);
    expect(error).toBeInstanceOf(ValueTooLargeError);
    expect(error.code).toBe('ERR_VALUE_TOO_LARGE');
    expect(error.message).toMatch(/maxValueBytes \(1000\)/);
    expect(await store.get('k')).toBe('old');
    await store.set('k', 'x'.repeat(1000));
    expect((await store.get('k')).length).toBe(1000);
    await store.disconnect();
  });

  test('a key over maxKeyBytes (UTF-8 bytes) is rejected with KeyTooLargeError', async () => {
    const store = new MemoryStore({ maxKeyBytes: 8 });
    await store.set('12345678', 1);
    const error = await store.set('é'.repeat(5), 1).catch((e) => e); // 10 bytes
    expect(error).toBeInstanceOf(KeyTooLargeError);
    expect(error.message).toMatch(/key is 10 bytes; maxKeyBytes is 8/);
    expect(store.stats().entries).toBe(1);
    await store.disconnect();
  });

  test('an entry larger than maxBytes is rejected instead of emptying the store', async () => {
    const store = new MemoryStore({ maxBytes: 4096 });
    await store.set('small', 'v');
    const error = await store.set('big', 'x'.repeat(5000)).catch((e) => e);
    expect(error).toBeInstanceOf(ValueTooLargeError);
    expect(error.message).toMatch(/maxBytes 4096/);
    expect(await store.get('small')).toBe('v');
    expect(store.stats().bytes).toBe(5 + 1 + HEADER);
    await store.disconnect();
  });

  test('Buffers and strings of 1 MiB round-trip byte-exact', async () => {
    const store = new MemoryStore();
    const bytes = Buffer.alloc(1 << 20);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31) & 0xff;
    await store.set('buf', bytes);
    const back = await store.get('buf');
    expect(Buffer.isBuffer(back)).toBe(true);
    expect(back.equals(bytes)).toBe(true);
    const text = 'ab\u0000\u00ff漢字'.repeat(100000);
    await store.set('text', text);
    expect(await store.get('text')).toBe(text);
    await store.disconnect();
  });
});
