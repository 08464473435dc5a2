'use strict';

// RedisStore, createCache and RedisClusterClient over a real 6-node Redis Cluster (3 primaries,
// 3 replicas) started on loopback by the test, plus fake nodes that answer nonsense.
const net = require('node:net');
const { startCluster } = require('../helpers/redis-cluster');
const {
  RedisStore, RedisClusterClient, RedisClient, createCache, RedisClusterError, InvalidArgumentError,
} = require('../../lib');
const { keySlot } = require('../../lib/redis-slots');
const { watchTimerLag, allowing } = require('../helpers/timing');

jest.setTimeout(120_000);

let cluster;
const toClose = [];
function track(thing) {
  toClose.push(thing);
  return thing;
}

beforeAll(async () => { cluster = await startCluster(); });
afterEach(async () => {
  await Promise.all(toClose.splice(0).map((t) => t.disconnect()));
});
afterAll(async () => { await cluster?.cleanup(); });

/** Our connections on every node, by clientName. */
async function connectionsNamed(name) {
  const counts = await Promise.all(cluster.nodes.map(async (node) => (await node.clients()).filter((c) => c.name === name).length));
  return counts;
}

describe('hash slots', () => {
  test('keySlot agrees with CLUSTER KEYSLOT, hash tags included', async () => {
    const keys = ['a', 'foo', '{user1000}.following', '{user1000}.followers', 'foo{}{bar}', 'foo{{bar}}zap',
      'foo{bar}{zap}', 'ключ', '{}', '', '\u00ff', 'x'.repeat(300)];
    for (const key of keys) {
      expect([key, keySlot(key)]).toEqual([key, Number(await cluster.cli(0, 'CLUSTER', 'KEYSLOT', key))]);
    }
    expect(keySlot(Buffer.from([0xff, 0x00, 0x7b, 0x61, 0x7d]))).toBe(keySlot('a'));
  });
});

