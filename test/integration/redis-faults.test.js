'use strict';

const net = require('node:net');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { Worker } = require('node:worker_threads');
const { startRedis } = require('../helpers/redis-server');
const { RedisStore, RedisClient, RedisProtocolError, RedisTimeoutError } = require('../../lib');

const root = path.join(__dirname, '..', '..');
let redis;
beforeAll(async () => { redis = await startRedis(); });
afterAll(async () => { await redis.cleanup(); });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('Redis restarted mid-test: in-flight calls fail with a clear error, then the store recovers', async () => {
  const store = new RedisStore(redis.url, { namespace: 'restart' });
  await store.set('before', 'v1');
  await redis.restart(300);
  let recovered;
  const errors = [];
  for (let i = 0; i < 100 && recovered === undefined; i++) {
    try {
      await store.set('after', 'k:after:v2');
      recovered = await store.get('after');
    } catch (error) {
      errors.push(error.code);
      await sleep(50);
    }
  }
  expect(recovered).toBe('k:after:v2');
  for (const code of errors) expect(['ERR_REDIS_CONNECTION', 'ERR_REDIS_CONNECT_TIMEOUT']).toContain(code);
  expect(await store.get('before')).toBeUndefined(); // --save '': the restart emptied Redis
  await store.disconnect();
});

test('CLIENT PAUSE beyond the command timeout: RedisTimeoutError at ~the timeout, right values after', async () => {
  const client = new RedisClient(redis.url, { commandTimeout: 200 });
  await client.command(['SET', 'paused', 'k:paused:v1']);
  await redis.cli('CLIENT', 'PAUSE', '4000');
  const t0 = Date.now();
  const error = await client.command(['GET', 'paused']).catch((e) => e);
  const elapsed = Date.now() - t0;
  expect(error).toBeInstanceOf(RedisTimeoutError);
  expect(error.message).toContain(`127.0.0.1:${redis.port}`);
  // Not before the timeout, and long before the pause (4000 ms) would have let a reply out;
  // the margin absorbs a loaded machine's late timers.
  expect(elapsed).toBeGreaterThanOrEqual(190);
  expect(elapsed).toBeLessThan(2000);
  await sleep(4100 - elapsed);
  const values = await Promise.all(Array.from({ length: 50 }, (_, i) =>
    client.command(['SET', `p${i}`, `k:p${i}:v1`]).then(() => client.command(['GET', `p${i}`]))));
  values.forEach((v, i) => expect(v).toBe(`k:p${i}:v1`));
  expect(await client.command(['GET', 'paused'])).toBe('k:paused:v1');
  await client.disconnect();
});

describe('malformed replies from a fake RESP server', () => {
  let server;
  let port;
  let payload;
  beforeAll(async () => {
    server = net.createServer((socket) => {
      socket.on('data', () => socket.write(payload));
      socket.on('error', () => {});
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    port = server.address().port;
  });
  afterAll(() => new Promise((r) => server.close(r)));

  const cases = [
    ['a huge array header', '*244444444\r\n'],
    ['garbage bytes', '?x\r\n'],
    ['a negative bulk length', '$-5\r\n'],
    ['a wrong type byte', '!3\r\nfoo\r\n'],
    ['a deeply nested array', '*1\r\n'.repeat(100000)],
    ['an extra well-formed reply', '+OK\r\n+STALE\r\n'],
  ];
  test.each(cases)('%s → typed error or correct reply, never a shifted one, no crash', async (_name, bytes) => {
    payload = bytes;
    const client = new RedisClient({ host: '127.0.0.1', port, commandTimeout: 1000 });
    const first = await client.command(['GET', 'k']).then((v) => ({ value: v }), (e) => e);
    if (bytes.startsWith('+OK')) {
      // The first reply is fine; the unexpected second one recycles the connection, so the
      // next command gets its own reply, never the stray '+STALE'.
      expect(first.value).toBe('OK');
      await new Promise((r) => setTimeout(r, 50));
      expect(await client.command(['GET', 'k'])).toBe('OK');
    } else {
      expect(first).toBeInstanceOf(RedisProtocolError);
      expect(first.code).toBe('ERR_REDIS_PROTOCOL');
      expect(first.message).toContain(`127.0.0.1:${port}`);
    }
    await client.disconnect({ timeout: 500 });
  });

  test('a bulk string over maxReplyBytes → RedisReplyTooLargeError', async () => {
    payload = `$${10 * 1024 * 1024}\r\n${'x'.repeat(256 * 1024)}`;
    const client = new RedisClient({ host: '127.0.0.1', port, maxReplyBytes: 64 * 1024 });
    const error = await client.command(['GET', 'k']).catch((e) => e);
    expect(error.code).toBe('ERR_REDIS_REPLY_TOO_LARGE');
    await client.disconnect({ timeout: 500 });
  });
});

test('a process that forgets to disconnect still exits by itself', async () => {
  const code = `
    const { RedisStore } = require(${JSON.stringify(root)});
    const store = new RedisStore(${JSON.stringify(redis.url)});
    store.set('exit', 'v').then(() => store.get('exit')).then((v) => console.log('got', v));
  `;
  const t0 = Date.now();
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  const exitCode = await new Promise((resolve) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); resolve('hung'); }, 25_000);
    child.on('exit', (c) => { clearTimeout(timer); resolve(c); });
  });
  expect(exitCode).toBe(0);
  expect(out).toContain('got v');
  // Node's start-up included (seconds under the sanitizer build on a loaded machine); a
  // handle that kept it alive would keep it alive until the kill at 25 s.
  expect(Date.now() - t0).toBeLessThan(20_000);
}, 30_000);

