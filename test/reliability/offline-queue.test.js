'use strict';

// R6: offline queue bound. 100,000 ops issued while nothing listens on the Redis port.
// The number of ops the client holds (issued, not settled) is sampled after every batch
// once the fail-fast rejections have arrived: it must never exceed `offlineQueue`; RSS may
// grow by at most 20 MiB; every op settles. Then Redis comes back while the queue is full:
// only the queued ops run (an INCR counter proves how many reached Redis).
//
// Scale: OFFLINE_FLOOD_OPS (default 100000, the full size), OFFLINE_QUEUE_CAP (offlineQueue, default 1000).

const path = require('node:path');
const { execFile } = require('node:child_process');
const { startRedis } = require('../helpers/redis-server');
const { RedisClient } = require('../../lib');
const { watchTimerLag, allowing } = require('../helpers/timing');
const { flood, drain, sleep } = require('./fixtures/offline-flood');

const OPS = Number(process.env.OFFLINE_FLOOD_OPS ?? 100_000);
const CAP = Number(process.env.OFFLINE_QUEUE_CAP ?? 1000);
const MiB = 1024 * 1024;
// R6 allows 20 MiB of RSS growth. Under AddressSanitizer (npm run test:asan) freed memory
// sits in ASan's quarantine (up to 256 MiB) instead of going back to malloc, so RSS there
// measures the quarantine, not the queue: the bound widens by that much.
const RSS_BOUND = 20 * MiB + (process.env.ASAN_OPTIONS ? 256 * MiB : 0);
jest.setTimeout(90_000);

let redis;
beforeAll(async () => {
  redis = await startRedis();
  await redis.stop(); // the port stays ours; nothing listens on it until start()
});
afterAll(async () => { await redis.cleanup(); });

/** Runs the flood in a fresh node process (fixtures/offline-flood-rss.js), where RSS means something. */
function floodInChild(cap) {
  const script = path.join(__dirname, 'fixtures', 'offline-flood-rss.js');
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [script, String(redis.port), String(OPS), String(cap)],
      { timeout: 80_000 }, (error, stdout, stderr) => {
        if (error) reject(new Error(`${error.message}\n${stderr}`));
        else resolve(JSON.parse(stdout.trim().split('\n').pop()));
      });
  });
}

const rssGrowth = (state) => ({
  peak: (state.rssPeak - state.rssBefore) / MiB,
  after: (state.rssAfter - state.rssBefore) / MiB,
});

test(`${OPS} ops with Redis down and offlineQueue ${CAP}: held ops never above the cap, RSS bounded, all settle`, async () => {
  const state = await floodInChild(CAP);
  const rss = rssGrowth(state);
  console.log(`R6 ${OPS} ops, Redis down, offlineQueue ${CAP}: max held ${state.maxHeld}, settled ${state.settled} in `
    + `${state.elapsed.toFixed(0)} ms, codes ${JSON.stringify(state.codes)}, slowest fail-fast ${state.maxFailFastMs.toFixed(1)} ms, `
    + `RSS +${rss.peak.toFixed(1)} MiB peak, +${rss.after.toFixed(1)} MiB after`);

  expect(['ERR_REDIS_CONNECTION', 'ERR_REDIS_TIMEOUT']).toContain(state.first);
  expect(state.settled).toBe(OPS);
  expect(state.resolved).toBe(0);
  expect(state.maxHeld).toBeLessThanOrEqual(CAP);
  expect(state.maxHeld).toBeGreaterThan(0); // the queue was used
  expect(Object.keys(state.codes).sort()).toEqual(['ERR_REDIS_CONNECTION', 'ERR_REDIS_TIMEOUT']);
  expect(state.codes.ERR_REDIS_CONNECTION).toBeGreaterThan(OPS / 2); // beyond the cap: fail fast
  expect(state.rssPeak - state.rssBefore).toBeLessThanOrEqual(RSS_BOUND);
});

test('default offlineQueue 0: every op fails fast while Redis is down, none is held', async () => {
  const state = await floodInChild(0);
  console.log(`R6 ${OPS} ops, Redis down, offlineQueue 0: max held ${state.maxHeld}, codes ${JSON.stringify(state.codes)}, `
    + `slowest ${state.maxFailFastMs.toFixed(1)} ms, RSS +${rssGrowth(state).peak.toFixed(1)} MiB peak`);
  expect(state.first).toBe('ERR_REDIS_CONNECTION');
  expect(state.settled).toBe(OPS);
  expect(state.maxHeld).toBe(0);
  expect(state.codes).toEqual({ ERR_REDIS_CONNECTION: OPS });
  expect(state.rssPeak - state.rssBefore).toBeLessThanOrEqual(RSS_BOUND);
});

