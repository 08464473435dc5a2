'use strict';

// The Redis benchmark program must keep working (benchmarks are not tests: no timing is
// asserted here, only that every client ran, checked its values and made the table).
const path = require('node:path');
const { execFile } = require('node:child_process');

test('bench/js/redis.js --quick measures every client and the redis-benchmark ceiling', async () => {
  const out = await new Promise((resolve, reject) => {
    execFile(process.execPath, [path.join(__dirname, '..', '..', 'bench', 'js', 'redis.js'), '--quick'],
      { encoding: 'utf8', timeout: 240_000 }, (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout)));
  });
  for (const label of ['native-cache-manager RedisClient', 'native-cache-manager RedisStore', 'ioredis',
    'ioredis (enableAutoPipelining)', 'node-redis (redis)', 'cache-manager + Keyv(@keyv/redis)']) {
    expect(out).toMatch(new RegExp(`\\| ${label.replace(/[()+]/g, '\\$&')}[^|]* \\| [\\d.]+ [kM]/s`));
  }
  expect(out).toMatch(/Ceiling, `redis-benchmark -c 16 -P 16 -d 100` on the same server: GET [\d.]+ [kM]\/s, SET [\d.]+ [kM]\/s/);
}, 300_000);
