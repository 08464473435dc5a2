'use strict';

// One background refresh per key across processes: several Node processes share one
// redis-server and call wrap on the same key inside its refresh window.
const path = require('node:path');
const { spawn } = require('node:child_process');
const { startRedis } = require('../helpers/redis-server');
const {
  createCache, MemoryStore, RedisStore, kTier, InvalidArgumentError,
} = require('../../lib');

const WORKER = path.join(__dirname, '..', 'fixtures', 'refresh-lock-worker.js');

let redis;
const children = new Set();

beforeAll(async () => { redis = await startRedis(); });
afterEach(() => {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGKILL');
  }
  children.clear();
});
afterAll(async () => { await redis.cleanup(); });

/** Starts a worker; `lines` collects its stdout lines, `exited` resolves with its code. */
function startWorker(config) {
  const child = spawn(process.execPath, [WORKER, JSON.stringify({ url: redis.url, ...config })],
    { stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(child);
  const worker = { child, lines: [], stderr: '' };
  let waiters = [];
  let buffered = '';
  child.stdout.on('data', (chunk) => {
    buffered += chunk;
    let newline;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      worker.lines.push(buffered.slice(0, newline));
      buffered = buffered.slice(newline + 1);
    }
    waiters = waiters.filter((w) => !w());
  });
  child.stderr.on('data', (chunk) => { worker.stderr += chunk; });
  worker.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  worker.line = (prefix) => new Promise((resolve, reject) => {
    const check = () => {
      const line = worker.lines.find((l) => l.startsWith(prefix));
      if (line !== undefined) resolve(line);
      return line !== undefined;
    };
    if (!check()) waiters.push(check);
    worker.exited.then((code) => reject(
      new Error(`worker exited (${code}) before '${prefix}': ${worker.stderr}`)));
  });
  return worker;
}

async function seed(key, gen, ttl) {
  const store = new RedisStore(redis.url);
  const cache = createCache({ stores: [store] });
  await cache.set(key, { gen, pid: 0 }, ttl);
  await cache.disconnect();
}

async function runs() {
  return redisList('test:runs');
}

async function redisList(key) {
  const text = await redis.cli('LRANGE', key, '0', '-1');
  return text === '' ? [] : text.split('\n');
}

/** How many fn runs replaced a value that another run had already replaced. */
function duplicates(list) {
  const replaced = list.map((line) => line.split(':')[1]);
  return replaced.length - new Set(replaced).size;
}

async function runFleet(refreshLock) {
  await redis.cli('FLUSHALL');
  const config = {
    key: 'shared', mode: 'loop', ttl: 1200, threshold: 900, fnDelay: 150,
    durationMs: 2500, refreshLock, lockTtl: 5000,
  };
  const workers = [1, 2, 3, 4].map(() => startWorker(config));
  await Promise.all(workers.map((w) => w.line('ready')));
  // Every value spends 300 ms fresh, then 900 ms in the refresh window; fn takes 150 ms.
  await seed('shared', 0, 1200);
  for (const w of workers) w.child.stdin.write('go\n');
  const codes = await Promise.all(workers.map((w) => w.exited));
  expect(codes).toEqual([0, 0, 0, 0]);
  for (const w of workers) {
    expect(w.lines.at(-1)).toMatch(/^done \d+$/);
    // Every process kept asking for the key the whole time (a wrap every ~5 ms for 2.5 s),
    // so each refresh window was contended by all four.
    expect(Number(w.lines.at(-1).split(' ')[1])).toBeGreaterThanOrEqual(20);
  }
  return { list: await runs(), pids: workers.map((w) => String(w.child.pid)) };
}

describe('refresh lock across processes', () => {
  test('4 processes in the same window: fn runs once per stale value, the others serve it', async () => {
    const { list, pids } = await runFleet(undefined); // on by default with a Redis tier
    // 2.5 s of 300 ms-fresh values: several refreshes happened, none of them twice.
    expect(list.length).toBeGreaterThanOrEqual(3);
    expect({ duplicates: duplicates(list), list }).toEqual({ duplicates: 0, list });
    // One refresh at a time: each run replaced exactly the value the run before it wrote
    // (gen 0 is the seed), so no run overlapped another or worked from an older value.
    expect(list.map((line) => line.split(':')[1]))
      .toEqual(list.map((_, i) => String(i)));
    expect(Number(await redis.cli('GET', 'test:gen'))).toBe(list.length);
    // ... and only values inside their window were replaced (none still fresh).
    const fresh = list.filter((line) => Number(line.split(':')[2]) >= 900);
    expect(fresh).toEqual([]);
    // Every run came from one of the four processes, and it held the lock when it ran.
    const runners = list.map((line) => line.split(':')[0]);
    for (const pid of runners) expect(pids).toContain(pid);
    // The others did compete: lock attempts were refused (more than one process asked).
    const locks = await redisList('test:locks');
    const refused = locks.filter((line) => line.endsWith(':0'));
    const granted = locks.filter((line) => line.endsWith(':1'));
    expect(refused.length).toBeGreaterThan(0);
    expect(new Set(locks.map((line) => line.split(':')[0])).size).toBeGreaterThanOrEqual(2);
    expect(granted.length).toBeGreaterThanOrEqual(list.length); // no fn run without the lock
    for (const pid of new Set(runners)) {
      const runsOf = runners.filter((p) => p === pid).length;
      expect(granted.filter((line) => line.startsWith(`${pid}:`)).length).toBeGreaterThanOrEqual(runsOf);
    }
    // Released by its owner after each refresh.
    expect(await redis.cli('EXISTS', 'keyv::ncm-refresh-lock:shared')).toBe('0');
  }, 60_000); // 2.5 s of load, plus four Node start-ups (seconds each under a loaded sanitizer build)

  test('refreshLock: false lets every process refresh the same stale value', async () => {
    // The same load without the lock: the check above would catch the overlap.
    const { list } = await runFleet(false);
    expect(duplicates(list)).toBeGreaterThan(0);
    expect(await redisList('test:locks')).toEqual([]); // no lock was ever asked for
  }, 60_000);

  test('a killed lock holder blocks refreshes only until the lock expires', async () => {
    await redis.cli('FLUSHALL');
    // Always inside the window (threshold > ttl), so every call wants a refresh.
    await seed('crash', 0, 30_000);
    const common = { key: 'crash', ttl: 30_000, threshold: 60_000, fnDelay: 10, lockTtl: 1500 };
    const holder = startWorker({ ...common, mode: 'hold' });
    const started = Number((await holder.line('fn-started')).split(' ')[1]);
    const pttl = Number(await redis.cli('PTTL', 'keyv::ncm-refresh-lock:crash'));
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(1500);
    process.kill(holder.child.pid, 'SIGKILL');
    await holder.exited;

    const other = startWorker({ ...common, mode: 'until-refresh' });
    const refreshedAt = Number((await other.line('refreshed')).split(' ')[1]);
    expect(await other.exited).toBe(0);
    // Not before the dead holder's lock expired, and once it had: long before the entry's
    // 30 s ttl. The margin covers the second worker's start-up, seconds on a loaded machine.
    expect(refreshedAt - started).toBeGreaterThanOrEqual(1500 - 50);
    expect(refreshedAt - started).toBeLessThan(1500 + 10_000);
    const list = await runs();
    expect(list.filter((line) => line.startsWith(`${other.child.pid}:`)).length).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(await redis.cli('GET', 'keyv::keyv:crash')).value.pid).toBe(other.child.pid);
  }, 60_000);
});

