'use strict';

// The `credentials` option: a function called on the JS thread before each connect's AUTH
// (the first connect and every reconnect), against a real redis-server with ACL users.
// Rotation with ACL SETUSER and CLIENT KILL, async providers, a provider that throws (the
// provider's error is the cause, attempts keep the backoff pace), one that never settles
// (bounded by connectTimeout), over TLS, no secret in any message, and stores with
// different providers never sharing a connection.
const util = require('node:util');
const {
  RedisClient, RedisStore, RedisCredentialsError, RedisConnectTimeoutError, RedisServerError,
  InvalidArgumentError,
} = require('../../lib');
const { startRedis } = require('../helpers/redis-server');
const { makeCertificates } = require('../helpers/tls-certs');
const { sleep, watchTimerLag, allowing } = require('../helpers/timing');
const { rejectionOf } = require('../helpers/load');

// Backoff 50·2ⁿ ms with jitter in [step/2, step], capped at 1 s (as in
// test/reliability/maxclients-auth.test.js): about 8 attempts in 2 s at the fastest. A
// client that asked its provider once per call (a call every 20 ms) would ask ~100 times.
const WINDOW_MS = 2000;
const MAX_ATTEMPTS_IN_WINDOW = 12;
const MIN_CALLS_IN_WINDOW = 25;
// A call made while Redis is known to be down is answered from the client's own state.
const FAIL_FAST_DESIGN_MS = 100;

const USER = 'rotating-user';

let redis;
let admin;

beforeAll(async () => {
  redis = await startRedis();
  admin = new RedisClient(redis.url);
});

afterAll(async () => {
  await admin?.disconnect();
  await redis?.cleanup();
});

const settle = (promise) => promise.then((value) => ({ value }), (error) => ({ error }));

/** An ACL user that may run anything, with exactly this password. */
async function setUser(name, password) {
  expect(await admin.command(['ACL', 'SETUSER', name, 'on', 'resetpass', `>${password}`, '~*', '&*', '+@all'])).toBe('OK');
}

