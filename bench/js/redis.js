'use strict';

/**
 * Redis GET/SET throughput and latency at concurrency 1, 16 and 128, with 100-byte and
 * 4 KiB values: our client and store against ioredis (with and without auto-pipelining),
 * node-redis and cache-manager + @keyv/redis, all against one redis-server started here,
 * with `redis-benchmark -c 16 -P 16` on the same server as the ceiling.
 *
 *   node bench/js/redis.js [--quick] [--runs N] [--pin separate|none] [--out file.md]
 *                          [--json results.json] [--chart chart.svg]
 *                          [--clients a,b] [--ops GET] [--concurrency 1,128] [--sizes 100,4096]
 *                          [--baseline ../other-checkout]
 *
 *   --runs    rounds (default 3); each round runs every job once, competitors interleaved
 *             (their order rotates from round to round), and tables report the medians
 *   --pin     CPU placement at concurrency 16 and 128 (concurrency 1 is always pinned, below):
 *             `separate` (default): redis-server on CPU 0, the client and redis-benchmark on
 *             CPU 1; `none`: the server and the clients float over every CPU
 *   --clients, --ops, --concurrency, --sizes   measure only these (default: all; `--list` names the clients)
 *   --baseline  also measure native-cache-manager as built in another checkout (its own
 *             build/Release addon), interleaved with this one in every round, and add a table
 *             of this build against it: how to compare a change with the code before it
 *   --json    also write the results (raw figures, tables, chart data, environment) to this
 *             file; --chart then draws the SVG from every *.json in that folder (chart.js)
 *
 * Each (client, command, value size, concurrency) job runs in a fresh child process. A job
 * that fails (on a stalled machine a 500 ms command timeout can fire) runs again, at most
 * twice; stderr shows an `R` for each rerun, and the results files count them.
 * Concurrency 1 is measured with the client and every thread of the server pinned to CPU 0
 * (taskset): with an idle second CPU, a one-at-a-time round trip on this kind of VM measures
 * how fast a sleeping CPU wakes up rather than the client. Every value embeds its key, and
 * every GET checks it.
 */

const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startRedis } = require('../../test/helpers/redis-server');
const { environment, environmentInfo } = require('./lib/runner');
const chart = require('./chart');
const { median } = require('./lib/stats');

const ROOT = path.join(__dirname, '..', '..');
const KEYS = 10_000;
const SIZES = [100, 4096];
const SIZE_LABELS = { 100: '100 B', 4096: '4 KiB' };

const keyFor = (i, size) => `k${size}:${i}`;
const valueFor = (i, size) => `${keyFor(i, size)}:v1:`.padEnd(size, 'x');

