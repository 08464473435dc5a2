'use strict';

/**
 * Redis GET/SET throughput and latency at concurrency 1, 16 and 128, with 100-byte and
 * 4 KiB values: our client and store (on Node's loop, the default, and with `ioThread: true`)
 * against ioredis (with and without auto-pipelining),
 * node-redis and cache-manager + @keyv/redis; and, through the API users call, our
 * `createCache({ stores: [new RedisStore(url)] })` against cache-manager's `createCache` over
 * Keyv(@keyv/redis), with wrap hits (WRAP) as well; all against one redis-server started here,
 * with `redis-benchmark -c 16 -P 16` on the same server as the ceiling. Every job runs over
 * plain TCP and over TLS: the server listens on a plain port and a TLS port (a CA and a
 * server certificate made for the run with the openssl CLI in a temporary folder, removed
 * at the end), every client verifies the server against that CA, and the tables add, for
 * each client, its TLS figure against its own plain-TCP one.
 *
 *   node bench/js/redis.js [--quick] [--runs N] [--pin separate|none] [--out file.md]
 *                          [--json results.json] [--chart chart.svg]
 *                          [--clients a,b] [--ops GET] [--concurrency 1,128] [--sizes 100,4096]
 *                          [--transport tcp|tls|tcp,tls] [--baseline ../other-checkout]
 *
 *   --runs    rounds (default 3); each round runs every job once, competitors interleaved
 *             (their order rotates from round to round), and tables report the medians
 *   --pin     CPU placement at concurrency 16 and 128 (concurrency 1 is always pinned, below):
 *             `separate` (default): redis-server on CPU 0, the client and redis-benchmark on
 *             CPU 1; `none`: the server and the clients float over every CPU
 *   --clients, --ops, --concurrency, --sizes   measure only these (default: all; `--list` names the clients)
 *   --transport  `tcp` only the plain rows, `tls` only the TLS rows (default: both, each
 *             client's TLS job next to its TCP one); the cost-of-TLS table needs both.
 *             --quick measures TLS with 100 B values only
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
const tls = require('node:tls');
const { startRedis } = require('../../test/helpers/redis-server');
const { makeCertificates } = require('../../test/helpers/tls-certs');
const { environment, environmentInfo } = require('./lib/runner');
const chart = require('./chart');
const { closedLoop } = require('./lib/closed-loop');
const { median } = require('./lib/stats');

const ROOT = path.join(__dirname, '..', '..');
const KEYS = 10_000;
const SIZES = [100, 4096];
const SIZE_LABELS = { 100: '100 B', 4096: '4 KiB' };

const keyFor = (i, size) => `k${size}:${i}`;
const valueFor = (i, size) => `${keyFor(i, size)}:v1:`.padEnd(size, 'x');

/**
 * Each driver: `open(url, root, ca)` → `{ get(key), set(key, value), close() }` (promises).
 * Over TLS the url is rediss:// and `ca` the PEM text of the run's CA (the server certificate
 * is verified, as in production); over plain TCP `ca` is undefined.
 */
/** Our RedisClient with `options` (plus the run's CA over TLS), loaded from `root`. */
function ourClientDriver(label, options) {
  return {
    label,
    package: 'native-cache-manager',
    open(url, root = ROOT, ca = undefined) {
      const { RedisClient } = require(root);
      const client = new RedisClient(url, { ...options, ...(ca === undefined ? {} : { tls: { ca } }) });
      return {
        get: (key) => client.command(['GET', key]),
        set: (key, value) => client.command(['SET', key, value]),
        close: () => client.disconnect(),
      };
    },
  };
}

/** Our RedisStore with `options` (plus the run's CA over TLS), loaded from `root`. */
function ourStoreDriver(label, options) {
  return {
    label,
    package: 'native-cache-manager',
    raw: false,
    open(url, root = ROOT, ca = undefined) {
      const { RedisStore } = require(root);
      const store = new RedisStore(url, { ...options, ...(ca === undefined ? {} : { tls: { ca } }) });
      return { get: (key) => store.get(key), set: (key, value) => store.set(key, value), close: () => store.disconnect() };
    },
  };
}

/** A miss inside a WRAP job: the function of a wrap hit never runs, so this counts as wrong. */
const WRAP_MISS = () => 'wrap-miss';

