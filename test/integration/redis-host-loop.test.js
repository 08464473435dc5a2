'use strict';

// `ioThread: false` (the default): the connection manager runs on Node's own event loop
// instead of a thread of its own. The same guarantees as with the I/O thread (the rest of
// the suite runs on the default; these name the mode): values, errors, timeouts,
// reconnects, graceful close, exit without disconnect, workers terminated mid-traffic, TLS.

const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { Worker } = require('node:worker_threads');
const { startRedis } = require('../helpers/redis-server');
const { makeCertificates } = require('../helpers/tls-certs');
const {
  RedisClient, RedisStore, createCache, RedisServerError, RedisTimeoutError, RedisClosedError,
  REDIS_CLIENT_DEFAULTS,
} = require('../../lib');

const root = path.join(__dirname, '..', '..');
const HOSTED = { ioThread: false };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let redis;
beforeAll(async () => { redis = await startRedis(); });
afterAll(async () => { await redis.cleanup(); });

/**
 * GET `key` until a call is answered (after a timeout the connection is recycled, and the
 * first calls may fail while it reconnects); up to about 2.5 s, then undefined.
 */
async function getOnceServed(client, key) {
  for (let i = 0; i < 50; i++) {
    const value = await client.command(['GET', key]).catch(() => undefined);
    if (value !== undefined) return value;
    await sleep(50);
  }
  return undefined;
}

/** Threads of this process (Linux). */
const threadCount = () => fs.readdirSync('/proc/self/task').length;

test('commands, errors, buffers and 2,000 commands of one tick, with no thread started', async () => {
  const before = threadCount();
  const client = new RedisClient(redis.url, HOSTED);
  expect(await client.command(['SET', 'host:k', 'v1'])).toBe('OK');
  expect(await client.command(['GET', 'host:k'])).toBe('v1');
  expect(await client.command(['GET', 'host:k'], { buffers: true })).toEqual(Buffer.from('v1'));
  await expect(client.command(['INCR', 'host:k'])).rejects.toBeInstanceOf(RedisServerError);
  const many = await Promise.all(Array.from({ length: 2000 }, (_, i) =>
    client.command(i % 2 ? ['GET', 'host:k'] : ['SET', `host:n${i}`, `v${i}`])));
  expect(many.every((r, i) => r === (i % 2 ? 'v1' : 'OK'))).toBe(true);
  expect(threadCount()).toBe(before); // no I/O thread: everything ran on this one
  await client.disconnect();

  // ioThread: true starts one.
  const threaded = new RedisClient(redis.url, { ioThread: true });
  await threaded.command(['PING']);
  expect(threadCount()).toBe(before + 1);
  await threaded.disconnect();
});

test('RedisStore and createCache: get, set, wrap and mget', async () => {
  const store = new RedisStore(redis.url, { ...HOSTED, namespace: 'hosted' });
  const cache = createCache({ stores: [store] });
  await cache.set('a', { n: 1 });
  expect(await cache.get('a')).toEqual({ n: 1 });
  let calls = 0;
  const load = async () => { calls += 1; return 'loaded'; };
  expect(await cache.wrap('w', load)).toBe('loaded');
  expect(await cache.wrap('w', load)).toBe('loaded');
  expect(calls).toBe(1);
  expect(await cache.mget(['a', 'w', 'missing'])).toEqual([{ n: 1 }, 'loaded', undefined]);
  await cache.disconnect();
});

test('a server pause past the command timeout: RedisTimeoutError, then the right values', async () => {
  const client = new RedisClient(redis.url, { ...HOSTED, commandTimeout: 200 });
  await client.command(['SET', 'host:paused', 'v']);
  await redis.cli('CLIENT', 'PAUSE', '3000');
  const t0 = Date.now();
  const error = await client.command(['GET', 'host:paused']).catch((e) => e);
  expect(error).toBeInstanceOf(RedisTimeoutError);
  // The deadline fires from a timer of the manager's own loop, driven from Node's.
  expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
  expect(Date.now() - t0).toBeLessThan(2500);
  await redis.cli('CLIENT', 'UNPAUSE');
  expect(await getOnceServed(client, 'host:paused')).toBe('v');
  await client.disconnect();
});

