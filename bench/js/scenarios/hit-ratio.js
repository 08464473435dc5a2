'use strict';

/**
 * Hit ratio on a Zipf trace (1,000,000 requests over 100,000 keys) at several capacities:
 * each request is a get, and a miss is followed by a set. Deterministic (seeded), so it is
 * measured once.
 */

const { defineScenario } = require('../lib/scenario');
const { zipfTrace } = require('../lib/random');

const ALPHAS = [0.99, 0.8];
const CAPACITY_FRACTIONS = [0.01, 0.05, 0.1, 0.25];
// Hit ratio is a property of the eviction policy: one store per policy.
const POLICY_DRIVERS = ['native-sync', 'lru-cache'];

defineScenario(module, {
  name: 'hit-ratio',
  title: 'hit ratio on a Zipf trace',
  repeat: false,
  jobs: ({ quick, drivers }) => drivers.filter((d) => POLICY_DRIVERS.includes(d.name)).flatMap(
    (d) => (quick ? [0.99] : ALPHAS).map((alpha) => ({
      driver: d.name, alpha, keys: quick ? 2_000 : 100_000, requests: quick ? 20_000 : 1_000_000, seed: 2024,
    }))),

  async measure(job, { driver }) {
    const trace = zipfTrace({ keys: job.keys, length: job.requests, alpha: job.alpha, seed: job.seed });
    const names = Array.from({ length: job.keys }, (_, i) => `key:${i}`);
    const ratios = [];
    for (const fraction of CAPACITY_FRACTIONS) {
      const capacity = Math.round(job.keys * fraction);
      const store = driver.create({ maxEntries: capacity });
      let hits = 0;
      for (let i = 0; i < trace.length; i++) {
        const key = names[trace[i]];
        if ((await store.get(key)) !== undefined) hits++;
        else await store.set(key, 'v');
      }
      if (store.size() > capacity) throw new Error(`${driver.name}: holds ${store.size()} entries, capacity ${capacity}`);
      await store.close();
      ratios.push({ fraction, capacity, hitRatio: hits / trace.length });
    }
    return { ratios };
  },

  report(done, ctx) {
    const cell = new Map();
    for (const { job, results } of done) {
      for (const r of results[0].ratios) cell.set(`${job.driver}|${job.alpha}|${r.fraction}`, r);
    }
    const first = done[0]?.job;
    const present = ctx.drivers.filter((d) => done.some((e) => e.job.driver === d.name));
    const alphas = [...new Set(done.map((e) => e.job.alpha))];
    const head = `| alpha | capacity | ${present.map((d) => d.label).join(' | ')} |${present.length === 2 ? ' difference |' : ''}`;
    const sep = `|---:|---:|${present.map(() => '---:').join('|')}|${present.length === 2 ? '---:|' : ''}`;
    const rows = [];
    for (const alpha of alphas) {
      for (const fraction of CAPACITY_FRACTIONS) {
        const rs = present.map((d) => cell.get(`${d.name}|${alpha}|${fraction}`));
        const pct = (r) => (r ? `${(r.hitRatio * 100).toFixed(2)} %` : '–');
        const diff = present.length === 2 && rs[0] && rs[1]
          ? ` ${((rs[0].hitRatio - rs[1].hitRatio) * 100).toFixed(2)} pp |` : '';
        rows.push(`| ${alpha} | ${(fraction * 100).toFixed(0)} % (${rs[0]?.capacity.toLocaleString('en-US')}) | ${rs.map(pct).join(' | ')} |${diff}`);
      }
    }
    return [
      `${first?.requests.toLocaleString('en-US')} requests over ${first?.keys.toLocaleString('en-US')} keys, seed ${first?.seed}; get, then set on a miss; the store starts empty. MemoryStore is bounded by entry count only (SIEVE); lru-cache by \`max\`.`,
      '',
      head, sep, ...rows,
    ].join('\n');
  },
});
