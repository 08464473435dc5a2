#!/usr/bin/env node
'use strict';

/**
 * createCache (MemoryStore) in two checkouts, compared by CPU time: the rows of the `cache`
 * scenario (get hit, set, wrap hit, mget of 100; object ~60 B, string 60 B, object ~4 KiB).
 *
 *   node bench/js/ab-create-cache.js --before <checkout> [--after <checkout>] [--procs N]
 *                                    [--rounds N] [--ops a,b] [--kinds a,b] [--batch-ms N]
 *                                    [--json file]
 *
 *   --before, --after   checkouts whose lib/index.js is loaded (--after defaults to this one);
 *                       each needs build/Release/native_cache_manager.node (to compare the
 *                       JS alone, make one checkout's build/ a symlink to the other's)
 *   --procs             child processes per row (default 4)
 *   --rounds            before/after alternations in each of them (default 40)
 *   --ops, --kinds      measure only these (default: all rows of the `cache` scenario)
 *   --batch-ms          CPU time of one timed batch (default 20)
 *   --json              also write every round's figures to this file
 *
 * Each row runs in `--procs` fresh `node --expose-gc` children (JIT decisions differ from
 * one process to the next), each of which loads both checkouts (in turn first) and fills
 * one cache of 10,000 keys in each; they share the heap and, through a build/ symlink, the
 * one loaded addon. The loop that drives a cache is compiled once per checkout, so neither
 * one's type feedback reaches the other's.
 * After a warm-up, a child times one batch of each, in ABBA order, for every round, with a
 * minor GC before each batch; the figure is the process's CPU time (user + system) per
 * call, which a busy machine inflates far less than wall time. The table gives, over all
 * rounds of all children, the median ns per call of each side, the median of the per-round
 * ratios after/before and their interquartile range, and the range of the children's own
 * median ratios.
 */

const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const { VALUE_KINDS } = require('./lib/values');
const { rng } = require('./lib/random');
const { median } = require('./lib/stats');

const OPS = ['get-hit', 'set', 'wrap-hit', 'mget-100'];
const KINDS = ['object-60B', 'string-60B', 'object-4KiB'];
const KEYS = 10_000;
const MGET_KEYS = 100;
const TTL = 3_600_000;
const WARMUP_MS = 400;

