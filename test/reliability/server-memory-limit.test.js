'use strict';

// R15: Redis under `--maxmemory 2mb`.
// - noeviction: writes of ~10 KiB values until Redis refuses them. The caller gets a
//   RedisServerError carrying Redis's OOM text; reads and deletes keep working on the same
//   connection (same CLIENT ID, no new connection counted by the server).
// - allkeys-lru: 2,000 writes, 0 errors, Redis evicts.
// - volatile-lru: Redis may only evict keys that have a TTL, so every write through the store
//   or the cache that is given a ttl must carry one (PX): 2,000 such writes succeed, while
//   the same writes without a ttl hit OOM.

const { startRedis } = require('../helpers/redis-server');
const { RedisStore, RedisServerError, createCache } = require('../../lib');

const VALUE = 'v'.repeat(10 * 1024);
const OOM_TEXT = "OOM command not allowed when used memory > 'maxmemory'.";

let redis;
let admin; // opened before anything else connects: INFO without counting a connection
beforeAll(async () => {
  redis = await startRedis({ args: ['--maxmemory', '2mb', '--maxmemory-policy', 'noeviction'] });
  admin = await redis.raw();
});
afterAll(async () => {
  await admin?.close();
  await redis.cleanup();
});

async function usePolicy(policy) {
  expect(await admin.command(['FLUSHALL'])).toBe('OK');
  expect(await admin.command(['CONFIG', 'SET', 'maxmemory-policy', policy])).toBe('OK');
  expect(await admin.command(['CONFIG', 'RESETSTAT'])).toBe('OK');
}

const stat = async (name) => Number((await admin.info('stats'))[name]);

test('noeviction: OOM is a RedisServerError with the server text; GET and DEL still work; no reconnect', async () => {
  await usePolicy('noeviction');
  const store = new RedisStore(redis.url, { namespace: 'oom' });
  const idBefore = await store.client.command(['CLIENT', 'ID']);
  const connectionsBefore = await stat('total_connections_received');

  let stored = 0;
  let error;
  for (let i = 0; i < 1000 && error === undefined; i++) {
    try {
      await store.set(`k${i}`, `k${i}:${VALUE}`, 600_000);
      stored++;
    } catch (e) {
      error = e;
    }
  }
  // The same refusal for a write through createCache on the same connection.
  const cache = createCache({ stores: [store] });
  // The refused write's own buffers are freed after the refusal, which can leave room for one
  // more 10 KiB value: the first write through the cache may fit; the ones after it may not.
  let cacheError;
  for (let i = 0; i < 5 && !(cacheError instanceof Error); i++) {
    cacheError = await cache.set(`through-cache-${i}`, VALUE, 600_000).catch((e) => e);
  }

  const got = await store.get('k0');
  const deleted = [];
  for (let i = 0; i < 20; i++) deleted.push(await store.delete(`k${i}`));
  const afterDelete = await store.set('again', 'fits now', 600_000).then(() => 'OK', (e) => e);
  const idAfter = await store.client.command(['CLIENT', 'ID']);
  const connectionsAfter = await stat('total_connections_received');
  const { used_memory: usedMemory } = await admin.info('memory');
  console.log(`R15 noeviction: ${stored} SETs of 10 KiB stored, then ${error?.constructor.name} `
    + `${error?.code} redisCode=${error?.redisCode}: "${error?.message}"; cache.set: ${cacheError?.code}; `
    + `GET after OOM ${got === `k0:${VALUE}` ? 'ok' : 'WRONG'}, DEL ${deleted.filter(Boolean).length}/20, `
    + `SET after DEL ${afterDelete === 'OK' ? 'ok' : afterDelete?.message}; CLIENT ID ${idBefore} → ${idAfter}, `
    + `connections received during the test ${connectionsAfter - connectionsBefore}; used_memory ${usedMemory}`);

  expect(stored).toBeGreaterThan(10);
  expect(stored).toBeLessThan(1000);
  expect(error).toBeInstanceOf(RedisServerError);
  expect(error.code).toBe('ERR_REDIS_SERVER');
  expect(error.redisCode).toBe('OOM');
  expect(error.message).toContain(OOM_TEXT);
  expect(error.message).toContain(`127.0.0.1:${redis.port}`);
  expect(cacheError).toBeInstanceOf(RedisServerError);
  expect(cacheError.redisCode).toBe('OOM');
  expect(got).toBe(`k0:${VALUE}`);
  expect(deleted).toEqual(Array(20).fill(true));
  expect(afterDelete).toBe('OK');
  expect(idAfter).toBe(idBefore);
  expect(connectionsAfter - connectionsBefore).toBe(0);
  await store.disconnect();
});

