'use strict';

// Commands that would change or stall the one connection every caller shares are refused
// before anything is sent, with a typed error naming the command.
const { startRedis } = require('../helpers/redis-server');
const { RedisClient, RedisStore, RedisUnsupportedCommandError } = require('../../lib');

let redis;
let client;
beforeAll(async () => {
  redis = await startRedis();
  client = new RedisClient(redis.url, { commandTimeout: 10_000 });
});
afterAll(async () => {
  await client.disconnect();
  await redis.cleanup();
});

/** Commands the server executed, from INFO commandstats: { get: 3, ... }. */
async function commandCounts() {
  const text = await redis.cli('INFO', 'commandstats');
  const counts = {};
  for (const line of text.split('\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
    if (m) counts[m[1]] = Number(m[2]);
  }
  return counts;
}

const refused = [
  [['SUBSCRIBE', 'ch'], 'SUBSCRIBE'],
  [['psubscribe', 'ch*'], 'PSUBSCRIBE'],
  [['SSubscribe', 'ch'], 'SSUBSCRIBE'],
  [['UNSUBSCRIBE'], 'UNSUBSCRIBE'],
  [['PUNSUBSCRIBE'], 'PUNSUBSCRIBE'],
  [['SUNSUBSCRIBE'], 'SUNSUBSCRIBE'],
  [['MONITOR'], 'MONITOR'],
  [['select', '1'], 'SELECT'],
  [['AUTH', 'secret'], 'AUTH'],
  [['HELLO', '3'], 'HELLO'],
  [['RESET'], 'RESET'],
  [['QUIT'], 'QUIT'],
  [['CLIENT', 'REPLY', 'OFF'], 'CLIENT REPLY'],
  [['client', 'setname', 'x'], 'CLIENT SETNAME'],
  [['CLIENT', 'TRACKING', 'ON'], 'CLIENT TRACKING'],
  [['MULTI'], 'MULTI'],
  [['EXEC'], 'EXEC'],
  [['WATCH', 'k'], 'WATCH'],
  [['DISCARD'], 'DISCARD'],
  [['BLPOP', 'list', '0'], 'BLPOP'],
  [['BRPOP', 'list', '0'], 'BRPOP'],
  [['BLMOVE', 'a', 'b', 'LEFT', 'RIGHT', '0'], 'BLMOVE'],
  [['BRPOPLPUSH', 'a', 'b', '0'], 'BRPOPLPUSH'],
  [['BZPOPMIN', 'z', '0'], 'BZPOPMIN'],
  [['bzpopmax', 'z', '0'], 'BZPOPMAX'],
  [['BLMPOP', '0', '1', 'list', 'LEFT'], 'BLMPOP'],
  [['BZMPOP', '0', '1', 'z', 'MIN'], 'BZMPOP'],
  [['XREAD', 'BLOCK', '0', 'STREAMS', 's', '$'], 'XREAD BLOCK'],
  [['XREAD', 'COUNT', '1', 'block', '0', 'STREAMS', 's', '$'], 'XREAD BLOCK'],
  [['XREADGROUP', 'GROUP', 'g', 'c', 'BLOCK', '0', 'STREAMS', 's', '>'], 'XREADGROUP BLOCK'],
  [['WAIT', '1', '0'], 'WAIT'],
  [['WAITAOF', '1', '0', '0'], 'WAITAOF'],
  [[Buffer.from('blpop'), 'list', '0'], 'BLPOP'],
  [[new Uint8Array(Buffer.from('Select')), '2'], 'SELECT'],
  [['CLIENT', Buffer.from('setname'), 'x'], 'CLIENT SETNAME'],
];

test.each(refused)('%j is refused with ERR_REDIS_UNSUPPORTED_COMMAND naming %s', async (args, name) => {
  const error = await client.command(args).then(() => undefined, (e) => e);
  expect(error).toBeInstanceOf(RedisUnsupportedCommandError);
  expect(error.code).toBe('ERR_REDIS_UNSUPPORTED_COMMAND');
  expect(error.command).toBe(name);
  expect(error.message).toContain(name);
});

test('refused commands never reach the server, and the shared connection keeps working', async () => {
  const before = await commandCounts();
  const results = await Promise.allSettled(refused.map(([args]) => client.command(args)));
  expect(results.every((r) => r.status === 'rejected')).toBe(true);
  // The connection is still in db 0, replies normally, and nothing blocked it.
  const t0 = Date.now();
  expect(await client.command(['SET', 'after-refused', 'k:after-refused:v1'])).toBe('OK');
  expect(Date.now() - t0).toBeLessThan(5000); // a blocked connection would wait for the 10 s timeout
  expect(await redis.cli('-n', '0', 'GET', 'after-refused')).toBe('k:after-refused:v1');
  const after = await commandCounts();
  for (const name of ['subscribe', 'psubscribe', 'monitor', 'select', 'auth', 'hello', 'reset',
    'multi', 'exec', 'watch', 'blpop', 'brpop', 'blmove', 'bzpopmin', 'blmpop', 'xread',
    'xreadgroup', 'wait', 'waitaof', 'client|reply', 'client|setname', 'client|tracking']) {
    expect({ name, calls: after[name] ?? 0 }).toEqual({ name, calls: before[name] ?? 0 });
  }
});

test('look-alikes are not refused: non-blocking forms, keys named like commands, harmless CLIENT subcommands', async () => {
  await client.command(['DEL', 'blpop', 's']);
  expect(await client.command(['SET', 'blpop', 'subscribe'])).toBe('OK');
  expect(await client.command(['GET', 'blpop'])).toBe('subscribe');
  expect(await client.command(['LPOP', 'nolist'])).toBeNull();
  expect(typeof await client.command(['CLIENT', 'ID'])).toBe('number');
  await client.command(['XADD', 's', '*', 'f', 'v']);
  // BLOCK after STREAMS is a key name, not the option.
  const reply = await client.command(['XREAD', 'COUNT', '1', 'STREAMS', 's', '0']);
  expect(reply[0][0]).toBe('s');
  const keyed = await client.command(['XREAD', 'STREAMS', 'BLOCK', '0']);
  expect(keyed).toBeNull();
});

test('RedisStore.client refuses them too (the shared manager)', async () => {
  const store = new RedisStore(redis.url);
  const error = await store.client.command(['BRPOP', 'q', '1']).catch((e) => e);
  expect(error.code).toBe('ERR_REDIS_UNSUPPORTED_COMMAND');
  expect(error.command).toBe('BRPOP');
  expect(error.message).toContain(`127.0.0.1:${redis.port}`);
  await store.disconnect();
});