describe('RedisStore over a cluster', () => {
  test('every store method, and keys spread over the three primaries', async () => {
    const store = track(new RedisStore({ cluster: { nodes: [cluster.urls[0], cluster.urls[3]] }, namespace: 'm' }));
    expect(await store.set('a', 'A')).toBe(true);
    expect(await store.get('a')).toBe('A');
    expect(await store.has('a')).toBe(true);
    const entries = Array.from({ length: 200 }, (_, i) => ({ key: `k${i}`, value: `v${i}`, ttl: i % 2 ? 60_000 : undefined }));
    expect(await store.setMany(entries)).toHaveLength(200);
    const keys = entries.map((e) => e.key);
    expect(await store.getMany(keys)).toEqual(entries.map((e) => e.value));
    expect(await store.hasMany(['k1', 'nope'])).toEqual([true, false]);
    expect(await store.delete('a')).toBe(true);
    expect(await store.delete('a')).toBe(false);
    expect(await store.deleteMany(keys.slice(0, 100))).toBe(true);
    expect(await store.getMany(keys.slice(0, 3))).toEqual([undefined, undefined, undefined]);
    const seen = new Map();
    for await (const [key, value] of store.iterator()) seen.set(key, value);
    expect(seen.size).toBe(100);
    expect(seen.get('k150')).toBe('v150');
    // The keys landed on all three primaries.
    const perNode = await Promise.all(cluster.nodes.map((n) => n.cli('DBSIZE')));
    const primaries = (await store.client.primaries()).map((c) => c.address);
    expect(primaries).toHaveLength(3);
    for (const address of primaries) {
      const node = cluster.nodes.find((n) => `${n.host}:${n.port}` === address);
      expect(Number(perNode[cluster.nodes.indexOf(node)])).toBeGreaterThan(10);
    }
    await store.clear();
    expect(await store.getMany(keys)).toEqual(keys.map(() => undefined));
    for (const n of cluster.nodes) expect(await n.cli('--scan', '--pattern', 'm::*')).toBe('');
  });

  test('createCache: 1,000 keys through mset / mget / mdel come back in the caller\'s order', async () => {
    const store = new RedisStore({ url: cluster.urls[1], cluster: true, namespace: 'cc' });
    const cache = track(createCache({ stores: [store] }));
    const list = Array.from({ length: 1000 }, (_, i) => ({ key: `item:${i}`, value: { i, text: `value ${i}` } }));
    await cache.mset(list);
    const order = list.map((e) => e.key).reverse();
    const got = await cache.mget(order);
    expect(got).toEqual(order.map((key) => ({ i: Number(key.slice(5)), text: `value ${key.slice(5)}` })));
    expect(new Set(order.map(keySlot)).size).toBeGreaterThan(900);
    expect(await cache.set('one', 1, 60_000)).toBe(1);
    expect(await cache.get('one')).toBe(1);
    expect(await cache.wrap('w', async () => 'made', 60_000)).toBe('made');
    expect(await cache.wrap('w', async () => 'again', 60_000)).toBe('made');
    await cache.mdel(order.slice(0, 500));
    const after = await cache.mget(list.map((e) => e.key));
    // `order` is the list reversed: its first 500 are items 999 … 500.
    expect(after.slice(500)).toEqual(Array(500).fill(undefined));
    expect(after.slice(0, 500)).toEqual(list.slice(0, 500).map((e) => e.value));
    expect(await cache.del('one')).toBe(true);
    await cache.clear();
    expect(await cache.get('item:999')).toBeUndefined();
  });

  test('connections: none before the first command, then one per primary for 100 stores; disconnect closes them all', async () => {
    const name = 'ncm-cluster-conn';
    const stores = Array.from({ length: 100 }, (_, i) => new RedisStore({ url: cluster.urls[i % 6], cluster: { nodes: [cluster.urls[0]] }, clientName: name, namespace: `s${i}` }));
    expect((await connectionsNamed(name)).reduce((a, b) => a + b)).toBe(0);
    expect(new Set(stores.map((s) => s.client)).size).toBe(1);
    await Promise.all(stores.map((s, i) => s.set(`key${i}`, 'v')));
    const counts = await connectionsNamed(name);
    const primaries = (await stores[0].client.primaries()).map((c) => c.address);
    cluster.nodes.forEach((node, i) => {
      expect([`${node.host}:${node.port}`, counts[i]]).toEqual([`${node.host}:${node.port}`, primaries.includes(`${node.host}:${node.port}`) ? 1 : 0]);
    });
    await Promise.all(stores.map((s) => s.disconnect()));
    expect((await connectionsNamed(name)).reduce((a, b) => a + b)).toBe(0);
  });
});

describe('process exit', () => {
  test('a process that uses the cluster and never disconnects still exits', async () => {
    const { execFile } = require('node:child_process');
    const script = `
      const { RedisStore, createCache } = require(${JSON.stringify(require.resolve('../../lib'))});
      const cache = createCache({ stores: [new RedisStore({ cluster: { nodes: ${JSON.stringify(cluster.urls.slice(0, 2))} } })] });
      cache.mset([{ key: 'exit:a', value: 1 }, { key: 'exit:b', value: 2 }])
        .then(() => cache.mget(['exit:a', 'exit:b'])).then((v) => console.log(JSON.stringify(v)));
    `;
    const started = Date.now();
    const { stdout, code } = await new Promise((resolve) => {
      execFile(process.execPath, ['-e', script], { timeout: 30_000 }, (error, out) => resolve({ stdout: out, code: error?.code ?? 0 }));
    });
    expect({ stdout: stdout.trim(), code }).toEqual({ stdout: '[1,2]', code: 0 });
    expect(Date.now() - started).toBeLessThan(25_000);
  });
});

