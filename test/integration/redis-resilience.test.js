'use strict';

const net = require('node:net');
const { startRedis } = require('../helpers/redis-server');
const { RedisClient, RedisStore, RedisClosedError, REDIS_CLIENT_DEFAULTS } = require('../../lib');

let redis;
beforeAll(async () => { redis = await startRedis(); });
afterAll(async () => { await redis.cleanup(); });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const settle = (p) => p.then((value) => ({ value }), (error) => ({ error }));

test('a server that accepts but never answers the handshake → RedisConnectTimeoutError at connectTimeout', async () => {
  const sockets = [];
  const silent = net.createServer((s) => { sockets.push(s); s.on('error', () => {}); });
  await new Promise((r) => silent.listen(0, '127.0.0.1', r));
  const client = new RedisClient({
    host: '127.0.0.1', port: silent.address().port, password: 'pw', connectTimeout: 300, commandTimeout: 10_000,
  });
  const t0 = Date.now();
  const { error } = await settle(client.command(['GET', 'k']));
  const elapsed = Date.now() - t0;
  expect(error.code).toBe('ERR_REDIS_CONNECT_TIMEOUT');
  expect(elapsed).toBeGreaterThanOrEqual(280);
  // At connectTimeout (late timers allowed for), long before the command timeout: the fake
  // never answers, so nothing but the connect timer ends the call.
  expect(elapsed).toBeLessThan(5000);
  expect(error.message).not.toContain('pw');
  await client.disconnect({ timeout: 200 });
  sockets.forEach((s) => s.destroy());
  await new Promise((r) => silent.close(r));
});

test('disconnect({ timeout }) force-closes: a stuck call rejects with RedisClosedError at the timeout', async () => {
  const client = new RedisClient(redis.url, { commandTimeout: 5000 });
  await client.command(['SET', 'stuck', 'v']);
  await redis.cli('CLIENT', 'PAUSE', '4000');
  const stuck = settle(client.command(['GET', 'stuck']));
  await sleep(20);
  const t0 = Date.now();
  await client.disconnect({ timeout: 150 });
  const { error } = await stuck;
  const elapsed = Date.now() - t0;
  // RedisClosedError (not the value) shows the close did not wait for the pause to end.
  expect(error).toBeInstanceOf(RedisClosedError);
  expect(elapsed).toBeLessThan(2000); // the 150 ms timeout, late timers allowed for; not the 4 s pause
  await expect(client.disconnect()).resolves.toBeUndefined(); // idempotent
  await sleep(4100 - elapsed);
});

test('connection killed with INCRs in flight: they reject, none is silently re-sent', async () => {
  const client = new RedisClient(redis.url, { commandTimeout: 3000, clientName: 'killme' });
  await client.command(['DEL', 'counter']);
  await redis.cli('CLIENT', 'PAUSE', '2000', 'WRITE'); // INCRs wait inside Redis
  const paused = Date.now();
  const incrs = Array.from({ length: 200 }, () => settle(client.command(['INCR', 'counter'])));
  await sleep(50);
  await redis.cli('CLIENT', 'KILL', 'USER', 'default', 'SKIPME', 'yes');
  const results = await Promise.all(incrs);
  const acked = results.filter((r) => 'value' in r).length;
  const rejected = results.filter((r) => 'error' in r);
  expect(rejected.length).toBeGreaterThan(0);
  for (const r of rejected) expect(r.error.code).toBe('ERR_REDIS_CONNECTION');
  await sleep(Math.max(0, 2100 - (Date.now() - paused)));
  const counter = Number(await client.command(['GET', 'counter']) ?? 0);
  expect(counter).toBeGreaterThanOrEqual(acked);
  expect(counter).toBeLessThanOrEqual(acked + rejected.length);
  expect(counter).toBe(acked); // the killed connection's queued INCRs never ran, and we did not resend them
  await client.disconnect();
});