test('worker threads using the store and being terminated: no crash, connections released', async () => {
  const workerCode = `
    const { parentPort, workerData } = require('node:worker_threads');
    const { RedisStore } = require(workerData.root);
    const store = new RedisStore(workerData.url, { clientName: 'worker' });
    (async () => {
      await store.set('w' + workerData.i, 'v');
      parentPort.postMessage(await store.get('w' + workerData.i));
      for (;;) await store.get('w' + workerData.i); // busy until terminated
    })().catch(() => {});
  `;
  for (let round = 0; round < 5; round++) {
    const workers = Array.from({ length: 4 }, (_, i) =>
      new Worker(workerCode, { eval: true, workerData: { root, url: redis.url, i } }));
    const answers = await Promise.all(workers.map((w) => new Promise((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    })));
    expect(answers).toEqual(['v', 'v', 'v', 'v']);
    await Promise.all(workers.map((w) => w.terminate()));
  }
  let left;
  for (let i = 0; i < 500; i++) { // up to 10 s for the server to see the last close
    left = (await redis.clients()).filter((c) => c.name === 'worker').length;
    if (left === 0) break;
    await sleep(20);
  }
  expect(left).toBe(0);
}, 180_000); // 20 worker start-ups: a minute or more under a loaded sanitizer build

test('automatic pipelining: 1000 commands issued in one tick reach the server in a few reads, not 1000', async () => {
  let reads = 0;
  let commands = 0;
  const counting = net.createServer((socket) => {
    let buffered = '';
    socket.on('data', (chunk) => {
      reads++;
      buffered += chunk.toString('latin1');
      let n = 0;
      for (;;) { // consume complete `GET key` requests only
        const m = /^\*2\r\n\$3\r\nGET\r\n\$(\d+)\r\n/.exec(buffered);
        if (!m || buffered.length < m[0].length + Number(m[1]) + 2) break;
        buffered = buffered.slice(m[0].length + Number(m[1]) + 2);
        n++;
      }
      commands += n;
      socket.write('+OK\r\n'.repeat(n));
    });
    socket.on('error', () => {});
  });
  await new Promise((r) => counting.listen(0, '127.0.0.1', r));
  // What is counted is reads, not time: a long timeout keeps a loaded machine from failing it.
  const client = new RedisClient({ host: '127.0.0.1', port: counting.address().port, commandTimeout: 60_000 });
  await client.command(['GET', 'warm']); // connect first
  reads = 0;
  commands = 0;
  const replies = await Promise.all(Array.from({ length: 1000 }, (_, i) => client.command(['GET', `k${i}`])));
  expect(replies.every((r) => r === 'OK')).toBe(true);
  expect(commands).toBe(1000);
  expect(reads).toBeLessThanOrEqual(5);
  await client.disconnect({ timeout: 200 });
  await new Promise((r) => counting.close(r));
});