function parseArgs(argv) {
  const args = { before: undefined, after: path.join(__dirname, '..', '..'), procs: 4, rounds: 40, ops: OPS, kinds: KINDS, batchMs: 20, json: undefined };
  const list = (v) => String(v ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (let i = 0; i < argv.length; i++) {
    const eq = argv[i].indexOf('=');
    const flag = eq < 0 ? argv[i] : argv[i].slice(0, eq);
    const value = () => (eq < 0 ? argv[++i] : argv[i].slice(eq + 1));
    switch (flag) {
      case '--before': args.before = path.resolve(value()); break;
      case '--after': args.after = path.resolve(value()); break;
      case '--procs': args.procs = Number(value()); break;
      case '--rounds': args.rounds = Number(value()); break;
      case '--ops': args.ops = list(value()); break;
      case '--kinds': args.kinds = list(value()); break;
      case '--batch-ms': args.batchMs = Number(value()); break;
      case '--json': args.json = value(); break;
      default: throw new Error(`unknown argument '${argv[i]}' (see the comment at the top of bench/js/ab-create-cache.js)`);
    }
  }
  if (args.before === undefined) throw new Error('--before <checkout> is required');
  for (const op of args.ops) if (!OPS.includes(op)) throw new Error(`unknown op '${op}'; known: ${OPS.join(', ')}`);
  for (const kind of args.kinds) if (!KINDS.includes(kind)) throw new Error(`unknown kind '${kind}'; known: ${KINDS.join(', ')}`);
  if (!Number.isInteger(args.procs) || args.procs < 1) throw new Error(`--procs must be a positive integer; received ${args.procs}`);
  if (!Number.isInteger(args.rounds) || args.rounds < 2) throw new Error(`--rounds must be an integer of at least 2; received ${args.rounds}`);
  if (!(args.batchMs > 0)) throw new Error(`--batch-ms must be positive; received ${args.batchMs}`);
  return args;
}

/**
 * The loop that drives one cache (`op` for n calls), as the `cache` scenario runs it. Its
 * source is compiled once per checkout (see driverFor), never called as it stands, so it
 * uses nothing from this module (hence the literal ttl).
 */
function makeDriver(cache, op, keys, values, order, batchKeys, mgetKeys) {
  const mask = order.length - 1;
  let pos = 0;
  let bad = 0;
  let loads = 0;
  const load = async () => { loads += 1; return values[0]; };
  const ops = {
    'get-hit': async (n) => {
      for (let i = 0; i < n; i++) if ((await cache.get(keys[order[pos++ & mask]])) === undefined) bad++;
    },
    set: async (n) => {
      for (let i = 0; i < n; i++) {
        const k = order[pos++ & mask];
        await cache.set(keys[k], values[k], 3_600_000);
      }
    },
    'wrap-hit': async (n) => {
      for (let i = 0; i < n; i++) if ((await cache.wrap(keys[order[pos++ & mask]], load, 3_600_000)) === undefined) bad++;
    },
    'mget-100': async (n) => {
      for (let i = 0; i < n; i++) {
        const got = await cache.mget(batchKeys[pos++ & 255]);
        for (let j = 0; j < got.length; j++) if (got[j] === undefined) bad++;
        if (got.length !== mgetKeys) bad++;
      }
    },
  };
  return { run: ops[op], check: () => ({ bad, loads }) };
}

function driverFor(tag) {
  // A distinct source per checkout: V8 then shares no function (nor its feedback) between them.
  const body = `return (${makeDriver.toString()});\n// ${tag}\n`;
  return vm.compileFunction(body, [], { filename: `ab-create-cache-driver-${tag}.js` })();
}

function cpuNs() {
  const { user, system } = process.cpuUsage();
  return (user + system) * 1000;
}

async function child({ op, kind, before, after, afterFirst, rounds, batchMs }) {
  const make = VALUE_KINDS[kind].make;
  const keys = Array.from({ length: KEYS }, (_, i) => `key:${i}`);
  const random = rng(7);
  const order = Uint32Array.from({ length: 1 << 16 }, () => Math.floor(random() * KEYS));
  const batchKeys = Array.from({ length: 256 }, (_, b) =>
    Array.from({ length: MGET_KEYS }, (_, j) => keys[order[(b * MGET_KEYS + j) & (order.length - 1)]]));

  const sides = [];
  const checkouts = [['before', before], ['after', after]];
  for (const [name, root] of afterFirst ? checkouts.reverse() : checkouts) {
    const lib = require(path.join(root, 'lib', 'index.js'));
    const cache = lib.createCache({ stores: [new lib.MemoryStore()] });
    const values = keys.map((_, i) => make(i));
    for (let i = 0; i < KEYS; i++) await cache.set(keys[i], values[i], TTL);
    const driver = driverFor(name)(cache, op, keys, values, order, batchKeys, MGET_KEYS);
    sides.push({ name, cache, driver, cpu: [], wall: [] });
  }
  if (afterFirst) sides.reverse();
  if (sides[0].cache.get === sides[1].cache.get) throw new Error('both checkouts resolved to the same createCache');

  const time = async (side, n) => {
    globalThis.gc({ type: 'minor' });
    const w0 = process.hrtime.bigint();
    const c0 = cpuNs();
    await side.driver.run(n);
    const c1 = cpuNs();
    return { cpu: c1 - c0, wall: Number(process.hrtime.bigint() - w0) };
  };

  // Warm-up of both sides; the batch grows until one takes batchMs of CPU time on either.
  let n = 16;
  for (const side of sides) {
    const end = cpuNs() + WARMUP_MS * 1e6;
    while (cpuNs() < end) await side.driver.run(n);
  }
  for (;;) {
    const t = await time(sides[1], n);
    if (t.cpu >= batchMs * 1e6) break;
    n = Math.ceil(n * Math.min(8, Math.max(1.25, (batchMs * 1e6) / Math.max(t.cpu, 1e5))));
  }

  for (let r = 0; r < rounds; r++) {
    const turn = r % 2 === 0 ? sides : [sides[1], sides[0]];
    for (const side of turn) {
      const t = await time(side, n);
      side.cpu.push(t.cpu / n);
      side.wall.push(t.wall / n);
    }
  }
  for (const side of sides) {
    const { bad, loads } = side.driver.check();
    if (bad !== 0) throw new Error(`${side.name} ${op}: ${bad} values missing`);
    if (loads !== 0) throw new Error(`${side.name} wrap-hit: the function ran ${loads} times on cached keys`);
    await side.cache.disconnect();
  }
  return { op, kind, batch: n, before: { cpu: sides[0].cpu, wall: sides[0].wall }, after: { cpu: sides[1].cpu, wall: sides[1].wall } };
}

/** Quartile by linear interpolation. */
function quantile(xs, q) {
  const s = [...xs].sort((a, b) => a - b);
  const at = (s.length - 1) * q;
  const lo = Math.floor(at);
  return s[lo] + (s[Math.min(lo + 1, s.length - 1)] - s[lo]) * (at - lo);
}

/** One row's figures over the rounds of all its children. */
function summary(children) {
  const all = (side, what) => children.flatMap((c) => c[side][what]);
  const ratiosOf = (c, what) => c.after[what].map((a, i) => a / c.before[what][i]);
  const ratios = children.flatMap((c) => ratiosOf(c, 'cpu'));
  const perChild = children.map((c) => median(ratiosOf(c, 'cpu')));
  return {
    before: median(all('before', 'cpu')),
    after: median(all('after', 'cpu')),
    ratio: median(ratios),
    q1: quantile(ratios, 0.25),
    q3: quantile(ratios, 0.75),
    childMin: Math.min(...perChild),
    childMax: Math.max(...perChild),
    wallRatio: median(children.flatMap((c) => ratiosOf(c, 'wall'))),
    rounds: ratios.length,
  };
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  const rows = [];
  const head = [
    `before: ${args.before}`,
    `after:  ${args.after}`,
    `${args.procs} child process(es) per row × ${args.rounds} before/after alternations (ABBA), batches of ~${args.batchMs} ms CPU`,
    `CPU ns per awaited call (an mget call fetches ${MGET_KEYS} keys); ratios are after/before`,
    '',
    '| operation, value | before ns | after ns | ratio (median of rounds) | IQR of ratios | children\'s ratios | wall ratio | rounds |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  process.stdout.write(`${head.join('\n')}\n`);
  const f = (x) => x.toFixed(3);
  for (const op of args.ops) {
    for (const kind of args.kinds) {
      const children = [];
      for (let p = 0; p < args.procs; p++) {
        const job = { op, kind, before: args.before, after: args.after, afterFirst: p % 2 === 1, rounds: args.rounds, batchMs: args.batchMs };
        const out = execFileSync(process.execPath, ['--expose-gc', __filename, '--child', JSON.stringify(job)], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'inherit'],
          maxBuffer: 16 * 1024 * 1024,
        });
        children.push(JSON.parse(out));
      }
      const s = summary(children);
      rows.push({ op, kind, summary: s, children });
      process.stdout.write(`| ${op}, ${VALUE_KINDS[kind].label} | ${s.before.toFixed(0)} | ${s.after.toFixed(0)} | ${f(s.ratio)} | ${f(s.q1)}–${f(s.q3)} | ${f(s.childMin)}–${f(s.childMax)} | ${f(s.wallRatio)} | ${s.rounds} |\n`);
    }
  }
  if (args.json) fs.writeFileSync(args.json, `${JSON.stringify({ date: new Date().toISOString(), node: process.version, args, rows }, null, 1)}\n`);
}

if (process.argv[2] === '--child') {
  child(JSON.parse(process.argv[3])).then((result) => {
    process.stdout.write(JSON.stringify(result));
  }, (error) => {
    process.stderr.write(`ab-create-cache: ${error.stack}\n`);
    process.exitCode = 1;
  });
} else {
  try {
    main();
  } catch (error) {
    process.stderr.write(`ab-create-cache: ${error.message}\n`);
    process.exitCode = 1;
  }
}
