'use strict';

// R1 in small: a restart of Redis in the middle of a 64-way GET/SET load. Every value
// embeds its key and a version, so a reply handed to the wrong caller is caught.
const { startRedis } = require('../helpers/redis-server');
const { RedisClient } = require('../../lib');

let redis;
beforeAll(async () => { redis = await startRedis(); });
afterAll(async () => { await redis.cleanup(); });

test('restart mid-load: 0 wrong values, every op settles in time, service comes back', async () => {
  const commandTimeout = 500;
  const client = new RedisClient(redis.url, { commandTimeout });
  const total = 20_000;
  const keys = 500;
  const version = new Map(); // key -> last acknowledged version
  let issued = 0;
  let ok = 0;
  let failed = 0;
  let wrong = 0;
  let slowest = 0;
  let restarted = false;
  const codes = new Set();

  async function worker() {
    while (issued < total) {
      const n = issued++;
      if (n === Math.floor(total * 0.3) && !restarted) {
        restarted = true;
        redis.restart(300).catch(() => {});
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

  expect(wrong).toBe(0);
  expect(ok + failed).toBe(total);
  expect(back).toBe(true);
  expect(failed).toBeGreaterThan(0); // the restart was noticed
  for (const code of codes) expect(['ERR_REDIS_CONNECTION', 'ERR_REDIS_TIMEOUT', 'ERR_REDIS_CONNECT_TIMEOUT']).toContain(code);
  // Bounded by the timeout (plus scheduling slack on a loaded 2-core machine), not by the
  // restart (300 ms down) or a reconnect backoff.
  expect(slowest).toBeLessThanOrEqual(commandTimeout + 700);
});
