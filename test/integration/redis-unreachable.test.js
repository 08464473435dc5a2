'use strict';

// Calls that fail because Redis cannot be reached say why: the last connect error
// (`connect ECONNREFUSED 127.0.0.1:<port>`), whichever way they fail.
const { freePort } = require('../helpers/redis-server');
const { RedisClient, RedisStore } = require('../../lib');

const settle = (p) => p.then((value) => ({ value }), (error) => ({ error }));
let port;
beforeAll(async () => { port = await freePort(); }); // nothing listens there

test('the call that found Redis down and the fail-fast ones after it carry the connect error', async () => {
  const client = new RedisClient({ host: '127.0.0.1', port });
  const first = await settle(client.command(['GET', 'k']));
  expect(first.error.code).toBe('ERR_REDIS_CONNECTION');
  expect(first.error.errno).toBe('ECONNREFUSED');
  expect(first.error.message).toContain(`connect ECONNREFUSED 127.0.0.1:${port}`);
  const fast = await settle(client.command(['GET', 'k']));
  expect(fast.error.code).toBe('ERR_REDIS_CONNECTION');
  expect(fast.error.message).toContain('failing fast');
  expect(fast.error.message).toContain(`connect ECONNREFUSED 127.0.0.1:${port}`);
  await client.disconnect();
});

test('queued calls (offlineQueue) that time out while Redis is down carry the connect error', async () => {
  const client = new RedisClient({ host: '127.0.0.1', port, offlineQueue: 10, commandTimeout: 300 });
  await settle(client.command(['PING'])); // learn that Redis is down
  const results = await Promise.all(Array.from({ length: 3 }, () => settle(client.command(['GET', 'k']))));
  for (const { error } of results) {
    expect(error.code).toBe('ERR_REDIS_TIMEOUT');
    expect(error.message).toContain('not sent within 300 ms');
    expect(error.message).toContain(`connect ECONNREFUSED 127.0.0.1:${port}`);
  }
  await client.disconnect();
});

test('RedisStore calls carry it too', async () => {
  const store = new RedisStore(`redis://127.0.0.1:${port}`);
  for (let i = 0; i < 2; i++) {
    const { error } = await settle(store.get('k'));
    expect(error.message).toContain(`connect ECONNREFUSED 127.0.0.1:${port}`);
  }
  await store.disconnect();
});
