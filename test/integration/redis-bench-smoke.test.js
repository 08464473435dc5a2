'use strict';

// The Redis benchmark program must keep working (benchmarks are not tests: no timing is
// asserted here, only that every client ran, checked its values and made the tables, the
// JSON results and the chart, over plain TCP and over TLS).
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFile } = require('node:child_process');

const SCRIPT = path.join(__dirname, '..', '..', 'bench', 'js', 'redis.js');
const LABELS = ['native-cache-manager RedisClient', 'native-cache-manager RedisStore (Keyv format)',
  'native-cache-manager createCache({ stores: [RedisStore] })',
  'native-cache-manager RedisClient (ioThread: true)', 'native-cache-manager RedisStore (Keyv format, ioThread: true)', 'ioredis',
  'ioredis (enableAutoPipelining)', 'node-redis (redis)', 'cache-manager + Keyv(@keyv/redis)'];
const escape = (text) => text.replace(/[()+[\]{}]/g, '\\$&');
const TLS_SECTION = '### Redis GET / SET over TLS';
// A minute on a quiet machine, several under the sanitizer build on a loaded one: only a hang
// should fail a smoke run.
const RUN_TIMEOUT_MS = 900_000;

/** Runs the program with `tmp` as its temporary folder (certificates, the server's folder). */
function run(args, tmp = os.tmpdir()) {
  return new Promise((resolve) => {
    execFile(process.execPath, [SCRIPT, ...args], { encoding: 'utf8', timeout: RUN_TIMEOUT_MS, env: { ...process.env, TMPDIR: tmp } },
      (error, stdout, stderr) => resolve({ code: error ? (error.code ?? 1) : 0, stdout, stderr }));
  });
}

