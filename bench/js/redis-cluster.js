'use strict';

/**
 * Redis Cluster throughput and latency: GET and SET of 100-byte values at concurrency 16 and
 * 128, and an MGET of 100 keys spread over the slots (concurrency 16), for our
 * RedisClusterClient against ioredis `Cluster` (with and without auto-pipelining) and
 * node-redis `createCluster`, all against one 3-primary cluster of redis-server processes
 * started here on loopback.
 *
 *   node bench/js/redis-cluster.js [--quick] [--runs N] [--seconds S] [--clients a,b] [--json file]
 *
 *   --runs     rounds (default 3); each round runs every job once, competitors interleaved
 *              (their order rotates from round to round); tables report the medians
 *   --seconds  measured time per job (default 4; --quick: 1)
 *
 * An MGET across slots is one call for us (split by slot inside the client, answered in
 * order). ioredis and node-redis refuse an MGET whose keys span slots (CROSSSLOT), so for
 * them the row is what their users write instead: the 100 GETs issued together
 * (`Promise.all`), which their clients pipeline per node. Every value embeds its key, and
 * every read checks it.
 */

const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { median } = require('./lib/stats');
const { closedLoop } = require('./lib/closed-loop');
const { environment, environmentInfo } = require('./lib/runner');
const { saveResults } = require('./chart');

const ROOT = path.resolve(__dirname, '../..');
const KEYS = 10_000;
const SIZE = 100;

const keyFor = (i) => `bench:${i}`;
const valueFor = (i) => `${keyFor(i)}:`.padEnd(SIZE, 'x');

/** Each driver: `open(seeds)` → `{ get(key), set(key, value), mget(keys), close() }`. */
const DRIVERS = {
  ncm: {
    label: 'native-cache-manager RedisClusterClient',
    open(seeds) {
      const { RedisClusterClient } = require(ROOT);
      const client = new RedisClusterClient({ cluster: { nodes: seeds } });
      return {
        get: (key) => client.command(['GET', key]),
        set: (key, value) => client.command(['SET', key, value]),
        mget: (keys) => client.command(['MGET', ...keys]),
        close: () => client.disconnect(),
      };
    },
  },
  ioredis: {
    label: 'ioredis Cluster',
    open: (seeds) => ioredisCluster(seeds, false),
  },
  'ioredis-autopipelining': {
    label: 'ioredis Cluster (enableAutoPipelining)',
    open: (seeds) => ioredisCluster(seeds, true),
  },
  'node-redis': {
    label: 'node-redis createCluster',
    async open(seeds) {
      const { createCluster } = require('redis');
      const cluster = createCluster({ rootNodes: seeds.map((url) => ({ url })) });
      await cluster.connect();
      return {
        get: (key) => cluster.get(key),
        set: (key, value) => cluster.set(key, value),
        mget: (keys) => Promise.all(keys.map((k) => cluster.get(k))),
        close: () => cluster.quit(),
      };
    },
  },
};

async function ioredisCluster(seeds, enableAutoPipelining) {
  const { Cluster } = require('ioredis');
  const cluster = new Cluster(seeds.map((url) => { const u = new URL(url); return { host: u.hostname, port: Number(u.port) }; }),
    { enableAutoPipelining });
  await new Promise((resolve, reject) => { cluster.once('ready', resolve); cluster.once('error', reject); });
  return {
    get: (key) => cluster.get(key),
    set: (key, value) => cluster.set(key, value),
    mget: (keys) => Promise.all(keys.map((k) => cluster.get(k))),
    close: () => cluster.quit(),
  };
}

const JOBS = [
  { op: 'GET', concurrency: 16 }, { op: 'GET', concurrency: 128 },
  { op: 'SET', concurrency: 16 }, { op: 'SET', concurrency: 128 },
  { op: 'MGET100', concurrency: 16 },
];

async function runJob({ driver, op, concurrency, seeds, seconds }) {
  const client = await DRIVERS[driver].open(seeds);
  for (let i = 0; i < KEYS; i += 100) {
    await Promise.all(Array.from({ length: 100 }, (_, j) => client.set(keyFor(i + j), valueFor(i + j))));
  }
  const result = await closedLoop({
    concurrency,
    seconds,
    async step(n) {
      if (op === 'GET') {
        const k = n % KEYS;
        return (await client.get(keyFor(k))) === valueFor(k) ? 0 : 1;
      }
      if (op === 'SET') {
        const k = n % KEYS;
        await client.set(keyFor(k), valueFor(k));
        return 0;
      }
      const first = (n * 100) % (KEYS - 100);
      const values = await client.mget(Array.from({ length: 100 }, (_, j) => keyFor(first + j)));
      let wrong = 0;
      for (let j = 0; j < 100; j++) if (values[j] !== valueFor(first + j)) wrong++;
      return wrong;
    },
  });
  await client.close();
  if (result.wrong > 0) throw new Error(`${driver}: ${result.wrong} reads returned another key's value or none`);
  return { opsPerSec: result.opsPerSec, p50: result.p50, p99: result.p99 };
}

