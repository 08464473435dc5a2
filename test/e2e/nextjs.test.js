'use strict';

// End to end in a real Next.js 16 app (examples/nextjs): the package is packed, installed
// into the app from the tarball, the app is built once with `next build` (no Redis
// running) and then served with `next start` against a redis-server started here.
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { startRedis, freePort } = require('../helpers/redis-server');

const ROOT = path.join(__dirname, '..', '..');
const APP = path.join(ROOT, 'examples', 'nextjs');
const NEXT_BIN = path.join(APP, 'node_modules', 'next', 'dist', 'bin', 'next');
const COMMAND_TIMEOUT = 500;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const baseEnv = {
  ...process.env,
  NEXT_TELEMETRY_DISABLED: '1',
  npm_config_nodedir: process.env.npm_config_nodedir ?? '/usr',
  npm_config_audit: 'false',
  npm_config_fund: 'false',
  npm_config_update_notifier: 'false',
};
delete baseEnv.NODE_ENV; // Jest sets 'test'; next build and next start pick their own

const children = new Set();
const timings = {};
let tmp;
let redis;
let build;
let buildTrapConnections = 0;

/**
 * Runs a command to completion; resolves with its exit code, output and duration. It gets
 * its own process group so that afterAll can stop it with everything it started (node-gyp,
 * the compiler, next build's workers).
 */
function run(command, args, options) {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    child.group = true;
    children.add(child);
    let output = '';
    child.stdout.on('data', (chunk) => { output += chunk; });
    child.stderr.on('data', (chunk) => { output += chunk; });
    child.on('error', reject);
    child.on('exit', (code) => {
      children.delete(child);
      resolve({ code, output, ms: Date.now() - started });
    });
  });
}

/** `next start` on a free loopback port; resolves once it answers HTTP. */
async function startNext(extraEnv = {}) {
  const port = await freePort();
  const child = spawn(process.execPath, [NEXT_BIN, 'start', '-p', String(port), '-H', '127.0.0.1'], {
    cwd: APP,
    env: { ...baseEnv, REDIS_URL: redis.url, REDIS_COMMAND_TIMEOUT: String(COMMAND_TIMEOUT), ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  const server = { child, pid: child.pid, port, log: '' };
  child.stdout.on('data', (chunk) => { server.log += chunk; });
  child.stderr.on('data', (chunk) => { server.log += chunk; });
  server.exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      server.exitedAt = Date.now();
      children.delete(child);
      resolve({ code, signal });
    });
  });
  server.get = (pathname) => get(port, pathname);
  server.stop = async () => {
    if (child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGKILL');
    await server.exited;
  };
  const until = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`next start exited: ${server.log}`);
    try {
      await get(port, '/api/data?key=__ready');
      break;
    } catch (error) {
      if (Date.now() > until) throw new Error(`next start did not answer: ${error.message}\n${server.log}`);
      await sleep(100);
    }
  }
  return server;
}

/** One GET on its own connection (no keep-alive, so a server close never waits on it). */
function get(port, pathname) {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const request = http.get({ host: '127.0.0.1', port, path: pathname, agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => { body += chunk; });
      response.on('end', () => {
        const ms = Date.now() - started;
        const type = response.headers['content-type'] ?? '';
        resolve({
          status: response.statusCode, body, ms, started, ended: Date.now(),
          json: type.includes('json') ? JSON.parse(body) : undefined,
        });
      });
    });
    request.on('error', reject);
    request.setTimeout(20_000, () => request.destroy(new Error(`GET ${pathname} timed out`)));
  });
}

const api = (key, { ttl, threshold, delay, waitUntil = true }) =>
  `/api/data?key=${key}&ttl=${ttl}&threshold=${threshold}&delay=${delay}&waitUntil=${waitUntil ? 1 : 0}`;

/** The entry the app's Redis tier holds for `key` (Keyv's format), or undefined. */
async function redisEntry(key) {
  const text = await redis.cli('GET', `keyv::keyv:${key}`);
  return text === '' ? undefined : JSON.parse(text);
}

async function waitFor(check, timeoutMs) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const result = await check();
    if (result) return result;
    if (Date.now() > until) return result;
    await sleep(25);
  }
}

/**
 * Stores a value for `key` through the app (a miss: fn runs), then waits until it is in
 * its refresh window. Returns the first response.
 */
