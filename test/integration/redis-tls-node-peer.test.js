'use strict';

// The client's side of TLS as a Node TLS server sees it (test/helpers/resp-tls-server.js
// answers PING and QUIT): a graceful disconnect ends with close_notify, and the SNI name is
// sent for a host name, never for an address, and replaced by `servername`.
const { RedisClient } = require('../../lib');
const { makeCertificates } = require('../helpers/tls-certs');
const { startRespTlsServer } = require('../helpers/resp-tls-server');
const { sleep } = require('../helpers/timing');

const SLOW = { connectTimeout: 5000, commandTimeout: 5000 };
const TLS_ALERT = 21;
const TLS_APPLICATION_DATA = 23;

let certs;
let servers = [];

beforeAll(() => {
  certs = makeCertificates({ serverOnly: true });
});
afterEach(async () => {
  for (const s of servers) await s.close();
  servers = [];
});
afterAll(() => certs.cleanup());

async function start(host) {
  const server = await startRespTlsServer({ cert: certs.server.cert, key: certs.server.key, host });
  servers.push(server);
  return server;
}

/** Waits (up to 10 s) until `done()` holds. */
async function until(done, what) {
  const deadline = Date.now() + 10_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

test('disconnect() ends the TLS stream with close_notify before the FIN; the server sees a clean end', async () => {
  const server = await start();
  // TLS 1.2: the alert travels as a record of type alert (TLS 1.3 hides it in application data).
  const client = new RedisClient(`rediss://localhost:${server.port}`, { ...SLOW, tls: { ca: certs.ca.cert, maxVersion: 'TLSv1.2' } });
  expect(await client.command(['PING'])).toBe('PONG');
  await client.disconnect();
  const conn = server.connections[0];
  await until(() => conn.ended !== undefined && conn.clientEnd !== undefined, 'the end of the connection');
  expect(server.connections.length).toBe(1);
  expect(conn.commands).toEqual(['PING', 'PING', 'QUIT']); // the handshake's PING, ours, QUIT
  expect(conn.clientEnd).toBe('end');
  expect(conn.ended).toBe('end');
  const types = server.recordTypes(0);
  expect(types.slice(-2)).toEqual([TLS_APPLICATION_DATA, TLS_ALERT]); // QUIT, then close_notify
});

test('SNI: sent for a host name, omitted for an IPv4 or IPv6 address, replaced by tls.servername', async () => {
  const server = await start();
  const ca = certs.ca.cert;
  const ping = async (url, tls) => {
    const client = new RedisClient(url, { ...SLOW, tls: { ca, ...tls } });
    try {
      return await client.command(['PING']);
    } finally {
      await client.disconnect();
    }
  };
  expect(await ping(`rediss://localhost:${server.port}`)).toBe('PONG');
  expect(await ping(`rediss://127.0.0.1:${server.port}`)).toBe('PONG');
  expect(await ping(`rediss://127.0.0.1:${server.port}`, { servername: 'localhost' })).toBe('PONG');
  expect(server.connections.map((c) => c.servername)).toEqual(['localhost', false, 'localhost']);

  // The server certificate names 127.0.0.1 and localhost only: verification is off for ::1.
  const v6 = await start('::1');
  expect(await ping(`rediss://[::1]:${v6.port}`, { rejectUnauthorized: false })).toBe('PONG');
  expect(await ping(`rediss://[::1]:${v6.port}`, { rejectUnauthorized: false, servername: 'redis.example' })).toBe('PONG');
  expect(v6.connections.map((c) => c.servername)).toEqual([false, 'redis.example']);
});
