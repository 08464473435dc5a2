'use strict';

/**
 * Memory held by 1,000,000 small entries (key `key:<i>`, a ~60 B object), and the time of
 * a forced full garbage collection with those entries alive. Needs `--expose-gc` (the
 * runner passes it). The fill also reports its slowest single set: a store whose table
 * grows by rehashing everything at once shows it there.
 */

const { defineScenario } = require('../lib/scenario');
const { smallObject } = require('../lib/values');
const { median } = require('../lib/stats');
const { nowNs } = require('../lib/throughput');

function fullGc() {
  global.gc();
  global.gc();
}

function timedGcMs(times) {
  const samples = [];
  for (let i = 0; i < times; i++) {
    const t0 = nowNs();
    global.gc();
    samples.push((nowNs() - t0) / 1e6);
  }
  return median(samples);
}

defineScenario(module, {
  name: 'memory',
  title: 'memory held and full-GC time',
  // One store per family: the async driver shares native-sync's store.
  jobs: ({ quick, drivers }) => drivers.filter((d) => !d.sameStoreAs)
    .map((d) => ({ driver: d.name, entries: quick ? 20_000 : 1_000_000 })),

  async measure(job, { driver }) {
    if (typeof global.gc !== 'function') throw new Error('run with --expose-gc');
    const n = job.entries;
    fullGc();
    const before = process.memoryUsage();
    const gcEmptyMs = timedGcMs(5);
    const store = driver.create({ maxEntries: n });
    const t0 = nowNs();
    let slowestSetNs = 0;
    for (let i = 0; i < n; i++) {
      const key = `key:${i}`;
      const value = smallObject(i);
      const s0 = nowNs();
      await store.set(key, value);
      const took = nowNs() - s0;
      if (took > slowestSetNs) slowestSetNs = took;
    }
    const fillMs = (nowNs() - t0) / 1e6;
    fullGc();
    const after = process.memoryUsage();
    const gcFullMs = timedGcMs(5);
    const size = store.size();
    if (size !== n) throw new Error(`${driver.name}: holds ${size} entries, expected ${n}`);
    const probe = await store.get(`key:${n - 1}`);
    if (probe?.id !== smallObject(n - 1).id) throw new Error(`${driver.name}: last entry reads back wrong`);
    const result = {
      heapPerEntry: (after.heapUsed - before.heapUsed) / n,
      rssPerEntry: (after.rss - before.rss) / n,
      gcEmptyMs,
      gcFullMs,
      fillMs,
      slowestSetMs: slowestSetNs / 1e6,
    };
    await store.close();
    return result;
  },

  report(done, ctx) {
    const byDriver = new Map(done.map((e) => [e.job.driver, e]));
    const n = done[0]?.job.entries ?? 0;
    const rows = ctx.drivers.filter((d) => byDriver.has(d.name)).map((d) => {
      const rs = byDriver.get(d.name).results;
      const m = (f) => median(rs.map(f));
      return `| ${d.label} | ${Math.round(m((r) => r.heapPerEntry))} | ${Math.round(m((r) => r.rssPerEntry))} | ` +
        `${m((r) => r.gcFullMs).toFixed(1)} | ${m((r) => r.gcEmptyMs).toFixed(1)} | ${Math.round(m((r) => r.fillMs))} | ` +
        `${m((r) => r.slowestSetMs).toFixed(1)} |`;
    });
    return [
      `${n.toLocaleString('en-US')} entries; per-entry figures are deltas from before the store was filled, after two full GCs.`,
      '',
      '| store | JS heap B/entry | RSS B/entry | full GC ms (filled) | full GC ms (empty) | fill ms | slowest set ms |',
      '|---|---:|---:|---:|---:|---:|---:|',
      ...rows,
    ].join('\n');
  },
});