/** The job's view of a cache with the cache-manager API (ours or cache-manager's). */
function cacheApi(cache) {
  return {
    get: (key) => cache.get(key),
    set: (key, value) => cache.set(key, value),
    wrap: (key) => cache.wrap(key, WRAP_MISS),
    close: () => cache.disconnect(),
  };
}

const DRIVERS = {
  'ncm-client': ourClientDriver('native-cache-manager RedisClient', {}),
  'ncm-store': ourStoreDriver('native-cache-manager RedisStore (Keyv format)', {}),
  'ncm-cache': {
    label: 'native-cache-manager createCache({ stores: [RedisStore] })',
    package: 'native-cache-manager',
    raw: false,
    wraps: true,
    open(url, root = ROOT, ca = undefined) {
      const { createCache, RedisStore } = require(root);
      return cacheApi(createCache({ stores: [new RedisStore(url, ca === undefined ? {} : { tls: { ca } })] }));
    },
  },
  'ncm-client-thread': ourClientDriver('native-cache-manager RedisClient (ioThread: true)', { ioThread: true }),
  'ncm-store-thread': ourStoreDriver('native-cache-manager RedisStore (Keyv format, ioThread: true)', { ioThread: true }),
  ioredis: {
    label: 'ioredis',
    package: 'ioredis',
    open(url, root, ca) {
      const Redis = require('ioredis');
      const client = ca === undefined ? new Redis(url) : new Redis(url, { tls: { ca } });
      return { get: (key) => client.get(key), set: (key, value) => client.set(key, value), close: () => client.quit() };
    },
  },
  'ioredis-autopipelining': {
    label: 'ioredis (enableAutoPipelining)',
    package: 'ioredis',
    open(url, root, ca) {
      const Redis = require('ioredis');
      const client = new Redis(url, { enableAutoPipelining: true, ...(ca === undefined ? {} : { tls: { ca } }) });
      return { get: (key) => client.get(key), set: (key, value) => client.set(key, value), close: () => client.quit() };
    },
  },
  'node-redis': {
    label: 'node-redis (redis)',
    package: 'redis',
    async open(url, root, ca) {
      const { createClient } = require('redis');
      const client = createClient(ca === undefined ? { url } : { url, socket: { tls: true, ca } });
      await client.connect();
      return { get: (key) => client.get(key), set: (key, value) => client.set(key, value), close: () => client.quit() };
    },
  },
  'cm-keyv-redis': {
    label: 'cache-manager + Keyv(@keyv/redis)',
    package: '@keyv/redis',
    raw: false,
    wraps: true,
    open(url, root, ca) {
      const { createCache } = require('cache-manager');
      const { Keyv } = require('keyv');
      const { default: KeyvRedis } = require('@keyv/redis');
      const connect = ca === undefined ? url : { url, socket: { tls: true, ca } };
      return cacheApi(createCache({ stores: [new Keyv({ store: new KeyvRedis(connect) })] }));
    },
  },
};

// WRAP: a wrap hit (the key is there; the function never runs), for the drivers with a
// `wrap` (the cache-manager API); the others skip it.
const OPS = ['GET', 'SET', 'WRAP'];
const CLIENT_OPS = ['GET', 'SET']; // the columns of the per-client tables
const CONCURRENCY = [1, 16, 128];
const TRANSPORTS = ['tcp', 'tls'];
const OURS = 'ncm-client';
const OUR_STORE = 'ncm-store';
const OUR_CACHE = 'ncm-cache';
const THEIR_CACHE = 'cm-keyv-redis';
const RAW_CLIENTS = ['ioredis', 'ioredis-autopipelining', 'node-redis'];
const CEILING = 'redis-benchmark -c 16 -P 16';
const BASELINE = '@baseline';

/**
 * Our drivers once more, loading the package from `root` (see --baseline). A baseline from
 * before TLS support (no RedisTlsError) is measured over plain TCP only.
 */
function addBaselineDrivers(root) {
  let tlsSupport = false;
  try {
    tlsSupport = typeof require(path.join(root, 'lib', 'errors.js')).RedisTlsError === 'function';
  } catch {
    // an older layout: treat as plain TCP only
  }
  for (const name of [OURS, OUR_STORE, OUR_CACHE]) {
    DRIVERS[`${name}${BASELINE}`] = { ...DRIVERS[name], label: `${DRIVERS[name].label}, baseline build`, root, noTls: !tlsSupport };
  }
}

