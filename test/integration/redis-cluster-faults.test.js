'use strict';

// A Redis Cluster changing under load: slots resharded between primaries while 64 callers
// count, and a primary killed (kill -9) while they read and write. Its own 6-node cluster,
// since the failover leaves it changed.
const { startCluster, keysInSlots, reshardUnderLoad } = require('../helpers/redis-cluster');
const { RedisClusterClient } = require('../../lib');
const { watchTimerLag } = require('../helpers/timing');

jest.setTimeout(300_000);

let cluster;
beforeAll(async () => { cluster = await startCluster({ nodeTimeout: 1000 }); });
afterAll(async () => { await cluster?.cleanup(); });

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

test('resharding under load: MOVED and ASK followed, 0 wrong replies, 0 lost acknowledged writes', async () => {
  const client = new RedisClusterClient({ url: cluster.urls[0], commandTimeout: 5000 });
  const result = await reshardUnderLoad(cluster, client);
  await client.disconnect();
  console.log(`resharding 200 slots there and back under 64 callers: ${JSON.stringify(result)}`);
  expect({ wrong: result.wrong, lost: result.lost, failures: result.failures }).toEqual({ wrong: 0, lost: 0, failures: 0 });
  expect(result.moved).toBeGreaterThan(0);
  expect(result.asked).toBeGreaterThan(0);
  expect(result.acked).toBeGreaterThan(1000);
});

test('failover under load: kill -9 of a primary, clear errors until a replica is promoted, then served again; 0 wrong values', async () => {
  const lag = watchTimerLag();
  const client = new RedisClusterClient({ url: cluster.urls[0], commandTimeout: 2000, connectTimeout: 500 });
  const [victim] = await cluster.layout();
  const victimIndex = cluster.nodes.findIndex((n) => n.port === victim.port);
  const observer = cluster.nodes.findIndex((n, i) => i !== victimIndex);
  const keys = keysInSlots(victim.start, victim.end, 64, 'fo');
  const written = new Map(); // key → values written (acknowledged or not)
  let wrong = 0;
  const errorCodes = new Map();
  let lastFailure = 0;
  let firstFailure = 0;
  let okAfterFailure = 0;
  let stop = false;
  let seq = 0;
  const callers = keys.map(async (key) => {
    written.set(key, new Set([null]));
    while (!stop) {
      const value = `${key}#${seq++}`;
      try {
        written.get(key).add(value);
        await client.command(['SET', key, value]);
        const back = await client.command(['GET', key]);
        if (!written.get(key).has(back)) wrong++;
        if (firstFailure !== 0 && Date.now() > lastFailure) okAfterFailure++;
      } catch (error) {
        errorCodes.set(error.code, (errorCodes.get(error.code) ?? 0) + 1);
        lastFailure = Date.now();
        if (firstFailure === 0) firstFailure = lastFailure;
        await sleep(5);
      }
    }
  });
  await sleep(300);
  const killedAt = Date.now();
  await cluster.nodes[victimIndex].stop(); // SIGKILL
  // Served again: a write and read of every key succeed after the promotion.
  const until = Date.now() + 60_000;
  let servedAt = 0;
  while (Date.now() < until) {
    await sleep(50);
    const newOwner = (await cluster.layout(observer)).find((r) => r.start === victim.start)?.port;
    if (newOwner !== undefined && newOwner !== victim.port && okAfterFailure > 200) {
      servedAt = Date.now();
      break;
    }
  }
  stop = true;
  await Promise.all(callers);
  await client.disconnect();
  const worstLag = lag.stop();
  const outage = lastFailure - firstFailure;
  console.log(`failover: first failure ${firstFailure - killedAt} ms after kill -9, last ${lastFailure - killedAt} ms after it (outage ${outage} ms); errors ${JSON.stringify(Object.fromEntries(errorCodes))}; timer lag max ${worstLag} ms`);
  expect(servedAt).toBeGreaterThan(0);
  expect(wrong).toBe(0);
  expect(firstFailure).toBeGreaterThan(0);
  // The errors callers saw name the lost node's trouble, nothing else.
  for (const code of errorCodes.keys()) {
    expect(['ERR_REDIS_CONNECTION', 'ERR_REDIS_CONNECT_TIMEOUT', 'ERR_REDIS_TIMEOUT', 'ERR_REDIS_CLOSED', 'ERR_REDIS_CLUSTER', 'ERR_REDIS_SERVER']).toContain(code);
  }
});