test('Redis down: fail fast by default; with offlineQueue the commands wait and then succeed', async () => {
  const fast = new RedisClient(redis.url, { commandTimeout: 5000 });
  const queued = new RedisClient(redis.url, { offlineQueue: 100, commandTimeout: 3000 });
  await Promise.all([fast.command(['PING']), queued.command(['PING'])]);
  await redis.stop();
  await sleep(100); // both notice the loss and fail to reconnect
  const t0 = Date.now();
  const { error } = await settle(fast.command(['GET', 'x']));
  expect(Date.now() - t0).toBeLessThan(2500); // refused at once, not at the 5 s command timeout
  expect(error.code).toBe('ERR_REDIS_CONNECTION');
  const waiting = Array.from({ length: 5 }, (_, i) => queued.command(['SET', `q${i}`, `k:q${i}:v1`]));
  await sleep(300);
  await redis.start();
  expect(await Promise.all(waiting)).toEqual(['OK', 'OK', 'OK', 'OK', 'OK']);
  expect(await queued.command(['GET', 'q4'])).toBe('k:q4:v1');
  // The fail-fast client is back too once Redis answers again (backoff is capped at 1 s).
  let back;
  for (let i = 0; i < 60 && back === undefined; i++) {
    back = (await settle(fast.command(['GET', 'q4']))).value;
    if (back === undefined) await sleep(50);
  }
  expect(back).toBe('k:q4:v1');
  await Promise.all([fast.disconnect(), queued.disconnect()]);
});

test('idle reaping by the server: health PING keeps the connection; without it the next call reconnects', async () => {
  // Idle limit 2 s, PINGs every 300–600 ms: late timers on a loaded machine still keep the
  // pinged connection under the limit.
  await redis.cli('CONFIG', 'SET', 'timeout', '2');
  try {
    const pinged = new RedisClient(redis.url, { healthCheckInterval: 300 });
    const plain = new RedisClient(redis.url, { healthCheckInterval: 0 });
    const id1 = await pinged.command(['CLIENT', 'ID']);
    const plainId1 = await plain.command(['CLIENT', 'ID']);
    await sleep(4500);
    expect(await pinged.command(['CLIENT', 'ID'])).toBe(id1);
    const plainId2 = await plain.command(['CLIENT', 'ID']); // no error: transparently reconnected
    expect(plainId2).not.toBe(plainId1);
    await Promise.all([pinged.disconnect(), plain.disconnect()]);
  } finally {
    await redis.cli('CONFIG', 'SET', 'timeout', '0');
  }
});

test('a host name with several addresses (localhost) connects', async () => {
  const store = new RedisStore(`redis://localhost:${redis.port}`);
  await store.set('lh', 'v');
  expect(await store.get('lh')).toBe('v');
  await store.disconnect();
});

test('no reconnect storm: a server that drops every connection sees backoff-paced attempts', async () => {
  let accepted = 0;
  const hostile = net.createServer((s) => { accepted++; s.on('error', () => {}); s.destroy(); });
  await new Promise((r) => hostile.listen(0, '127.0.0.1', r));
  const client = new RedisClient({ host: '127.0.0.1', port: hostile.address().port });
  const until = Date.now() + 1500;
  let calls = 0;
  while (Date.now() < until) {
    calls++;
    await settle(client.command(['GET', 'k']));
    await sleep(5);
  }
  // Backoff 50·2^n ms (jitter: half to full step) allows about 8 attempts in 1.5 s; a client
  // that reconnected per call would have made `calls` (hundreds).
  expect(calls).toBeGreaterThan(20); // ~200 on a quiet machine; fewer when timers run late
  expect(calls).toBeGreaterThan(3 * accepted);
  expect(accepted).toBeLessThanOrEqual(12);
  expect(accepted).toBeGreaterThanOrEqual(3);
  await client.disconnect({ timeout: 200 });
  await new Promise((r) => hostile.close(r));
});

