'use strict';

// R2: `CLIENT KILL TYPE normal` every 2 s during a 64-way load of INCR, GET and SET. The
// ops in flight on the killed connection must be rejected by the FIN (not by their command
// timeout), the client must reconnect without waiting out its backoff cap, and the INCR
// counter must end in [acked, acked + rejected]: an INCR that was written and never answered
// may or may not have run, but it is never re-sent.
//
// Scale: CLIENT_KILL_DURATION_MS (default 10000; the full-size run uses 60000), CLIENT_KILL_EVERY_MS (2000).

const net = require('node:net');
const { startRedis } = require('../helpers/redis-server');
const { RedisClient } = require('../../lib');

const DURATION_MS = Number(process.env.CLIENT_KILL_DURATION_MS ?? 10_000);
const EVERY_MS = Number(process.env.CLIENT_KILL_EVERY_MS ?? 2000);
const KEYS = 256;
const PAYLOAD = 'q'.repeat(48);
// Far above what a FIN-driven rejection takes even on a loaded machine, so a rejection that
// waited for its timer cannot pass for one caused by the kill.
const COMMAND_TIMEOUT = 10_000;
const BACKOFF_CAP = 2000; // the client's default maxBackoff
jest.setTimeout(DURATION_MS + 30_000);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const versioned = (key, v) => `${key}:v${v}:${PAYLOAD}`;
const isOwn = (key, value) => typeof value === 'string' && value.startsWith(`${key}:v`) && value.endsWith(`:${PAYLOAD}`)
  && /^\d+$/.test(value.slice(key.length + 2, -PAYLOAD.length - 1));

let redis;
beforeAll(async () => { redis = await startRedis(); });
afterAll(async () => { await redis.cleanup(); });

/** A raw connection of its own that sends CLIENT KILL (it skips itself) and reads `:n`. */
async function killer(port) {
  const socket = net.connect({ host: '127.0.0.1', port });
  socket.setNoDelay(true);
  await new Promise((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject); });
  let waiting;
  let buffered = '';
  socket.on('data', (d) => {
    buffered += d.toString('latin1');
    const nl = buffered.indexOf('\r\n');
    if (nl >= 0 && waiting) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 2);
      const w = waiting;
      waiting = undefined;
      w(line);
    }
  });
  return {
    kill() {
      return new Promise((resolve) => {
        waiting = resolve;
        socket.write('*4\r\n$6\r\nCLIENT\r\n$4\r\nKILL\r\n$4\r\nTYPE\r\n$6\r\nnormal\r\n');
      });
    },
    close() { socket.destroy(); },
  };
}