/** Keeps the JS thread busy for `ms` (nothing else of this process runs meanwhile). */
function blockFor(ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) { /* busy */ }
}

describe.each([
  ['Node\'s loop', { ioThread: false }],
  ['an I/O thread', { ioThread: true }],
])('the JS thread blocked past commandTimeout, connection on %s', (_mode, mode) => {
  const loop = mode.ioThread === false;

  test('a reply that arrived before the deadline is delivered', async () => {
    const client = new RedisClient(redis.url, { ...mode, commandTimeout: 200 });
    await client.command(['SET', 'host:blocked', 'v']);
    const pending = client.command(['GET', 'host:blocked']);
    await sleep(20); // written, and answered at once
    blockFor(800);
    expect(await pending).toBe('v');
    await client.disconnect();
  });

  test('a reply that came after the deadline but during the block', async () => {
    const client = new RedisClient(redis.url, { ...mode, commandTimeout: 200 });
    await client.command(['SET', 'host:late', 'v']);
    await redis.cli('CLIENT', 'PAUSE', '1000');
    const pending = client.command(['GET', 'host:late']).catch((e) => e);
    await sleep(20);
    blockFor(2500); // the server answers at about 1 s, before the thread is free again
    const outcome = await pending;
    if (loop) {
      // The loop reads its socket before it looks at deadlines: the answer is there.
      expect(outcome).toBe('v');
    } else {
      // The I/O thread saw the deadline pass while the JS thread was blocked.
      expect(outcome).toBeInstanceOf(RedisTimeoutError);
    }
    expect(await client.command(['GET', 'host:late'])).toBe('v');
    await client.disconnect();
  });

  test('no reply by the end of the block: RedisTimeoutError, then the right values', async () => {
    const client = new RedisClient(redis.url, { ...mode, commandTimeout: 200 });
    await client.command(['SET', 'host:none', 'v']);
    await redis.cli('CLIENT', 'PAUSE', '2500');
    const t0 = Date.now();
    const pending = client.command(['GET', 'host:none']).catch((e) => e);
    await sleep(20);
    blockFor(600);
    const error = await pending;
    expect(error).toBeInstanceOf(RedisTimeoutError);
    expect(Date.now() - t0).toBeLessThan(2400); // at the deadline, not when the server answers
    await redis.cli('CLIENT', 'UNPAUSE');
    expect(await getOnceServed(client, 'host:none')).toBe('v');
    await client.disconnect();
  });
});

test('Redis restarted: calls fail with a connection error, then the client reconnects by itself', async () => {
  const client = new RedisClient(redis.url, { ...HOSTED, commandTimeout: 1000 });
  await client.command(['SET', 'host:before', 'v']);
  await redis.restart(300);
  const codes = new Set();
  let pong;
  for (let i = 0; i < 100 && pong === undefined; i++) {
    try {
      pong = await client.command(['PING']);
    } catch (error) {
      codes.add(error.code);
      await sleep(50);
    }
  }
  expect(pong).toBe('PONG');
  for (const code of codes) expect(['ERR_REDIS_CONNECTION', 'ERR_REDIS_CONNECT_TIMEOUT', 'ERR_REDIS_TIMEOUT']).toContain(code);
  await client.disconnect();
});

test('disconnect() with 500 commands in flight: every one answered, later calls rejected', async () => {
  const client = new RedisClient(redis.url, HOSTED);
  await client.command(['PING']);
  const inFlight = Array.from({ length: 500 }, (_, i) => client.command(['SET', `host:d${i}`, `${i}`]));
  const closed = client.disconnect();
  expect(await Promise.all(inFlight)).toEqual(new Array(500).fill('OK'));
  await closed;
  await expect(client.command(['PING'])).rejects.toBeInstanceOf(RedisClosedError);
  // destroy() of a client never started, and of one mid-traffic, returns at once.
  new RedisClient(redis.url, HOSTED).destroy();
  const busy = new RedisClient(redis.url, HOSTED);
  const pending = busy.command(['PING']);
  busy.destroy();
  await expect(pending).rejects.toBeInstanceOf(RedisClosedError);
});

