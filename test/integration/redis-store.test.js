'use strict';

const { startRedis } = require('../helpers/redis-server');
const {
  RedisStore, RedisClient, kTier, KeyTooLargeError, ValueTooLargeError, RedisClosedError,
  RedisServerError, InvalidArgumentError,
} = require('../../lib');

let redis;
const stores = [];
function store(options) {
  const s = new RedisStore(redis.url, options);
  stores.push(s);
  return s;
}

beforeAll(async () => { redis = await startRedis({ unixSocket: true }); });
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.disconnect()));
});
afterAll(async () => { await redis.cleanup(); });

describe('RedisStore round trips', () => {
  test('binary-looking keys (NUL, CR, LF, 0xFF, empty) round-trip exactly', async () => {
    const s = store({ namespace: 'bin' });
    const keys = ['a\u0000b', 'cr\rlf\n', '\u00ff\u00fe', '', 'ключ', '__proto__'];
    for (const [i, key] of keys.entries()) await s.set(key, `v${i}`);
    for (const [i, key] of keys.entries()) expect(await s.get(key)).toBe(`v${i}`);
    expect(await s.getMany(keys)).toEqual(keys.map((_, i) => `v${i}`));
    const raw = await s.client.command(['GET', 'bin::a\u0000b']);
    expect(raw).toBe('v0');
  });

  test('raw binary keys and values through the client (00 0D 0A FF)', async () => {
    const s = store();
    const key = Buffer.from([0x00, 0x0d, 0x0a, 0xff]);
    const value = Buffer.from([0xff, 0x00, 0x0d, 0x0a, 0x80]);
    expect(await s.client.command(['SET', key, value])).toBe('OK');
    expect(await s.client.command(['GET', key], { buffers: true })).toEqual(value);
    expect(await s.client.command(['STRLEN', key])).toBe(5);
  });

  test('a 16 MiB value round-trips byte for byte', async () => {
    // Seconds under the sanitizer build on a loaded machine: the test is about the bytes. No
    // keepAlive: the TCP_USER_TIMEOUT it brings (4 s) ends a connection whose peer has not
    // read for that long, which a loaded server receiving 16 MiB can do.
    const s = store({ commandTimeout: 120_000, keepAlive: 0 });
    const big = Buffer.alloc(16 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 4096) big[i] = i % 251;
    await s.client.command(['SET', 'big', big]);
    const back = await s.client.command(['GET', 'big'], { buffers: true });
    expect(back.length).toBe(big.length);
    expect(back.equals(big)).toBe(true);
    const text = 'x'.repeat(16 * 1024 * 1024);
    await s.set('bigtext', text);
    expect(await s.get('bigtext')).toBe(text);
  });

  test('set with ttl uses PX, as the tier does', async () => {
    const s = store({ namespace: 'ttl' });
    await s.set('k', 'v', 60_000);
    const pttl = await s.client.command(['PTTL', 'ttl::k']);
    expect(pttl).toBeGreaterThan(59_000);
    expect(pttl).toBeLessThanOrEqual(60_000);
    const tier = s[kTier];
    await tier.set('t', { a: 1 }, 30_000);
    const tierPttl = await s.client.command(['PTTL', 'ttl::ttl:t']);
    expect(tierPttl).toBeGreaterThan(29_000);
    expect(tierPttl).toBeLessThanOrEqual(30_000);
    expect(Math.abs((await tier.getEntry('t')).expires - (Date.now() + tierPttl))).toBeLessThan(1000);
    await tier.set('forever', 1);
    expect(await s.client.command(['PTTL', 'ttl::ttl:forever'])).toBe(-1);
    expect((await tier.getEntry('forever')).expires).toBeUndefined();
  });

  test('delete / deleteMany report whether something was removed; has', async () => {
    const s = store({ namespace: 'del' });
    await s.setMany([{ key: 'a', value: '1' }, { key: 'b', value: '2' }, { key: 'c', value: '3' }]);
    expect(await s.has('a')).toBe(true);
    expect(await s.delete('a')).toBe(true);
    expect(await s.delete('a')).toBe(false);
    expect(await s.has('a')).toBe(false);
    expect(await s.deleteMany(['b', 'zz'])).toBe(true);
    expect(await s.deleteMany(['b', 'zz'])).toBe(false);
    expect(await s.getMany(['a', 'b', 'c'])).toEqual([undefined, undefined, '3']);
  });

  test('clear removes only its own namespace (SCAN + UNLINK in batches)', async () => {
    const mine = store({ namespace: 'mine', clearBatchSize: 10 });
    const other = store({ namespace: 'other' });
    await mine.setMany(Array.from({ length: 250 }, (_, i) => ({ key: `k${i}`, value: 'x' })));
    await other.set('keep', 'y');
    await mine.client.command(['SET', 'mine-no-separator', 'z']);
    await mine.clear();
    expect(await mine.getMany(['k0', 'k249'])).toEqual([undefined, undefined]);
    expect(await other.get('keep')).toBe('y');
    expect(await mine.client.command(['GET', 'mine-no-separator'])).toBe('z');
    expect(await redis.cli('EVAL', "return #redis.call('KEYS', 'mine::*')", '0')).toBe('0');
  });

  test("namespace '' stores keys as given; clear() then empties the selected database only", async () => {
    const bare = store({ namespace: '', db: 7 });
    const other = store({ namespace: '', db: 8 });
    await bare.setMany([{ key: 'x1', value: '1' }, { key: 'x2', value: '2' }]);
    await other.set('y', 'kept');
    expect(await redis.cli('-n', '7', 'GET', 'x1')).toBe('1');
    await bare.clear();
    expect(await redis.cli('-n', '7', 'DBSIZE')).toBe('0');
    expect(await other.get('y')).toBe('kept');
  });

  test('destroy() rejects pending calls and settles a pending disconnect()', async () => {
    const client = new RedisClient(redis.url, { commandTimeout: 5000 });
    await client.command(['PING']);
    await redis.cli('CLIENT', 'PAUSE', '1500');
    const paused = Date.now();
    const pending = client.command(['PING']).catch((e) => e);
    const closing = client.disconnect({ timeout: 10_000 });
    await new Promise((r) => setTimeout(r, 20));
    client.destroy();
    expect(await pending).toBeInstanceOf(RedisClosedError);
    await expect(closing).resolves.toBeUndefined();
    await new Promise((r) => setTimeout(r, Math.max(0, 1600 - (Date.now() - paused))));
  });

  test('keys and values over the caps are rejected before anything is sent', async () => {
    const s = store({ maxKeyBytes: 100, maxValueBytes: 1000 });
    await expect(s.set('k'.repeat(200), 'v')).rejects.toBeInstanceOf(KeyTooLargeError);
    await expect(s.set('k', 'v'.repeat(1001))).rejects.toBeInstanceOf(ValueTooLargeError);
    await expect(s[kTier].set('k', 'v'.repeat(1001))).rejects.toBeInstanceOf(ValueTooLargeError);
    await expect(s.set('k', { not: 'a string' })).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(await redis.cli('EXISTS', 'keyv::k')).toBe('0');
  });

  test('pipelining: many commands issued in one tick all resolve in order', async () => {
    const s = store({ commandTimeout: 60_000 }); // 5,000 at once: slow under load, but in order
    const n = 5000;
    const sets = [];
    for (let i = 0; i < n; i++) sets.push(s.client.command(['SET', `p${i}`, `k${i}:v1`]));
    await Promise.all(sets);
    const gets = [];
    for (let i = 0; i < n; i++) gets.push(s.client.command(['GET', `p${i}`]));
    const values = await Promise.all(gets);
    values.forEach((v, i) => expect(v).toBe(`k${i}:v1`));
  });
});

