'use strict';

/**
 * Next.js cache handlers under load: requests per second of pages served from the cache, by
 * the same app (examples/nextjs-cache-handlers) built three ways and served by `next start`:
 *   - native-cache-manager/next over Redis (REDIS_URL set: memory tier over a redis-server),
 *   - native-cache-manager/next with REDIS_URL unset (memory only),
 *   - Next's own default cache (filesystem + in-process LRU for ISR, in-memory LRU for 'use cache').
 * Paths: an ISR page (/isr/bench) and a dynamic route whose data is a 'use cache' entry
 * (/api/quote?id=bench). A closed loop of `--concurrency` keep-alive clients, `--seconds`
 * measured after a warm-up, `--rounds` rounds with the servers interleaved; medians.
 *
 *   node bench/js/next-handlers.js [--seconds 5] [--rounds 3] [--concurrency 32] [--json file]
 */

const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { median } = require('./lib/stats');
const { closedLoop } = require('./lib/closed-loop');
const { environment, environmentInfo } = require('./lib/runner');
const { saveResults } = require('./chart');
const { startRedis } = require('../../test/helpers/redis-server');
const { nextApp, request, ROOT } = require('../../test/helpers/next-app');

const APP = path.join(ROOT, 'examples', 'nextjs-cache-handlers');

function args() {
  const out = { seconds: 5, rounds: 3, concurrency: 32, json: undefined };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i].replace(/^--/, '');
    if (!(name in out)) throw new Error(`unknown option ${argv[i]}`);
    out[name] = name === 'json' ? argv[i + 1] : Number(argv[i + 1]);
  }
  return out;
}

async function main() {
  const opts = args();
  const app = nextApp(APP);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ncm-next-bench-'));
  let redis;
  try {
    process.stderr.write('installing the package into the app and building it twice...\n');
    await app.install(tmp);
    for (const [dir, env] of [['.next-bench-ncm', {}], ['.next-bench-default', { NCM_HANDLERS: 'off' }]]) {
      const built = await app.build({ NEXT_DIST_DIR: dir, ...env });
      if (built.code !== 0) throw new Error(`next build failed:\n${built.output}`);
    }
    redis = await startRedis();
    const configs = [
      { name: 'native-cache-manager/next, Redis', env: { NEXT_DIST_DIR: '.next-bench-ncm', REDIS_URL: redis.url } },
      { name: 'native-cache-manager/next, memory only', env: { NEXT_DIST_DIR: '.next-bench-ncm' } },
      { name: "Next's default cache", env: { NEXT_DIST_DIR: '.next-bench-default', NCM_HANDLERS: 'off' } },
    ];
    for (const config of configs) config.server = await app.start(config.env);
    const paths = ['/isr/bench', '/api/quote?id=bench'];
    const results = new Map();
    for (let round = 0; round < opts.rounds; round++) {
      for (const urlPath of paths) {
        const order = round % 2 === 0 ? configs : [...configs].reverse();
        for (const config of order) {
          const agent = new http.Agent({ keepAlive: true, maxSockets: opts.concurrency });
          const { port } = config.server;
          const first = await request(port, 'GET', urlPath, undefined, {}, agent);
          if (first.status !== 200) throw new Error(`${config.name} ${urlPath}: HTTP ${first.status}`);
          const run = await closedLoop({
            concurrency: opts.concurrency,
            seconds: opts.seconds,
            step: async () => ((await request(port, 'GET', urlPath, undefined, {}, agent)).status === 200 ? 0 : 1),
          });
          agent.destroy();
          const key = `${urlPath}|${config.name}`;
          if (!results.has(key)) results.set(key, []);
          results.get(key).push(run);
          process.stderr.write(`round ${round + 1} ${urlPath} ${config.name}: ${Math.round(run.opsPerSec)} req/s\n`);
        }
      }
    }
    const rows = [];
    for (const urlPath of paths) {
      const base = median(results.get(`${urlPath}|${configs[2].name}`).map((r) => r.opsPerSec));
      for (const config of configs) {
        const runs = results.get(`${urlPath}|${config.name}`);
        const rps = median(runs.map((r) => r.opsPerSec));
        rows.push({
          path: urlPath, handler: config.name, rps,
          p50ms: median(runs.map((r) => r.p50)) / 1000, p99ms: median(runs.map((r) => r.p99)) / 1000,
          failed: runs.reduce((n, r) => n + r.wrong, 0), vsDefault: rps / base,
        });
      }
    }
    const info = environmentInfo({
      program: 'bench/js/next-handlers.js', packages: [], runs: opts.rounds,
      extra: [`next ${JSON.parse(fs.readFileSync(path.join(APP, 'node_modules', 'next', 'package.json'), 'utf8')).version}`,
        `closed loop, ${opts.concurrency} keep-alive clients, ${opts.seconds} s measured per round after a warm-up of a quarter of that`,
        `redis-server ${redis.version}; client, next start and redis-server share the machine's CPUs`],
    });
    // One server per configuration for the whole run (not a fresh process per job).
    const described = environment(info).replace(/, each job in a fresh child process/, ', the servers interleaved');
    const lines = [described, '',
      '| path | cache | req/s | p50 ms | p99 ms | failed | req/s ÷ default |',
      '|---|---|---:|---:|---:|---:|---:|',
      ...rows.map((r) => `| ${r.path} | ${r.handler} | ${Math.round(r.rps)} | ${r.p50ms.toFixed(1)} | ${r.p99ms.toFixed(1)} | ${r.failed} | ${r.vsDefault.toFixed(2)}× |`)];
    process.stdout.write(`${lines.join('\n')}\n`);
    // In the results format of docs/benchmarks/ (no chart panel: the figures are req/s of whole pages).
    if (opts.json) saveResults(opts.json, 'next-handlers', { title: 'Next.js cache handlers', env: info, results: rows, table: lines.join('\n'), charts: [] });
  } finally {
    app.stopAll();
    await redis?.cleanup();
    for (const dir of ['.next-bench-ncm', '.next-bench-default']) fs.rmSync(path.join(APP, dir), { recursive: true, force: true });
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
