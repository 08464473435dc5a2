'use strict';

// Reply size: maxReplyBytes (validated, capped at 512 MiB) bounds what the reader accepts,
// and a reply that cannot become a JS value fails its own caller only.
const { startRedis } = require('../helpers/redis-server');
const {
  RedisClient, RedisStore, InvalidArgumentError, RedisReplyTooLargeError, REDIS_CLIENT_DEFAULTS,
} = require('../../lib');

const MiB = 1024 * 1024;
// The sanitizer build (npm run test:asan) copies memory far more slowly: hiredis grows its
// read buffer 1 MiB at a time, and ASan's realloc copies where glibc's remaps.
const slow = process.env.ASAN_OPTIONS ? 10 : 1;
let redis;
beforeAll(async () => { redis = await startRedis(); });
afterAll(async () => { await redis.cleanup(); });

test('maxReplyBytes is validated: an integer in [1024, 512 MiB], default 64 MiB', () => {
  expect(REDIS_CLIENT_DEFAULTS.maxReplyBytes).toBe(64 * MiB);
  for (const bad of [512 * MiB + 1, 2 ** 40, 1023, 1.5, '1mb', -1]) {
    expect(() => new RedisClient(redis.url, { maxReplyBytes: bad })).toThrow(InvalidArgumentError);
    expect(() => new RedisClient(redis.url, { maxReplyBytes: bad })).toThrow(/maxReplyBytes/);
    expect(() => new RedisStore(redis.url, { maxReplyBytes: bad })).toThrow(/maxReplyBytes/);
  }
  expect(new RedisClient(redis.url, { maxReplyBytes: 512 * MiB }).config.maxReplyBytes).toBe(512 * MiB);
  expect(new RedisClient(redis.url).config.maxReplyBytes).toBe(64 * MiB);
});

test('a reply over maxReplyBytes: RedisReplyTooLargeError, connection recycled, nothing hangs', async () => {
  const client = new RedisClient(redis.url, { maxReplyBytes: MiB, commandTimeout: 5000 });
  await client.command(['SET', 'big2', Buffer.alloc(2 * MiB, 7)]);
  await client.command(['SET', 'small', 'k:small:v1']);
  const id = await client.command(['CLIENT', 'ID']);
  const t0 = Date.now();
  const [before, big, after] = await Promise.allSettled([
    client.command(['GET', 'small']),
    client.command(['GET', 'big2'], { buffers: true }),
    client.command(['GET', 'small']),
  ]);
  expect(Date.now() - t0).toBeLessThan(3000);
  expect(before).toEqual({ status: 'fulfilled', value: 'k:small:v1' });
  expect(big.status).toBe('rejected');
  expect(big.reason).toBeInstanceOf(RedisReplyTooLargeError);
  expect(big.reason.code).toBe('ERR_REDIS_REPLY_TOO_LARGE');
  expect(big.reason.message).toContain('maxReplyBytes');
  // Written behind the bad reply on the dropped connection: rejected, never re-sent.
  expect(after.status).toBe('rejected');
  expect(await client.command(['GET', 'small'])).toBe('k:small:v1');
  expect(await client.command(['CLIENT', 'ID'])).not.toBe(id); // a new connection
  await client.disconnect();
});

test('a bulk string too long for a JS string fails only its caller; the rest of the batch is delivered', async () => {
  const { MAX_STRING_LENGTH } = require('node:buffer').constants;
  // Built inside Redis (no 512 MiB upload): a string a few bytes longer than V8 allows.
  const length = MAX_STRING_LENGTH + 7;
  expect(length + 16).toBeLessThanOrEqual(512 * MiB); // reply with its header within the cap
  // The half-gigabyte reply takes seconds, more under the sanitizer build on a loaded machine.
  // What is tested is which error the caller gets, not how fast: the call's timeout is the
  // longest allowed, and the test's own timeout bounds the whole.
  const client = new RedisClient(redis.url, { maxReplyBytes: 512 * MiB, commandTimeout: 2 ** 31 - 1 });
  await client.command(['SETRANGE', 'huge', String(length - 1), 'x']);
  await Promise.all(Array.from({ length: 6 }, (_, i) => client.command(['SET', `s${i}`, `k:s${i}:v1`])));
  const results = await Promise.allSettled([
    client.command(['GET', 's0']),
    client.command(['GET', 'huge']),
    ...Array.from({ length: 5 }, (_, i) => client.command(['GET', `s${i + 1}`])),
    client.command(['STRLEN', 'huge']),
  ]);
  expect(results[0]).toEqual({ status: 'fulfilled', value: 'k:s0:v1' });
  expect(results[1].status).toBe('rejected');
  expect(results[1].reason).toBeInstanceOf(RedisReplyTooLargeError);
  expect(results[1].reason.message).toMatch(/longest JavaScript string.*buffers: true/);
  for (let i = 1; i <= 5; i++) {
    expect(results[i + 1]).toEqual({ status: 'fulfilled', value: `k:s${i}:v1` });
  }
  expect(results[7]).toEqual({ status: 'fulfilled', value: length });
  // As the message says, the same reply works as a Buffer.
  const buffer = await client.command(['GET', 'huge'], { buffers: true });
  expect(buffer.length).toBe(length);
  expect(buffer[length - 1]).toBe(0x78);
  await client.command(['DEL', 'huge']);
  await client.disconnect();
}, 180_000 * slow);
