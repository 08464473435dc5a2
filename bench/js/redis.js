'use strict';

/**
 * Redis GET/SET throughput and latency at concurrency 1, 16 and 128: our client and store
 * against ioredis (with and without auto-pipelining), node-redis and cache-manager +
 * @keyv/redis, all against one redis-server started here, with `redis-benchmark -c 16 -P 16`
 * on the same server as the ceiling.
 *
 *   node bench/js/redis.js [--quick] [--runs N] [--out file.md]
 *
 * Each (client, command, concurrency) job runs in a fresh child process. Concurrency 1 is
 * measured with the client and the server pinned to CPU 0 (taskset, when available): with
 * an idle second CPU, a one-at-a-time round trip on this kind of VM measures CPU wake-up
 * latency rather than the client. Every value embeds its key, and every GET checks it.
 */

const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { startRedis } = require('../../test/helpers/redis-server');
const { environment } = require('./lib/runner');
const { median } = require('./lib/stats');

const ROOT = path.join(__dirname, '..', '..');
const KEYS = 10_000;
const VALUE_BYTES = 100;

const valueFor = (i) => `k${i}:v1:`.padEnd(VALUE_BYTES, 'x');

/** Each driver: `open(url)` → `{ get(key), set(key, value), close() }` (promises). */
const DRIVERS = {
  'ncm-client': {
    label: 'native-cache-manager RedisClient',
    package: 'native-cache-manager',
    open(url) {
      const { RedisClient } = require(ROOT);
      const client = new RedisClient(url);
      return {
        get: (key) => client.command(['GET', key]),
        set: (key, value) => client.command(['SET', key, value]),
        close: () => client.disconnect(),
      };
    },
  },
  'ncm-store': {
    label: 'native-cache-manager RedisStore (Keyv format)',
    package: 'native-cache-manager',
    raw: false,
    open(url) {
      const { RedisStore } = require(ROOT);
      const store = new RedisStore(url);
      return { get: (key) => store.get(key), set: (key, value) => store.set(key, value), close: () => store.disconnect() };
    },
  },
  ioredis: {
    label: 'ioredis',
    package: 'ioredis',
    open(url) {
      const Redis = require('ioredis');
      const client = new Redis(url);
      return { get: (key) => client.get(key), set: (key, value) => client.set(key, value), close: () => client.quit() };
    },
  },
  'ioredis-autopipelining': {
    label: 'ioredis (enableAutoPipelining)',
    package: 'ioredis',
    open(url) {
      const Redis = require('ioredis');
      const client = new Redis(url, { enableAutoPipelining: true });
      return { get: (key) => client.get(key), set: (key, value) => client.set(key, value), close: () => client.quit() };
    },
  },
  'node-redis': {
    label: 'node-redis (redis)',
    package: 'redis',
    async open(url) {
      const { createClient } = require('redis');
      const client = createClient({ url });
      await client.connect();
      return { get: (key) => client.get(key), set: (key, value) => client.set(key, value), close: () => client.quit() };
    },
  },
  'cm-keyv-redis': {
    label: 'cache-manager + Keyv(@keyv/redis)',
    package: '@keyv/redis',
    raw: false,
    open(url) {
      const { createCache } = require('cache-manager');
      const { Keyv } = require('keyv');
      const { default: KeyvRedis } = require('@keyv/redis');
      const cache = createCache({ stores: [new Keyv({ store: new KeyvRedis(url) })] });
      return { get: (key) => cache.get(key), set: (key, value) => cache.set(key, value), close: () => cache.disconnect() };
    },
  },
};

const OPS = ['GET', 'SET'];
const CONCURRENCY = [1, 16, 128];

function parseArgs(argv) {
  const args = { quick: false, runs: 3, out: undefined, job: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') args.quick = true;
    else if (a === '--runs') args.runs = Number(argv[++i]);
    else if (a === '--out') args.out = argv[++i];
    else if (a === '--job') args.job = JSON.parse(argv[++i]);
    else throw new Error(`unknown argument '${a}'`);
  }
  if (!(args.runs >= 1)) throw new Error('--runs must be a number >= 1');
  return args;
}

/** Runs one job in this process: preload keys, warm up, then measure for a fixed time. */
async function runJob({ driver, op, concurrency, url, seconds }) {
  const client = await DRIVERS[driver].open(url);
  for (let i = 0; i < KEYS; i += 100) {
    await Promise.all(Array.from({ length: 100 }, (_, j) => client.set(`k${i + j}`, valueFor(i + j))));
  }
  const latencies = [];
  let ops = 0;
  let wrong = 0;
  let measuring = false;
  let stop = false;
  const worker = async (w) => {
    let i = w * 7919;
    while (!stop) {
      const k = i++ % KEYS;
      const t0 = process.hrtime.bigint();
      if (op === 'GET') {
        const v = await client.get(`k${k}`);
        if (v !== valueFor(k)) wrong++;
      } else {
        await client.set(`k${k}`, valueFor(k));
      }
      if (measuring) {
        latencies.push(Number(process.hrtime.bigint() - t0) / 1000);
        ops++;
      }
    }
  };
  const workers = Array.from({ length: concurrency }, (_, w) => worker(w));
  await new Promise((r) => setTimeout(r, seconds * 250));
  measuring = true;
  const started = process.hrtime.bigint();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  measuring = false;
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  stop = true;
  await Promise.all(workers);
  await client.close();
  if (wrong > 0) throw new Error(`${driver}: ${wrong} GETs returned another key's value or none`);
  latencies.sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))];
  return { opsPerSec: ops / elapsed, p50: pct(0.5), p99: pct(0.99) };
}