test('CLIENT KILL TYPE normal every 2 s under load: fast rejections, fast reconnect, no INCR re-sent', async () => {
  const client = new RedisClient(redis.url, { commandTimeout: COMMAND_TIMEOUT });
  await client.command(['DEL', 'r2:counter']);
  await Promise.all(Array.from({ length: KEYS }, (_, i) => client.command(['SET', `c${i}`, versioned(`c${i}`, 0)])));
  const k = await killer(redis.port);

  const ops = []; // { start, end, kind, ok, wrong, code }
  let acked = 0;
  let rejectedIncr = 0;
  let issued = 0;
  let stop = false;
  async function worker(w) {
    for (let n = 0; !stop; n++) {
      const key = `c${(w * 41 + n * 13) % KEYS}`;
      const kind = n % 2 === 0 ? 'INCR' : (n % 5 === 1 ? 'SET' : 'GET');
      const op = { start: performance.now(), kind };
      issued++;
      try {
        if (kind === 'INCR') {
          const v = await client.command(['INCR', 'r2:counter']);
          op.ok = Number.isInteger(v) && v > 0;
          acked++;
        } else if (kind === 'SET') {
          op.ok = (await client.command(['SET', key, versioned(key, w * 1_000_000 + n)])) === 'OK';
        } else {
          op.ok = isOwn(key, await client.command(['GET', key]));
        }
        op.wrong = !op.ok;
      } catch (error) {
        op.code = error.code;
        if (kind === 'INCR') rejectedIncr++;
        await sleep(2);
      }
      op.end = performance.now();
      ops.push(op);
    }
  }
  const workers = Array.from({ length: 64 }, (_, i) => worker(i));
  const kills = []; // { at, replied, killed }
  const t0 = performance.now();
  while (performance.now() - t0 < DURATION_MS) {
    await sleep(EVERY_MS);
    const at = performance.now();
    const line = await k.kill();
    kills.push({ at, replied: performance.now(), killed: Number(line.slice(1)) });
  }
  const scheduled = kills.length;
  // The pipeline is empty for part of each round trip (the callers are busy with the last
  // replies), so a kill can land between two batches. Make sure the in-flight path was
  // exercised: extra kills every 200 ms until one catches ops in flight (at most 50).
  const caught = (kill) => ops.some((o) => o.code !== undefined && o.end >= kill.at);
  await sleep(100);
  for (let extra = 0; extra < 50 && !kills.some(caught); extra++) {
    await sleep(200);
    const at = performance.now();
    const line = await k.kill();
    kills.push({ at, replied: performance.now(), killed: Number(line.slice(1)) });
    await sleep(50);
  }
  await sleep(300);
  stop = true;
  await Promise.all(workers);
  const counter = Number(await client.command(['GET', 'r2:counter']));
  await client.disconnect();
  k.close();

  const failed = ops.filter((o) => o.code !== undefined);
  const wrong = ops.filter((o) => o.wrong).length;
  const perKill = kills.map((kill, i) => {
    const next = kills[i + 1]?.at ?? Infinity;
    const rejected = failed.filter((o) => o.end >= kill.at && o.end < next);
    const lastReject = rejected.reduce((m, o) => Math.max(m, o.end - kill.at), 0);
    const back = ops.filter((o) => o.ok && o.start >= kill.at + lastReject && o.end < next)
      .reduce((m, o) => Math.min(m, o.end), Infinity) - kill.at;
    return { killed: kill.killed, rejected: rejected.length, lastReject, back };
  });
  const worstReject = Math.max(...perKill.map((p) => p.lastReject));
  const worstBack = Math.max(...perKill.map((p) => p.back));
  console.log(`R2 ${DURATION_MS} ms, kill every ${EVERY_MS} ms, 64 in flight: kills ${kills.length} `
    + `(${kills.length - scheduled} extra), ops ${ops.length}, `
    + `failed ${failed.length} (${[...new Set(failed.map((o) => o.code))].join(',')}), in-flight rejected per kill `
    + `${perKill.map((p) => p.rejected).join('/')}, last rejection ≤ ${worstReject.toFixed(1)} ms after the kill, `
    + `first success ≤ ${worstBack.toFixed(1)} ms after the kill, INCR acked ${acked}, rejected ${rejectedIncr}, `
    + `counter ${counter}, wrong ${wrong}`);

  expect(ops.length).toBe(issued);
  expect(wrong).toBe(0);
  expect(scheduled).toBeGreaterThanOrEqual(Math.floor(DURATION_MS / EVERY_MS) - 1);
  for (const p of perKill) {
    expect(p.killed).toBe(1); // our one connection was there to kill
    // Only what was in flight; none when the FIN fell between two batches of the pipeline.
    expect(p.rejected).toBeLessThanOrEqual(64);
  }
  expect(failed.length).toBeGreaterThan(0);
  for (const op of failed) expect(op.code).toBe('ERR_REDIS_CONNECTION');
  // Redis sends the FIN 5–15 ms after the kill; rejections typically land 5–8 ms after it
  // (logged above). The bounds separate the FIN path from the timers, whatever the load:
  // an op left to its command timeout would take COMMAND_TIMEOUT, and a reconnect that
  // waited for the backoff to grow would take up to its cap.
  expect(worstReject).toBeLessThan(COMMAND_TIMEOUT / 4);
  expect(worstBack).toBeLessThan(BACKOFF_CAP);
  expect(counter).toBeGreaterThanOrEqual(acked);
  expect(counter).toBeLessThanOrEqual(acked + rejectedIncr);
});