describe('bench/js/redis.js --quick', () => {
  let dir;
  let tmp;
  let result;
  let plain;
  let secure;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ncm-redis-bench-'));
    tmp = path.join(dir, 'tmp');
    fs.mkdirSync(tmp);
    result = await run(['--quick', '--json', path.join(dir, 'redis.json'), '--chart', path.join(dir, 'chart.svg')], tmp);
    [plain, secure = ''] = result.stdout.split(TLS_SECTION);
  }, RUN_TIMEOUT_MS + 60_000);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('exits 0, and leaves no certificate or server folder behind', () => {
    expect(result.stderr).not.toMatch(/Error/);
    expect(result.code).toBe(0);
    expect(fs.readdirSync(tmp)).toEqual([]);
  });

  test('measures every client with 100 B and 4 KiB values, and the redis-benchmark ceiling for both', () => {
    const [small, large] = plain.split('#### 4 KiB values');
    expect(small).toContain('#### 100 B values');
    for (const label of LABELS) {
      expect(small).toMatch(new RegExp(`^\\| ${escape(label)} \\|( [\\d.]+ [kM]/s \\(p50 [\\d.]+ µs, p99 [\\d.]+ µs\\) \\|){4}$`, 'm'));
      expect(large).toMatch(new RegExp(`^\\| ${escape(label)} \\| [\\d.]+ [kM]/s `, 'm'));
    }
    expect(small).toMatch(/Ceiling, `redis-benchmark -c 16 -P 16 -d 100` on the same server \(median of the rounds\): GET [\d.]+ [kM]\/s, SET [\d.]+ [kM]\/s/);
    expect(large).toMatch(/Ceiling, `redis-benchmark -c 16 -P 16 -d 4096` on the same server \(median of the rounds\): GET [\d.]+ [kM]\/s, SET [\d.]+ [kM]\/s/);
  });

  test('measures every client over TLS too (100 B values), with the TLS ceiling, our client against ioredis and node-redis, and the cost of TLS per client', () => {
    expect(secure).toContain('#### 100 B values over TLS');
    const [table, rest] = secure.split('#### Over TLS');
    const [versusAndModes, cost] = rest.split('#### The cost of TLS');
    const [versus, modes] = versusAndModes.split('#### The default against `ioThread: true`, over TLS');
    expect(modes).toMatch(/^\| native-cache-manager RedisClient: GET, 100 B, c=16 \| [\d.]+ [kM]\/s \(p50 [\d.]+ µs\) \| [\d.]+ [kM]\/s \(p50 [\d.]+ µs\) \| [\d.]+× \| [\d.]+× \|$/m);
    for (const label of LABELS) {
      expect(table).toMatch(new RegExp(`^\\| ${escape(label)} \\|( [\\d.]+ [kM]/s \\(p50 [\\d.]+ µs, p99 [\\d.]+ µs\\) \\|){4}$`, 'm'));
      expect(cost).toMatch(new RegExp(`^\\| ${escape(label)} \\|( [\\d.]+× \\(p50 [\\d.]+×\\) \\|){4}$`, 'm'));
    }
    expect(table).toMatch(/Ceiling, `redis-benchmark -c 16 -P 16 --tls -d 100` on the TLS port of the same server \(median of the rounds\): GET [\d.]+ [kM]\/s, SET [\d.]+ [kM]\/s/);
    expect(versus).toMatch(/^\| GET, 100 B, c=16 \| [\d.]+ [kM]\/s \| [\d.]+ [kM]\/s \| [\d.]+× \| [\d.]+ [kM]\/s \| [\d.]+× \| \d+ % \|$/m);
    expect(versus).toMatch(/^\| SET, 100 B \| [\d.]+ µs \| [\d.]+ µs \| [\d.]+× \| [\d.]+ µs \| [\d.]+× \|$/m);
    expect(cost).toMatch(/Ceiling, `redis-benchmark -c 16 -P 16 -d 100` over TLS ÷ over TCP: GET [\d.]+×, SET [\d.]+×\./);
    expect(secure).not.toContain('4 KiB');
  });

  test('records versions, CPU placement and the TLS set-up, and compares our client with the fastest other one', () => {
    expect(result.stdout).toMatch(/Node\.js v\d+/);
    expect(result.stdout).toMatch(/ioredis \d+\.\d+\.\d+, redis \d+\.\d+\.\d+, @keyv\/redis \d+\.\d+\.\d+/);
    expect(result.stdout).toMatch(/- redis-server \d+\.\d+\.\d+ on loopback/);
    expect(result.stdout).toMatch(/- concurrency 1: client and redis-server \(every thread\) pinned to CPU 0|- no CPU pinning/);
    expect(result.stdout).toMatch(/^- TLS: redis-server's TLS port \(the same server as the plain port\), TLSv1\.[23] with \S+ as Node negotiates it; /m);
    expect(plain).toMatch(/^\| GET, 100 B, c=16 \| [\d.]+ [kM]\/s \| [\d.]+ [kM]\/s \([^)]+\)?\) \| [\d.]+× \| \d+ % \|$/m);
    expect(plain).toMatch(/^\| GET, 100 B \| [\d.]+ µs \| [\d.]+ µs \| [\d.]+× \|$/m);
    // The default (Node's loop) against ioThread: true, both of our clients, every job.
    const modes = plain.slice(plain.indexOf('#### The default against `ioThread: true` (same run)'));
    for (const ours of ['native-cache-manager RedisClient', 'native-cache-manager RedisStore \\(Keyv format\\)']) {
      expect(modes).toMatch(new RegExp(`^\\| ${ours}: GET, 4 KiB, c=16 \\| [\\d.]+ [kM]/s \\(p50 [\\d.]+ µs\\) \\| [\\d.]+ [kM]/s \\(p50 [\\d.]+ µs\\) \\| [\\d.]+× \\| [\\d.]+× \\|$`, 'm'));
    }
  });

  test('compares createCache over RedisStore with cache-manager + Keyv(@keyv/redis): get, set and wrap hit, over both transports', () => {
    const row = (what) => new RegExp(`^\\| ${what}, 100 B, c=16 \\| [\\d.]+ [kM]/s \\(p50 [\\d.]+ µs\\) \\| [\\d.]+ [kM]/s \\(p50 [\\d.]+ µs\\) \\| [\\d.]+× \\| [\\d.]+× \\|$`, 'm');
    const [, viaCache] = plain.split('#### Through the cache-manager API: createCache against createCache (same run)');
    const [, viaCacheTls] = secure.split('#### Through the cache-manager API, over TLS: createCache against createCache (same run)');
    for (const section of [viaCache, viaCacheTls]) {
      expect(section).toBeDefined();
      for (const what of ['get', 'set', 'wrap hit']) expect(section).toMatch(row(what));
    }
    expect(viaCache).toMatch(/^\| get, 4 KiB, c=16 \| /m);
  });

  test('writes JSON results, positive for every job over both transports, and a chart with a bar per competitor', () => {
    const data = JSON.parse(fs.readFileSync(path.join(dir, 'redis.json'), 'utf8'));
    const redis = data.scenarios.redis;
    expect(redis.env.redis).toMatch(/^\d+\.\d+\.\d+$/);
    expect(redis.env.transports).toEqual(['tcp', 'tls']);
    expect(redis.env.tls.protocol).toMatch(/^TLSv1\.[23]$/);
    const byTransport = (t) => redis.results.filter((r) => r.job.transport === t);
    // 9 clients x GET, SET x c=1, 16 at 100 B, GET of 4 KiB at c=16 (plain TCP only), and
    // the wrap hits of the two createCache clients at 100 B.
    expect(byTransport('tcp')).toHaveLength(9 * 2 * 2 + 9 + 2 * 2);
    expect(byTransport('tls')).toHaveLength(9 * 2 * 2 + 2 * 2);
    expect(redis.results).toHaveLength(9 * 2 * 2 + 9 + 2 * 2 + 9 * 2 * 2 + 2 * 2);
    for (const { results } of redis.results) {
      for (const r of results) {
        expect(r.opsPerSec).toBeGreaterThan(0);
        expect(r.p50).toBeGreaterThan(0);
      }
    }
    for (const size of ['100', '4096']) {
      for (const op of ['GET', 'SET']) {
        expect(redis.ceilings[size][op][0]).toBeGreaterThan(0);
        expect(redis.tlsCeilings[size][op][0]).toBeGreaterThan(0);
      }
    }
    expect(redis.charts.map((c) => c.id)).toEqual(['redis-client', 'redis-store', 'redis-cache', 'redis-tls']);
    const svg = fs.readFileSync(path.join(dir, 'chart.svg'), 'utf8');
    expect(svg).toContain('>Redis client: GET / SET operations per second (smoke run)</text>');
    expect(svg).toContain('>Redis client over TLS: GET / SET operations per second (smoke run)</text>');
    // client panel: 5 rows x (3 clients + the ceiling at c=16 only); store panel: 5 rows x 1;
    // createCache panel: 7 rows (the store's and 2 wrap rows) x 1; TLS panel: 4 rows x (3
    // clients + the TLS ceiling at c=16 only).
    expect(svg.match(/<rect [^>]*><title>/g)).toHaveLength(5 * 3 + 3 + 5 + 7 + 4 * 3 + 2);
    expect(svg).toMatch(/<title>WRAP, 100 B, concurrency 16 vs cache-manager \+ Keyv\(@keyv\/redis\): [\d.]+×<\/title>/);
    expect(svg).toMatch(/<title>GET, 4 KiB, concurrency 16 vs redis-benchmark -c 16 -P 16 \(ceiling\): [\d.]+×<\/title>/);
    expect(svg).toMatch(/<title>SET, 100 B, concurrency 16 vs redis-benchmark -c 16 -P 16 --tls \(ceiling\): [\d.]+×<\/title>/);
  });
});

