'use strict';

// R16: connection limits and authentication.
// - `--maxclients 4` with every slot held by other connections: calls fail with a typed error
//   that carries Redis's "max number of clients reached"; reconnects happen at backoff pace
//   (counted by the server in INFO stats rejected_connections), never in a tight loop; once a
//   slot frees, service comes back.
// - Sharing: many stores and caches naming one endpoint use one connection, so they all work
//   with a single free slot.
// - Wrong password: WRONGPASS surfaced, the password in no message, retried at backoff pace;
//   the right password works.
// - An ACL user deleted mid-run: in-flight and later calls fail with clear errors, AUTH is
//   retried at backoff pace, nothing hangs, disconnect() returns promptly.
// - The Next.js example's cache module constructed 1,000 times in one process: 1 connection.

const { execFile } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const util = require('node:util');
const { startRedis } = require('../helpers/redis-server');
const { watchTimerLag, allowing } = require('../helpers/timing');
const {
  RedisClient, RedisStore, createCache, MemoryStore, RedisError, RedisServerError, REDIS_CLIENT_DEFAULTS,
} = require('../../lib');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const settle = (promise) => promise.then((value) => ({ value }), (error) => ({ error }));

// Backoff 50·2ⁿ ms with jitter in [step/2, step], capped at 1 s: at the fastest the attempts
// after the first two come 25, 50, 100, 200, 400, 500, 500, … ms apart, i.e. about 8 in 2 s.
// A client that reconnected per call (one call every 20 ms here) would make ~100.
const WINDOW_MS = 2000;
const MAX_ATTEMPTS_IN_WINDOW = 12;
// drive() calls every 20 ms: ~100 calls in the window on a quiet machine, fewer when its
// timers run late. Enough calls to tell backoff pacing from one attempt per call.
const MIN_CALLS_IN_WINDOW = 25;
// A failed call is answered from the client's own state (1.5–5 ms here): it does not wait
// for the next connection attempt (up to a 500 ms backoff step away) nor for a timeout.
const FAIL_FAST_DESIGN_MS = 100;
// disconnect() with nothing in flight returns at once; a hang would last disconnectTimeout.
const DISCONNECT_BOUND_MS = REDIS_CLIENT_DEFAULTS.disconnectTimeout / 2;

/** Calls `op` every `everyMs` for `ms`; returns each call's outcome and duration. */
async function drive(op, ms, everyMs = 20) {
  const outcomes = [];
  const until = performance.now() + ms;
  const running = [];
  while (performance.now() < until) {
    const start = performance.now();
    running.push(settle(op()).then((r) => outcomes.push({ ...r, ms: performance.now() - start })));
    await sleep(everyMs);
  }
  await Promise.all(running);
  return outcomes;
}

const summary = (outcomes) => {
  const counts = new Map();
  for (const o of outcomes) {
    const key = o.error ? `${o.error.constructor.name}/${o.error.code}: ${o.error.message}` : 'ok';
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([k, n]) => `${n} × ${k}`).join('; ');
};