describe('connections', () => {
  test('100 stores for one url share 1 connection, opened lazily, dropped by disconnect()', async () => {
    const name = `share${process.pid}`;
    const many = Array.from({ length: 100 }, () => new RedisStore(redis.url, { clientName: name }));
    const ours = async () => (await redis.clients()).filter((c) => c.name === name);
    expect(await ours()).toHaveLength(0); // constructing opens nothing
    await Promise.all(many.map((s, i) => s.set(`s${i}`, 'v')));
    expect(await ours()).toHaveLength(1);
    await Promise.all(many.slice(0, 99).map((s) => s.disconnect()));
    expect(await ours()).toHaveLength(1); // still one store holding it
    await many[99].disconnect();
    expect(await ours()).toHaveLength(0);
    await expect(many[0].get('s0')).rejects.toBeInstanceOf(RedisClosedError);
    await many[0].disconnect(); // idempotent
  });

  test('disconnect waits for in-flight replies, then closes; new calls reject', async () => {
    const client = new RedisClient(redis.url, { clientName: 'drain' });
    const inflight = [];
    for (let i = 0; i < 1000; i++) inflight.push(client.command(['INCR', 'drain-counter']));
    const closing = client.disconnect();
    await expect(client.command(['PING'])).rejects.toBeInstanceOf(RedisClosedError);
    const replies = await Promise.all(inflight);
    expect(replies[999]).toBe(1000);
    await closing;
    expect((await redis.clients()).filter((c) => c.name === 'drain')).toHaveLength(0);
  });

  test('wrong password: a clear error without the password in it', async () => {
    await redis.cli('ACL', 'SETUSER', 'cacheuser', 'on', '>right-secret', '~*', '+@all');
    const s = new RedisStore('redis://cacheuser:wrong-secret@127.0.0.1:' + redis.port);
    const error = await s.get('k').catch((e) => e);
    const again = await s.get('k').catch((e) => e); // failing fast now, same clear error
    await s.disconnect();
    expect(again).toBeInstanceOf(RedisServerError);
    expect(again.redisCode).toBe('WRONGPASS');
    expect(again.message).not.toContain('wrong-secret');
    expect(error).toBeInstanceOf(RedisServerError);
    expect(error.redisCode).toBe('WRONGPASS');
    expect(error.message).toContain(`127.0.0.1:${redis.port}`);
    expect(error.message).not.toContain('wrong-secret');
    expect(String(error.stack)).not.toContain('wrong-secret');
    const ok = new RedisStore(`redis://cacheuser:right-secret@127.0.0.1:${redis.port}/3`);
    await ok.set('acl', 'yes');
    expect(await ok.get('acl')).toBe('yes');
    expect(await redis.cli('-n', '3', 'GET', 'keyv::acl')).toBe('yes');
    await ok.disconnect();
  });

  test('unix socket url', async () => {
    const s = new RedisStore(`unix://${redis.socketPath}`, { namespace: 'unix' });
    await s.set('k', 'over the socket');
    expect(await redis.cli('GET', 'unix::k')).toBe('over the socket');
    expect(await s.get('k')).toBe('over the socket');
    await s.disconnect();
  });

  test('connection refused is a RedisConnectionError with errno; later calls fail fast', async () => {
    const s = new RedisStore('redis://127.0.0.1:1', { commandTimeout: 5000 });
    const first = await s.get('k').catch((e) => e);
    expect(first.code).toBe('ERR_REDIS_CONNECTION');
    expect(first.errno).toBe('ECONNREFUSED');
    expect(first.message).toContain('127.0.0.1:1');
    const t0 = process.hrtime.bigint();
    const second = await s.get('k').catch((e) => e);
    // Refused from the client's own state (well under a millisecond here), not at the 5 s timeout.
    expect(Number(process.hrtime.bigint() - t0) / 1e6).toBeLessThan(2500);
    expect(second.code).toBe('ERR_REDIS_CONNECTION');
    await s.disconnect();
  });

  test('rediss:// means TLS (refused with tls: false); bad options and arguments name themselves', async () => {
    expect(new RedisStore('rediss://127.0.0.1:6380', { shared: false }).client.config.tls.rejectUnauthorized).toBe(true);
    expect(() => new RedisStore('rediss://127.0.0.1:6380', { tls: false })).toThrow(/TLS/);
    expect(() => new RedisStore(redis.url, { commandTimeout: -1 })).toThrow(/commandTimeout/);
    expect(() => new RedisStore(redis.url, { nope: 1 })).toThrow(/nope/);
    expect(() => new RedisStore(redis.url, { password: 987654321 })).toThrow(/password/);
    const client = new RedisClient(redis.url);
    await expect(client.command(['PING'], { timeout: -5 })).rejects.toThrow(/timeout/);
    await expect(client.command([])).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(client.command(['SET', 'k', { object: true }])).rejects.toBeInstanceOf(InvalidArgumentError);
    await client.disconnect();
    expect(() => new RedisStore(redis.url, { password: 987654321 })).not.toThrow(/987654321/);
    expect(() => new RedisStore('redis://u:sekret@[bad')).toThrow(/u:\*\*\*@/);
    expect(() => new RedisStore('redis://u:sekret@[bad')).not.toThrow(/sekret/);
    // An unencoded '/' or a bad %-escape in the password or user name, a bad escape in a
    // socket path, a PEM text passed as `tls`: each a typed error that repeats none of it.
    const pem = '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEG\n-----END PRIVATE KEY-----\n';
    for (const [url, options, says, hidden] of [
      ['redis://user:p@ss/w0rd@host:6379', {}, /path after host:port must be a database number.*'@'.*%2F/, /w0rd|ss\//],
      ['redis://user:pa%zzss@host:6379', {}, /the password is not valid percent-encoding/, /pa%zz|zzss/],
      ['redis://us%zzer:pass@host:6379', {}, /the user name is not valid percent-encoding/, /us%zz|zzer/],
      ['unix:///run/re%zzdis.sock', {}, /the socket path is not valid percent-encoding/, /zzdis/],
      [redis.url, { tls: pem }, /option 'tls' must be .*; received a string of \d+ character\(s\)$/, /BEGIN|MIGH/],
    ]) {
      let error;
      try {
        new RedisStore(url, options);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect(error.message).toMatch(says);
      expect(error.message).not.toMatch(hidden);
    }
  });
});
