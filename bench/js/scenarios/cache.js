'use strict';

/**
 * get hit, set, wrap hit and mget of 100 keys through the cache-manager 7 API: our
 * createCache (default, and with `frozen: true`) against cache-manager 7.2.9 with
 * Keyv(CacheableMemory) and with its default store, and lru-cache behind `await` (the
 * floor), in one run. Keys are drawn uniformly from 10,000; for get and wrap hits also
 * from a Zipf(0.99) law over them (a few keys take most reads, as in most caches), and
 * round-robin over 8,192 of them (every key as hot as every other). Every key is read
 * twice before a read operation is timed, so each cache is measured in its steady state.
 */

const { defineScenario } = require('../lib/scenario');
const { measureThroughput } = require('../lib/throughput');
const { VALUE_KINDS } = require('../lib/values');
const { rng, zipfTrace } = require('../lib/random');
const { median } = require('../lib/stats');
const { fmtNs } = require('../lib/ops-table');
const { CACHE_DRIVERS, OUR_CACHE, OUR_OTHER_CACHES } = require('../drivers/caches');

const OPS = ['get-hit', 'get-hit-zipf', 'get-hit-rr', 'set', 'wrap-hit', 'wrap-hit-zipf', 'wrap-hit-rr', 'mget-100'];
const OP_LABELS = {
  'get-hit': 'get hit', 'get-hit-zipf': 'get hit (Zipf 0.99)', 'get-hit-rr': 'get hit (8,192 round-robin)',
  set: 'set', 'wrap-hit': 'wrap hit', 'wrap-hit-zipf': 'wrap hit (Zipf 0.99)',
  'wrap-hit-rr': 'wrap hit (8,192 round-robin)', 'mget-100': 'mget of 100',
};
const ZIPF_ALPHA = 0.99;
const ROUND_ROBIN_KEYS = 8192;
const MGET_KEYS = 100;
const KEYS = 10_000;
const TTL = 3_600_000;

const kindsFor = (quick) => (quick ? ['object-60B'] : ['object-60B', 'string-60B', 'object-4KiB']);

/** The same value, compared as JSON (every kind measured here is plain JSON). */
const sameValue = (a, b) => JSON.stringify(a) === JSON.stringify(b);

