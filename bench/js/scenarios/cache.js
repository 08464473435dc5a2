'use strict';

/**
 * get hit, set and wrap hit through the cache-manager 7 API: our createCache against
 * cache-manager 7.2.9 with Keyv(CacheableMemory) and with its default store, in one run.
 */

const { defineScenario } = require('../lib/scenario');
const { measureThroughput } = require('../lib/throughput');
const { VALUE_KINDS } = require('../lib/values');
const { rng } = require('../lib/random');
const { median } = require('../lib/stats');
const { fmtNs } = require('../lib/ops-table');
const { CACHE_DRIVERS, BASELINE_CACHE } = require('../drivers/caches');

const OPS = ['get-hit', 'set', 'wrap-hit'];
const KEYS = 10_000;
const TTL = 3_600_000;

defineScenario(module, {
  name: 'cache',
  title: 'createCache: get hit, set, wrap hit',
  jobs: ({ quick }) => {
    const kinds = quick ? ['object-60B'] : ['object-60B', 'string-60B', 'object-4KiB'];
    return OPS.flatMap((op) => kinds.flatMap((kind) =>
      Object.keys(CACHE_DRIVERS).map((cache) => ({ cache, op, kind, keys: quick ? 200 : KEYS }))));
  },

  async measure(job, { quick }) {
    const cache = CACHE_DRIVERS[job.cache].create();
    const make = VALUE_KINDS[job.kind].make;
    const keys = Array.from({ length: job.keys }, (_, i) => `key:${i}`);
    const values = keys.map((_, i) => make(i));
    for (let i = 0; i < job.keys; i++) await cache.set(keys[i], values[i], TTL);
    const random = rng(7);
    const order = Uint32Array.from({ length: 1 << 16 }, () => Math.floor(random() * job.keys));
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
          await cache.set(keys[k], values[k], TTL);
        }
      },
      'wrap-hit': async (n) => {
        for (let i = 0; i < n; i++) if ((await cache.wrap(keys[order[pos++ & mask]], load, TTL)) === undefined) bad++;
      },
    };
    const result = await measureThroughput(ops[job.op], { async: true, quick });
    if (bad !== 0) throw new Error(`${job.cache} ${job.op}: ${bad} calls missed`);
    if (loads !== 0) throw new Error(`${job.cache} wrap-hit: fn ran ${loads} times on cached keys`);
    await cache.disconnect();
    return result;
  },

  report(done, { quick }) {
    const kinds = quick ? ['object-60B'] : ['object-60B', 'string-60B', 'object-4KiB'];
    const cell = new Map();
    for (const { job, results } of done) {
      cell.set(`${job.cache}|${job.op}|${job.kind}`, median(results.map((r) => r.nsPerOp)));
    }
    const columns = OPS.flatMap((op) => kinds.map((kind) => ({ op, kind })));
    const head = `| cache | ${columns.map((c) => `${c.op}, ${VALUE_KINDS[c.kind].label}`).join(' | ')} |`;
    const sep = `|---|${columns.map(() => '---:').join('|')}|`;
    const rows = Object.entries(CACHE_DRIVERS).map(([name, d]) => {
      const cells = columns.map(({ op, kind }) => {
        const ns = cell.get(`${name}|${op}|${kind}`);
        const base = cell.get(`${BASELINE_CACHE}|${op}|${kind}`);
        if (ns === undefined) return '–';
        return `${fmtNs(ns)}${base ? ` (${(base / ns).toFixed(1)}× faster)` : ''}`;
      });
      return `| ${d.label} | ${cells.join(' | ')} |`;
    });
    const note = `ns per awaited call (median); in parentheses, how many times faster than ${CACHE_DRIVERS[BASELINE_CACHE].label} in the same run.`;
    return [note, '', head, sep, ...rows].join('\n');
  },
});