async function seedInWindow(server, key, ttl, threshold) {
  const first = await server.get(api(key, { ttl, threshold, delay: 20 }));
  expect(first.status).toBe(200);
  expect((await redisEntry(key)).value.generatedAt).toBe(first.json.value.generatedAt);
  await sleep(ttl - threshold + 200);
  return first;
}

const loads = (server, key) => server.log.split('\n').filter((l) => l === `[example] loading ${key}`).length;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ncm-nextjs-'));
  const pack = await run('npm', ['pack', '--pack-destination', tmp], { cwd: ROOT, env: baseEnv });
  expect(pack.code).toBe(0);
  const tarball = fs.readdirSync(tmp).find((f) => f.endsWith('.tgz'));
  // A real install from the tarball (a symlinked local package does not load in Next); the
  // addon is compiled by the package's install script. --prefer-offline: no network when
  // the npm cache already holds next and react.
  const install = await run('npm', ['install', '--no-save', '--prefer-offline', path.join(tmp, tarball)],
    { cwd: APP, env: baseEnv });
  if (install.code !== 0) throw new Error(`npm install failed:\n${install.output}`);
  timings.install = install.ms;

  // next build with REDIS_URL pointing at a listener that counts connections: nothing may
  // connect at import or build time.
  const trap = net.createServer((socket) => { buildTrapConnections++; socket.destroy(); });
  await new Promise((resolve) => trap.listen(0, '127.0.0.1', resolve));
  fs.rmSync(path.join(APP, '.next'), { recursive: true, force: true });
  build = await run(process.execPath, [NEXT_BIN, 'build'],
    { cwd: APP, env: { ...baseEnv, REDIS_URL: `redis://127.0.0.1:${trap.address().port}` } });
  await new Promise((resolve) => trap.close(resolve));
  timings.build = build.ms;
  if (build.code !== 0) throw new Error(`next build failed:\n${build.output}`);

  redis = await startRedis();
}, 300_000);

afterAll(async () => {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      process.kill(child.group ? -child.pid : child.pid, 'SIGKILL');
    }
  }
  await redis?.cleanup();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  process.stdout.write(`nextjs e2e timings (ms): ${JSON.stringify(timings)}\n`);
});