/** Waits (bounded) until `predicate()` holds. */
async function until(predicate, timeoutMs, what) {
  const end = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/**
 * The reply to `args` once the client's connection is up: while Redis is known to be down a
 * call fails fast, so it is retried (bounded) until an attempt has succeeded.
 */
async function replyOnceUp(client, args) {
  let last;
  for (let i = 0; i < 250; i++) {
    const outcome = await settle(client.command(args));
    if (outcome.error === undefined) return outcome.value;
    last = outcome.error;
    await sleep(20);
  }
  throw last;
}

test('rotation: after ACL SETUSER and CLIENT KILL the reconnect asks again and authenticates with the new password', async () => {
  let current = 'first-pw-4d1c';
  await setUser(USER, current);
  const calls = [];
  const client = new RedisClient(redis.url, {
    credentials: () => {
      calls.push(current);
      return { username: USER, password: current };
    },
  });
  try {
    expect(await client.command(['ACL', 'WHOAMI'])).toBe(USER);
    const firstId = await client.command(['CLIENT', 'ID']);
    expect(calls).toEqual(['first-pw-4d1c']);

    // The server now accepts only the new password; the open connection stays logged in
    // until it is killed.
    current = 'second-pw-93ab';
    await setUser(USER, current);
    expect(await client.command(['PING'])).toBe('PONG');
    expect(calls).toHaveLength(1);
    expect(await admin.command(['CLIENT', 'KILL', 'ID', String(firstId)])).toBe(1);

    // A lost connection that worked is reopened at once, without waiting for a command.
    await until(() => calls.length === 2, 5000, 'the reconnect to ask for credentials');
    expect(await client.command(['ACL', 'WHOAMI'])).toBe(USER);
    const secondId = await client.command(['CLIENT', 'ID']);
    expect(secondId).not.toBe(firstId);
    expect(calls).toEqual(['first-pw-4d1c', 'second-pw-93ab']);

    // The old password is refused: the reconnect can only have used the new one.
    const raw = await redis.raw();
    const refused = await raw.command(['AUTH', USER, 'first-pw-4d1c']);
    await raw.close();
    expect(refused).toBeInstanceOf(Error);
    expect(refused.message).toMatch(/^WRONGPASS/);

    // Once more: one call per connect.
    current = 'third-pw-70e2';
    await setUser(USER, current);
    expect(await admin.command(['CLIENT', 'KILL', 'ID', String(secondId)])).toBe(1);
    await until(() => calls.length === 3, 5000, 'the second reconnect to ask for credentials');
    expect(await client.command(['ACL', 'WHOAMI'])).toBe(USER);
    expect(calls).toEqual(['first-pw-4d1c', 'second-pw-93ab', 'third-pw-70e2']);
  } finally {
    await client.disconnect();
  }
});

test('an async provider (a store): awaited before AUTH, called once for the connection; a Buffer password works', async () => {
  await setUser('async-user', 'async-pw-2b77');
  let calls = 0;
  const store = new RedisStore(redis.url, {
    credentials: async () => {
      calls++;
      await sleep(30);
      return { username: 'async-user', password: Buffer.from('async-pw-2b77') };
    },
  });
  try {
    await store.set('k', 'v', 60_000);
    expect(await store.get('k')).toBe('v');
    expect(await store.client.command(['ACL', 'WHOAMI'])).toBe('async-user');
    expect(calls).toBe(1);
  } finally {
    await store.disconnect();
  }
});

test('a provider that gives only a password authenticates as the default user', async () => {
  const server = await startRedis({ password: 'default-pw-61f0' });
  const client = new RedisClient(server.url, { credentials: () => ({ password: 'default-pw-61f0' }) });
  try {
    expect(await client.command(['ACL', 'WHOAMI'])).toBe('default');
  } finally {
    await client.disconnect();
    await server.cleanup();
  }
});

test('a provider that throws: each call fails with RedisCredentialsError, the thrown error as cause; attempts keep the backoff pace', async () => {
  const thrown = [];
  // Timeouts far above the fail-fast bound: a call that waited for one would show.
  const timeouts = { connectTimeout: 5000, commandTimeout: 5000 };
  const client = new RedisClient(redis.url, {
    ...timeouts,
    credentials: () => {
      const error = new Error(`token service unavailable #${thrown.length + 1}`);
      thrown.push(error);
      throw error;
    },
  });
  const lag = watchTimerLag();
  const outcomes = [];
  const start = performance.now();
  const running = [];
  while (performance.now() - start < WINDOW_MS) {
    const t0 = performance.now();
    running.push(settle(client.command(['PING'])).then((r) => outcomes.push({ ...r, ms: performance.now() - t0 })));
    await sleep(20);
  }
  await Promise.all(running);
  const asked = thrown.length;
  client.destroy();
  const worstLag = lag.stop();
  // The first call waits for the first attempt; the others fail fast.
  const failFastMs = outcomes.slice(1).map((o) => o.ms).sort((a, b) => a - b);
  const p90 = failFastMs[Math.floor(failFastMs.length * 0.9)];
  const slowest = failFastMs.at(-1);
  console.log(`credentials: a throwing provider, ${outcomes.length} calls in ${WINDOW_MS} ms, provider asked ${asked} times, calls after the first: 90th percentile ${p90.toFixed(1)} ms, slowest ${slowest.toFixed(1)} ms`);

  expect(outcomes.length).toBeGreaterThan(MIN_CALLS_IN_WINDOW);
  for (const o of outcomes) {
    expect(o.error).toBeInstanceOf(RedisCredentialsError);
    expect(o.error.code).toBe('ERR_REDIS_CREDENTIALS');
    expect(o.error.message).toContain("option 'credentials'");
    expect(o.error.message).toContain(`127.0.0.1:${redis.port}`);
    expect(thrown).toContain(o.error.cause);
  }
  // The first call waited for the first attempt: its cause is the first throw.
  expect(outcomes[0].error.cause).toBe(thrown[0]);
  expect(asked).toBeGreaterThanOrEqual(3);
  expect(asked).toBeLessThanOrEqual(MAX_ATTEMPTS_IN_WINDOW);
  // Calls between attempts fail at once, from the client's own state. (The I/O thread can be
  // busy or not scheduled for a while on a loaded machine, which the lateness of this
  // thread's timers does not show: the tight bound is on the 90th percentile; every call only
  // has to come back well before a timeout could have ended it.)
  expect(p90).toBeLessThan(allowing(FAIL_FAST_DESIGN_MS, worstLag));
  expect(slowest).toBeLessThan(timeouts.commandTimeout / 4);
});

test('a provider that rejects: RedisCredentialsError with the rejection as cause; the next attempt, after the backoff, can succeed', async () => {
  await setUser('flaky-user', 'flaky-pw-0c3d');
  const rejection = new Error('token endpoint returned 503');
  let calls = 0;
  const client = new RedisClient(redis.url, {
    credentials: async () => {
      calls++;
      if (calls === 1) throw rejection;
      return { username: 'flaky-user', password: 'flaky-pw-0c3d' };
    },
  });
  try {
    const error = await rejectionOf(client.command(['PING']));
    expect(error).toBeInstanceOf(RedisCredentialsError);
    expect(error.cause).toBe(rejection);
    await until(() => calls === 2, 5000, 'the next attempt');
    expect(await replyOnceUp(client, ['ACL', 'WHOAMI'])).toBe('flaky-user');
    expect(calls).toBe(2);
  } finally {
    await client.disconnect();
  }
});

test('a provider that never settles: the attempt fails as a connect timeout at connectTimeout, and the late answer is dropped', async () => {
  await setUser('late-user', 'late-pw-8e4a');
  await setUser('stale-user', 'stale-pw-1d5e');
  const connectTimeout = 500;
  const resolvers = [];
  const client = new RedisClient(redis.url, {
    connectTimeout,
    commandTimeout: 10 * connectTimeout, // the call waits for the attempt, not for itself
    credentials: () => {
      // The first two attempts wait for the test; later ones answer at once.
      if (resolvers.length < 2) return new Promise((resolve) => resolvers.push(resolve));
      resolvers.push(undefined);
      return { username: 'late-user', password: 'late-pw-8e4a' };
    },
  });
  const lag = watchTimerLag();
  const t0 = performance.now();
  const error = await rejectionOf(client.command(['PING']));
  const ms = performance.now() - t0;
  const worstLag = lag.stop();
  expect(error).toBeInstanceOf(RedisConnectTimeoutError);
  expect(error.message).toContain("option 'credentials'");
  expect(error.message).toContain(`${connectTimeout} ms (connectTimeout)`);
  expect(ms).toBeGreaterThanOrEqual(connectTimeout - 5);
  expect(ms).toBeLessThan(allowing(connectTimeout, worstLag));
  // The next attempt asks again at once (the timed-out attempt already waited out the first
  // backoff step). The first call settles now, while the second attempt waits for its own
  // answer: it belongs to an attempt that is over and is dropped; had it been used, the
  // connection would be stale-user's.
  await until(() => resolvers.length >= 2, 5000, 'the next attempt to ask');
  resolvers[0]({ username: 'stale-user', password: 'stale-pw-1d5e' });
  await sleep(20);
  resolvers[1]({ username: 'late-user', password: 'late-pw-8e4a' });
  expect(await replyOnceUp(client, ['ACL', 'WHOAMI'])).toBe('late-user');
  await client.disconnect();
});

test('destroy() and disconnect() while the provider is pending: no crash, bounded, the late answer is dropped', async () => {
  await setUser('pending-user', 'pending-pw-5a19');
  const answer = { username: 'pending-user', password: 'pending-pw-5a19' };
  const connectTimeout = 2000;

  // destroy(): the call is rejected at once; the answer that comes later goes nowhere.
  let resolveDestroyed;
  const destroyed = new RedisClient(redis.url, {
    connectTimeout,
    credentials: () => new Promise((resolve) => { resolveDestroyed = resolve; }),
  });
  const call = settle(destroyed.command(['PING']));
  await until(() => resolveDestroyed !== undefined, 5000, 'the provider to be asked');
  destroyed.destroy();
  expect((await call).error.code).toBe('ERR_REDIS_CLOSED');
  resolveDestroyed(answer);
  await sleep(50);

  // disconnect(): the waiting call still gets its answer once the provider settles.
  let resolveClosing;
  const closing = new RedisClient(redis.url, {
    connectTimeout,
    credentials: () => new Promise((resolve) => { resolveClosing = resolve; }),
  });
  const waiting = closing.command(['ACL', 'WHOAMI']);
  await until(() => resolveClosing !== undefined, 5000, 'the provider to be asked');
  const disconnected = closing.disconnect();
  resolveClosing(answer);
  expect(await waiting).toBe('pending-user');
  await disconnected;

  // disconnect() with a provider that never settles: bounded by the disconnect timeout.
  const stuck = new RedisClient(redis.url, { connectTimeout, credentials: () => new Promise(() => {}) });
  const lost = settle(stuck.command(['PING']));
  await sleep(50);
  const lag = watchTimerLag();
  const t0 = performance.now();
  await stuck.disconnect({ timeout: 200 });
  const ms = performance.now() - t0;
  expect(ms).toBeLessThan(allowing(200, lag.stop()));
  expect((await lost).error.code).toBe('ERR_REDIS_CLOSED');
});

describe('over TLS', () => {
  let certs;
  let tlsRedis;
  beforeAll(async () => {
    certs = makeCertificates();
    tlsRedis = await startRedis({ tls: { certFile: certs.server.certFile, keyFile: certs.server.keyFile } });
  });
  afterAll(async () => {
    await tlsRedis?.cleanup();
    certs?.cleanup();
  });

  test('the provider answers after the TLS handshake; AUTH goes over TLS', async () => {
    expect(await tlsRedis.cli('ACL', 'SETUSER', 'tls-user', 'on', '>tls-pw-3f8b', '~*', '+@all')).toBe('OK');
    let calls = 0;
    const client = new RedisClient(tlsRedis.url, {
      connectTimeout: 5000,
      tls: { ca: certs.ca.cert },
      credentials: async () => {
        calls++;
        return { username: 'tls-user', password: 'tls-pw-3f8b' };
      },
    });
    try {
      expect(await client.command(['ACL', 'WHOAMI'])).toBe('tls-user');
      expect(calls).toBe(1);
      // A wrong password over TLS: the server's WRONGPASS, as without a provider.
      const wrong = new RedisClient(tlsRedis.url, {
        connectTimeout: 5000,
        tls: { ca: certs.ca.cert },
        credentials: () => ({ username: 'tls-user', password: 'not-the-tls-pw' }),
      });
      const error = await rejectionOf(wrong.command(['PING']));
      wrong.destroy();
      expect(error).toBeInstanceOf(RedisServerError);
      expect(error.redisCode).toBe('WRONGPASS');
      expect(error.message).not.toContain('not-the-tls-pw');
    } finally {
      await client.disconnect();
    }
  });
});

test('no secret in any message, stack, cause or inspect output', async () => {
  const secret = 'pw-secret-c0ffee';
  const texts = [];
  const record = (error) => {
    texts.push(error.message, String(error.stack), util.inspect(error, { depth: 5 }), JSON.stringify(error));
  };
  // The server refuses the password.
  const refused = new RedisClient(redis.url, { credentials: () => ({ username: USER, password: secret }) });
  const wrongPass = await rejectionOf(refused.command(['PING']));
  expect(wrongPass).toBeInstanceOf(RedisServerError);
  record(wrongPass);
  texts.push(util.inspect(refused, { depth: 5 }), util.inspect(refused.config, { depth: 5 }), JSON.stringify(refused.config));
  refused.destroy();

  // Values the provider may not return: the error names the option and the type only.
  const bad = [
    [secret, /the provider must return \(or resolve to\) an object \{ username\?, password \}; received a value of type string/],
    [[secret], /received an array/],
    [null, /received null/],
    [{ username: USER, password: 271828182845 }, /'password' must be a non-empty string or Buffer; received a value of type number/],
    [{ username: USER }, /'password' must be a non-empty string or Buffer; received a value of type undefined/],
    [{ username: USER, password: '' }, /'password' is an empty string/],
    [{ username: 31415926, password: secret }, /'username' must be a string; received a value of type number/],
  ];
  for (const [value, pattern] of bad) {
    const client = new RedisClient(redis.url, { credentials: async () => value });
    const error = await rejectionOf(client.command(['PING']));
    client.destroy();
    expect(error).toBeInstanceOf(RedisCredentialsError);
    expect(error.message).toMatch(pattern);
    expect(error.cause).toBeInstanceOf(InvalidArgumentError);
    expect(error.cause.message).toMatch(pattern);
    record(error);
  }

  // A static password beside the provider is refused without echoing it.
  for (const options of [{ password: secret }, { url: `redis://${USER}:${secret}@127.0.0.1:${redis.port}` }]) {
    try {
      new RedisClient({ ...options, credentials: () => ({ password: 'x' }) });
      throw new Error('expected the constructor to throw');
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidArgumentError);
      record(error);
    }
  }
  const store = new RedisStore(redis.url, { credentials: () => ({ username: USER, password: secret }) });
  texts.push(util.inspect(store, { depth: 5 }), util.inspect(store.client.config, { depth: 5 }));
  await store.disconnect();

  expect(texts.length).toBeGreaterThan(30);
  for (const text of texts) {
    for (const value of [secret, '271828182845', '31415926']) expect(text).not.toContain(value);
  }
});

