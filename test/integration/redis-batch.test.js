'use strict';

// The packed crossing of a tick's commands (lib/redis-batch.js → RedisClientWrap::SubmitPacked):
// short strings travel in one concatenated UTF-16 text and are written as UTF-8 natively;
// long strings and bytes travel on their own. Whatever the mix, Redis must receive exactly
// the bytes Node itself would write for each argument.
const binding = require('../../lib/binding');
const { CommandBatch, INLINE_MAX_CHARS } = require('../../lib/redis-batch');
const { startRedis } = require('../helpers/redis-server');
const { RedisClient, InvalidArgumentError } = require('../../lib');
const { rng } = require('../../bench/js/lib/random');

jest.setTimeout(60_000);

let redis;
let client;
beforeAll(async () => {
  redis = await startRedis();
  // Long timeouts: these tests check bytes and order, and a loaded machine must not fail them.
  client = new RedisClient(redis.url, { connectTimeout: 10_000, commandTimeout: 10_000 });
});
afterAll(async () => {
  await client.disconnect();
  await redis.cleanup();
});

/** A random string mixing ASCII, 2- and 3-byte characters, surrogate pairs and lone surrogates. */
function randomText(random, length) {
  let out = '';
  for (let i = 0; i < length; i++) {
    const pick = random();
    if (pick < 0.5) out += String.fromCharCode(32 + Math.floor(random() * 95));
    else if (pick < 0.65) out += String.fromCharCode(0x80 + Math.floor(random() * 0x780));
    else if (pick < 0.8) out += String.fromCharCode(0x800 + Math.floor(random() * 0xD000));
    else if (pick < 0.9) out += String.fromCodePoint(0x10000 + Math.floor(random() * 0xFFFFF));
    else out += String.fromCharCode(0xD800 + Math.floor(random() * 0x800)); // often unpaired
  }
  return out;
}

test('keys and values of every kind, short and long, mixed in one tick, reach Redis as Node encodes them', async () => {
  const random = rng(5);
  const cases = [];
  for (let i = 0; i < 600; i++) {
    const long = i % 10 === 0;
    const key = `batch:${i}:${randomText(random, 1 + Math.floor(random() * 12))}`;
    const value = i % 7 === 0
      ? Buffer.from(randomText(random, 50), 'utf8')
      : randomText(random, long ? INLINE_MAX_CHARS + 1 + Math.floor(random() * 3000) : Math.floor(random() * 80));
    cases.push({ key, value });
  }
  // All SETs issued in the same tick: one packed batch with inline, long and byte arguments.
  const sets = cases.map(({ key, value }) => client.command(['SET', key, value]));
  expect(await Promise.all(sets)).toEqual(cases.map(() => 'OK'));
  const got = await Promise.all(cases.map(({ key }) => client.command(['GET', key], { buffers: true })));
  const wrong = [];
  cases.forEach(({ key, value }, i) => {
    const expected = Buffer.isBuffer(value) ? value : Buffer.from(value, 'utf8');
    if (!got[i].equals(expected)) wrong.push(key);
  });
  expect(wrong).toEqual([]);
  // The key bytes too: Redis lists them as Node would have encoded them.
  const keys = await client.command(['KEYS', 'batch:*'], { buffers: true });
  const expectedKeys = cases.map(({ key }) => Buffer.from(key, 'utf8').toString('hex')).sort();
  expect(keys.map((k) => k.toString('hex')).sort()).toEqual(expectedKeys);
});

test('50,000 commands in one tick grow the plan, all answered in order, numbers as decimal text', async () => {
  const n = 50_000;
  // Its own client, with room for the whole burst under a sanitizer build (the default
  // 500 ms command timeout is about the burst, not the packing, which this test is about).
  const burst = new RedisClient(redis.url, { connectTimeout: 10_000, commandTimeout: 30_000 });
  const replies = await Promise.all(Array.from({ length: n }, (_, i) =>
    (i % 2 === 0 ? burst.command(['SET', `many:${i}`, i]) : burst.command(['GET', `many:${i - 1}`]))));
  await burst.disconnect();
  for (let i = 0; i < n; i += 2) {
    if (replies[i] !== 'OK' || replies[i + 1] !== String(i)) throw new Error(`reply ${i} wrong: ${replies[i]} ${replies[i + 1]}`);
  }
  expect(replies.length).toBe(n);
});

test('a bad argument fails its own call before anything of it is sent', async () => {
  await expect(client.command(['SET', 'k', {}])).rejects.toThrow(InvalidArgumentError);
  await expect(client.command(['SET', 'k', 'fine'])).resolves.toBe('OK');
});

describe('submitPacked refuses a plan that does not add up, and sends nothing', () => {
  const cases = {
    'header cut short': (b) => { b.length = 3; },
    'argument past the text': (b) => { b.plan[4] = b.text.length + 1; },
    'argument past the long list': (b) => { b.plan[5] = -5; },
    'argument count beyond the plan': (b) => { b.plan[3] = 99; },
    'text longer than the plan': (b) => { b.text += 'extra'; },
    'negative id': (b) => { b.plan[0] = -1; },
  };
  test.each(Object.keys(cases))('%s', async (name) => {
    let onReply;
    const replied = new Promise((resolve) => { onReply = resolve; });
    const native = new binding.RedisClientWrap({ host: '127.0.0.1', port: redis.port },
      (heads, values) => { if (heads !== null) onReply(values); });
    const key = `refused:${name}`;
    const batch = new CommandBatch();
    batch.add(1, ['SET', key, 'x'], 0, 0);
    cases[name](batch);
    let error;
    try {
      native.submitPacked(batch.text, batch.plan, batch.length, batch.others);
    } catch (e) {
      error = e;
    }
    expect(error?.name).toBe('TypeError');
    expect(error.code).toBe('ERR_INVALID_ARG_VALUE');
    expect(error.message).toMatch(/^submitPacked: /);
    // The same connection then runs a good batch; the refused SET never reached Redis.
    const good = new CommandBatch();
    good.add(2, ['EXISTS', key], 0, 0);
    expect(native.submitPacked(good.text, good.plan, good.length, good.others)).toBe(true);
    expect(await replied).toEqual([0]);
    native.destroy();
  });

  test('wrong argument types are refused by name', () => {
    const native = new binding.RedisClientWrap({ host: '127.0.0.1', port: redis.port }, () => {});
    expect(() => native.submitPacked('x', [1, 0, 0, 1, 1], 5, [])).toThrow(/submitPacked\(text, plan, planLength, others\)/);
    expect(() => native.submitPacked('x', new Float64Array(5), 6, [])).toThrow(/planLength is out of range/);
    native.destroy();
  });
});
