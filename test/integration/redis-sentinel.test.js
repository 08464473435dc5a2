'use strict';

// RedisStore through Redis Sentinel: 1 primary + 1 replica watched by 3 sentinels, started on
// loopback by the test; failovers (SENTINEL FAILOVER, then kill -9 of the primary) under load.
const net = require('node:net');
const { startSentinels } = require('../helpers/redis-sentinel');
const { makeCertificates } = require('../helpers/tls-certs');
const { watchTimerLag, allowing } = require('../helpers/timing');
const {
  RedisStore, RedisSentinelClient, createCache, RedisSentinelError, InvalidArgumentError,
} = require('../../lib');

jest.setTimeout(180_000);

let setup;
beforeAll(async () => { setup = await startSentinels({ replicas: 1, sentinels: 3 }); });
afterAll(async () => { await setup?.cleanup(); });

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The test's own subscription to +switch-master on sentinel `i`: resolves with the time of the first message. */
function watchSwitch(i) {
  const socket = net.connect({ host: '127.0.0.1', port: setup.sentinels[i].port });
  socket.write('*2\r\n$9\r\nSUBSCRIBE\r\n$14\r\n+switch-master\r\n');
  let text = '';
  const seen = new Promise((resolve) => {
    socket.on('data', (chunk) => {
      text += chunk.toString();
      if (text.includes(`${setup.name} 127.0.0.1`)) resolve(Date.now());
    });
  });
  return { seen, close: () => socket.destroy() };
}

/** 32 callers writing and reading back their own versioned values until `stop()`. */
function load(client) {
  const written = new Map();
  const state = { wrong: 0, ok: 0, codes: {}, firstFailure: 0, lastFailure: 0, lastOkPrimary: undefined, okOnNew: 0 };
  let stop = false;
  let seq = 0;
  const callers = Array.from({ length: 32 }, async (_, c) => {
    const key = `load:${c}`;
    written.set(key, new Set([null]));
    while (!stop) {
      const value = `${c}#${seq++}`;
      written.get(key).add(value);
      try {
        await client.command(['SET', key, value]);
        const back = await client.command(['GET', key]);
        if (!written.get(key).has(back)) state.wrong++;
        state.ok++;
      } catch (error) {
        state.codes[error.code] = (state.codes[error.code] ?? 0) + 1;
        state.lastFailure = Date.now();
        state.firstFailure ||= state.lastFailure;
        await sleep(5);
      }
    }
  });
  return { state, stop: async () => { stop = true; await Promise.all(callers); } };
}

