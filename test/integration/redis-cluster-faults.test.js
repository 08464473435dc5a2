'use strict';

// A Redis Cluster changing under load: slots resharded between primaries while 64 callers
// count, and a primary killed (kill -9) while they read and write. Its own 6-node cluster,
// since the failover leaves it changed.
const { startCluster } = require('../helpers/redis-cluster');
const { RedisClusterClient } = require('../../lib');
const { keySlot } = require('../../lib/redis-slots');
const { watchTimerLag } = require('../helpers/timing');

jest.setTimeout(300_000);

let cluster;
beforeAll(async () => { cluster = await startCluster({ nodeTimeout: 1000 }); });
afterAll(async () => { await cluster?.cleanup(); });

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Node ids and the slot ranges each primary serves, per node `from`'s view. */
async function layout(from = 0) {
  const slots = JSON.parse(await cluster.cli(from, '--json', 'CLUSTER', 'SLOTS'));
  return slots.map(([start, end, primary]) => ({ start, end, port: primary[1], id: primary[2] }))
    .sort((a, b) => a.start - b.start);
}

/** `count` keys whose slots are in [start, end]. */
function keysInSlots(start, end, count, prefix) {
  const keys = [];
  for (let i = 0; keys.length < count; i++) {
    const key = `${prefix}:${i}`;
    const slot = keySlot(key);
    if (slot >= start && slot <= end) keys.push(key);
  }
  return keys;
}

test('resharding under load: MOVED and ASK followed, 0 wrong replies, 0 lost acknowledged writes', async () => {
  const client = new RedisClusterClient({ url: cluster.urls[0], commandTimeout: 5000 });
  const [first, second] = await layout();
  // 200 slots move from the first primary to the second and back; the callers' keys sit in them.
  const moving = { start: first.start, end: first.start + 199 };
  const keys = keysInSlots(moving.start, moving.end, 64 * 4, 'ctr');
  const acked = new Map(keys.map((k) => [k, 0]));
  const unsure = new Map(keys.map((k) => [k, 0]));
  let wrong = 0;
  let failures = 0;
  let stop = false;
  const callers = Array.from({ length: 64 }, async (_, c) => {
    const mine = keys.slice(c * 4, c * 4 + 4);
    while (!stop) {
      for (const key of mine) {
        try {
          const value = await client.command(['INCR', key]);
          const low = acked.get(key) + 1;
          if (value < low || value > low + unsure.get(key)) wrong++;
          acked.set(key, value);
          unsure.set(key, 0);
        } catch {
          failures++;
          unsure.set(key, unsure.get(key) + 1); // may or may not have run
        }
      }
    }
  });
  await sleep(200);
  await cluster.admin('reshard', `127.0.0.1:${first.port}`, '--cluster-from', first.id, '--cluster-to', second.id,
    '--cluster-slots', '200', '--cluster-yes', '--cluster-pipeline', '1');
  await sleep(200);
  const afterFirst = await layout();
  expect(afterFirst.find((r) => r.start === moving.start).port).toBe(second.port);
  await cluster.admin('reshard', `127.0.0.1:${first.port}`, '--cluster-from', second.id, '--cluster-to', first.id,
    '--cluster-slots', '200', '--cluster-yes', '--cluster-pipeline', '1');
  await sleep(200);
  stop = true;
  await Promise.all(callers);
  const stats = client.stats;
  // Every acknowledged increment is in the server's counter (plus at most the unsure ones).
  let lost = 0;
  for (const key of keys) {
    const stored = Number(await client.command(['GET', key]));
    if (stored < acked.get(key) || stored > acked.get(key) + unsure.get(key)) lost++;
  }
  await client.disconnect();
  expect({ wrong, lost, failures }).toEqual({ wrong: 0, lost: 0, failures: 0 });
  expect(stats.moved).toBeGreaterThan(0);
  expect(stats.asked).toBeGreaterThan(0);
  expect([...acked.values()].reduce((a, b) => a + b)).toBeGreaterThan(1000);
});

test('failover under load: kill -9 of a primary, clear errors until a replica is promoted, then served again; 0 wrong values', async () => {
  const lag = watchTimerLag();
  const client = new RedisClusterClient({ url: cluster.urls[0], commandTimeout: 2000, connectTimeout: 500 });
  const [victim] = await layout();
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
    const newOwner = (await layout(observer)).find((r) => r.start === victim.start)?.port;
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