test('Redis back while the queue is full: exactly the queued INCRs run, none of the refused ones', async () => {
  // Queued ops must outlive the flood (100 batches, ~10 s on a loaded machine) so that the
  // ones held are the first CAP issued; a timeout among them would let later ones in.
  const client = new RedisClient({ port: redis.port, offlineQueue: CAP, commandTimeout: 600_000 });
  await client.command(['PING'], { timeout: 100 }).catch(() => {}); // learn that Redis is down
  const state = await flood(client, CAP, OPS, () => ['INCR', 'r6:counter']);
  expect(state.maxHeld).toBeLessThanOrEqual(CAP);
  const held = state.issued - state.settled;
  await redis.start();
  await drain(state, 5000); // the reconnect backoff is capped at 1 s
  const counter = Number(await client.command(['GET', 'r6:counter']));
  await client.disconnect();
  await redis.stop();
  console.log(`R6 Redis back with ${held} INCRs queued (cap ${CAP}): resolved ${state.resolved}, counter ${counter}, `
    + `codes ${JSON.stringify(state.codes)}`);
  expect(state.settled).toBe(OPS);
  expect(held).toBeLessThanOrEqual(CAP);
  expect(state.resolved).toBe(held);
  expect(counter).toBe(held);
  expect(state.codes).toEqual({ ERR_REDIS_CONNECTION: OPS - held });
});

// R5/R6 while a retry is in progress: a server that accepts TCP connections and never
// answers keeps each attempt in its handshake until `connectTimeout`. Once one attempt has
// failed, Redis is known to be down, and ops issued during the next attempts must fail fast
// like ops issued between attempts — not wait for the attempt (they used to, unbounded).
test('with Redis known to be down, ops issued during a retry fail fast instead of queueing', async () => {
  const net = require('node:net');
  const sockets = new Set();
  const silent = net.createServer((socket) => { sockets.add(socket); socket.on('error', () => {}); });
  await new Promise((resolve) => silent.listen(0, '127.0.0.1', resolve));
  // Long enough that an op waiting for an attempt stands out from one that failed fast even
  // on a loaded machine, whose event loop can stall for over a second (an op issued during an
  // attempt would wait for the rest of it: on average half the connect timeout, up to all of it).
  const connectTimeout = 5000;
  const lag = watchTimerLag();
  // clientName makes every connection start with a handshake the silent server never answers.
  const client = new RedisClient({ port: silent.address().port, offlineQueue: 0, connectTimeout, commandTimeout: 5000, clientName: 'r6' });
  try {
    const first = await client.command(['GET', 'k']).then(() => 'resolved', (e) => e.code);
    expect(first).toBe('ERR_REDIS_CONNECT_TIMEOUT');
    // Now issue ops for 2.5 connect timeouts: they span several retry attempts.
    const waits = [];
    const codes = new Set();
    const until = performance.now() + 2.5 * connectTimeout;
    while (performance.now() < until) {
      const batch = [];
      for (let i = 0; i < 100; i++) {
        const t0 = performance.now();
        batch.push(client.command(['GET', 'k']).then(() => { codes.add('resolved'); },
          (e) => { codes.add(e.code); waits.push(performance.now() - t0); }));
      }
      await Promise.all(batch);
      await sleep(5);
    }
    waits.sort((a, b) => a - b);
    const p99 = waits[Math.floor(waits.length * 0.99)];
    const worstLag = lag.stop();
    console.log(`retrying against a silent server: ${waits.length} ops, wait p50 ${waits[waits.length >> 1].toFixed(1)} ms, ` +
      `p99 ${p99.toFixed(1)} ms, max ${waits[waits.length - 1].toFixed(0)} ms; codes ${[...codes].join(', ')}; ` +
      `worst timer lateness ${worstLag.toFixed(0)} ms`);
    expect(codes.has('resolved')).toBe(false);
    // Fail fast: far below the connect timeout every op would wait for otherwise (the p99 of
    // ops queued behind the attempts would be near the whole connect timeout).
    expect(p99).toBeLessThan(Math.min(allowing(50, worstLag), connectTimeout / 2));
    expect(waits[waits.length - 1]).toBeLessThan(connectTimeout / 2);
  } finally {
    await client.disconnect({ timeout: 200 });
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => silent.close(resolve));
  }
});