/** Each driver: `open(url)` → `{ get(key), set(key, value), close() }` (promises). */
const DRIVERS = {
  'ncm-client': {
    label: 'native-cache-manager RedisClient',
    package: 'native-cache-manager',
    open(url, root = ROOT) {
      const { RedisClient } = require(root);
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
    open(url, root = ROOT) {
      const { RedisStore } = require(root);
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
const OURS = 'ncm-client';
const OUR_STORE = 'ncm-store';
const RAW_CLIENTS = ['ioredis', 'ioredis-autopipelining', 'node-redis'];
const CEILING = 'redis-benchmark -c 16 -P 16';
const BASELINE = '@baseline';

/** Our drivers once more, loading the package from `root` (see --baseline). */
function addBaselineDrivers(root) {
  for (const name of [OURS, OUR_STORE]) {
    DRIVERS[`${name}${BASELINE}`] = { ...DRIVERS[name], label: `${DRIVERS[name].label}, baseline build`, root };
  }
}

function parseArgs(argv) {
  const args = {
    quick: false, runs: 3, pin: 'separate', out: undefined, json: undefined, chart: undefined, job: undefined, baseline: undefined,
    clients: Object.keys(DRIVERS), ops: OPS, concurrency: undefined, sizes: SIZES,
  };
  const list = (v) => String(v ?? '').split(',').map((x) => x.trim()).filter(Boolean);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') args.quick = true;
    else if (a === '--list') args.list = true;
    else if (a === '--runs') args.runs = Number(argv[++i]);
    else if (a === '--pin') args.pin = argv[++i];
    else if (a === '--out') args.out = argv[++i];
    else if (a === '--json') args.json = argv[++i];
    else if (a === '--chart') args.chart = argv[++i];
    else if (a === '--baseline') args.baseline = path.resolve(argv[++i]);
    else if (a === '--job') args.job = JSON.parse(argv[++i]);
    else if (a === '--clients') args.clients = list(argv[++i]);
    else if (a === '--concurrency') args.concurrency = list(argv[++i]).map(Number);
    else if (a === '--ops') args.ops = list(argv[++i]).map((o) => o.toUpperCase());
    else if (a === '--sizes') args.sizes = list(argv[++i]).map(Number);
    else throw new Error(`unknown argument '${a}' (see the comment at the top of bench/js/redis.js)`);
  }
  if (!Number.isInteger(args.runs) || args.runs < 1) throw new Error(`--runs must be a positive integer; received ${args.runs}`);
  if (!['separate', 'none'].includes(args.pin)) throw new Error(`--pin must be 'separate' or 'none'; received '${args.pin}'`);
  if (args.chart !== undefined && args.json === undefined) throw new Error('--chart needs --json (the chart is drawn from the results files)');
  if (args.baseline !== undefined && args.job === undefined) {
    if (!fs.existsSync(path.join(args.baseline, 'build', 'Release', 'native_cache_manager.node'))) {
      throw new Error(`--baseline: ${args.baseline} has no build/Release/native_cache_manager.node (build it there first)`);
    }
    addBaselineDrivers(args.baseline);
    args.clients = args.clients.flatMap((c) => (DRIVERS[`${c}${BASELINE}`] ? [c, `${c}${BASELINE}`] : [c]));
  }
  for (const c of args.clients) {
    if (!DRIVERS[c]) throw new Error(`unknown client '${c}'; known: ${Object.keys(DRIVERS).join(', ')}`);
  }
  for (const op of args.ops) {
    if (!OPS.includes(op)) throw new Error(`--ops: '${op}' is not one of ${OPS.join(', ')}`);
  }
  for (const size of args.sizes) {
    if (!SIZES.includes(size)) throw new Error(`--sizes: ${size} is not one of ${SIZES.join(', ')}`);
  }
  for (const c of args.concurrency ?? []) {
    if (!Number.isInteger(c) || c < 1) throw new Error(`--concurrency: ${c} is not a positive integer`);
  }
  return args;
}

/** Runs one job in this process: preload keys, warm up, then measure for a fixed time. */
async function runJob({ driver, op, concurrency, size, url, seconds, root }) {
  const client = await DRIVERS[driver.replace(BASELINE, '')].open(url, root);
  for (let i = 0; i < KEYS; i += 100) {
    await Promise.all(Array.from({ length: 100 }, (_, j) => client.set(keyFor(i + j, size), valueFor(i + j, size))));
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
        const v = await client.get(keyFor(k, size));
        if (v !== valueFor(k, size)) wrong++;
      } else {
        await client.set(keyFor(k, size), valueFor(k, size));
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

/** `[command, args]` that runs `cmd args` on `cpu` (or unpinned when cpu is undefined). */
function onCpu(cpu, cmd, args) {
  return cpu === undefined ? [cmd, args] : ['taskset', ['-c', String(cpu), cmd, ...args]];
}

function runChild(job, cpu) {
  const [cmd, args] = onCpu(cpu, process.execPath, [__filename, '--job', JSON.stringify(job)]);
  const out = execFileSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 20, timeout: 120_000 });
  const line = out.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`job ${JSON.stringify(job)} printed no result`);
  return JSON.parse(line.slice(7));
}

function redisBenchmark(port, size, quick, cpu) {
  const n = quick ? 20_000 : (size > 1024 ? 400_000 : 1_000_000);
  const [cmd, args] = onCpu(cpu, 'redis-benchmark', ['-h', '127.0.0.1', '-p', String(port), '-c', '16', '-P', '16',
    '-n', String(n), '-d', String(size), '-t', 'get,set', '-q']);
  const out = execFileSync(cmd, args, { encoding: 'utf8', timeout: 120_000 });
  const rate = (name) => Number((out.match(new RegExp(`${name}: ([\\d.]+) requests per second`)) ?? [])[1]);
  return { GET: rate('GET'), SET: rate('SET') };
}

/** Every thread of process `pid` onto `cpus` ('0', '0-1', …). */
function pinProcess(pid, cpus) {
  execFileSync('taskset', ['-a', '-pc', cpus, String(pid)], { stdio: 'ignore' });
}

const fmtRate = (r) => (r >= 1e6 ? `${(r / 1e6).toFixed(2)} M` : `${Math.round(r / 1000)} k`);
const fmtUs = (us) => (us >= 100 ? us.toFixed(0) : us.toFixed(1));
const fmtRatio = (r) => `${r.toFixed(2)}×`;

/** The jobs of one round, in the order they run (competitors interleaved, rotated by round). */
function roundJobs({ quick, clients, ops, sizes, levels }, round) {
  const names = clients;
  const k = round % names.length;
  const rotated = [...names.slice(k), ...names.slice(0, k)];
  const jobs = [];
  for (const size of sizes) {
    for (const concurrency of levels) {
      for (const op of ops) {
        // A smoke run keeps 4 KiB to GET at concurrency 16.
        if (quick && size !== SIZES[0] && (op !== 'GET' || concurrency !== 16)) continue;
        for (const driver of rotated) jobs.push({ driver, op, concurrency, size, root: DRIVERS[driver].root });
      }
    }
  }
  return jobs;
}

/** Medians over rounds: `stat(driver, op, size, c)` → { opsPerSec, p50, p99 } or undefined. */
function statsOf(results) {
  return (driver, op, size, c) => {
    const list = results.get(`${driver}|${op}|${size}|${c}`);
    if (!list || list.length === 0) return undefined;
    return {
      opsPerSec: median(list.map((r) => r.opsPerSec)),
      p50: median(list.map((r) => r.p50)),
      p99: median(list.map((r) => r.p99)),
    };
  };
}

function tables(stat, ceilings, levels) {
  const sections = [];
  for (const size of SIZES) {
    if (!ceilings[size]) continue;
    const columns = OPS.flatMap((op) => levels.map((c) => ({ op, c }))).filter(({ op, c }) => anyMeasured(stat, op, size, c));
    if (columns.length === 0) continue;
    const head = `| client | ${columns.map(({ op, c }) => `${op} c=${c}`).join(' | ')} |`;
    const sep = `|---|${columns.map(() => '---:').join('|')}|`;
    const rows = Object.entries(DRIVERS).map(([name, d]) => {
      const measured = columns.map(({ op, c }) => stat(name, op, size, c));
      if (measured.every((s) => s === undefined)) return undefined;
      const cells = measured.map((s) => (s ? `${fmtRate(s.opsPerSec)}/s (p50 ${fmtUs(s.p50)} µs, p99 ${fmtUs(s.p99)} µs)` : '–'));
      return `| ${d.label} | ${cells.join(' | ')} |`;
    }).filter(Boolean);
    const ceiling = ceilings[size];
    sections.push([
      `#### ${SIZE_LABELS[size]} values: operations per second (median), with per-call latency`,
      '',
      head, sep, ...rows,
      '',
      `Ceiling, \`${CEILING} -d ${size}\` on the same server (median of the rounds): GET ${fmtRate(ceiling.GET)}/s, SET ${fmtRate(ceiling.SET)}/s.`,
    ].join('\n'));
  }
  return sections.join('\n\n');
}

/** True when at least one driver measured this cell. */
function anyMeasured(stat, op, size, c) {
  return Object.keys(DRIVERS).some((d) => stat(d, op, size, c) !== undefined);
}

/** Ratios of our client against the others, same run: the figures the README quotes. */
function summary(stat, ceilings, levels) {
  const lines = [
    '| measurement | native-cache-manager RedisClient | fastest other client | ratio | share of the ceiling |',
    '|---|---:|---:|---:|---:|',
  ];
  const others = Object.keys(DRIVERS).filter((d) => d !== OURS && d !== OUR_STORE && !d.endsWith(BASELINE));
  for (const size of SIZES) {
    for (const op of OPS) {
      for (const c of levels) {
        const ours = stat(OURS, op, size, c);
        if (!ours) continue;
        const best = others.map((d) => ({ d, s: stat(d, op, size, c) })).filter((x) => x.s)
          .sort((a, b) => b.s.opsPerSec - a.s.opsPerSec)[0];
        if (!best) continue;
        const share = c > 1 && ceilings[size]?.[op] ? `${((100 * ours.opsPerSec) / ceilings[size][op]).toFixed(0)} %` : '–';
        lines.push(`| ${op}, ${SIZE_LABELS[size]}, c=${c} | ${fmtRate(ours.opsPerSec)}/s | ${fmtRate(best.s.opsPerSec)}/s (${DRIVERS[best.d].label}) | ${fmtRatio(ours.opsPerSec / best.s.opsPerSec)} | ${share} |`);
      }
    }
  }
  const latency = [
    '| concurrency 1, pinned | RedisClient p50 | ioredis p50 | ratio (lower is better) |',
    '|---|---:|---:|---:|',
  ];
  for (const size of SIZES) {
    for (const op of OPS) {
      const ours = stat(OURS, op, size, 1);
      const io = stat('ioredis', op, size, 1);
      if (ours && io) latency.push(`| ${op}, ${SIZE_LABELS[size]} | ${fmtUs(ours.p50)} µs | ${fmtUs(io.p50)} µs | ${fmtRatio(ours.p50 / io.p50)} |`);
    }
  }
  return [...lines, '', ...latency].join('\n');
}

/** This build against the --baseline build, same run: throughput and p50 ratios. */
function baselineSummary(stat, levels) {
  const lines = [
    '| measurement | this build | baseline build | throughput ratio | p50 this / baseline |',
    '|---|---:|---:|---:|---:|',
  ];
  for (const name of [OURS, OUR_STORE]) {
    for (const size of SIZES) {
      for (const op of OPS) {
        for (const c of levels) {
          const now = stat(name, op, size, c);
          const before = stat(`${name}${BASELINE}`, op, size, c);
          if (!now || !before) continue;
          lines.push(`| ${DRIVERS[name].label}: ${op}, ${SIZE_LABELS[size]}, c=${c} | ${fmtRate(now.opsPerSec)}/s (p50 ${fmtUs(now.p50)} µs) `
            + `| ${fmtRate(before.opsPerSec)}/s (p50 ${fmtUs(before.p50)} µs) | ${fmtRatio(now.opsPerSec / before.opsPerSec)} | ${fmtRatio(now.p50 / before.p50)} |`);
        }
      }
    }
  }
  return lines.join('\n');
}

function charts(stat, ceilings, levels, note) {
  const rowsFor = (ours, competitors, withCeiling) => SIZES.flatMap((size) => OPS.flatMap((op) =>
    levels.map((c) => {
      const us = stat(ours, op, size, c);
      if (!us) return undefined;
      const others = Object.fromEntries(competitors.map((d) => [DRIVERS[d].label, stat(d, op, size, c)?.opsPerSec]));
      if (withCeiling) others[`${CEILING} (ceiling)`] = c > 1 ? ceilings[size]?.[op] : undefined;
      return { label: `${op}, ${SIZE_LABELS[size]}, concurrency ${c}`, ours: us.opsPerSec, others };
    }).filter(Boolean)));
  return [
    {
      id: 'redis-client',
      title: 'Redis client: GET / SET operations per second',
      ours: DRIVERS[OURS].label,
      metric: 'operations per second',
      better: 'higher',
      competitors: [...RAW_CLIENTS.map((d) => DRIVERS[d].label), `${CEILING} (ceiling)`],
      note,
      rows: rowsFor(OURS, RAW_CLIENTS, true),
    },
    {
      id: 'redis-store',
      title: 'Redis behind the cache-manager API: Keyv-format store',
      ours: DRIVERS[OUR_STORE].label,
      metric: 'operations per second',
      better: 'higher',
      competitors: [DRIVERS['cm-keyv-redis'].label],
      note,
      rows: rowsFor(OUR_STORE, ['cm-keyv-redis'], false),
    },
  ];
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.list) {
    process.stdout.write(`clients: ${Object.keys(DRIVERS).join(', ')}\nops: ${OPS.join(', ')}\nconcurrency: ${CONCURRENCY.join(', ')}\nsizes: ${SIZES.join(', ')}\n`);
    return;
  }
  if (args.job) {
    const result = await runJob(args.job);
    process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
    return;
  }
  // Always redis-server: the published figures are Redis's, whatever NCM_TEST_SERVER says.
  const server = await startRedis({ server: 'redis' });
  const cpus = os.cpus().length;
  const pin = hasTaskset() && cpus >= 1;
  const separate = pin && args.pin === 'separate' && cpus >= 2;
  // c=1: client and server on CPU 0. c>1: client on CPU 1 (separate) or anywhere (none).
  const clientCpu = (c) => (pin && c === 1 ? 0 : (separate ? 1 : undefined));
  const serverCpus = (c) => (pin && (c === 1 || separate) ? '0' : `0-${cpus - 1}`);
  let serverPlacement;
  const placeServer = (c) => {
    const want = serverCpus(c);
    if (pin && want !== serverPlacement) {
      pinProcess(server.pid, want);
      serverPlacement = want;
    }
  };
  try {
    const seconds = args.quick ? 0.2 : 1.5;
    const levels = args.concurrency ?? (args.quick ? [1, 16] : CONCURRENCY);
    const runs = args.quick ? 1 : args.runs;
    const results = new Map();
    const ceilingRuns = Object.fromEntries(args.sizes.map((s) => [s, { GET: [], SET: [] }]));
    const started = Date.now();
    const reruns = [];
    for (let round = 0; round < runs; round++) {
      for (const job of roundJobs({ ...args, levels }, round)) {
        placeServer(job.concurrency);
        let r;
        for (let attempt = 0; r === undefined; attempt++) {
          try {
            r = runChild({ ...job, url: server.url, seconds }, clientCpu(job.concurrency));
          } catch (error) {
            if (attempt >= 2) throw error;
            reruns.push({ job, error: String(error.message).split('\n')[0] });
            process.stderr.write('R');
          }
        }
        const key = `${job.driver}|${job.op}|${job.size}|${job.concurrency}`;
        if (!results.has(key)) results.set(key, []);
        results.get(key).push(r);
        process.stderr.write('.');
      }
      // The ceiling is measured in every round too, placed like concurrency 16.
      placeServer(16);
      for (const size of args.sizes) {
        const rate = redisBenchmark(server.port, size, args.quick, clientCpu(16));
        ceilingRuns[size].GET.push(rate.GET);
        ceilingRuns[size].SET.push(rate.SET);
      }
      process.stderr.write(`| round ${round + 1}/${runs}\n`);
    }
    process.stderr.write(`(redis: ${runs} round(s) in ${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
    const ceilings = Object.fromEntries(args.sizes.map((s) => [s, { GET: median(ceilingRuns[s].GET), SET: median(ceilingRuns[s].SET) }]));
    const stat = statsOf(results);
    const redisVersion = execFileSync('redis-server', ['--version'], { encoding: 'utf8' }).match(/v=(\S+)/)?.[1];
    const placement = !pin ? 'no CPU pinning (taskset missing)'
      : `concurrency 1: client and redis-server (every thread) pinned to CPU 0; concurrency 16 and 128 and redis-benchmark: ${separate ? 'redis-server on CPU 0, the client on CPU 1' : 'unpinned'}`;
    const env = environmentInfo({
      program: 'bench/js/redis.js',
      packages: [...new Set(Object.values(DRIVERS).map((d) => d.package)), 'cache-manager', 'keyv'],
      runs,
      extra: [
        `redis-server ${redisVersion} on loopback (started by the benchmark, no persistence); ${KEYS.toLocaleString('en-US')} keys per value size; ${seconds} s measured per job after a ${seconds / 4} s warm-up`,
        placement,
      ],
    });
    env.redis = redisVersion;
    const text = [
      environment(env),
      '',
      '### Redis GET / SET',
      '',
      tables(stat, ceilings, levels),
      '',
      '#### Our client against the others (same run)',
      '',
      summary(stat, ceilings, levels),
      ...(args.baseline === undefined ? [] : [
        '',
        `#### This build against the baseline build in ${args.baseline} (same run, interleaved)`,
        '',
        baselineSummary(stat, levels),
      ]),
    ].join('\n');
    process.stdout.write(`${text}\n`);
    if (args.out) fs.writeFileSync(args.out, `${text}\n`);
    if (args.json) {
      const raw = [...results].map(([key, list]) => {
        const [driver, op, size, concurrency] = key.split('|');
        return { job: { driver, op, size: Number(size), concurrency: Number(concurrency) }, results: list };
      });
      chart.saveResults(args.json, 'redis', {
        title: 'Redis GET / SET', quick: args.quick, env, markdown: text,
        charts: charts(stat, ceilings, levels, placement), results: raw, ceilings: ceilingRuns, reruns,
      });
      if (args.chart) {
        const drawn = chart.writeChart({ out: args.chart, files: chart.siblingsOf(args.json) });
        process.stderr.write(`(chart: ${drawn.panels} panel(s) -> ${drawn.out})\n`);
      }
    }
  } finally {
    await server.cleanup();
  }
}

main().catch((error) => {
  process.stderr.write(`${error.stack}\n`);
  process.exitCode = 1;
});