function parseArgs(argv) {
  const args = {
    quick: false, runs: 3, pin: 'separate', out: undefined, json: undefined, chart: undefined, job: undefined, baseline: undefined,
    clients: Object.keys(DRIVERS), ops: OPS, concurrency: undefined, sizes: SIZES, transports: TRANSPORTS,
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
    else if (a === '--transport') args.transports = list(argv[++i]).map((t) => t.toLowerCase());
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
  if (args.transports.length === 0) throw new Error('--transport: give tcp, tls or tcp,tls');
  for (const t of args.transports) {
    if (!TRANSPORTS.includes(t)) throw new Error(`--transport: '${t}' is not one of ${TRANSPORTS.join(', ')}`);
  }
  args.transports = TRANSPORTS.filter((t) => args.transports.includes(t));
  return args;
}

/** Runs one job in this process: preload keys, warm up, then measure for a fixed time. */
async function runJob({ driver, op, concurrency, size, url, caFile, seconds, root }) {
  const ca = caFile === undefined ? undefined : fs.readFileSync(caFile, 'latin1');
  const client = await DRIVERS[driver.replace(BASELINE, '')].open(url, root, ca);
  for (let i = 0; i < KEYS; i += 100) {
    await Promise.all(Array.from({ length: 100 }, (_, j) => client.set(keyFor(i + j, size), valueFor(i + j, size))));
  }
  const result = await closedLoop({
    concurrency,
    seconds,
    async step(n) {
      const k = n % KEYS;
      if (op === 'GET') return (await client.get(keyFor(k, size))) === valueFor(k, size) ? 0 : 1;
      if (op === 'WRAP') return (await client.wrap(keyFor(k, size))) === valueFor(k, size) ? 0 : 1;
      await client.set(keyFor(k, size), valueFor(k, size));
      return 0;
    },
  });
  await client.close();
  if (result.wrong > 0) throw new Error(`${driver}: ${result.wrong} ${op}s returned another key's value or none`);
  return { opsPerSec: result.opsPerSec, p50: result.p50, p99: result.p99 };
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

/** `redis-benchmark -c 16 -P 16` GET and SET rates; over TLS when `caFile` is given (the TLS port). */
function redisBenchmark(port, size, quick, cpu, caFile) {
  const n = quick ? 20_000 : (size > 1024 ? 400_000 : 1_000_000);
  const secure = caFile === undefined ? [] : ['--tls', '--cacert', caFile];
  const [cmd, args] = onCpu(cpu, 'redis-benchmark', ['-h', '127.0.0.1', '-p', String(port), ...secure, '-c', '16', '-P', '16',
    '-n', String(n), '-d', String(size), '-t', 'get,set', '-q']);
  const out = execFileSync(cmd, args, { encoding: 'utf8', timeout: 120_000 });
  const rate = (name) => Number((out.match(new RegExp(`${name}: ([\\d.]+) requests per second`)) ?? [])[1]);
  return { GET: rate('GET'), SET: rate('SET') };
}

/** Every thread of process `pid` onto `cpus` ('0', '0-1', …). */
function pinProcess(pid, cpus) {
  execFileSync('taskset', ['-a', '-pc', cpus, String(pid)], { stdio: 'ignore' });
}

/** The protocol and cipher Node negotiates with the server's TLS port (for the environment notes). */
function negotiated(port, ca) {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca }, () => {
      const info = { protocol: socket.getProtocol(), cipher: socket.getCipher()?.name };
      socket.destroy();
      resolve(info);
    });
    socket.once('error', reject);
  });
}

const fmtRate = (r) => (r >= 1e6 ? `${(r / 1e6).toFixed(2)} M` : `${Math.round(r / 1000)} k`);
const fmtUs = (us) => (us >= 100 ? us.toFixed(0) : us.toFixed(1));
const fmtRatio = (r) => `${r.toFixed(2)}×`;
const ceilingName = (transport) => (transport === 'tls' ? `${CEILING} --tls` : CEILING);

/**
 * The jobs of one round, in the order they run: competitors interleaved, rotated by round,
 * and each client's TLS job right next to its plain-TCP one (which comes first alternates
 * from round to round), so the two figures of a TLS/TCP ratio are measured close together.
 */