describe('refresh lock in one process', () => {
  let store;
  beforeEach(() => { store = new RedisStore(redis.url, { namespace: 'lk' }); });
  afterEach(async () => { await store.disconnect(); });

  test('tryLock is exclusive and expires; unlock only releases the owner token', async () => {
    const tier = store[kTier];
    const token = await tier.tryLock('k', 2000);
    expect(typeof token).toBe('string');
    expect(await tier.tryLock('k', 2000)).toBeUndefined();
    expect(await tier.unlock('k', 'not-the-token')).toBe(false);
    expect(await redis.cli('EXISTS', 'lk::ncm-refresh-lock:k')).toBe('1');
    expect(await tier.unlock('k', token)).toBe(true);
    expect(await redis.cli('EXISTS', 'lk::ncm-refresh-lock:k')).toBe('0');
    const short = await tier.tryLock('k', 50);
    await new Promise((r) => setTimeout(r, 120));
    const next = await tier.tryLock('k', 2000);
    expect(typeof next).toBe('string');
    expect(next).not.toBe(short);
    expect(await tier.unlock('k', short)).toBe(false); // expired holders cannot release
    expect(await tier.unlock('k', next)).toBe(true);
  });

  test('a refresh stores the new value in the Redis tier even when memory answered', async () => {
    const cache = createCache({ stores: [new MemoryStore(), store] });
    await cache.set('mem', 'old', 1000);
    let calls = 0;
    const value = await cache.wrap('mem', async () => { calls++; return 'new'; },
      { ttl: 1000, refreshThreshold: 5000 });
    expect(value).toBe('old');
    await cache.settled();
    expect(calls).toBe(1);
    expect(JSON.parse(await redis.cli('GET', 'lk::lk:mem')).value).toBe('new');
    await cache.disconnect();
  });

  test('a process that finds the value already refreshed by another copies it and skips fn', async () => {
    const cache = createCache({ stores: [new MemoryStore(), store] });
    await cache.set('adopt', 'stale', 1000);
    // Another process refreshed Redis (long ttl) after this one cached the stale value.
    const other = new RedisStore(redis.url, { namespace: 'lk', shared: false });
    const otherCache = createCache({ stores: [other] });
    await otherCache.set('adopt', 'fresh', 60_000);
    await otherCache.disconnect();
    let calls = 0;
    const first = await cache.wrap('adopt', async () => { calls++; return 'mine'; },
      { ttl: 60_000, refreshThreshold: 5000 });
    expect(first).toBe('stale');
    await cache.settled();
    expect(calls).toBe(0);
    expect(cache.stores[0][kTier].get('adopt')).toBe('fresh');
    expect(await cache.wrap('adopt', async () => 'mine', { ttl: 60_000, refreshThreshold: 5000 }))
      .toBe('fresh');
    await cache.disconnect();
  });

  test('with Redis unreachable the refresh still updates this process', async () => {
    const down = new RedisStore('redis://127.0.0.1:1', { namespace: 'down', connectTimeout: 200 });
    const memory = new MemoryStore();
    const cache = createCache({ stores: [memory, down] });
    await memory[kTier].set('k', 'old', 1000);
    const value = await cache.wrap('k', async () => 'new', { ttl: 1000, refreshThreshold: 5000 });
    expect(value).toBe('old');
    await cache.settled();
    expect(await memory[kTier].get('k')).toBe('new');
    await cache.disconnect();
  });

  test('refreshLock and refreshLockTtl are validated', () => {
    expect(() => createCache({ refreshLock: 'no' })).toThrow(InvalidArgumentError);
    expect(() => createCache({ refreshLock: 'no' })).toThrow(/refreshLock/);
    expect(() => createCache({ refreshLockTtl: 0 })).toThrow(/refreshLockTtl/);
    expect(() => createCache({ refreshLockTtl: 1.5 })).toThrow(/refreshLockTtl/);
  });
});