describe('RedisClusterClient', () => {
  test('single-key commands route by key; a command spanning slots is refused naming them', async () => {
    const client = track(new RedisClusterClient(cluster.urls[2]));
    expect(await client.command(['SET', '{t}a', '1'])).toBe('OK');
    expect(await client.command(['RENAME', '{t}a', '{t}b'])).toBe('OK');
    expect(await client.command(['GET', '{t}b'])).toBe('1');
    expect(await client.command(['EVAL', "return redis.call('GET', KEYS[1])", '1', '{t}b'])).toBe('1');
    const error = await client.command(['RENAME', 'a', 'b']).catch((e) => e);
    expect(error).toBeInstanceOf(RedisClusterError);
    expect(error.code).toBe('ERR_REDIS_CLUSTER');
    expect(error.slots).toEqual([keySlot('a'), keySlot('b')]);
    expect(error.message).toMatch(`RENAME's keys are in different hash slots (${keySlot('a')}, ${keySlot('b')})`);
    // Keyless commands go to a primary.
    expect(await client.command(['PING'])).toBe('PONG');
    expect(client.stats.moved).toBe(0);
  });

  test('a stale slot map: MOVED is followed and the map corrected', async () => {
    const client = track(new RedisClusterClient(cluster.urls[0]));
    await client.command(['SET', 'moved-key', 'v']);
    // Tell the client the wrong owner through a private path: ask another primary directly.
    const primaries = await client.primaries();
    const owner = await cluster.primaryOf(keySlot('moved-key'));
    const wrong = primaries.find((c) => c.address !== `127.0.0.1:${cluster.nodes[owner].port}`);
    const raw = await wrong.command(['GET', 'moved-key']).catch((e) => e);
    expect(raw.redisCode).toBe('MOVED');
    expect(raw.message).toMatch(`MOVED ${keySlot('moved-key')} 127.0.0.1:${cluster.nodes[owner].port}`);
  });

  test('bad options are refused naming the option', () => {
    expect(() => new RedisStore({ cluster: 'yes' })).toThrow(InvalidArgumentError);
    expect(() => new RedisStore({ cluster: 'yes' })).toThrow("option 'cluster' must be true or an object");
    expect(() => new RedisStore({ cluster: { nodes: [] } })).toThrow("option 'cluster'.nodes must be a non-empty array");
    expect(() => new RedisStore({ cluster: { nodes: ['http://x'] } })).toThrow('.nodes[0] must look like redis://host:port');
    expect(() => new RedisStore({ cluster: { nodes: [cluster.urls[0]], maxRedirections: -1 } })).toThrow('.maxRedirections must be an integer in [0, 1000]; received -1');
    expect(() => new RedisStore({ cluster: { nodes: [cluster.urls[0]], natMap: 5 } })).toThrow('.natMap must be an object');
    expect(() => new RedisStore({ cluster: { seeds: [] } })).toThrow("unknown option 'cluster.seeds'");
    expect(() => new RedisStore({ cluster: true, db: 2 })).toThrow("option 'db' must be 0 with 'cluster'");
    expect(() => new RedisClient({ cluster: true })).toThrow("option 'cluster' is not for one node's client");
    // A password in a seed url never shows.
    let message = '';
    try {
      new RedisStore({ cluster: { nodes: ['redis://u:s3cret@host:notaport'] } });
    } catch (error) {
      message = error.message;
    }
    expect(message).toMatch('.nodes[0]');
    expect(message).not.toMatch('s3cret');
  });

  test('natMap rewrites announced addresses (function and object)', async () => {
    const seen = [];
    const client = track(new RedisClusterClient({ url: cluster.urls[0], cluster: { natMap: (address) => { seen.push(address); return undefined; } } }));
    await client.command(['SET', 'nat', '1']);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((a) => /^127\.0\.0\.1:\d+$/.test(a))).toBe(true);
    // Every announced primary mapped to one that does not exist: the commands fail to connect.
    const map = Object.fromEntries(cluster.nodes.map((n) => [`127.0.0.1:${n.port}`, { host: '127.0.0.1', port: 1 }]));
    const broken = track(new RedisClusterClient({ url: cluster.urls[0], cluster: { natMap: map }, connectTimeout: 200 }));
    const error = await broken.command(['GET', 'nat']).catch((e) => e);
    expect(error.code).toBe('ERR_REDIS_CONNECTION');
    expect(error.message).toMatch('127.0.0.1:1');
  });
});

