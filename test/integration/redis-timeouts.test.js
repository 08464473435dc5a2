'use strict';

// Per-call timeouts: the deadline timer always targets the earliest pending deadline, also
// when a later, shorter timeout sits behind many longer ones (in flight or not yet sent).
const net = require('node:net');
const { startRedis } = require('../helpers/redis-server');
const { RedisClient, RedisTimeoutError } = require('../../lib');

let redis;
beforeAll(async () => { redis = await startRedis(); });
afterAll(async () => { await redis.cleanup(); });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// How long Redis is paused. The short timeouts under test (250–300 ms) must fire well before
// the pause ends, which is what a timer aimed at the wrong deadline would wait for; the gap
// leaves seconds for a loaded machine's late timers.
const PAUSE_MS = 4000;
const settle = (p, t0) => p.then(
  (value) => ({ value, ms: Date.now() - t0 }),
  (error) => ({ error, ms: Date.now() - t0 }));

test('in flight: a short per-call timeout behind 200 long ones fires on time', async () => {
  const client = new RedisClient(redis.url, { commandTimeout: 10_000 });
  await client.command(['SET', 'slow', 'k:slow:v1']);
  await redis.cli('CLIENT', 'PAUSE', String(PAUSE_MS));
  const t0 = Date.now();
  const long = Array.from({ length: 200 }, () => settle(client.command(['GET', 'slow']), t0));
  const short = settle(client.command(['GET', 'slow'], { timeout: 300 }), t0);
  const result = await short;
  expect(result.error).toBeInstanceOf(RedisTimeoutError);
  expect(result.error.message).toContain('300 ms');
  // On time: not before its own deadline, and well before the pause ends.
  expect(result.ms).toBeGreaterThanOrEqual(280);
  expect(result.ms).toBeLessThan(PAUSE_MS / 2);
  // The connection was recycled, so the long ones could not get a reply on it: they reject
  // at once instead of waiting, and none of them is left hanging.
  const others = await Promise.all(long);
  for (const r of others) expect(r.error?.code).toBe('ERR_REDIS_TIMEOUT');
  expect(Math.max(...others.map((r) => r.ms))).toBeLessThan(PAUSE_MS * 0.75);
  await sleep(PAUSE_MS + 100 - (Date.now() - t0));
  expect(await client.command(['GET', 'slow'])).toBe('k:slow:v1');
  await client.disconnect();
});

test('in flight, later tick: a call with a shorter timeout issued after a longer one times out first', async () => {
  const client = new RedisClient(redis.url, { commandTimeout: 10_000 });
  await client.command(['PING']);
  await redis.cli('CLIENT', 'PAUSE', String(PAUSE_MS));
  const t0 = Date.now();
  const first = settle(client.command(['GET', 'a'], { timeout: PAUSE_MS - 500 }), t0);
  await sleep(50);
  const second = settle(client.command(['GET', 'b'], { timeout: 250 }), t0);
  const r2 = await second;
  expect(r2.error).toBeInstanceOf(RedisTimeoutError);
  expect(r2.ms).toBeGreaterThanOrEqual(280);
  // Before the first call's deadline, which a timer aimed only at it would wait for.
  expect(r2.ms).toBeLessThan((PAUSE_MS - 500) / 2);
  const r1 = await first;
  expect(r1.error).toBeInstanceOf(RedisTimeoutError); // its connection was recycled
  await sleep(PAUSE_MS + 100 - (Date.now() - t0));
  expect(await client.command(['PING'])).toBe('PONG');
  await client.disconnect();
});

test('not yet sent (handshake pending): a short timeout behind 200 long ones fires on time', async () => {
  const sockets = [];
  const silent = net.createServer((s) => { sockets.push(s); s.on('error', () => {}); });
  await new Promise((r) => silent.listen(0, '127.0.0.1', r));
  const client = new RedisClient({
    host: '127.0.0.1', port: silent.address().port, password: 'pw',
    connectTimeout: 8000, commandTimeout: 10_000, offlineQueue: 1000,
  });
  const t0 = Date.now();
  const long = Array.from({ length: 200 }, () => settle(client.command(['GET', 'k']), t0));
  const short = await settle(client.command(['GET', 'k'], { timeout: 300 }), t0);
  expect(short.error).toBeInstanceOf(RedisTimeoutError);
  expect(short.error.message).toContain('not sent within 300 ms');
  expect(short.ms).toBeGreaterThanOrEqual(280);
  expect(short.ms).toBeLessThan(4000); // the connect timeout (8000 ms) would be the bug
  await client.destroy();
  const others = await Promise.all(long);
  expect(others.every((r) => r.error !== undefined)).toBe(true);
  sockets.forEach((s) => s.destroy());
  await new Promise((r) => silent.close(r));
});