function hasTaskset() {
  return spawnSync('taskset', ['--version']).status === 0;
}

function runChild(job, pin) {
  const argv = [__filename, '--job', JSON.stringify(job)];
  const [cmd, args] = pin ? ['taskset', ['-c', '0', process.execPath, ...argv]] : [process.execPath, argv];
  const out = execFileSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 20, timeout: 120_000 });
  const line = out.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`job ${JSON.stringify(job)} printed no result`);
  return JSON.parse(line.slice(7));
}

function redisBenchmark(port, quick) {
  const n = quick ? '20000' : '2000000';
  const out = execFileSync('redis-benchmark', ['-h', '127.0.0.1', '-p', String(port), '-c', '16', '-P', '16',
    '-n', n, '-d', String(VALUE_BYTES), '-t', 'get,set', '-q'], { encoding: 'utf8', timeout: 120_000 });
  const rate = (name) => Number((out.match(new RegExp(`${name}: ([\\d.]+) requests per second`)) ?? [])[1]);
  return { GET: rate('GET'), SET: rate('SET') };
}

const fmtRate = (r) => (r >= 1e6 ? `${(r / 1e6).toFixed(2)} M` : `${Math.round(r / 1000)} k`);

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.job) {
    const result = await runJob(args.job);
    process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
    return;
  }
  const server = await startRedis();
  const pin = hasTaskset();
  try {
    if (pin) execFileSync('taskset', ['-pc', '0', String(server.pid)], { stdio: 'ignore' });
    const seconds = args.quick ? 0.2 : 1.5;
    const runs = args.quick ? 1 : args.runs;
    const results = new Map();
    for (let round = 0; round < runs; round++) {
      for (const concurrency of args.quick ? [1, 16] : CONCURRENCY) {
        for (const op of OPS) {
          for (const driver of Object.keys(DRIVERS)) {
            const r = runChild({ driver, op, concurrency, url: server.url, seconds }, pin && concurrency === 1);
            const key = `${driver}|${op}|${concurrency}`;
            if (!results.has(key)) results.set(key, []);
            results.get(key).push(r);
            process.stderr.write('.');
          }
        }
      }
    }
    process.stderr.write('\n');
    const ceiling = redisBenchmark(server.port, args.quick);
    const levels = args.quick ? [1, 16] : CONCURRENCY;
    const head = `| client | ${OPS.flatMap((op) => levels.map((c) => `${op} c=${c}`)).join(' | ')} |`;
    const sep = `|---|${OPS.flatMap(() => levels.map(() => '---:')).join('|')}|`;
    const rows = Object.entries(DRIVERS).map(([name, d]) => {
      const cells = OPS.flatMap((op) => levels.map((c) => {
        const list = results.get(`${name}|${op}|${c}`) ?? [];
        if (list.length === 0) return '–';
        const rate = median(list.map((r) => r.opsPerSec));
        const p50 = median(list.map((r) => r.p50));
        const p99 = median(list.map((r) => r.p99));
        return `${fmtRate(rate)}/s (p50 ${p50.toFixed(0)} µs, p99 ${p99.toFixed(0)} µs)`;
      }));
      return `| ${d.label} | ${cells.join(' | ')} |`;
    });
    const text = [
      environment({ program: 'bench/js/redis.js', packages: [...new Set(Object.values(DRIVERS).map((d) => d.package)), 'cache-manager'], runs }),
      `- redis-server ${execFileSync('redis-server', ['--version'], { encoding: 'utf8' }).match(/v=(\S+)/)?.[1]} on loopback; ${VALUE_BYTES}-byte values, ${KEYS.toLocaleString('en-US')} keys; c=1 pinned to CPU 0 with the server: ${pin ? 'yes' : 'no (taskset missing)'}`,
      '',
      '### Redis GET / SET: operations per second (median), with per-call latency',
      '',
      head, sep, ...rows,
      '',
      `Ceiling, \`redis-benchmark -c 16 -P 16 -d ${VALUE_BYTES}\` on the same server: GET ${fmtRate(ceiling.GET)}/s, SET ${fmtRate(ceiling.SET)}/s.`,
    ].join('\n');
    process.stdout.write(`${text}\n`);
    if (args.out) fs.writeFileSync(args.out, `${text}\n`);
  } finally {
    await server.cleanup();
  }
}

main().catch((error) => {
  process.stderr.write(`${error.stack}\n`);
  process.exitCode = 1;
});