// A node of our own: `answer(words, port)` gives the raw RESP reply to each command.
async function fakeNode(answer) {
  let commands = 0;
  const sockets = new Set();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {}); // a client that resets its connection ends it, nothing more
    let buffered = '';
    let expected = 0;
    let words = [];
    socket.on('data', (chunk) => {
      buffered += chunk.toString('latin1');
      let at;
      while ((at = buffered.indexOf('\r\n')) !== -1) {
        const line = buffered.slice(0, at);
        buffered = buffered.slice(at + 2);
        if (/^\*\d+$/.test(line)) {
          commands++;
          expected = Number(line.slice(1));
          words = [];
        } else if (!line.startsWith('$')) {
          words.push(line);
          if (words.length === expected) socket.write(answer(words, server.address().port));
        }
      }
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    get commands() { return commands; },
    close: () => new Promise((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(resolve);
    }),
  };
}

/** CLUSTER SLOTS answered with `slots` (a function of the port, or text), everything else with `other`. */
function clusterNode(slots, other) {
  return fakeNode((words, port) => {
    if (words[0].toUpperCase() === 'CLUSTER') return typeof slots === 'function' ? slots(port) : slots;
    return typeof other === 'function' ? other(port) : other;
  });
}

const ownMap = (port) => `*1\r\n*3\r\n:0\r\n:16383\r\n*2\r\n$9\r\n127.0.0.1\r\n:${port}\r\n`;

describe('a cluster that answers nonsense', () => {
  test('a malformed slot map: a clear error, no crash, no tight loop', async () => {
    const cases = [
      ['*1\r\n:5\r\n', 'entry 0 is not [start, end, primary'],
      ['*1\r\n*3\r\n:0\r\n:99999\r\n*2\r\n$9\r\n127.0.0.1\r\n:7000\r\n', 'slot range 0-99999 is not within 0-16383'],
      ['*1\r\n*3\r\n:10\r\n:5\r\n*2\r\n$9\r\n127.0.0.1\r\n:7000\r\n', 'slot range 10-5'],
      ['*1\r\n*3\r\n:0\r\n:16383\r\n*2\r\n$9\r\n127.0.0.1\r\n:0\r\n', 'port 0 is not in [1, 65535]'],
      ['*1\r\n*3\r\n:0\r\n:16383\r\n*2\r\n$1\r\n?\r\n:7000\r\n', "address '?' (string) is not a host"],
      ['*0\r\n', 'serves no slot'],
      ['+OK\r\n', 'CLUSTER SLOTS replied'],
      ['-ERR This instance has cluster support disabled\r\n', 'cluster support disabled'],
    ];
    for (const [reply, expected] of cases) {
      const node = await clusterNode(reply, '+OK\r\n');
      const client = new RedisClusterClient({ host: '127.0.0.1', port: node.port });
      const results = await Promise.all(Array.from({ length: 20 }, () => client.command(['GET', 'k']).catch((e) => e)));
      for (const error of results) {
        expect(error).toBeInstanceOf(RedisClusterError);
        expect(error.message).toMatch(expected);
      }
      // The 20 callers shared one read of the map; the next burst shares one more, no sooner
      // than the minimum interval (100 ms) after it.
      expect(node.commands).toBe(1);
      const started = Date.now();
      await Promise.all(Array.from({ length: 20 }, () => client.command(['GET', 'k']).catch((e) => e)));
      expect(node.commands).toBe(2);
      expect(Date.now() - started).toBeGreaterThanOrEqual(50);
      await client.disconnect();
      await node.close();
    }
  });

  test('MOVED to a nonsense slot or address: a clear error; MOVED loops stop at maxRedirections', async () => {
    for (const reply of ['-MOVED 99999 127.0.0.1:7000\r\n', '-MOVED 12 nohost\r\n', '-MOVED 12 127.0.0.1:70000\r\n', '-MOVED\r\n']) {
      const node = await clusterNode(ownMap, reply);
      const client = new RedisClusterClient({ host: '127.0.0.1', port: node.port });
      const error = await client.command(['GET', 'k']).catch((e) => e);
      expect(error).toBeInstanceOf(RedisClusterError);
      expect(error.message).toMatch('redirected to a slot or address that makes no sense');
      await client.disconnect();
      await node.close();
    }
    // A node that always answers MOVED to itself: the client gives up after maxRedirections.
    const node = await clusterNode(ownMap, (port) => `-MOVED ${keySlot('k')} 127.0.0.1:${port}\r\n`);
    const client = new RedisClusterClient({ host: '127.0.0.1', port: node.port, cluster: { maxRedirections: 5 } });
    const error = await client.command(['GET', 'k']).catch((e) => e);
    expect(error).toBeInstanceOf(RedisClusterError);
    expect(error.message).toMatch('gave up after 5 redirection(s) (maxRedirections); the last: MOVED to slot');
    expect(client.stats.moved).toBe(5);
    await client.disconnect();
    await node.close();
  });
});