test('bench/js/redis.js --transport tls measures the TLS rows alone', async () => {
  const { code, stdout, stderr } = await run(['--quick', '--transport', 'tls', '--clients', 'ncm-client,ioredis', '--ops', 'GET', '--concurrency', '16', '--sizes', '100']);
  expect(stderr).not.toMatch(/Error/);
  expect(code).toBe(0);
  expect(stdout).not.toContain('### Redis GET / SET\n');
  expect(stdout).not.toContain('The cost of TLS');
  expect(stdout).toMatch(/^\| native-cache-manager RedisClient \| [\d.]+ [kM]\/s \(p50 [\d.]+ µs, p99 [\d.]+ µs\) \|$/m);
  expect(stdout).toMatch(/^\| GET, 100 B, c=16 \| [\d.]+ [kM]\/s \| [\d.]+ [kM]\/s \| [\d.]+× \| – \| – \| \d+ % \|$/m);
}, RUN_TIMEOUT_MS);

test('bench/js/redis.js refuses an unknown client, naming the known ones, and an unknown transport', async () => {
  const { code, stderr } = await run(['--clients', 'nope']);
  expect(code).not.toBe(0);
  expect(stderr).toContain("unknown client 'nope'; known: ncm-client");
  const other = await run(['--transport', 'quic']);
  expect(other.code).not.toBe(0);
  expect(other.stderr).toContain("--transport: 'quic' is not one of tcp, tls");
});