test('over TLS', async () => {
  const certs = makeCertificates();
  const server = await startRedis({ tls: { certFile: certs.server.certFile, keyFile: certs.server.keyFile } });
  try {
    const client = new RedisClient(server.url, { ...HOSTED, tls: { ca: certs.ca.cert }, connectTimeout: 5000, commandTimeout: 5000 });
    const big = 'x'.repeat(200_000);
    expect(await client.command(['SET', 'host:tls', big])).toBe('OK');
    const replies = await Promise.all(Array.from({ length: 50 }, () => client.command(['GET', 'host:tls'])));
    expect(replies.every((r) => r === big)).toBe(true);
    await client.disconnect();
  } finally {
    await server.cleanup();
    certs.cleanup();
  }
});

test('a process that forgets to disconnect still exits by itself, and one that waits is kept alive', async () => {
  const run = (code) => new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    const timer = setTimeout(() => { child.kill('SIGKILL'); resolve({ code: 'hung', out }); }, 25_000);
    child.on('exit', (c) => { clearTimeout(timer); resolve({ code: c, out }); });
  });
  const forgets = await run(`
    const { RedisStore } = require(${JSON.stringify(root)});
    const store = new RedisStore(${JSON.stringify(redis.url)}, { ioThread: false });
    store.set('host:exit', 'v').then(() => store.get('host:exit')).then((v) => console.log('got', v));
  `);
  expect(forgets).toEqual({ code: 0, out: 'got v\n' });
  // The reply to a command sent just before the script's end still arrives: the command
  // keeps the loop alive until then (the server answers after a 300 ms DEBUG SLEEP).
  const waits = await run(`
    const { RedisClient } = require(${JSON.stringify(root)});
    const client = new RedisClient(${JSON.stringify(redis.url)}, { ioThread: false, commandTimeout: 5000 });
    client.command(['DEBUG', 'SLEEP', '0.3']).then((v) => console.log('slept', v));
  `);
  expect(waits).toEqual({ code: 0, out: 'slept OK\n' });
}, 60_000);

test('worker threads with hosted clients terminated mid-traffic: no crash, connections released', async () => {
  const workerCode = `
    const { parentPort, workerData } = require('node:worker_threads');
    const { RedisClient } = require(workerData.root);
    const client = new RedisClient(workerData.url, { ioThread: false, clientName: 'hostworker' });
    (async () => {
      await client.command(['SET', 'hw' + workerData.i, 'v']);
      parentPort.postMessage(await client.command(['GET', 'hw' + workerData.i]));
      for (;;) await client.command(['GET', 'hw' + workerData.i]); // busy until terminated
    })().catch(() => {});
  `;
  for (let round = 0; round < 4; round++) {
    const workers = Array.from({ length: 3 }, (_, i) =>
      new Worker(workerCode, { eval: true, workerData: { root, url: redis.url, i } }));
    const answers = await Promise.all(workers.map((w) => new Promise((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    })));
    expect(answers).toEqual(['v', 'v', 'v']);
    const exits = await Promise.all(workers.map((w) => w.terminate()));
    expect(exits).toEqual([1, 1, 1]);
  }
  let left;
  for (let i = 0; i < 500; i++) { // up to 10 s for the server to see the last close
    left = (await redis.clients()).filter((c) => c.name === 'hostworker').length;
    if (left === 0) break;
    await sleep(20);
  }
  expect(left).toBe(0);
}, 180_000);

test('ioThread is validated by name, and false by default', () => {
  expect(REDIS_CLIENT_DEFAULTS.ioThread).toBe(false);
  expect(() => new RedisClient(redis.url, { ioThread: 'no' })).toThrow(/ioThread/);
  expect(() => new RedisStore(redis.url, { ioThread: 0 })).toThrow(/ioThread/);
});