defineScenario(module, {
  name: 'cache',
  title: 'createCache: get hit, set, wrap hit, mget of 100',
  jobs: ({ quick }) => OPS.flatMap((op) => kindsFor(quick).flatMap((kind) =>
    Object.keys(CACHE_DRIVERS).map((cache) => ({ cache, op, kind, keys: quick ? 200 : KEYS })))),

  async measure(job, { quick }) {
    const cache = CACHE_DRIVERS[job.cache].create();
    const make = VALUE_KINDS[job.kind].make;
    const keys = Array.from({ length: job.keys }, (_, i) => `key:${i}`);
    const values = keys.map((_, i) => make(i));
    for (let i = 0; i < job.keys; i++) await cache.set(keys[i], values[i], TTL);
    const random = rng(7);
    const roundRobin = Math.min(ROUND_ROBIN_KEYS, job.keys);
    let order;
    if (job.op.endsWith('-zipf')) order = zipfTrace({ keys: job.keys, length: 1 << 16, alpha: ZIPF_ALPHA, seed: 7 });
    else if (job.op.endsWith('-rr')) order = Uint32Array.from({ length: 1 << 16 }, (_, i) => i % roundRobin);
    else order = Uint32Array.from({ length: 1 << 16 }, () => Math.floor(random() * job.keys));
    const mask = order.length - 1;
    // mget batches: 100 random keys each, drawn from the same seeded order.
    const batches = Array.from({ length: 256 }, (_, b) =>
      Array.from({ length: MGET_KEYS }, (_, j) => order[(b * MGET_KEYS + j) & mask]));
    const batchKeys = batches.map((ids) => ids.map((k) => keys[k]));
    let pos = 0;
    let bad = 0;
    let loads = 0;
    const load = async () => { loads += 1; return values[0]; };

    // Before timing: one mget must return every value, equal to what was set, in key order.
    if (job.op === 'mget-100') {
      const got = await cache.mget(batchKeys[0]);
      if (!Array.isArray(got) || got.length !== MGET_KEYS) {
        throw new Error(`${job.cache} mget: expected an array of ${MGET_KEYS} values`);
      }
      batches[0].forEach((k, j) => {
        if (!sameValue(got[j], values[k])) throw new Error(`${job.cache} mget: value ${j} (key ${keys[k]}) differs from what was set`);
      });
    }

    // Steady state: every key read twice before reads are timed.
    if (job.op !== 'set') {
      for (let round = 0; round < 2; round++) for (const key of keys) await cache.get(key);
    }

    const getHit = async (n) => {
      for (let i = 0; i < n; i++) if ((await cache.get(keys[order[pos++ & mask]])) === undefined) bad++;
    };
    const wrapHit = async (n) => {
      for (let i = 0; i < n; i++) if ((await cache.wrap(keys[order[pos++ & mask]], load, TTL)) === undefined) bad++;
    };
    const ops = {
      'get-hit': getHit,
      'get-hit-zipf': getHit,
      'get-hit-rr': getHit,
      'wrap-hit': wrapHit,
      'wrap-hit-zipf': wrapHit,
      'wrap-hit-rr': wrapHit,
      set: async (n) => {
        for (let i = 0; i < n; i++) {
          const k = order[pos++ & mask];
          await cache.set(keys[k], values[k], TTL);
        }
      },
      'mget-100': async (n) => {
        for (let i = 0; i < n; i++) {
          const got = await cache.mget(batchKeys[pos++ & 255]);
          for (let j = 0; j < got.length; j++) if (got[j] === undefined) bad++;
          if (got.length !== MGET_KEYS) bad++;
        }
      },
    };
    const result = await measureThroughput(ops[job.op], { async: true, quick });
    if (bad !== 0) throw new Error(`${job.cache} ${job.op}: ${bad} values missing`);
    if (loads !== 0) throw new Error(`${job.cache} wrap-hit: fn ran ${loads} times on cached keys`);
    await cache.disconnect();
    return result;
  },

  report(done, { quick }) {
    const cell = cells(done);
    const names = Object.keys(CACHE_DRIVERS);
    const competitors = names.filter((n) => n !== OUR_CACHE && !OUR_OTHER_CACHES.includes(n));
    const ours = [OUR_CACHE, ...OUR_OTHER_CACHES];
    const pairs = ours.flatMap((o) => competitors.map((c) => [o, c]));
    const short = (n) => CACHE_DRIVERS[n].short ?? CACHE_DRIVERS[n].label;
    const head = `| operation, value | ${names.map((n) => CACHE_DRIVERS[n].label).join(' | ')} | ${pairs.map(([o, c]) => `${short(o)} × vs ${CACHE_DRIVERS[c].label}`).join(' | ')} |`;
    const sep = `|---|${[...names, ...pairs].map(() => '---:').join('|')}|`;
    const rows = OPS.flatMap((op) => kindsFor(quick).map((kind) => {
      const ns = names.map((n) => cell.get(`${n}|${op}|${kind}`));
      const ratios = pairs.map(([o, c]) => {
        const mine = cell.get(`${o}|${op}|${kind}`);
        const theirs = cell.get(`${c}|${op}|${kind}`);
        return mine && theirs ? fmtRatio(theirs / mine) : '–';
      });
      return `| ${OP_LABELS[op]}, ${VALUE_KINDS[kind].label} | ${ns.map((v) => (v === undefined ? '–' : fmtNs(v))).join(' | ')} | ${ratios.join(' | ')} |`;
    }));
    return [
      `ns per awaited call (median; an mget call fetches ${MGET_KEYS} keys), lower is better; "ours × vs": how many times`,
      `faster ${CACHE_DRIVERS[OUR_CACHE].label} is than that competitor in the same run (below 1×: slower); "frozen × vs": the same for \`frozen: true\`.`,
      '',
      head, sep, ...rows,
    ].join('\n');
  },

  charts(done, { quick }) {
    const cell = cells(done);
    const competitors = Object.keys(CACHE_DRIVERS).filter((n) => n !== OUR_CACHE && !OUR_OTHER_CACHES.includes(n));
    const rows = OPS.flatMap((op) => kindsFor(quick).map((kind) => ({
      label: `${OP_LABELS[op]}, ${VALUE_KINDS[kind].label}`,
      ours: cell.get(`${OUR_CACHE}|${op}|${kind}`),
      others: Object.fromEntries(competitors.map((n) => [CACHE_DRIVERS[n].label, cell.get(`${n}|${op}|${kind}`)])),
    })));
    return [{
      id: 'cache',
      title: 'createCache (the cache-manager 7 API), in memory',
      ours: CACHE_DRIVERS[OUR_CACHE].label,
      metric: 'ns per call',
      better: 'lower',
      competitors: competitors.map((n) => CACHE_DRIVERS[n].label),
      rows,
    }];
  },
});

function cells(done) {
  const cell = new Map();
  for (const { job, results } of done) {
    cell.set(`${job.cache}|${job.op}|${job.kind}`, median(results.map((r) => r.nsPerOp)));
  }
  return cell;
}

function fmtRatio(r) {
  return r >= 10 ? `${r.toFixed(0)}×` : `${r.toFixed(r >= 1 ? 1 : 2)}×`;
}
