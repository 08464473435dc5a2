'use strict';

// R14: the memory store under a byte limit. 1,000,000 inserts of random sizes (10 B to
// 100 KiB) into a 64 MiB store: the bytes held never exceed the limit, the process does
// not grow past it, and a read is either a miss or the value written for that key.

const { MemoryStore } = require('../../lib');

const MiB = 1024 * 1024;

// Deterministic pseudo-random numbers so a failure can be replayed.
function xorshift(seed) {
  let x = seed >>> 0;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x / 0x100000000;
  };
}

test('1,000,000 inserts of 10 B–100 KiB stay within a 64 MiB budget, never stale', () => {
  const limit = 64 * MiB;
  const store = new MemoryStore({ maxBytes: limit, maxEntries: 10_000_000, sweepInterval: 0 });
  const random = xorshift(12345);
  const pool = Buffer.alloc(100 * 1024, 0x61);
  const rssBefore = process.memoryUsage().rss;
  let maxBytes = 0;
  let checked = 0;
  for (let i = 0; i < 1_000_000; i++) {
    // Sizes skewed towards small values, as real caches see them.
    const size = 10 + Math.floor((random() ** 4) * (100 * 1024 - 10));
    const key = `k${i}`;
    const value = Buffer.from(pool.buffer, pool.byteOffset, size);
    value.write(`${key}|`, 0, 'latin1'); // the value names its key
    store.setSync(key, value);
    if ((i & 1023) === 0) {
      maxBytes = Math.max(maxBytes, store.stats().bytes);
      // read back a recent and an old key: each is a miss or its own value
      for (const probe of [i - Math.floor(random() * 50), Math.floor(random() * i)]) {
        if (probe < 0) continue;
        const got = store.getSync(`k${probe}`);
        if (got !== undefined) {
          expect(got.toString('latin1', 0, `k${probe}|`.length)).toBe(`k${probe}|`);
          checked += 1;
        }
      }
    }
  }
  const stats = store.stats();
  const rssGrowth = process.memoryUsage().rss - rssBefore;
  expect(maxBytes).toBeLessThanOrEqual(limit);
  expect(stats.bytes).toBeLessThanOrEqual(limit);
  expect(stats.evictions).toBeGreaterThan(900_000);
  expect(stats.entries + stats.evictions).toBe(1_000_000);
  expect(checked).toBeGreaterThan(500);
  // The store's own accounting is exact (above). RSS measures the allocator too: glibc
  // malloc keeps some freed memory around (measured ~90 MiB of growth here). Under
  // AddressSanitizer (npm run test:asan) malloc is ASan's, whose quarantine holds up to
  // 256 MiB of freed blocks on purpose, so the RSS bound applies to the release build only.
  const underAsan = /libasan/.test(process.env.LD_PRELOAD ?? '');
  if (!underAsan) expect(rssGrowth).toBeLessThan(limit * 2);
  store.disconnect();
}, 120_000);