describe('--maxclients 4', () => {
  let redis;
  let admin;
  let fillers;
  beforeAll(async () => {
    redis = await startRedis({ args: ['--maxclients', '4'] });
    admin = (await fill(1))[0]; // retried until the helper's own PING connection is gone
  });
  afterAll(async () => {
    for (const f of fillers ?? []) await f.close();
    await admin?.close();
    await redis.cleanup();
  });

  const stat = async (name) => Number((await admin.info('stats'))[name]);

  /**
   * Opens `count` raw connections that hold a slot each. A slot whose previous holder has
   * just closed may take Redis a moment to give back: a refused connection is retried.
   */
  async function fill(count) {
    const opened = [];
    for (let tries = 0; opened.length < count && tries < 100; tries++) {
      const conn = await redis.raw();
      const pong = await conn.command(['PING']).catch((e) => e);
      if (pong === 'PONG') {
        opened.push(conn);
      } else {
        await conn.close();
        await sleep(20);
      }
    }
    expect(opened).toHaveLength(count);
    return opened;
  }

  test('many stores and caches on one endpoint use 1 connection: they all work with 1 free slot', async () => {
    fillers = await fill(2); // admin + 2: one slot left
    const before = await stat('total_connections_received');
    const rejectedBefore = await stat('rejected_connections');
    const name = `shared${process.pid}`;
    const stores = Array.from({ length: 100 }, () => new RedisStore(redis.url, { clientName: name }));
    const caches = Array.from({ length: 100 }, () => createCache({
      stores: [new MemoryStore(), new RedisStore(redis.url, { clientName: name })],
    }));
    const results = await Promise.all([
      ...stores.map((s, i) => settle(s.set(`s${i}`, `s${i}`, 60_000))),
      ...caches.map((c, i) => settle(c.wrap(`c${i}`, async () => `c${i}`, 60_000))),
    ]);
    const list = (await admin.command(['CLIENT', 'LIST'])).split('\n').filter((l) => l.includes(`name=${name} `));
    const failed = results.filter((r) => r.error);
    const opened = (await stat('total_connections_received')) - before;
    const rejected = (await stat('rejected_connections')) - rejectedBefore;
    console.log(`R16 sharing: 100 RedisStores + 100 createCache instances, one free slot: `
      + `${results.length - failed.length}/${results.length} calls ok, CLIENT LIST shows ${list.length} `
      + `connection(s) named ${name}, connections opened ${opened}, rejected ${rejected}`);
    expect(failed).toEqual([]);
    expect(list).toHaveLength(1);
    expect(opened).toBe(1);
    expect(rejected).toBe(0);
    await Promise.all([...stores.map((s) => s.disconnect()), ...caches.map((c) => c.disconnect())]);
  });

  test('all slots held: clear errors naming the limit, backoff-paced attempts, service back when a slot frees', async () => {
    fillers.push(...await fill(1)); // admin + 3 = 4: every slot held
    const probe = await redis.raw();
    await probe.closed; // Redis sends its error, then closes
    expect(probe.greeting.map(String)).toEqual(['Error: ERR max number of clients reached']);

    const client = new RedisClient(redis.url);
    const lag = watchTimerLag();
    const rejectedBefore = await stat('rejected_connections');
    const outcomes = await drive(() => client.command(['GET', 'k']), WINDOW_MS);
    const attempts = (await stat('rejected_connections')) - rejectedBefore;
    const slowest = Math.max(...outcomes.map((o) => o.ms));
    console.log(`R16 maxclients: ${outcomes.length} calls in ${WINDOW_MS} ms, ${attempts} connection attempts `
      + `rejected by the server, slowest call ${slowest.toFixed(1)} ms; ${summary(outcomes)}`);

    // Free one slot: the next attempt (≤ 1 s of backoff away) gets it.
    const freedAt = performance.now();
    await fillers.pop().close();
    let back;
    let tries = 0;
    while (back === undefined && performance.now() - freedAt < 3000) {
      tries++;
      const r = await settle(client.command(['SET', 'after-slot-freed', 'back']));
      if (r.value === 'OK') back = performance.now() - freedAt;
      else await sleep(10);
    }
    const t0 = performance.now();
    await client.disconnect();
    const disconnectMs = performance.now() - t0;
    const worstLag = lag.stop();
    console.log(`R16 maxclients: service back ${back?.toFixed(0)} ms after a slot freed (${tries} calls), `
      + `disconnect ${disconnectMs.toFixed(1)} ms, worst timer lateness ${worstLag.toFixed(0)} ms`);

    expect(outcomes.length).toBeGreaterThan(MIN_CALLS_IN_WINDOW);
    for (const o of outcomes) {
      expect(o.error).toBeInstanceOf(RedisServerError);
      expect(o.error.message).toMatch(/^ERR max number of clients reached \(/);
      expect(o.error.message).toContain(`127.0.0.1:${redis.port}`);
    }
    expect(slowest).toBeLessThan(allowing(FAIL_FAST_DESIGN_MS, worstLag));
    expect(attempts).toBeGreaterThanOrEqual(3);
    expect(attempts).toBeLessThanOrEqual(MAX_ATTEMPTS_IN_WINDOW);
    // The next attempt is at most one capped backoff step (1 s) away, plus its connect.
    expect(back).toBeLessThan(allowing(1250, worstLag));
    expect(disconnectMs).toBeLessThan(DISCONNECT_BOUND_MS);
  });
});

test('a server that answers every connection with an error and closes it (protected mode\'s DENIED): that text, backoff pace', async () => {
  const DENIED = '-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user.\r\n';
  let accepted = 0;
  const refusing = net.createServer((socket) => {
    accepted++;
    socket.on('error', () => {});
    socket.resume(); // read (and drop) what the client sends, so the socket can finish closing
    socket.end(DENIED);
  });
  await new Promise((r) => refusing.listen(0, '127.0.0.1', r));
  const { port } = refusing.address();
  const client = new RedisClient({ host: '127.0.0.1', port });
  const outcomes = await drive(() => client.command(['GET', 'k']), WINDOW_MS);
  const t0 = performance.now();
  await client.disconnect();
  const disconnectMs = performance.now() - t0;
  await new Promise((r) => refusing.close(r));
  console.log(`R16 refused at accept (DENIED): ${outcomes.length} calls in ${WINDOW_MS} ms, ${accepted} connections; `
    + `${summary(outcomes)}; disconnect ${disconnectMs.toFixed(1)} ms`);
  expect(outcomes.length).toBeGreaterThan(MIN_CALLS_IN_WINDOW);
  for (const o of outcomes) {
    expect(o.error).toBeInstanceOf(RedisServerError);
    expect(o.error.redisCode).toBe('DENIED');
    expect(o.error.message).toContain(`127.0.0.1:${port}`);
  }
  expect(accepted).toBeGreaterThanOrEqual(3);
  expect(accepted).toBeLessThanOrEqual(MAX_ATTEMPTS_IN_WINDOW);
  expect(disconnectMs).toBeLessThan(DISCONNECT_BOUND_MS);
});

describe('authentication', () => {
  const PASSWORD = 'right-Pa55';
  const WRONG = 'wrong-Pa55';
  const ACL_PASSWORD = 'acl-s3cret';
  let redis;
  let admin;
  beforeAll(async () => {
    redis = await startRedis({ password: PASSWORD });
    admin = await redis.raw();
  });
  afterAll(async () => {
    await admin?.close();
    await redis.cleanup();
  });

  // Redis 7.0 has no INFO counter of failed AUTHs (acl_access_denied_auth came in 7.2); its
  // ACL LOG groups repeated failures into one entry with a count.
  const stats = async () => {
    const log = await admin.command(['ACL', 'LOG']);
    let auth = 0;
    for (const entry of log) {
      const fields = Object.fromEntries(entry.flatMap((v, i) => (i % 2 === 0 ? [[v, entry[i + 1]]] : [])));
      if (fields.reason === 'auth') auth += Number(fields.count);
    }
    const s = await admin.info('stats');
    return { auth, connections: Number(s.total_connections_received) };
  };
  const noSecret = (error, secrets) => {
    for (const text of [error.message, String(error.stack), util.inspect(error), JSON.stringify(error)]) {
      for (const secret of secrets) expect(text).not.toContain(secret);
    }
  };

  test('wrong password: WRONGPASS without the password, retried at backoff pace; the right one works', async () => {
    const store = new RedisStore(`redis://:${WRONG}@127.0.0.1:${redis.port}`);
    const lag = watchTimerLag();
    const before = await stats();
    const outcomes = await drive(() => store.get('k'), WINDOW_MS);
    const after = await stats();
    const slowest = Math.max(...outcomes.map((o) => o.ms));
    console.log(`R16 wrong password: ${outcomes.length} calls in ${WINDOW_MS} ms, ${after.auth - before.auth} AUTH `
      + `failures, ${after.connections - before.connections} connections, slowest call ${slowest.toFixed(1)} ms; `
      + `${summary(outcomes)}`);
    const t0 = performance.now();
    await store.disconnect();
    const disconnectMs = performance.now() - t0;
    const worstLag = lag.stop();

    expect(outcomes.length).toBeGreaterThan(MIN_CALLS_IN_WINDOW);
    for (const o of outcomes) {
      expect(o.error).toBeInstanceOf(RedisServerError);
      expect(o.error.redisCode).toBe('WRONGPASS');
      expect(o.error.message).toContain(`127.0.0.1:${redis.port}`);
      noSecret(o.error, [WRONG, PASSWORD]);
    }
    expect(after.auth - before.auth).toBeGreaterThanOrEqual(3);
    expect(after.auth - before.auth).toBeLessThanOrEqual(MAX_ATTEMPTS_IN_WINDOW);
    expect(after.connections - before.connections).toBeLessThanOrEqual(MAX_ATTEMPTS_IN_WINDOW);
    expect(slowest).toBeLessThan(allowing(FAIL_FAST_DESIGN_MS, worstLag));
    expect(disconnectMs).toBeLessThan(DISCONNECT_BOUND_MS);

    const right = new RedisStore(`redis://:${PASSWORD}@127.0.0.1:${redis.port}`);
    await right.set('k', 'v', 60_000);
    expect(await right.get('k')).toBe('v');
    await right.disconnect();
  });

  test('ACL user deleted mid-run: clear errors, AUTH retried at backoff pace, nothing hangs, prompt disconnect', async () => {
    expect(await admin.command(['ACL', 'SETUSER', 'cache-user', 'on', `>${ACL_PASSWORD}`, '~aclspace::*',
      '+@read', '+@write', '+@connection', '-@dangerous'])).toBe('OK');
    const store = new RedisStore({ host: '127.0.0.1', port: redis.port, username: 'cache-user', password: ACL_PASSWORD,
      namespace: 'aclspace' });
    let n = 0;
    const op = () => {
      n++;
      return n % 3 === 0 ? store.set(`k${n % 50}`, `v${n}`, 60_000) : store.get(`k${n % 50}`);
    };
    const beforeLoad = await drive(op, 300, 2);
    const lag = watchTimerLag();
    const before = await stats();
    let burst;
    const deleting = (async () => {
      await sleep(100);
      const deletedAt = performance.now();
      const deleted = admin.command(['ACL', 'DELUSER', 'cache-user']);
      // 200 calls in flight while the server drops the user and its connection.
      burst = Promise.all(Array.from({ length: 200 }, (_, i) => {
        const start = performance.now();
        return settle(i % 2 ? store.set(`b${i}`, 'v', 60_000) : store.get(`b${i}`))
          .then((r) => ({ ...r, ms: performance.now() - start }));
      }));
      expect(await deleted).toBe(1);
      return deletedAt;
    })();
    const start = performance.now();
    const during = await drive(op, WINDOW_MS, 5);
    const deletedAt = await deleting;
    const inFlight = await burst;
    const after = await stats();
    const t0 = performance.now();
    await store.disconnect();
    const disconnectMs = performance.now() - t0;
    const worstLag = lag.stop();
    const late = during.filter((o) => o.error && o.error.redisCode === 'WRONGPASS');
    const slowest = Math.max(...during.map((o) => o.ms), ...inFlight.map((o) => o.ms));
    console.log(`R16 ACL DELUSER after ${(deletedAt - start).toFixed(0)} ms of load: before ${summary(beforeLoad)}; `
      + `200 issued with the DELUSER: ${summary(inFlight)}, slowest ${Math.max(...inFlight.map((o) => o.ms)).toFixed(1)} ms; `
      + `load for ${WINDOW_MS} ms: ${during.length} calls: ${summary(during)}; ${after.auth - before.auth} AUTH failures and `
      + `${after.connections - before.connections} connections in ${WINDOW_MS} ms; slowest call ${slowest.toFixed(1)} ms; `
      + `disconnect ${disconnectMs.toFixed(1)} ms`);

    expect(beforeLoad.every((o) => o.error === undefined)).toBe(true);
    for (const o of [...during, ...inFlight]) {
      if (o.error === undefined) continue;
      expect(o.error).toBeInstanceOf(RedisError);
      expect(['ERR_REDIS_SERVER', 'ERR_REDIS_CONNECTION']).toContain(o.error.code);
      if (o.error.code === 'ERR_REDIS_SERVER') expect(o.error.redisCode).toBe('WRONGPASS');
      noSecret(o.error, [ACL_PASSWORD, PASSWORD]);
    }
    // The user is deleted 100 ms into the 2 s window: most of the window fails with WRONGPASS.
    expect(late.length).toBeGreaterThan(during.length / 2);
    expect(after.auth - before.auth).toBeGreaterThanOrEqual(3);
    expect(after.auth - before.auth).toBeLessThanOrEqual(MAX_ATTEMPTS_IN_WINDOW);
    expect(after.connections - before.connections).toBeLessThanOrEqual(MAX_ATTEMPTS_IN_WINDOW + 1);
    // Nothing waits for more than the command timeout (observed as late as the timers run).
    expect(slowest).toBeLessThan(allowing(REDIS_CLIENT_DEFAULTS.commandTimeout, worstLag));
    expect(disconnectMs).toBeLessThan(DISCONNECT_BOUND_MS);
  });
});

describe('Next.js example cache module (examples/nextjs/lib/cache.js)', () => {
  let redis;
  let dir;
  beforeAll(async () => {
    redis = await startRedis();
    // The module imports 'native-cache-manager': give it this package under that name.
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ncm-next-example-'));
    fs.mkdirSync(path.join(dir, 'node_modules'));
    fs.symlinkSync(path.resolve(__dirname, '../..'), path.join(dir, 'node_modules', 'native-cache-manager'));
    fs.mkdirSync(path.join(dir, 'lib'));
    fs.copyFileSync(path.resolve(__dirname, '../../examples/nextjs/lib/cache.js'), path.join(dir, 'lib', 'cache.mjs'));
    fs.copyFileSync(path.join(__dirname, 'fixtures', 'next-cache-constructions.mjs'), path.join(dir, 'run.mjs'));
  });
  afterAll(async () => {
    fs.rmSync(dir, { recursive: true, force: true });
    await redis.cleanup();
  });

  test('1,000 constructions in one process open 1 connection', async () => {
    const admin = await redis.raw();
    const connections = async () => Number((await admin.info('stats')).total_connections_received);
    const before = await connections();
    const { stdout } = await util.promisify(execFile)(process.execPath, ['run.mjs'], {
      cwd: dir, env: { ...process.env, REDIS_URL: redis.url, CONSTRUCTIONS: '1000' }, timeout: 150_000,
    });
    const opened = (await connections()) - before;
    await admin.close();
    const result = JSON.parse(stdout.trim().split('\n').pop());
    console.log(`R16 Next.js cache module: ${JSON.stringify(result)}; connections the server received: ${opened} `
      + '(the cache\'s one and the script\'s own CLIENT LIST client)');
    expect(result.imports).toBe(1000);
    expect(result.sameCache).toBe(1000);
    expect(result.constructions).toBe(1000);
    expect(result.wrongValues).toBe(0);
    expect(result.maxNamedConnections).toBe(1);
    expect(opened).toBe(2);
  }, 180_000); // 1,000 module loads: a minute under the sanitizer build on a loaded machine
});
