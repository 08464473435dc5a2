'use strict';

// Byte-level faults in the reply stream under a 64-way GET/SET load, through the fault
// proxy in front of a real redis-server: a reply cut mid-way, garbage bytes, an RST, a FIN,
// and a stray well-formed reply. Every op must settle (resolve with its own key's value or
// reject with a typed error), no caller may get another key's value, and the client must
// come back on its own. Values embed their key and a version, so a shifted reply is caught.
//
// Scale: FAULT_LOAD_MS (how long the load runs after each fault; default 500).

const { startProxiedRedis } = require('../helpers/fault-proxy');
const { RedisClient } = require('../../lib');
const { sleep } = require('../helpers/timing');
const { versionedValues, runLoad } = require('../helpers/load');

const AFTER_MS = Number(process.env.FAULT_LOAD_MS ?? 500);
const KEYS = 256;
const PAYLOAD = 'p'.repeat(48);
// Far above what the fault path takes even on a loaded machine, so an op that waited for its
// timer cannot pass for one rejected by the fault.
const COMMAND_TIMEOUT = 10_000;
jest.setTimeout(60_000 + AFTER_MS * 4);

const { versioned, isOwn } = versionedValues(PAYLOAD);

let proxy;
let stop;
beforeAll(async () => {
  ({ proxy, stop } = await startProxiedRedis(
    Array.from({ length: KEYS }, (_, i) => [`f${i}`, versioned(`f${i}`, 0)])));
});
afterAll(() => stop());

/** The load of the fault tests (test/helpers/load.js) on keys f0…f255; every op, and how many were issued. */
async function load(client, concurrency, until) {
  const counts = { issued: 0, settled: 0 };
  const ops = await runLoad(client, {
    concurrency, until, counts, keyOf: (w, n) => `f${(w * 37 + n * 11) % KEYS}`, versioned, isOwn,
    address: `127.0.0.1:${proxy.port}`,
  });
  return { ops, issued: counts.issued };
}

const cases = [
  // mode, arg, the codes the in-flight ops may get
  ['truncate', undefined, ['ERR_REDIS_CONNECTION']],
  ['garbage', undefined, ['ERR_REDIS_PROTOCOL']],
  // Inside a bulk value: its length no longer matches, caught by the CRLF check after it.
  // (Bytes inside a status reply such as +OK cannot be detected by any RESP2 client.)
  ['garbage', { at: 'bulk', bytes: Buffer.from('GARBAGE!') }, ['ERR_REDIS_PROTOCOL']],
  ['reset', undefined, ['ERR_REDIS_CONNECTION']],
  ['fin', undefined, ['ERR_REDIS_CONNECTION']],
];

test.each(cases)('%s under 64 in flight: every op settles, 0 wrong values, the client recovers', async (mode, arg, codes) => {
  const client = new RedisClient({ port: proxy.port, commandTimeout: COMMAND_TIMEOUT });
  await client.command(['PING']);
  const acceptedBefore = proxy.stats.accepted;
  let faultAt;
  let stopAt = Infinity;
  // Load goes on for AFTER_MS after the fault and until an op started after it succeeded
  // (on a slow machine the reconnect can take longer than AFTER_MS), at most COMMAND_TIMEOUT.
  const running = load(client, 64, (lastOkStart) => performance.now() >= stopAt
    && (lastOkStart > faultAt || performance.now() >= faultAt + COMMAND_TIMEOUT));
  await sleep(200);
  if (mode === 'reset' || mode === 'fin') {
    // The pipeline is empty for part of each round trip (the callers are busy with the last
    // replies, and a loaded machine may not have written their next commands yet): hold the
    // replies until the server has answered all 64, so all 64 are surely in flight (written
    // and executed, not retryable) when the socket dies.
    proxy.set('stall');
    const holdSince = performance.now();
    while (proxy.heldReplies < 64 && performance.now() - holdSince < COMMAND_TIMEOUT / 4) await sleep(5);
    expect(proxy.heldReplies).toBe(64);
    faultAt = performance.now();
    proxy.set(mode);
  } else {
    proxy.set(mode, arg);
    await proxy.fired;
    faultAt = performance.now();
  }
  stopAt = performance.now() + AFTER_MS;
  const { ops, issued } = await running;
  await client.disconnect({ timeout: 500 });

  const failed = ops.filter((o) => o.code !== undefined);
  const wrong = ops.filter((o) => o.wrong).length;
  const lastFailure = failed.reduce((m, o) => Math.max(m, o.end), -Infinity);
  const firstOkAfter = ops.filter((o) => o.ok && o.start > faultAt).reduce((m, o) => Math.min(m, o.end), Infinity);
  console.log(`proxy ${mode} (${JSON.stringify(proxy.firedDetail ?? {})}), 64 in flight: ops ${ops.length}, `
    + `failed ${failed.length} (${[...new Set(failed.map((o) => o.code))].join(',')}), last failure `
    + `${(lastFailure - faultAt).toFixed(1)} ms after the fault, first success after it ${(firstOkAfter - faultAt).toFixed(1)} ms, `
    + `reconnects ${proxy.stats.accepted - acceptedBefore}, wrong ${wrong}`);

  expect(ops.length).toBe(issued); // every op settled
  expect(wrong).toBe(0);
  expect(failed.length).toBeGreaterThan(0); // the fault was noticed
  if (mode === 'reset' || mode === 'fin') expect(failed.length).toBe(64);
  expect(failed.length).toBeLessThanOrEqual(64); // only what was in flight
  for (const op of failed) {
    expect(codes).toContain(op.code);
    expect(op.typed).toBe(true);
  }
  // Typically 1–10 ms and 5–30 ms (logged above). The bounds tell the fault path from the
  // timers on any machine: an op left to its command timeout would settle at COMMAND_TIMEOUT.
  expect(lastFailure - faultAt).toBeLessThan(COMMAND_TIMEOUT / 4);
  expect(firstOkAfter - faultAt).toBeLessThan(COMMAND_TIMEOUT / 4);
  expect(proxy.stats.accepted - acceptedBefore).toBe(1); // one new connection, no storm
  expect(ops.filter((o) => o.start > lastFailure).every((o) => o.ok)).toBe(true);
});

test('a stray well-formed reply with one caller at a time: the connection is recycled, no caller gets it', async () => {
  const client = new RedisClient({ port: proxy.port, commandTimeout: COMMAND_TIMEOUT });
  await client.command(['PING']);
  const acceptedBefore = proxy.stats.accepted;
  const results = [];
  let fired = false;
  proxy.fired.then(() => { fired = true; });
  proxy.set('extra', Buffer.from('+STALE\r\n'));
  for (let n = 0; n < 400; n++) {
    const key = `f${n % KEYS}`;
    results.push(await client.command(['GET', key]).then((v) => (isOwn(key, v) ? 'ok' : `wrong:${v}`), (e) => e.code));
  }
  await client.disconnect({ timeout: 500 });
  const tally = results.reduce((t, r) => ({ ...t, [r]: (t[r] ?? 0) + 1 }), {});
  console.log(`proxy extra, 1 in flight: ${JSON.stringify(tally)}, reconnects ${proxy.stats.accepted - acceptedBefore}`);
  expect(fired).toBe(true);
  expect(tally.ok).toBe(400);
  expect(proxy.stats.accepted - acceptedBefore).toBe(1);
});