function roundJobs({ quick, clients, ops, sizes, levels, transports }, round) {
  const names = clients;
  const k = round % names.length;
  const rotated = [...names.slice(k), ...names.slice(0, k)];
  const order = round % 2 === 0 ? transports : [...transports].reverse();
  const jobs = [];
  for (const size of sizes) {
    for (const concurrency of levels) {
      for (const op of ops) {
        // A smoke run keeps 4 KiB to GET at concurrency 16, over plain TCP only.
        if (quick && size !== SIZES[0] && (op !== 'GET' || concurrency !== 16)) continue;
        for (const driver of rotated) {
          for (const transport of order) {
            if (transport === 'tls' && (DRIVERS[driver].noTls || (quick && size !== SIZES[0]))) continue;
            if (op === 'WRAP' && !DRIVERS[driver].wraps) continue;
            jobs.push({ driver, op, concurrency, size, transport, root: DRIVERS[driver].root });
          }
        }
      }
    }
  }
  return jobs;
}

const resultKey = (driver, op, size, c, transport) => `${driver}|${op}|${size}|${c}|${transport}`;

/** Medians over rounds: `stat(driver, op, size, c, transport = 'tcp')` → { opsPerSec, p50, p99 } or undefined. */
function statsOf(results) {
  return (driver, op, size, c, transport = 'tcp') => {
    const list = results.get(resultKey(driver, op, size, c, transport));
    if (!list || list.length === 0) return undefined;
    return {
      opsPerSec: median(list.map((r) => r.opsPerSec)),
      p50: median(list.map((r) => r.p50)),
      p99: median(list.map((r) => r.p99)),
    };
  };
}

/** The (op, concurrency) columns some client measured at this size over this transport. */
function columnsOf(stat, size, levels, transport) {
  return CLIENT_OPS.flatMap((op) => levels.map((c) => ({ op, c })))
    .filter(({ op, c }) => Object.keys(DRIVERS).some((d) => stat(d, op, size, c, transport) !== undefined));
}

function tables(stat, ceilings, levels, transport = 'tcp') {
  const sections = [];
  const over = transport === 'tls' ? ' over TLS' : '';
  for (const size of SIZES) {
    const ceiling = ceilings[transport]?.[size];
    if (!ceiling) continue;
    const columns = columnsOf(stat, size, levels, transport);
    if (columns.length === 0) continue;
    const head = `| client | ${columns.map(({ op, c }) => `${op} c=${c}`).join(' | ')} |`;
    const sep = `|---|${columns.map(() => '---:').join('|')}|`;
    const rows = Object.entries(DRIVERS).map(([name, d]) => {
      const measured = columns.map(({ op, c }) => stat(name, op, size, c, transport));
      if (measured.every((s) => s === undefined)) return undefined;
      const cells = measured.map((s) => (s ? `${fmtRate(s.opsPerSec)}/s (p50 ${fmtUs(s.p50)} µs, p99 ${fmtUs(s.p99)} µs)` : '–'));
      return `| ${d.label} | ${cells.join(' | ')} |`;
    }).filter(Boolean);
    const port = transport === 'tls' ? ' TLS port of the' : '';
    sections.push([
      `#### ${SIZE_LABELS[size]} values${over}: operations per second (median), with per-call latency`,
      '',
      head, sep, ...rows,
      '',
      `Ceiling, \`${ceilingName(transport)} -d ${size}\` on the${port} same server (median of the rounds): GET ${fmtRate(ceiling.GET)}/s, SET ${fmtRate(ceiling.SET)}/s.`,
    ].join('\n'));
  }
  return sections.join('\n\n');
}

/** A section's lines: a blank line, its heading, a blank line and its table; none when the table is empty. */
function titled(heading, table) {
  return table === '' ? [] : ['', heading, '', table];
}

