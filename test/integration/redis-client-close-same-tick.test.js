'use strict';

// Closing a RedisClient in the tick its commands were issued in. Commands wait in the tick's
// packed batch until a microtask hands them to the native side; destroy() must reject them
// with RedisClosedError and leave nothing for that microtask to trip over (it used to throw
// an uncaught `TypeError: batch.ids is not a function` there and end the process), and
// disconnect() must still send them. Against a live server, so an open connection is closed
// too and what reached the server can be checked.
const path = require('node:path');
const { execFile } = require('node:child_process');
const { startRedis } = require('../helpers/redis-server');
const { RedisClient, RedisClosedError } = require('../../lib');

const ROOT = path.join(__dirname, '..', '..');
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

let redis;
beforeAll(async () => { redis = await startRedis(); });
afterAll(async () => { await redis.cleanup(); });

async function expectClosed(promise) {
  const error = await promise.then(() => undefined, (e) => e);
  expect(error).toBeInstanceOf(RedisClosedError);
  expect(error.code).toBe('ERR_REDIS_CLOSED');
}

test('a new user\'s script: command(), then destroy() in the same tick, exits cleanly', async () => {
  // The package entry point, in a process of its own: an uncaught error there ends the process.
  const script = 'const { RedisClient } = require(\'.\'); const c = new RedisClient(process.argv[1]); '
    + 'c.command([\'PING\']).catch(e => console.log(e.code)); c.destroy();';
  const { code, stdout, stderr } = await new Promise((resolve) => {
    execFile(process.execPath, ['-e', script, redis.url], { cwd: ROOT, timeout: 20_000 },
      (error, out, err) => resolve({ code: error ? error.code ?? error.signal : 0, stdout: out, stderr: err }));
  });
  expect(stderr).toBe('');
  expect(stdout.trim()).toBe('ERR_REDIS_CLOSED');
  expect(code).toBe(0);
});

test('destroy() in the tick of commands: they reject with RedisClosedError and are never sent', async () => {
  const key = `same-tick-destroy-${process.pid}`;
  const client = new RedisClient(redis.url);
  const queued = [client.command(['SET', key, 'v']), client.command(['PING']), client.command(['GET', key])];
  client.destroy();
  for (const p of queued) await expectClosed(p);
  await nextTurn(); // the flush microtask of the first command has run
  expect(await redis.cli('EXISTS', key)).toBe('0');
  await expectClosed(client.command(['PING']));
});

test('destroy() in the tick of commands on an open connection with replies outstanding', async () => {
  const client = new RedisClient(redis.url);
  expect(await client.command(['PING'])).toBe('PONG');
  const sent = client.command(['DEBUG', 'SLEEP', '0.2'], { timeout: 5000 }); // sent, reply not back yet
  await nextTurn();
  const queued = [client.command(['PING']), client.command(['ECHO', 'x'])];
  client.destroy();
  await expectClosed(sent);
  for (const p of queued) await expectClosed(p);
  await nextTurn();
  await expectClosed(client.command(['PING']));
});

test('disconnect() in the tick of commands: they are still sent and answered', async () => {
  const key = `same-tick-disconnect-${process.pid}`;
  const client = new RedisClient(redis.url);
  const queued = [client.command(['SET', key, 'v']), client.command(['GET', key])];
  const closing = client.disconnect();
  await expect(Promise.all(queued)).resolves.toEqual(['OK', 'v']);
  await closing;
  expect(client.closed).toBe(true);
  await expectClosed(client.command(['PING']));
  expect(await redis.cli('GET', key)).toBe('v');
});

test('disconnect() then destroy() in the tick of a command: the command rejects, both calls end', async () => {
  const client = new RedisClient(redis.url);
  const queued = client.command(['PING']);
  const closing = client.disconnect();
  client.destroy();
  await expectClosed(queued);
  await expect(closing).resolves.toBeUndefined();
  await nextTurn();
  await expectClosed(client.command(['PING']));
});

test('commands after destroy() reject with RedisClosedError; destroy() and disconnect() stay harmless', async () => {
  const client = new RedisClient(redis.url);
  expect(await client.command(['PING'])).toBe('PONG');
  client.destroy();
  const after = [client.command(['PING']), client.command(['SET', 'after-destroy', 'v'])];
  client.destroy();
  await expect(client.disconnect()).resolves.toBeUndefined();
  for (const p of after) await expectClosed(p);
  await nextTurn();
  await expectClosed(client.command(['PING']));
  expect(await redis.cli('EXISTS', 'after-destroy')).toBe('0');
});
