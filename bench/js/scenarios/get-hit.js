'use strict';

/** get on a key that is present, in random order over 10,000 keys. */

const { defineScenario } = require('../lib/scenario');
const { measureThroughput } = require('../lib/throughput');
const { VALUE_KINDS } = require('../lib/values');
const { rng } = require('../lib/random');
const { opsTable, opsChart, kindsFor } = require('../lib/ops-table');

defineScenario(module, {
  name: 'get-hit',
  title: 'get, hit',
  jobs: ({ quick, drivers }) => kindsFor(quick).flatMap(
    (kind) => drivers.map((d) => ({ driver: d.name, kind, keys: quick ? 500 : 10_000 }))),

  async measure(job, { quick, driver }) {
    const make = VALUE_KINDS[job.kind].make;
    const store = driver.create({ maxEntries: job.keys * 2 });
    const keys = Array.from({ length: job.keys }, (_, i) => `key:${i}`);
    for (let i = 0; i < job.keys; i++) await store.set(keys[i], make(i));
    const random = rng(42);
    const order = Uint32Array.from({ length: 1 << 16 }, () => Math.floor(random() * job.keys));
    const mask = order.length - 1;
    let pos = 0;
    let found = 0;
    let total = 0;
    const run = driver.async
      ? async (n) => {
        for (let i = 0; i < n; i++) if ((await store.get(keys[order[pos++ & mask]])) !== undefined) found++;
        total += n;
      }
      : (n) => {
        for (let i = 0; i < n; i++) if (store.get(keys[order[pos++ & mask]]) !== undefined) found++;
        total += n;
      };
    const result = await measureThroughput(run, { async: driver.async, quick });
    if (found !== total) throw new Error(`${driver.name}: ${total - found} of ${total} gets missed`);
    await store.close();
    return result;
  },

  report: (done, ctx) => opsTable(done, ctx, kindsFor(ctx.quick)),
  charts: (done, ctx) => opsChart(done, ctx, kindsFor(ctx.quick), { id: 'get-hit', title: 'MemoryStore get, hit' }),
});