describe('Sentinel', () => {
  test('RedisStore and createCache find the primary through the sentinels and share one client', async () => {
    const options = { sentinel: { nodes: setup.urls(), name: setup.name }, namespace: 'se' };
    const a = new RedisStore(options);
    const b = new RedisStore(options);
    expect(a.client).toBe(b.client);
    expect(a.client.primary).toBeUndefined(); // nothing asked before the first command
    const cache = createCache({ stores: [a] });
    await cache.set('k', { v: 1 });
    expect(await cache.get('k')).toEqual({ v: 1 });
    expect(await b.get('plain')).toBeUndefined();
    expect(a.client.primary).toBe(`127.0.0.1:${setup.primary.port}`);
    expect(await setup.primary.cli('GET', 'se::se:k')).toMatch('"v":1');
    await cache.disconnect();
    await b.disconnect();
  });

  test('a process that uses Sentinel and never disconnects still exits', async () => {
    const { execFile } = require('node:child_process');
    const script = `
      const { RedisStore } = require(${JSON.stringify(require.resolve('../../lib'))});
      const store = new RedisStore({ sentinel: { nodes: ${JSON.stringify(setup.urls())}, name: ${JSON.stringify(setup.name)} } });
      store.set('exit', 'yes').then(() => store.get('exit')).then((v) => console.log(v));
    `;
    const { stdout, code } = await new Promise((resolve) => {
      execFile(process.execPath, ['-e', script], { timeout: 30_000 }, (error, out) => resolve({ stdout: out, code: error?.code ?? 0 }));
    });
    expect({ stdout: stdout.trim(), code }).toEqual({ stdout: 'yes', code: 0 });
  });

  test('a name the sentinels do not know, unreachable sentinels, bad options: clear errors', async () => {
    const unknown = new RedisSentinelClient({ sentinel: { nodes: setup.urls(), name: 'nosuch' } });
    const error = await unknown.command(['GET', 'k']).catch((e) => e);
    expect(error).toBeInstanceOf(RedisSentinelError);
    expect(error.message).toMatch("no sentinel said where primary 'nosuch' is (asked 3)");
    expect(error.message).toMatch("does not know a primary named 'nosuch'");
    await unknown.disconnect();
    const down = new RedisSentinelClient({ sentinel: { nodes: ['redis://127.0.0.1:1'], name: 'x' }, connectTimeout: 200 });
    const downError = await down.command(['GET', 'k']).catch((e) => e);
    expect(downError.code).toBe('ERR_REDIS_SENTINEL');
    expect(downError.cause.code).toBe('ERR_REDIS_CONNECTION');
    await down.disconnect();
    expect(() => new RedisStore({ sentinel: { nodes: setup.urls() } })).toThrow(InvalidArgumentError);
    expect(() => new RedisStore({ sentinel: { nodes: setup.urls() } })).toThrow("option 'sentinel'.name must be the primary's name");
    expect(() => new RedisStore({ sentinel: { name: 'm', nodes: [] } })).toThrow("option 'sentinel'.nodes must be a non-empty array");
    expect(() => new RedisStore({ sentinel: { name: 'm', nodes: ['redis://u:pw@h:1'] } })).toThrow('without credentials');
    expect(() => new RedisStore({ sentinel: { name: 'm', nodes: ['redis://h:1'], master: 'x' } })).toThrow("unknown option 'sentinel.master'");
    expect(() => new RedisStore({ sentinel: { name: 'm', nodes: ['redis://h:1'] }, cluster: true })).toThrow("'sentinel' and 'cluster' cannot be combined");
    let message = '';
    try {
      new RedisStore({ sentinel: { name: 'm', nodes: ['redis://u:s3cret@h:1'] } });
    } catch (e) {
      message = e.message;
    }
    expect(message).not.toMatch('s3cret');
  });

  test('a node the sentinels name that is not a primary is refused (ROLE)', async () => {
    // A fake sentinel that names the replica as the primary.
    const replicaPort = setup.replicas[0].port;
    const fake = net.createServer((socket) => {
      socket.on('data', (chunk) => {
        if (chunk.toString().includes('GET-MASTER-ADDR-BY-NAME')) {
          socket.write(`*2\r\n$9\r\n127.0.0.1\r\n$${String(replicaPort).length}\r\n${replicaPort}\r\n`);
        } else {
          socket.write('+OK\r\n');
        }
      });
    });
    await new Promise((resolve) => fake.listen(0, '127.0.0.1', resolve));
    const client = new RedisSentinelClient({ sentinel: { nodes: [`redis://127.0.0.1:${fake.address().port}`], name: setup.name } });
    const error = await client.command(['SET', 'k', 'v']).catch((e) => e);
    expect(error).toBeInstanceOf(RedisSentinelError);
    expect(error.message).toMatch(`named 127.0.0.1:${replicaPort} as primary '${setup.name}', but it says its role is 'slave'`);
    await client.disconnect();
    await new Promise((resolve) => fake.close(resolve));
  });

  test('SENTINEL FAILOVER under load: served from the new primary within 3 s of +switch-master, 0 wrong values', async () => {
    const lag = watchTimerLag();
    const client = new RedisSentinelClient({ sentinel: { nodes: setup.urls(), name: setup.name }, commandTimeout: 2000 });
    await client.command(['PING']);
    const before = client.primary;
    const running = load(client);
    await sleep(300);
    const watch = watchSwitch(1);
    const started = Date.now();
    await setup.sentinelCli(0, 'SENTINEL', 'FAILOVER', setup.name);
    const switchedAt = await watch.seen;
    // Served from the new primary: a write and its read back on it.
    let servedAt = 0;
    while (Date.now() < switchedAt + 30_000) {
      if (client.primary !== before && running.state.ok > 0) {
        const okBefore = running.state.ok;
        await sleep(20);
        if (running.state.ok > okBefore && client.primary !== before) {
          servedAt = Date.now();
          break;
        }
      }
      await sleep(5);
    }
    await running.stop();
    watch.close();
    const worstLag = lag.stop();
    const { state } = running;
      console.log(`SENTINEL FAILOVER: +switch-master ${switchedAt - started} ms after the command, served from the new primary ${servedAt - switchedAt} ms after it; ` +
      `ops ${state.ok}, failures ${JSON.stringify(state.codes)}, outage ${state.lastFailure - state.firstFailure} ms, wrong ${state.wrong}, timer lag ${worstLag.toFixed(0)} ms`);
    expect(servedAt).toBeGreaterThan(0);
    expect(servedAt - switchedAt).toBeLessThan(allowing(3000, worstLag));
    expect(state.wrong).toBe(0);
    expect(client.stats.switches).toBe(1);
    await client.disconnect();
  });

  test('kill -9 of the primary under load: clear errors until the sentinels promote the replica, then served again; 0 wrong values', async () => {
    const client = new RedisSentinelClient({ sentinel: { nodes: setup.urls(), name: setup.name }, commandTimeout: 2000, connectTimeout: 500 });
    await client.command(['PING']);
    const victim = setup.dataNodes.find((n) => `127.0.0.1:${n.port}` === client.primary);
    const running = load(client);
    await sleep(300);
    const watch = watchSwitch(2);
    const killedAt = Date.now();
    await victim.stop();
    let giveUp;
    const switchedAt = await Promise.race([watch.seen, new Promise((resolve) => { giveUp = setTimeout(resolve, 60_000, 0); })]);
    clearTimeout(giveUp);
    let servedAt = 0;
    while (switchedAt && Date.now() < switchedAt + 30_000) {
      const okBefore = running.state.ok;
      await sleep(20);
      if (client.primary !== `127.0.0.1:${victim.port}` && running.state.ok > okBefore) {
        servedAt = Date.now();
        break;
      }
    }
    await running.stop();
    watch.close();
    const { state } = running;
      console.log(`kill -9 of the primary: +switch-master ${switchedAt - killedAt} ms after, served again ${servedAt - killedAt} ms after the kill; ` +
      `failures ${JSON.stringify(state.codes)}, outage ${state.lastFailure - state.firstFailure} ms, wrong ${state.wrong}`);
    expect(switchedAt).toBeGreaterThan(0);
    expect(servedAt).toBeGreaterThan(0);
    expect(state.wrong).toBe(0);
    for (const code of Object.keys(state.codes)) {
      expect(['ERR_REDIS_CONNECTION', 'ERR_REDIS_CONNECT_TIMEOUT', 'ERR_REDIS_TIMEOUT', 'ERR_REDIS_CLOSED', 'ERR_REDIS_SENTINEL']).toContain(code);
    }
    await client.disconnect();
  });
});