test('options: a provider beside a static password or username is refused, naming both; a non-function is refused', () => {
  const provider = () => ({ password: 'x' });
  const cases = [
    [{ password: 'static' }, /option 'credentials' cannot be combined with 'password'/],
    [{ username: 'someone' }, /option 'credentials' cannot be combined with 'username'/],
    [{ url: 'redis://:static@127.0.0.1:6379' }, /option 'credentials' cannot be combined with a password in the url/],
    [{ url: 'redis://someone:static@127.0.0.1:6379' }, /cannot be combined with a password in the url or a username in the url/],
  ];
  for (const [options, pattern] of cases) {
    expect(() => new RedisClient({ ...options, credentials: provider })).toThrow(pattern);
    expect(() => new RedisStore({ ...options, credentials: provider })).toThrow(pattern);
  }
  expect(() => new RedisClient({ credentials: 'hunter2' })).toThrow(InvalidArgumentError);
  expect(() => new RedisClient({ credentials: 'hunter2' })).toThrow(/option 'credentials' must be a function/);
  // Static credentials alone keep working as before (see redis-store.test.js).
  const plain = new RedisClient({ username: 'someone', password: 'static' });
  expect(plain.config.password).toBe('***');
  plain.destroy();
});

test('sharing: stores with the same provider share one connection, stores with different providers never do', async () => {
  await setUser('shared-user', 'shared-pw-77d2');
  const calls = { a: 0, b: 0 };
  const providerA = () => {
    calls.a++;
    return { username: 'shared-user', password: 'shared-pw-77d2' };
  };
  const providerB = () => {
    calls.b++;
    return { username: 'shared-user', password: 'shared-pw-77d2' };
  };
  const name = `cred-sharing-${process.pid}`;
  const a1 = new RedisStore(redis.url, { clientName: name, credentials: providerA });
  const a2 = new RedisStore(redis.url, { clientName: name, credentials: providerA, namespace: 'other' });
  const b = new RedisStore(redis.url, { clientName: name, credentials: providerB });
  try {
    expect(a1.client).toBe(a2.client);
    expect(b.client).not.toBe(a1.client);
    await Promise.all([a1.set('k', '1', 60_000), a2.set('k', '2', 60_000), b.set('k', '3', 60_000)]);
    const list = (await admin.command(['CLIENT', 'LIST'])).split('\n').filter((line) => line.includes(`name=${name} `));
    expect(list).toHaveLength(2);
    expect(calls).toEqual({ a: 1, b: 1 });
  } finally {
    await Promise.all([a1.disconnect(), a2.disconnect(), b.disconnect()]);
  }
});