/** Two fake nodes: slots 0-8191 on `low`, 8192-16383 on `high`; each answers other commands with its own function. */
async function twoNodeCluster(lowAnswer, highAnswer) {
  const ports = {};
  const map = () => `*2\r\n*3\r\n:0\r\n:8191\r\n*2\r\n$9\r\n127.0.0.1\r\n:${ports.low}\r\n` +
    `*3\r\n:8192\r\n:16383\r\n*2\r\n$9\r\n127.0.0.1\r\n:${ports.high}\r\n`;
  const answer = (own) => (words) => (words[0].toUpperCase() === 'CLUSTER' ? map() : own(words));
  const low = await fakeNode(answer(lowAnswer));
  const high = await fakeNode(answer(highAnswer));
  ports.low = low.port;
  ports.high = high.port;
  return { low, high, close: () => Promise.all([low.close(), high.close()]) };
}

describe('retries, deadlines and split failures (fake nodes)', () => {
  const lowKeys = [];
  const highKeys = [];
  for (let i = 0; lowKeys.length < 5 || highKeys.length < 5; i++) {
    const key = `key${i}`;
    (keySlot(key) < 8192 ? lowKeys : highKeys).push(key);
  }
  const keys = [...lowKeys.slice(0, 5), ...highKeys.slice(0, 5)];

  test('a split write whose part fails names the failed slots and the keys that may have been written', async () => {
    const nodes = await twoNodeCluster(() => '+OK\r\n', (words) => (/^M/i.test(words[0]) ? '-ERR simulated failure\r\n' : '+OK\r\n'));
    const client = new RedisClusterClient({ host: '127.0.0.1', port: nodes.low.port });
    const error = await client.command(['MSET', ...keys.flatMap((k) => [k, 'v'])]).catch((e) => e);
    expect(error).toBeInstanceOf(RedisClusterError);
    const highSlots = [...new Set(highKeys.slice(0, 5).map(keySlot))];
    expect(error.slots.sort()).toEqual(highSlots.sort());
    expect(error.unsureKeys.sort()).toEqual(highKeys.slice(0, 5).sort());
    expect(error.cause.redisCode).toBe('ERR');
    expect(error.message).toMatch(/MSET split over \d+ hash slots: the part for slot\(s\) .* failed: ERR simulated failure/);
    expect(error.message).toMatch('may or may not have been');
    // A read names the slots only.
    const readError = await client.command(['MGET', ...keys]).catch((e) => e);
    expect(readError.slots.sort()).toEqual(highSlots.sort());
    expect(readError.unsureKeys).toBeUndefined();
    await client.disconnect();
    await nodes.close();
  });

  test('TRYAGAIN is retried with a short pause; one that never ends rejects within the command timeout', async () => {
    let tries = 0;
    const tryAgain = '-TRYAGAIN Multiple keys request during rehashing of slot\r\n';
    const isGet = (words) => words[0].toUpperCase() === 'GET';
    const nodes = await twoNodeCluster(
      (words) => (!isGet(words) ? '+OK\r\n' : ++tries <= 2 ? tryAgain : '$1\r\nv\r\n'),
      (words) => (isGet(words) ? tryAgain : '+OK\r\n'));
    const client = new RedisClusterClient({ host: '127.0.0.1', port: nodes.low.port, commandTimeout: 300 });
    expect(await client.command(['GET', lowKeys[0]])).toBe('v');
    expect(client.stats.retried).toBe(2);
    const lag = watchTimerLag();
    const started = Date.now();
    const error = await client.command(['GET', highKeys[0]]).catch((e) => e);
    const waited = Date.now() - started;
    const worstLag = lag.stop();
    expect(error.redisCode).toBe('TRYAGAIN');
    expect(waited).toBeLessThan(allowing(300, worstLag));
    expect(client.stats.retried).toBeGreaterThan(3);
    await client.disconnect();
    await nodes.close();
  });

  test('bad arguments are refused before anything is sent; an odd MSET never writes part of itself', async () => {
    let writes = 0;
    const nodes = await twoNodeCluster((words) => { if (/^M/i.test(words[0])) writes++; return '+OK\r\n'; },
      (words) => { if (/^M/i.test(words[0])) writes++; return '+OK\r\n'; });
    const client = new RedisClusterClient({ host: '127.0.0.1', port: nodes.low.port });
    const odd = await client.command(['MSET', lowKeys[0], 'v', highKeys[0]]).catch((e) => e);
    expect(odd).toBeInstanceOf(InvalidArgumentError);
    expect(odd.message).toBe('command: MSET takes key value pairs; received 3 argument(s) after the name');
    const typed = await client.command(['DEL', lowKeys[0], null]).catch((e) => e);
    expect(typed).toBeInstanceOf(InvalidArgumentError);
    expect(typed.message).toBe('command: argument 2 must be a string, Buffer, Uint8Array or number; received null');
    expect(writes).toBe(0);
    await client.disconnect();
    await nodes.close();
  });

  test('seeds that never answer CLUSTER SLOTS: the call rejects within its time, unsent', async () => {
    const silent = await Promise.all([1, 2, 3].map(() => fakeNode((words) => (words[0].toUpperCase() === 'CLUSTER' ? '' : '+OK\r\n'))));
    const client = new RedisClusterClient({ cluster: { nodes: silent.map((n) => ({ host: '127.0.0.1', port: n.port })) }, commandTimeout: 300, connectTimeout: 100 });
    const lag = watchTimerLag();
    const started = Date.now();
    const error = await client.command(['GET', 'k']).catch((e) => e);
    const waited = Date.now() - started;
    const worstLag = lag.stop();
    expect(error.code).toBe('ERR_REDIS_TIMEOUT');
    expect(error.message).toMatch("the cluster's slot map was not read within 400 ms (the command was not sent)");
    // Three seeds asked in turn would take 900 ms; the call gives up at its own 400.
    expect(waited).toBeLessThan(allowing(400, worstLag));
    await client.disconnect();
    await Promise.all(silent.map((n) => n.close()));
  });

  test('a node that never answers: the call rejects at its command timeout and is not sent again', async () => {
    let gets = 0;
    const nodes = await twoNodeCluster(() => '+OK\r\n', (words) => {
      if (words[0].toUpperCase() !== 'GET') return '+OK\r\n';
      gets++;
      return ''; // never answers a GET
    });
    const client = new RedisClusterClient({ host: '127.0.0.1', port: nodes.low.port, commandTimeout: 300 });
    await client.command(['SET', lowKeys[0], 'v']); // the slot map is read
    const lag = watchTimerLag();
    const started = Date.now();
    const error = await client.command(['GET', highKeys[0]]).catch((e) => e);
    const waited = Date.now() - started;
    const worstLag = lag.stop();
    // The first call to a node also waits for its connection: at most the connect timeout more.
    expect(error.code).toBe('ERR_REDIS_TIMEOUT');
    expect(waited).toBeLessThan(allowing(300 + 1000, worstLag));
    expect(gets).toBe(1);
    await client.disconnect();
    await nodes.close();
  });
});
