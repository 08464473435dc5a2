'use strict';

// Redis Cluster over TLS (tls-port only, tls-cluster yes): the nodes announce IP addresses and
// their certificate names only 'localhost', as on managed services whose certificates name a
// host while the cluster announces IPs. A store seeded by host name verifies every node
// against that name; resharding under load runs over TLS too.
const { startCluster, reshardUnderLoad } = require('../helpers/redis-cluster');
const { makeCertificates } = require('../helpers/tls-certs');
const { RedisStore, RedisClusterClient, createCache } = require('../../lib');

jest.setTimeout(180_000);

let certs;
let cluster;
beforeAll(async () => {
  certs = makeCertificates({ serverOnly: true, serverNames: 'DNS:localhost', serverUsage: 'serverAuth,clientAuth' });
  cluster = await startCluster({
    replicas: 0, tls: { certFile: certs.server.certFile, keyFile: certs.server.keyFile, caFile: certs.ca.certFile },
  });
});
afterAll(async () => {
  await cluster?.cleanup();
  certs?.cleanup();
});

test('seeded by host name: every node, announced by IP, is verified against that name', async () => {
  const seed = `rediss://localhost:${cluster.nodes[0].port}`;
  // Generous timeouts: 300 keys split into ~300 slot parts over TLS, also under the sanitizer build.
  const store = new RedisStore(seed, { cluster: true, tls: { ca: certs.ca.cert }, namespace: 'tls', commandTimeout: 10_000, connectTimeout: 10_000 });
  const cache = createCache({ stores: [store] });
  const errors = [];
  cache.on('mget', ({ error }) => { if (error) errors.push(error); });
  const list = Array.from({ length: 300 }, (_, i) => ({ key: `k${i}`, value: i }));
  await cache.mset(list);
  const values = await cache.mget(list.map((e) => e.key));
  expect(errors).toEqual([]);
  expect(values).toEqual(list.map((e) => e.value));
  const primaries = (await store.client.primaries()).map((c) => c.address);
  expect(primaries).toHaveLength(3);
  expect(primaries.every((a) => a.startsWith('127.0.0.1:'))).toBe(true);
  await cache.disconnect();
});

test('seeded by IP, with nothing to verify the IPs against: the TLS error says why', async () => {
  const client = new RedisClusterClient(cluster.urls[0], { tls: { ca: certs.ca.cert } });
  const error = await client.command(['GET', 'k']).catch((e) => e);
  expect(error.code).toBe('ERR_REDIS_CLUSTER');
  expect(error.cause.code).toBe('ERR_REDIS_TLS');
  expect(error.cause.tlsCode).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
  await client.disconnect();
  // tls.servername names what the certificates hold.
  const named = new RedisClusterClient(cluster.urls[0], { tls: { ca: certs.ca.cert, servername: 'localhost' }, commandTimeout: 10_000, connectTimeout: 10_000 });
  expect(await named.command(['SET', 'k', 'v'])).toBe('OK');
  await named.disconnect();
});

test('resharding under load over TLS: 0 wrong replies, 0 lost acknowledged writes', async () => {
  const client = new RedisClusterClient(`rediss://localhost:${cluster.nodes[1].port}`, { tls: { ca: certs.ca.cert }, commandTimeout: 5000 });
  const result = await reshardUnderLoad(cluster, client);
  await client.disconnect();
  console.log(`TLS cluster, resharding 200 slots there and back under 64 callers: ${JSON.stringify(result)}`);
  expect({ wrong: result.wrong, lost: result.lost, failures: result.failures }).toEqual({ wrong: 0, lost: 0, failures: 0 });
  expect(result.moved).toBeGreaterThan(0);
  expect(result.asked).toBeGreaterThan(0);
});
