'use strict';

// The Redis benchmark program must keep working (benchmarks are not tests: no timing is
// asserted here, only that every client ran, checked its values and made the tables, the
// JSON results and the chart).
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFile } = require('node:child_process');

const SCRIPT = path.join(__dirname, '..', '..', 'bench', 'js', 'redis.js');
const LABELS = ['native-cache-manager RedisClient', 'native-cache-manager RedisStore (Keyv format)', 'ioredis',
  'ioredis (enableAutoPipelining)', 'node-redis (redis)', 'cache-manager + Keyv(@keyv/redis)'];
const escape = (text) => text.replace(/[()+]/g, '\\$&');
// A minute on a quiet machine, several under the sanitizer build on a loaded one: only a hang
// should fail a smoke run.
const RUN_TIMEOUT_MS = 900_000;

function run(args) {
  return new Promise((resolve) => {
    execFile(process.execPath, [SCRIPT, ...args], { encoding: 'utf8', timeout: RUN_TIMEOUT_MS },
      (error, stdout, stderr) => resolve({ code: error ? (error.code ?? 1) : 0, stdout, stderr }));
  });
}

describe('bench/js/redis.js --quick', () => {
  let dir;
  let result;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ncm-redis-bench-'));
    result = await run(['--quick', '--json', path.join(dir, 'redis.json'), '--chart', path.join(dir, 'chart.svg')]);
  }, RUN_TIMEOUT_MS + 60_000);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('exits 0', () => {
    expect(result.stderr).not.toMatch(/Error/);
    expect(result.code).toBe(0);
  });

  test('measures every client with 100 B and 4 KiB values, and the redis-benchmark ceiling for both', () => {
    const [small, large] = result.stdout.split('#### 4 KiB values');
    expect(small).toContain('#### 100 B values');
    for (const label of LABELS) {
      expect(small).toMatch(new RegExp(`^\\| ${escape(label)} \\|( [\\d.]+ [kM]/s \\(p50 [\\d.]+ µs, p99 [\\d.]+ µs\\) \\|){4}$`, 'm'));
      expect(large).toMatch(new RegExp(`^\\| ${escape(label)} \\| [\\d.]+ [kM]/s `, 'm'));
    }
    expect(small).toMatch(/Ceiling, `redis-benchmark -c 16 -P 16 -d 100` on the same server \(median of the rounds\): GET [\d.]+ [kM]\/s, SET [\d.]+ [kM]\/s/);
    expect(large).toMatch(/Ceiling, `redis-benchmark -c 16 -P 16 -d 4096` on the same server \(median of the rounds\): GET [\d.]+ [kM]\/s, SET [\d.]+ [kM]\/s/);
  });

  test('records versions and CPU placement, and compares our client with the fastest other one', () => {
    expect(result.stdout).toMatch(/Node\.js v\d+/);
    expect(result.stdout).toMatch(/ioredis \d+\.\d+\.\d+, redis \d+\.\d+\.\d+, @keyv\/redis \d+\.\d+\.\d+/);
    expect(result.stdout).toMatch(/- redis-server \d+\.\d+\.\d+ on loopback/);
    expect(result.stdout).toMatch(/- concurrency 1: client and redis-server \(every thread\) pinned to CPU 0|- no CPU pinning/);
    expect(result.stdout).toMatch(/^\| GET, 100 B, c=16 \| [\d.]+ [kM]\/s \| [\d.]+ [kM]\/s \([^)]+\)?\) \| [\d.]+× \| \d+ % \|$/m);
    expect(result.stdout).toMatch(/^\| GET, 100 B \| [\d.]+ µs \| [\d.]+ µs \| [\d.]+× \|$/m);
  });

  test('writes JSON results and a chart with a bar per competitor', () => {
    const data = JSON.parse(fs.readFileSync(path.join(dir, 'redis.json'), 'utf8'));
    const redis = data.scenarios.redis;
    expect(redis.env.redis).toMatch(/^\d+\.\d+\.\d+$/);
    expect(redis.results).toHaveLength(6 * 2 * 2 + 6);
    expect(redis.charts.map((c) => c.id)).toEqual(['redis-client', 'redis-store']);
    const svg = fs.readFileSync(path.join(dir, 'chart.svg'), 'utf8');
    expect(svg).toContain('>Redis client: GET / SET operations per second (smoke run)</text>');
    // client panel: 5 rows x (3 clients + the ceiling at c=16 only); store panel: 5 rows x 1.
    expect(svg.match(/<rect [^>]*><title>/g)).toHaveLength(5 * 3 + 3 + 5);
    expect(svg).toMatch(/<title>GET, 4 KiB, concurrency 16 vs redis-benchmark -c 16 -P 16 \(ceiling\): [\d.]+×<\/title>/);
  });
});

test('bench/js/redis.js refuses an unknown client, naming the known ones', async () => {
  const { code, stderr } = await run(['--clients', 'nope']);
  expect(code).not.toBe(0);
  expect(stderr).toContain("unknown client 'nope'; known: ncm-client");
});