describe('Sentinel over TLS (sentinels and data nodes TLS only)', () => {
  let certs;
  let secure;
  beforeAll(async () => {
    certs = makeCertificates({ serverOnly: true, serverUsage: 'serverAuth,clientAuth' });
    secure = await startSentinels({
      replicas: 1, sentinels: 3, tls: { certFile: certs.server.certFile, keyFile: certs.server.keyFile, caFile: certs.ca.certFile },
    });
  });
  afterAll(async () => {
    await secure?.cleanup();
    certs?.cleanup();
  });

  test('the store verifies both sides and follows SENTINEL FAILOVER', async () => {
    const urls = secure.urls();
    expect(urls[0]).toMatch(/^rediss:/);
    const store = new RedisStore({ sentinel: { nodes: urls, name: secure.name, tls: { ca: certs.ca.cert } }, tls: { ca: certs.ca.cert }, namespace: 'tls' });
    await store.set('k', 'before');
    const before = store.client.primary;
    expect(before).toBe(`127.0.0.1:${secure.primary.port}`);
    await secure.sentinelCli(0, 'SENTINEL', 'FAILOVER', secure.name);
    let after;
    for (const until = Date.now() + 30_000; Date.now() < until;) {
      await store.set('k', 'after').catch(() => {});
      if (store.client.primary !== before && (await store.get('k').catch(() => undefined)) === 'after') {
        after = store.client.primary;
        break;
      }
      await sleep(50);
    }
    expect(after).toBe(`127.0.0.1:${secure.replicas[0].port}`);
    await store.disconnect();
  });

  test('a sentinel whose certificate is not trusted: RedisSentinelError with the TLS error as cause', async () => {
    const client = new RedisSentinelClient({ sentinel: { nodes: secure.urls().slice(0, 1), name: secure.name }, tls: { ca: certs.ca.cert } });
    const error = await client.command(['PING']).catch((e) => e);
    expect(error).toBeInstanceOf(RedisSentinelError);
    expect(error.cause.code).toBe('ERR_REDIS_TLS');
    await client.disconnect();
  });
});