function parseArgs(argv) {
  const args = { quick: false, runs: 3, seconds: undefined, clients: Object.keys(DRIVERS), json: undefined, job: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') args.quick = true;
    else if (a === '--runs') args.runs = Number(argv[++i]);
    else if (a === '--seconds') args.seconds = Number(argv[++i]);
    else if (a === '--clients') args.clients = String(argv[++i]).split(',').map((c) => c.trim()).filter(Boolean);
    else if (a === '--json') args.json = argv[++i];
    else if (a === '--job') args.job = JSON.parse(argv[++i]);
    else throw new Error(`unknown argument '${a}' (see the comment at the top of bench/js/redis-cluster.js)`);
  }
  if (!Number.isInteger(args.runs) || args.runs < 1) throw new Error(`--runs must be a positive integer; received ${args.runs}`);
  args.seconds ??= args.quick ? 1 : 4;
  if (!(args.seconds > 0 && args.seconds <= 600)) throw new Error(`--seconds must be in (0, 600]; received ${args.seconds}`);
  for (const c of args.clients) {
    if (!DRIVERS[c]) throw new Error(`unknown client '${c}'; known: ${Object.keys(DRIVERS).join(', ')}`);
  }
  if (!args.clients.includes('ncm')) throw new Error("--clients must include 'ncm' (the ratios are against it)");
  return args;
}

const fmtRate = (r) => (r >= 1e6 ? `${(r / 1e6).toFixed(2)} M` : r >= 10_000 ? `${Math.round(r / 1000)} k` : String(Math.round(r)));
const fmtUs = (us) => (us >= 100 ? us.toFixed(0) : us.toFixed(1));

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.job) {
    const result = await runJob(args.job);
    process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
    return;
  }
  const { startCluster } = require('../../test/helpers/redis-cluster');
  process.stderr.write('starting a 3-primary cluster … ');
  const cluster = await startCluster({ replicas: 0 });
  process.stderr.write('up\n');
  const results = new Map(); // 'driver op c' → [result per round]
  try {
    for (let round = 0; round < args.runs; round++) {
      const k = round % args.clients.length;
      const order = [...args.clients.slice(k), ...args.clients.slice(0, k)];
      for (const { op, concurrency } of JOBS) {
        for (const driver of order) {
          const job = { driver, op, concurrency, seeds: cluster.urls.slice(0, 1), seconds: args.seconds };
          const out = execFileSync(process.execPath, [__filename, '--job', JSON.stringify(job)], { encoding: 'utf8', timeout: 300_000 });
          const line = out.split('\n').find((l) => l.startsWith('RESULT '));
          const id = `${driver} ${op} ${concurrency}`;
          if (!results.has(id)) results.set(id, []);
          results.get(id).push(JSON.parse(line.slice(7)));
          process.stderr.write('.');
        }
      }
      process.stderr.write(` round ${round + 1}/${args.runs}\n`);
    }
  } finally {
    await cluster.cleanup();
  }
  const env = environmentInfo({ program: 'bench/js/redis-cluster.js', packages: ['ioredis', 'redis'], runs: args.runs });
  const lines = [
    `# Redis Cluster: 3 primaries on loopback, ${SIZE}-byte values, ${args.runs} round(s) of ${args.seconds} s per job, medians`,
    '',
    environment(env),
    '',
    '| command | concurrency | client | ops/s | p50 µs | p99 µs | ours ÷ theirs |',
    '|---|---:|---|---:|---:|---:|---:|',
  ];
  const summary = [];
  for (const { op, concurrency } of JOBS) {
    const ours = median(results.get(`ncm ${op} ${concurrency}`).map((r) => r.opsPerSec));
    for (const driver of args.clients) {
      const rounds = results.get(`${driver} ${op} ${concurrency}`);
      const rate = median(rounds.map((r) => r.opsPerSec));
      const ratio = driver === 'ncm' ? '' : `${(ours / rate).toFixed(2)}×`;
      const name = op === 'MGET100' ? 'MGET of 100 keys across slots' : op;
      lines.push(`| ${name} | ${concurrency} | ${DRIVERS[driver].label} | ${fmtRate(rate)} | ${fmtUs(median(rounds.map((r) => r.p50)))} | ${fmtUs(median(rounds.map((r) => r.p99)))} | ${ratio} |`);
      summary.push({ op, concurrency, driver, opsPerSec: rate, rounds });
    }
  }
  const text = lines.join('\n');
  process.stdout.write(`${text}\n`);
  // A results file as the other benchmarks write them (bench/js/chart.js reads every one in
  // the folder); no chart panel of its own.
  if (args.json) saveResults(args.json, 'redis-cluster', { title: 'Redis Cluster', env, quick: args.quick, results: summary, table: text, charts: [] });
}

main().catch((error) => {
  process.stderr.write(`${error.stack}\n`);
  process.exit(1);
});
