'use strict';

// R1: a restart of Redis in the middle of a 64-way GET/SET load (100,000 ops, 80 % GET /
// 20 % SET, SHUTDOWN at op 30,000, back 300 ms later). Every value embeds its key and a
// version, so a reply handed to the wrong caller is caught. Scale: RESTART_LOAD_OPS (default 100000).
const { startRedis } = require('../helpers/redis-server');
const { RedisClient } = require('../../lib');
const { watchTimerLag, allowing } = require('../helpers/timing');

let redis;
beforeAll(async () => { redis = await startRedis(); });
afterAll(async () => { await redis.cleanup(); });

test('restart mid-load: 0 wrong values, every op settles in time, service comes back', async () => {
  const commandTimeout = 500;
  const client = new RedisClient(redis.url, { commandTimeout });
  const lag = watchTimerLag();
  const total = Number(process.env.RESTART_LOAD_OPS ?? 100_000);
  const keys = 500;
  const version = new Map(); // key -> last acknowledged version
  let issued = 0;
  let ok = 0;
  let failed = 0;
  let wrong = 0;
  let slowest = 0;
  let restarted = false;
  let backAt; // when the restarted server accepts connections again
  let firstSuccessAfterBack = Infinity;
  const codes = new Set();

  async function worker() {
    while (issued < total) {
      const n = issued++;
      if (n === Math.floor(total * 0.3) && !restarted) {
        restarted = true;
        redis.restart(300).then(() => { backAt = performance.now(); }, () => {});
      }
      const k = `load${n % keys}`;
      const t0 = Date.now();
      try {
        if (n % 5 === 0) {
          const v = (version.get(k) ?? 0) + 1;
          await client.command(['SET', k, `${k}:v${v}`]);
          version.set(k, Math.max(version.get(k) ?? 0, v));
        } else {
          const value = await client.command(['GET', k]);
          if (value !== null && !value.startsWith(`${k}:v`)) wrong++;
        }
        ok++;
        if (backAt !== undefined) firstSuccessAfterBack = Math.min(firstSuccessAfterBack, performance.now() - backAt);
      } catch (error) {
        failed++;
        codes.add(error.code);
        await new Promise((r) => setTimeout(r, 10)); // a real caller would serve a miss
      }
      slowest = Math.max(slowest, Date.now() - t0);
    }
  }
  await Promise.all(Array.from({ length: 64 }, worker));
  // After the storm: the service is back.
  let back = false;
  for (let i = 0; i < 100 && !back; i++) {
    back = await client.command(['PING']).then(() => true, () => false);
    if (!back) await new Promise((r) => setTimeout(r, 20));
  }
  await client.disconnect();
  const worstLag = lag.stop();

  expect(wrong).toBe(0);
  expect(ok + failed).toBe(total);
  expect(back).toBe(true);
  expect(failed).toBeGreaterThan(0); // the restart was noticed
  for (const code of codes) expect(['ERR_REDIS_CONNECTION', 'ERR_REDIS_TIMEOUT', 'ERR_REDIS_CONNECT_TIMEOUT']).toContain(code);
  console.log(`R1: ${total} ops, ${failed} failed (${[...codes].join(', ')}), slowest ${slowest} ms, ` +
    `first success ${firstSuccessAfterBack.toFixed(0)} ms after the server was back, wrong ${wrong}, ` +
    `worst timer lateness ${worstLag.toFixed(0)} ms`);
  // Every op settles by its command timeout (observed as late as this thread's timers ran,
  // plus the JS thread's own backlog under 64-way load), never held by the restart.
  expect(slowest).toBeLessThanOrEqual(allowing(commandTimeout, worstLag, 700));
  // First success ≤ 500 ms after the server accepts again (the reconnect backoff is at most a
  // few hundred ms into a 300 ms outage; measured 132–216 ms). The sanitizer build (npm run
  // test:asan) gets twice the design figure.
  expect(firstSuccessAfterBack).toBeLessThanOrEqual(allowing(process.env.ASAN_OPTIONS ? 1000 : 500, worstLag));
});