/** Ratios of our client against the others, same run: the figures the README quotes. */
function summary(stat, ceilings, levels) {
  const lines = [
    '| measurement | native-cache-manager RedisClient | fastest other client | ratio | share of the ceiling |',
    '|---|---:|---:|---:|---:|',
  ];
  const others = Object.keys(DRIVERS).filter((d) => DRIVERS[d].package !== 'native-cache-manager' && !d.endsWith(BASELINE));
  for (const size of SIZES) {
    for (const op of OPS) {
      for (const c of levels) {
        const ours = stat(OURS, op, size, c);
        if (!ours) continue;
        const best = others.map((d) => ({ d, s: stat(d, op, size, c) })).filter((x) => x.s)
          .sort((a, b) => b.s.opsPerSec - a.s.opsPerSec)[0];
        if (!best) continue;
        const share = c > 1 && ceilings.tcp?.[size]?.[op] ? `${((100 * ours.opsPerSec) / ceilings.tcp[size][op]).toFixed(0)} %` : '–';
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
  if (lines.length === 2 && latency.length === 2) return ''; // no other client in this run
  return (latency.length > 2 ? [...lines, '', ...latency] : lines).join('\n');
}

/**
 * The API users call, same run: our createCache over a RedisStore against cache-manager's
 * createCache over Keyv(@keyv/redis), get, set and wrap hit.
 */
function cacheSummary(stat, levels, transport) {
  const lines = [
    `| measurement | ${DRIVERS[OUR_CACHE].label} | ${DRIVERS[THEIR_CACHE].label} | throughput ratio | p50 ratio (lower is better) |`,
    '|---|---:|---:|---:|---:|',
  ];
  for (const size of SIZES) {
    for (const op of OPS) {
      for (const c of levels) {
        const ours = stat(OUR_CACHE, op, size, c, transport);
        const theirs = stat(THEIR_CACHE, op, size, c, transport);
        if (!ours || !theirs) continue;
        lines.push(`| ${op === 'WRAP' ? 'wrap hit' : op.toLowerCase()}, ${SIZE_LABELS[size]}, c=${c} | ${fmtRate(ours.opsPerSec)}/s (p50 ${fmtUs(ours.p50)} µs) `
          + `| ${fmtRate(theirs.opsPerSec)}/s (p50 ${fmtUs(theirs.p50)} µs) | ${fmtRatio(ours.opsPerSec / theirs.opsPerSec)} | ${fmtRatio(ours.p50 / theirs.p50)} |`);
      }
    }
  }
  return lines.length > 2 ? lines.join('\n') : '';
}

/** Over TLS, our client against ioredis and node-redis, same run: throughput, then p50 at concurrency 1. */
function tlsSummary(stat, ceilings, levels) {
  const rivals = ['ioredis', 'node-redis'];
  const lines = [
    `| measurement, TLS | native-cache-manager RedisClient | ${rivals.map((d) => `${DRIVERS[d].label} | ratio`).join(' | ')} | share of the TLS ceiling |`,
    `|---|---:|${rivals.map(() => '---:|---:').join('|')}|---:|`,
  ];
  const latency = [
    `| concurrency 1, pinned, TLS | RedisClient p50 | ${rivals.map((d) => `${DRIVERS[d].label} p50 | ratio (lower is better)`).join(' | ')} |`,
    `|---|---:|${rivals.map(() => '---:|---:').join('|')}|`,
  ];
  const cell = (s, value, fmt) => (s ? fmt(value(s)) : '–');
  for (const size of SIZES) {
    for (const op of OPS) {
      for (const c of levels) {
        const ours = stat(OURS, op, size, c, 'tls');
        if (!ours) continue;
        const theirs = rivals.map((d) => stat(d, op, size, c, 'tls'));
        if (theirs.every((s) => s === undefined)) continue;
        const ceiling = ceilings.tls?.[size]?.[op];
        const share = c > 1 && ceiling ? `${((100 * ours.opsPerSec) / ceiling).toFixed(0)} %` : '–';
        const vs = theirs.map((s) => `${cell(s, (x) => x.opsPerSec, (r) => `${fmtRate(r)}/s`)} | ${cell(s, (x) => ours.opsPerSec / x.opsPerSec, fmtRatio)}`);
        lines.push(`| ${op}, ${SIZE_LABELS[size]}, c=${c} | ${fmtRate(ours.opsPerSec)}/s | ${vs.join(' | ')} | ${share} |`);
        if (c === 1) {
          const lat = theirs.map((s) => `${cell(s, (x) => x.p50, (us) => `${fmtUs(us)} µs`)} | ${cell(s, (x) => ours.p50 / x.p50, fmtRatio)}`);
          latency.push(`| ${op}, ${SIZE_LABELS[size]} | ${fmtUs(ours.p50)} µs | ${lat.join(' | ')} |`);
        }
      }
    }
  }
  if (lines.length === 2) return ''; // no other client in this run
  return (latency.length > 2 ? [...lines, '', ...latency] : lines).join('\n');
}

/**
 * The cost of TLS, client by client: its figure over TLS against its own over plain TCP in
 * the same run (throughput ratio, and the p50 latency ratio), and the same for the ceiling.
 */
function tlsCost(stat, ceilings, levels) {
  const sections = [];
  for (const size of SIZES) {
    const columns = columnsOf(stat, size, levels, 'tls')
      .filter(({ op, c }) => Object.keys(DRIVERS).some((d) => stat(d, op, size, c, 'tcp') && stat(d, op, size, c, 'tls')));
    if (columns.length === 0) continue;
    const rows = Object.entries(DRIVERS).map(([name, d]) => {
      const cells = columns.map(({ op, c }) => {
        const plain = stat(name, op, size, c, 'tcp');
        const secure = stat(name, op, size, c, 'tls');
        return plain && secure ? `${fmtRatio(secure.opsPerSec / plain.opsPerSec)} (p50 ${fmtRatio(secure.p50 / plain.p50)})` : undefined;
      });
      if (cells.every((x) => x === undefined)) return undefined;
      return `| ${d.label} | ${cells.map((x) => x ?? '–').join(' | ')} |`;
    }).filter(Boolean);
    const plainCeiling = ceilings.tcp?.[size];
    const tlsCeiling = ceilings.tls?.[size];
    sections.push([
      `#### ${SIZE_LABELS[size]} values: over TLS ÷ over plain TCP`,
      '',
      `| client | ${columns.map(({ op, c }) => `${op} c=${c}`).join(' | ')} |`,
      `|---|${columns.map(() => '---:').join('|')}|`,
      ...rows,
      ...(plainCeiling && tlsCeiling ? ['', `Ceiling, \`${CEILING} -d ${size}\` over TLS ÷ over TCP: GET ${fmtRatio(tlsCeiling.GET / plainCeiling.GET)}, SET ${fmtRatio(tlsCeiling.SET / plainCeiling.SET)}.`] : []),
    ].join('\n'));
  }
  return sections.join('\n\n');
}

/**
 * The default (the manager on Node's own loop) against `ioThread: true` (an I/O thread of
 * its own), same run: what the default was chosen by.
 */
function threadSummary(stat, levels, transport) {
  const lines = [
    '| measurement | default (Node\'s loop) | ioThread: true | throughput ratio | p50 default / ioThread: true |',
    '|---|---:|---:|---:|---:|',
  ];
  for (const [hosted, threaded] of [[OURS, 'ncm-client-thread'], [OUR_STORE, 'ncm-store-thread']]) {
    for (const size of SIZES) {
      for (const op of OPS) {
        for (const c of levels) {
          const h = stat(hosted, op, size, c, transport);
          const t = stat(threaded, op, size, c, transport);
          if (!h || !t) continue;
          lines.push(`| ${DRIVERS[hosted].label}: ${op}, ${SIZE_LABELS[size]}, c=${c} | ${fmtRate(h.opsPerSec)}/s (p50 ${fmtUs(h.p50)} µs) ` +
            `| ${fmtRate(t.opsPerSec)}/s (p50 ${fmtUs(t.p50)} µs) | ${fmtRatio(h.opsPerSec / t.opsPerSec)} | ${fmtRatio(h.p50 / t.p50)} |`);
        }
      }
    }
  }
  return lines.length > 2 ? lines.join('\n') : '';
}

/** The section of threadSummary, when both modes were measured. */
function threadSection(stat, levels, transport) {
  const table = threadSummary(stat, levels, transport);
  return table === '' ? [] : ['', `#### The default against \`ioThread: true\`${transport === 'tls' ? ', over TLS' : ''} (same run)`, '', table];
}

/** This build against the --baseline build, same run: throughput and p50 ratios. */
function baselineSummary(stat, levels, transports) {
  const lines = [
    '| measurement | this build | baseline build | throughput ratio | p50 this / baseline |',
    '|---|---:|---:|---:|---:|',
  ];
  for (const transport of transports) {
    const over = transport === 'tls' ? ', TLS' : '';
    for (const name of [OURS, OUR_STORE, OUR_CACHE]) {
      for (const size of SIZES) {
        for (const op of OPS) {
          for (const c of levels) {
            const now = stat(name, op, size, c, transport);
            const before = stat(`${name}${BASELINE}`, op, size, c, transport);
            if (!now || !before) continue;
            lines.push(`| ${DRIVERS[name].label}: ${op}, ${SIZE_LABELS[size]}, c=${c}${over} | ${fmtRate(now.opsPerSec)}/s (p50 ${fmtUs(now.p50)} µs) `
              + `| ${fmtRate(before.opsPerSec)}/s (p50 ${fmtUs(before.p50)} µs) | ${fmtRatio(now.opsPerSec / before.opsPerSec)} | ${fmtRatio(now.p50 / before.p50)} |`);
          }
        }
      }
    }
  }
  return lines.join('\n');
}

function charts(stat, ceilings, levels, note) {
  const rowsFor = (ours, competitors, withCeiling, transport = 'tcp') => SIZES.flatMap((size) => OPS.flatMap((op) =>
    levels.map((c) => {
      const us = stat(ours, op, size, c, transport);
      if (!us) return undefined;
      const others = Object.fromEntries(competitors.map((d) => [DRIVERS[d].label, stat(d, op, size, c, transport)?.opsPerSec]));
      if (withCeiling) others[`${ceilingName(transport)} (ceiling)`] = c > 1 ? ceilings[transport]?.[size]?.[op] : undefined;
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
    {
      id: 'redis-cache',
      title: 'Redis through createCache: get, set and wrap hit',
      ours: DRIVERS[OUR_CACHE].label,
      metric: 'operations per second',
      better: 'higher',
      competitors: [DRIVERS[THEIR_CACHE].label],
      note,
      rows: rowsFor(OUR_CACHE, [THEIR_CACHE], false),
    },
    {
      id: 'redis-tls',
      title: 'Redis client over TLS: GET / SET operations per second',
      ours: DRIVERS[OURS].label,
      metric: 'operations per second',
      better: 'higher',
      competitors: [...RAW_CLIENTS.map((d) => DRIVERS[d].label), `${ceilingName('tls')} (ceiling)`],
      note,
      rows: rowsFor(OURS, RAW_CLIENTS, true, 'tls'),
    },
  ].filter((panel) => panel.rows.length > 0);
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.list) {
    process.stdout.write(`clients: ${Object.keys(DRIVERS).join(', ')}\nops: ${OPS.join(', ')}\nconcurrency: ${CONCURRENCY.join(', ')}\n`
      + `sizes: ${SIZES.join(', ')}\ntransport: ${TRANSPORTS.join(', ')}\n`);
    return;
  }
  if (args.job) {
    const result = await runJob(args.job);
    process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
    return;
  }
  const withTcp = args.transports.includes('tcp');
  const withTls = args.transports.includes('tls');
  // TLS: a CA and a server certificate made for this run, removed at the end; the one
  // redis-server keeps a plain port open too, so both transports reach the same server.
  const certs = withTls ? makeCertificates({ serverOnly: true }) : undefined;
  let server;
  try {
    // Always redis-server: the published figures are Redis's, whatever NCM_TEST_SERVER says.
    server = await startRedis({
      server: 'redis',
      ...(withTls ? { tls: { certFile: certs.server.certFile, keyFile: certs.server.keyFile, plain: true } } : {}),
    });
    const endpoints = {
      tcp: { url: server.plainUrl ?? server.url, port: server.plainPort ?? server.port, caFile: undefined },
      tls: { url: server.url, port: server.port, caFile: certs?.ca.certFile },
    };
    const tlsInfo = withTls ? await negotiated(server.port, certs.ca.cert) : undefined;
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
    const seconds = args.quick ? 0.2 : 1.5;
    const levels = args.concurrency ?? (args.quick ? [1, 16] : CONCURRENCY);
    const runs = args.quick ? 1 : args.runs;
    const results = new Map();
    const ceilingRuns = Object.fromEntries(args.transports.map((t) =>
      [t, Object.fromEntries(args.sizes.map((s) => [s, { GET: [], SET: [] }]))]));
    const started = Date.now();
    const reruns = [];
    for (let round = 0; round < runs; round++) {
      for (const job of roundJobs({ ...args, levels }, round)) {
        placeServer(job.concurrency);
        const { url, caFile } = endpoints[job.transport];
        let r;
        for (let attempt = 0; r === undefined; attempt++) {
          try {
            r = runChild({ ...job, url, caFile, seconds }, clientCpu(job.concurrency));
          } catch (error) {
            if (attempt >= 2) throw error;
            reruns.push({ job, error: String(error.message).split('\n')[0] });
            process.stderr.write('R');
          }
        }
        const key = resultKey(job.driver, job.op, job.size, job.concurrency, job.transport);
        if (!results.has(key)) results.set(key, []);
        results.get(key).push(r);
        process.stderr.write('.');
      }
      // The ceiling is measured in every round too, placed like concurrency 16.
      placeServer(16);
      for (const transport of args.transports) {
        for (const size of args.sizes) {
          const { port, caFile } = endpoints[transport];
          const rate = redisBenchmark(port, size, args.quick, clientCpu(16), caFile);
          ceilingRuns[transport][size].GET.push(rate.GET);
          ceilingRuns[transport][size].SET.push(rate.SET);
        }
      }
      process.stderr.write(`| round ${round + 1}/${runs}\n`);
    }
    process.stderr.write(`(redis: ${runs} round(s) in ${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
    const ceilings = Object.fromEntries(Object.entries(ceilingRuns).map(([t, bySize]) => [t,
      Object.fromEntries(Object.entries(bySize).map(([s, r]) => [s, { GET: median(r.GET), SET: median(r.SET) }]))]));
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
        ...(withTls ? [`TLS: redis-server's TLS port (the same server as the plain port), ${tlsInfo.protocol} with ${tlsInfo.cipher} as Node negotiates it; `
          + 'an ECDSA P-256 server certificate signed by a CA made for the run, which every client is given and verifies the server against; '
          + `each client's TLS job runs right next to its plain-TCP one${withTcp ? '' : ' (plain TCP not measured in this run)'}`] : []),
      ],
    });
    env.redis = redisVersion;
    env.transports = args.transports;
    if (tlsInfo) env.tls = tlsInfo;
    const text = [
      environment(env),
      ...(withTcp ? [
        '',
        '### Redis GET / SET',
        '',
        tables(stat, ceilings, levels, 'tcp'),
        ...titled('#### Our client against the others (same run)', summary(stat, ceilings, levels)),
        ...titled('#### Through the cache-manager API: createCache against createCache (same run)', cacheSummary(stat, levels, 'tcp')),
        ...threadSection(stat, levels, 'tcp'),
      ] : []),
      ...(withTls ? [
        '',
        '### Redis GET / SET over TLS',
        '',
        tables(stat, ceilings, levels, 'tls'),
        ...titled('#### Over TLS: our client against ioredis and node-redis (same run)', tlsSummary(stat, ceilings, levels)),
        ...titled('#### Through the cache-manager API, over TLS: createCache against createCache (same run)', cacheSummary(stat, levels, 'tls')),
        ...threadSection(stat, levels, 'tls'),
        ...(withTcp ? [
          '',
          '#### The cost of TLS: each client over TLS against itself over plain TCP (same run)',
          '',
          'Each cell: operations per second over TLS ÷ over plain TCP (below 1× is what TLS costs that client), and in parentheses its p50 latency over TLS ÷ over plain TCP.',
          '',
          tlsCost(stat, ceilings, levels),
        ] : []),
      ] : []),
      ...(args.baseline === undefined ? [] : [
        '',
        `#### This build against the baseline build in ${args.baseline} (same run, interleaved)`,
        '',
        baselineSummary(stat, levels, args.transports),
      ]),
    ].join('\n');
    process.stdout.write(`${text}\n`);
    if (args.out) fs.writeFileSync(args.out, `${text}\n`);
    if (args.json) {
      const raw = [...results].map(([key, list]) => {
        const [driver, op, size, concurrency, transport] = key.split('|');
        return { job: { driver, op, size: Number(size), concurrency: Number(concurrency), transport }, results: list };
      });
      chart.saveResults(args.json, 'redis', {
        title: 'Redis GET / SET', quick: args.quick, env, markdown: text,
        charts: charts(stat, ceilings, levels, placement), results: raw,
        ...(withTcp ? { ceilings: ceilingRuns.tcp } : {}),
        ...(withTls ? { tlsCeilings: ceilingRuns.tls } : {}),
        reruns,
      });
      if (args.chart) {
        const drawn = chart.writeChart({ out: args.chart, files: chart.siblingsOf(args.json) });
        process.stderr.write(`(chart: ${drawn.panels} panel(s) -> ${drawn.out})\n`);
      }
    }
  } finally {
    if (server) await server.cleanup();
    certs?.cleanup();
  }
}

main().catch((error) => {
  process.stderr.write(`${error.stack}\n`);
  process.exitCode = 1;
});
