'use strict';

/** set, overwriting keys in random order over 10,000 keys (no eviction). */

const { defineScenario } = require('../lib/scenario');
const { measureThroughput } = require('../lib/throughput');
const { VALUE_KINDS } = require('../lib/values');
const { rng } = require('../lib/random');
const { opsTable, opsChart, kindsFor } = require('../lib/ops-table');

defineScenario(module, {
  name: 'set',
  title: 'set (overwrite)',
  jobs: ({ quick, drivers }) => kindsFor(quick).flatMap(
    (kind) => drivers.map((d) => ({ driver: d.name, kind, keys: quick ? 500 : 10_000 }))),

  async measure(job, { quick, driver }) {
    const make = VALUE_KINDS[job.kind].make;
    const store = driver.create({ maxEntries: job.keys * 2 });
    const keys = Array.from({ length: job.keys }, (_, i) => `key:${i}`);
    // A pool of distinct values, made up front so that making them is not timed.
    const values = Array.from({ length: 256 }, (_, i) => make(i));
    for (let i = 0; i < job.keys; i++) await store.set(keys[i], values[i & 255]);
    const random = rng(7);
    const order = Uint32Array.from({ length: 1 << 16 }, () => Math.floor(random() * job.keys));
    const mask = order.length - 1;
    let pos = 0;
    const run = driver.async
      ? async (n) => {
        for (let i = 0; i < n; i++, pos++) await store.set(keys[order[pos & mask]], values[pos & 255]);
      }
      : (n) => {
        for (let i = 0; i < n; i++, pos++) store.set(keys[order[pos & mask]], values[pos & 255]);
      };
    const result = await measureThroughput(run, { async: driver.async, quick });
    const size = store.size();
    if (size !== job.keys) throw new Error(`${driver.name}: expected ${job.keys} entries after overwrites, found ${size}`);
    await store.close();
    return result;
  },

  report: (done, ctx) => opsTable(done, ctx, kindsFor(ctx.quick)),
  charts: (done, ctx) => opsChart(done, ctx, kindsFor(ctx.quick), { id: 'set', title: 'MemoryStore set (overwrite)' }),
});