// Redis closes the connection right after such errors; a call written before the client saw
// that close fails too (it is never re-sent), so "works again" allows one such failure.
async function pingAgain(client) {
  for (let i = 0; i < 3; i++) {
    const r = await settle(client.command(['PING']));
    if (r.value === 'PONG') return r.value;
    expect(r.error.code).toBe('ERR_REDIS_CONNECTION');
    await sleep(20);
  }
  return undefined;
}

test('server-side size limits surface as clear errors promptly (well before commandTimeout), and the next call works', async () => {
  const client = new RedisClient(redis.url, { commandTimeout: 10_000 });
  await client.command(['SET', 'big4', Buffer.alloc(4 * 1024 * 1024, 1)]);
  await redis.cli('CONFIG', 'SET', 'proto-max-bulk-len', '1mb');
  await redis.cli('CONFIG', 'SET', 'client-output-buffer-limit', 'normal 1mb 1mb 0');
  try {
    let t0 = Date.now();
    const tooBig = await settle(client.command(['SET', 'k', Buffer.alloc(2 * 1024 * 1024)]));
    expect(Date.now() - t0).toBeLessThan(5000); // commandTimeout is 10,000
    expect(['ERR_REDIS_SERVER', 'ERR_REDIS_CONNECTION']).toContain(tooBig.error.code);
    expect(await pingAgain(client)).toBe('PONG');

    t0 = Date.now();
    const reply = await settle(client.command(['GET', 'big4'], { buffers: true }));
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(reply.error.code).toBe('ERR_REDIS_CONNECTION');
    expect(await pingAgain(client)).toBe('PONG');
  } finally {
    await redis.cli('CONFIG', 'SET', 'proto-max-bulk-len', '512mb');
    await redis.cli('CONFIG', 'SET', 'client-output-buffer-limit', 'normal 0 0 0');
    await client.disconnect();
  }
});

test('Redis down from the start: the constructor never throws, 10 000 calls all settle with clear errors, fail-fast ones at once', async () => {
  const { freePort } = require('../helpers/redis-server');
  const port = await freePort(); // nothing listens here
  const store = new RedisStore(`redis://127.0.0.1:${port}`, { offlineQueue: 1000 });
  const rssBefore = process.memoryUsage().rss;
  const results = await Promise.all(Array.from({ length: 10_000 }, (_, i) => settle(store.get(`k${i}`))));
  // At most `offlineQueue` calls wait (and time out); the rest fail fast.
  expect(results.every((r) => r.error && ['ERR_REDIS_CONNECTION', 'ERR_REDIS_TIMEOUT'].includes(r.error.code))).toBe(true);
  expect(results.filter((r) => r.error.code === 'ERR_REDIS_CONNECTION').length).toBeGreaterThanOrEqual(8_000);
  // Fail-fast store: once a connect attempt failed, calls are refused without waiting.
  const fast = new RedisStore(`redis://127.0.0.1:${port}`);
  await settle(fast.get('first'));
  const times = [];
  for (let i = 0; i < 21; i++) {
    const t1 = process.hrtime.bigint();
    const single = await settle(fast.get(`second${i}`));
    times.push(Number(process.hrtime.bigint() - t1) / 1e6);
    expect(single.error.code).toBe('ERR_REDIS_CONNECTION');
  }
  times.sort((a, b) => a - b);
  // Median: a thread hop (well under a millisecond here), not a wait for the command timeout.
  expect(times[10]).toBeLessThan(REDIS_CLIENT_DEFAULTS.commandTimeout / 2);
  await fast.disconnect();
  // Under the sanitizer build ASan keeps up to 256 MiB of freed memory in quarantine.
  const quarantine = process.env.ASAN_OPTIONS ? 256 * 1024 * 1024 : 0;
  expect(process.memoryUsage().rss - rssBefore).toBeLessThan(200 * 1024 * 1024 + quarantine);
  await store.disconnect();
});