describe('Next.js example app', () => {
  test('next build succeeds with no Redis and opens no connection', () => {
    expect(build.code).toBe(0);
    expect(build.output).toMatch(/\/api\/data/);
    expect(buildTrapConnections).toBe(0);
  });

  test('a hit in the refresh window answers with the stale value at once; after() stores the refresh in Redis', async () => {
    const server = await startNext();
    try {
      // The route handler and the server component, side by side. fn takes 3 s on the
      // refresh: an answer well under that did not wait for it.
      const page = (key, delay) => `/?key=${key}&ttl=5000&threshold=4500&delay=${delay}`;
      const generatedAt = (html) => Number(/data-generated-at="(\d+)"/.exec(html)[1]);
      const [first, firstPage] = await Promise.all([
        seedInWindow(server, 'fresh-1', 5000, 4500),
        server.get(page('page-1', 20)).then(async (r) => { await sleep(700); return r; }),
      ]);
      const firstPageAt = generatedAt(firstPage.body);
      const [stale, stalePage] = await Promise.all([
        server.get(api('fresh-1', { ttl: 5000, threshold: 4500, delay: 3000 })),
        server.get(page('page-1', 3000)),
      ]);
      expect(stale.status).toBe(200);
      expect(stale.json.value.generatedAt).toBe(first.json.value.generatedAt);
      expect(stale.ms).toBeLessThan(1500);
      expect(stalePage.status).toBe(200);
      expect(generatedAt(stalePage.body)).toBe(firstPageAt);
      expect(stalePage.ms).toBeLessThan(1500);
      timings.staleResponse = stale.ms;
      timings.stalePageResponse = stalePage.ms;

      const changed = (key, before) => waitFor(async () => {
        const entry = await redisEntry(key);
        return entry.value.generatedAt !== before ? entry : undefined;
      }, 6000);
      const [refreshed, refreshedPage] = await Promise.all([
        changed('fresh-1', first.json.value.generatedAt), changed('page-1', firstPageAt),
      ]);
      expect(refreshed).toBeDefined();
      expect(refreshed.value.generatedAt - stale.started).toBeGreaterThanOrEqual(3000);
      expect(refreshedPage).toBeDefined();
      expect(refreshedPage.value.generatedAt - stalePage.started).toBeGreaterThanOrEqual(3000);
      timings.refreshStoredAfterResponse = Date.now() - stale.ended;
      const next = await server.get(api('fresh-1', { ttl: 5000, threshold: 4500, delay: 3000 }));
      expect(next.json.value.generatedAt).toBe(refreshed.value.generatedAt);
    } finally {
      await server.stop();
    }
  }, 40_000);

  test('SIGTERM right after the response: next start awaits the after() refresh, which is stored before exit', async () => {
    const server = await startNext();
    const first = await seedInWindow(server, 'term-1', 4000, 3500);
    const stale = await server.get(api('term-1', { ttl: 4000, threshold: 3500, delay: 2000 }));
    process.kill(server.pid, 'SIGTERM'); // at once: after() was handed the refresh before the response
    const exit = await server.exited;
    expect(stale.json.value.generatedAt).toBe(first.json.value.generatedAt);
    expect(exit).toEqual({ code: 143, signal: null });
    const entry = await redisEntry('term-1');
    expect(entry.value.generatedAt).not.toBe(first.json.value.generatedAt);
    expect(entry.value.generatedAt).toBeLessThanOrEqual(server.exitedAt);
    expect(entry.value.generatedAt - stale.started).toBeGreaterThanOrEqual(2000);
    timings.exitAfterSigtermWithAfter = server.exitedAt - stale.ended;
    // The lock was released by its owner before the process exited.
    expect(await redis.cli('EXISTS', 'keyv::ncm-refresh-lock:term-1')).toBe('0');
  }, 30_000);

  test('without waitUntil the same refresh is lost on SIGTERM', async () => {
    const server = await startNext();
    const first = await seedInWindow(server, 'term-2', 4000, 3500);
    const stale = await server.get(api('term-2', { ttl: 4000, threshold: 3500, delay: 2000, waitUntil: false }));
    // SIGTERM once the refresh is running (fn started: it takes the lock first, a few ms),
    // so what is lost is a refresh in progress, not one that never began.
    expect(await waitFor(() => loads(server, 'term-2') === 2, 2000)).toBe(true);
    const termAt = Date.now();
    process.kill(server.pid, 'SIGTERM');
    const exit = await server.exited;
    expect(stale.json.value.generatedAt).toBe(first.json.value.generatedAt);
    expect(exit).toEqual({ code: 143, signal: null });
    expect(server.exitedAt - termAt).toBeLessThan(1000); // nobody waited for the 2 s fn
    timings.fnStartedAfterResponseWithoutAfter = termAt - stale.ended;
    timings.exitAfterSigtermWithoutAfter = server.exitedAt - termAt;
    await sleep(300);
    expect((await redisEntry('term-2')).value.generatedAt).toBe(first.json.value.generatedAt);
    // Its lock was never released: other processes wait for it to expire (refreshLockTtl).
    expect(Number(await redis.cli('PTTL', 'keyv::ncm-refresh-lock:term-2'))).toBeGreaterThan(0);
  }, 30_000);

  test('two next start processes in the same window: one runs the refresh, both serve the stale value', async () => {
    const servers = await Promise.all([startNext(), startNext()]);
    try {
      const [a, b] = servers;
      const first = await seedInWindow(a, 'pair-1', 4000, 3500);
      // b has nothing in memory: its hit comes from Redis, also inside the window. The
      // refreshed value gets a long ttl, so later requests do not refresh it again.
      const stale = await Promise.all([a, b].map((s) =>
        s.get(api('pair-1', { ttl: 60_000, threshold: 3500, delay: 2000 }))));
      for (const r of stale) {
        expect(r.json.value.generatedAt).toBe(first.json.value.generatedAt);
        expect(r.ms).toBeLessThan(1000); // fn takes 2 s
      }
      const refreshed = await waitFor(async () => {
        const entry = await redisEntry('pair-1');
        return entry.value.generatedAt !== first.json.value.generatedAt ? entry : undefined;
      }, 5000);
      expect(refreshed).toBeDefined();
      await sleep(200);
      // fn ran twice in all: the first miss, then exactly one refresh in one of the processes.
      expect(loads(a, 'pair-1') + loads(b, 'pair-1')).toBe(2);
      // Both move to the refreshed value: the process that did not refresh may answer once
      // more from its stale memory entry while it copies the new value from Redis.
      for (const s of servers) {
        await s.get(api('pair-1', { ttl: 60_000, threshold: 3500, delay: 2000 }));
        await sleep(100);
        const r = await s.get(api('pair-1', { ttl: 60_000, threshold: 3500, delay: 2000 }));
        expect(r.json.value.generatedAt).toBe(refreshed.value.generatedAt);
      }
      expect(loads(a, 'pair-1') + loads(b, 'pair-1')).toBe(2);
    } finally {
      await Promise.all(servers.map((s) => s.stop()));
    }
  }, 30_000);

  test('200 requests open one Redis connection per process', async () => {
    const server = await startNext();
    try {
      const paths = [];
      for (let i = 0; i < 200; i++) {
        paths.push(i % 4 === 0
          ? `/?key=page-many-${i % 10}`
          : api(`many-${i % 40}`, { ttl: 60_000, threshold: 1000, delay: 5 }));
      }
      const started = Date.now();
      const statuses = [];
      let next = 0;
      await Promise.all(Array.from({ length: 20 }, async () => {
        while (next < paths.length) {
          const response = await server.get(paths[next++]);
          statuses.push(response.status);
        }
      }));
      timings.requests200 = Date.now() - started;
      expect(statuses).toEqual(Array(200).fill(200));
      const clients = (await redis.clients()).filter((c) => c.name === 'nextjs-example');
      expect(clients.length).toBe(1);
      expect((await redisEntry('many-1')).value.key).toBe('many-1');
    } finally {
      await server.stop();
    }
  }, 60_000);

  test('with Redis down or stalled, requests still render from fn within the command timeout', async () => {
    const server = await startNext();
    try {
      const warm = await server.get(api('down-warm', { ttl: 60_000, threshold: 1000, delay: 20 }));
      expect(warm.status).toBe(200);
      const results = [];
      let stop = false;
      let i = 0;
      const load = (async () => {
        while (!stop) {
          // New keys (misses go to Redis), the route handler and the page in turn.
          const n = i++;
          results.push(await server.get(n % 2 === 0
            ? api(`down-${n}`, { ttl: 60_000, threshold: 1000, delay: 20 })
            : `/?key=down-${n}&delay=20`));
        }
      })();
      await sleep(300);
      await redis.stop(); // SIGKILL: connections refused from now on
      const stoppedAt = Date.now();
      await sleep(1500);
      stop = true;
      await load;
      const afterStop = results.filter((r) => r.started >= stoppedAt);
      expect(afterStop.length).toBeGreaterThan(5);
      for (const r of results) {
        expect(r.status).toBe(200);
        if (r.json) expect(r.json.value.key).toMatch(/^down-/);
        else expect(r.body).toMatch(/data-generated-at="\d+">down-\d+<!-- --> generated at/);
      }
      expect(afterStop.filter((r) => r.json === undefined).length).toBeGreaterThan(2);
      const slowest = Math.max(...afterStop.map((r) => r.ms));
      timings.slowestWithRedisDown = slowest;
      expect(slowest).toBeLessThan(COMMAND_TIMEOUT);

      // A stalled server (SIGSTOP): every command waits for its timeout, twice per miss
      // (the read, then the write), so a page costs at most two command timeouts plus fn.
      await redis.start();
      // Wait until the app is connected again (its writes reach the new server).
      let attempt = 0;
      const back = await waitFor(async () => {
        const key = `reconnect-${attempt++}`; // a new key each time: a miss goes to Redis
        await server.get(api(key, { ttl: 60_000, threshold: 1000, delay: 1 }));
        return redisEntry(key);
      }, 10_000);
      expect(back).toBeDefined();
      process.kill(redis.pid, 'SIGSTOP');
      try {
        const stalled = await Promise.all([1, 2, 3].map((n) =>
          server.get(api(`stalled-${n}`, { ttl: 60_000, threshold: 1000, delay: 20 }))));
        for (const r of stalled) {
          expect(r.status).toBe(200);
          expect(r.json.value.key).toMatch(/^stalled-/);
          expect(r.ms).toBeGreaterThanOrEqual(COMMAND_TIMEOUT);
          expect(r.ms).toBeLessThan(2 * COMMAND_TIMEOUT + 20 + 400);
        }
        timings.slowestWithRedisStalled = Math.max(...stalled.map((r) => r.ms));
      } finally {
        process.kill(redis.pid, 'SIGCONT');
      }
      expect(server.log).toMatch(/\[example\] cache error for down-\d+: ERR_REDIS/);
    } finally {
      await server.stop();
    }
  }, 60_000);
});
