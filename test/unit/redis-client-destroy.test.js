'use strict';

// destroy() in the same tick as command(): the command was only queued for the end of the
// tick. It must be rejected with the others and never reach the closed native client (that
// used to throw from the flush microtask, an uncaught TypeError). No server is needed: the
// connection is never opened.
const { RedisClient, RedisClosedError } = require('../../lib');

test('commands queued in the tick of destroy() reject with RedisClosedError and nothing throws later', async () => {
  const client = new RedisClient({ port: 1 });
  const queued = [client.command(['PING']), client.command(['GET', 'k'])];
  client.destroy();
  for (const result of await Promise.allSettled(queued)) {
    expect(result.status).toBe('rejected');
    expect(result.reason).toBeInstanceOf(RedisClosedError);
  }
  // Let the flush scheduled by the first command run: it must find nothing to send.
  await new Promise((resolve) => setImmediate(resolve));
  await expect(client.command(['PING'])).rejects.toThrow(RedisClosedError);
});