test('allkeys-lru: 2,000 writes of 10 KiB, 0 errors, Redis evicts', async () => {
  await usePolicy('allkeys-lru');
  // What is tested is the server's answer, not speed: a loaded machine must not turn a slow
  // reply into a timeout.
  const store = new RedisStore(redis.url, { namespace: 'lru', commandTimeout: 10_000 });
  let errors = 0;
  const codes = new Set();
  for (let i = 0; i < 2000; i++) {
    await store.set(`k${i}`, `k${i}:${VALUE}`, 600_000).catch((e) => { errors++; codes.add(e.code); });
  }
  const last = await store.get('k1999');
  const evicted = await stat('evicted_keys');
  const keys = await admin.command(['DBSIZE']);
  console.log(`R15 allkeys-lru: 2,000 SETs of 10 KiB, ${errors} errors ${[...codes].join(',')}, evicted_keys ${evicted}, ${keys} keys left`);
  expect(errors).toBe(0);
  expect(evicted).toBeGreaterThan(1000);
  expect(keys).toBeLessThan(2000);
  expect(last).toBe(`k1999:${VALUE}`);
  await store.disconnect();
});

test('every write given a ttl carries one (PX): store, setMany, createCache set/mset/wrap and its default ttl', async () => {
  await usePolicy('noeviction');
  const store = new RedisStore(redis.url, { namespace: 'withttl' });
  await store.set('plain', 'x', 5000);
  await store.setMany([{ key: 'many', value: 'x', ttl: 5000 }]);
  const cache = createCache({ stores: [store] });
  await cache.set('cset', 'x', 5000);
  await cache.mset([{ key: 'cmset', value: 'x', ttl: 5000 }]);
  await cache.wrap('cwrap', async () => 'x', 5000);
  const withDefault = createCache({ stores: [store], ttl: 5000 });
  await withDefault.set('cdefault', 'x');
  await store.set('no-ttl', 'x'); // and none when none is given
  const pttl = async (key) => admin.command(['PTTL', key]);
  const measured = {
    'store.set': await pttl('withttl::plain'),
    'store.setMany': await pttl('withttl::many'),
    'cache.set': await pttl('withttl::withttl:cset'),
    'cache.mset': await pttl('withttl::withttl:cmset'),
    'cache.wrap': await pttl('withttl::withttl:cwrap'),
    'default ttl': await pttl('withttl::withttl:cdefault'),
  };
  console.log(`R15 PTTL right after the write (ttl 5000 ms): ${JSON.stringify(measured)}`);
  for (const value of Object.values(measured)) {
    expect(value).toBeGreaterThan(3000); // read right after the write; margin for a loaded machine
    expect(value).toBeLessThanOrEqual(5000);
  }
  expect(await pttl('withttl::no-ttl')).toBe(-1);
  await store.disconnect();
});

test('volatile-lru: 2,000 writes with a ttl succeed (Redis can evict them); without a ttl they hit OOM', async () => {
  await usePolicy('volatile-lru');
  const store = new RedisStore(redis.url, { namespace: 'volatile', commandTimeout: 10_000 });
  const cache = createCache({ stores: [store], ttl: 600_000 });
  let errors = 0;
  for (let i = 0; i < 2000; i++) {
    await cache.set(`k${i}`, `k${i}:${VALUE}`).catch(() => { errors++; });
  }
  const evicted = await stat('evicted_keys');
  await usePolicy('volatile-lru');
  let storedWithout = 0;
  let oom;
  for (let i = 0; i < 2000 && oom === undefined; i++) {
    await store.set(`n${i}`, `n${i}:${VALUE}`).then(() => { storedWithout++; }, (e) => { oom = e; });
  }
  console.log(`R15 volatile-lru: 2,000 cache.set with the cache's default ttl: ${errors} errors, `
    + `evicted_keys ${evicted}; without a ttl: OOM after ${storedWithout} SETs (${oom?.redisCode})`);
  expect(errors).toBe(0);
  expect(evicted).toBeGreaterThan(1000);
  expect(oom).toBeInstanceOf(RedisServerError);
  expect(oom.redisCode).toBe('OOM');
  expect(storedWithout).toBeLessThan(1000);
  await store.disconnect();
});
