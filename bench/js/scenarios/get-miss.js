'use strict';

/** get on a key that is absent, with 10,000 other keys present. */

const { defineScenario } = require('../lib/scenario');
const { measureThroughput } = require('../lib/throughput');
const { smallObject } = require('../lib/values');
const { opsTable, opsChart } = require('../lib/ops-table');

defineScenario(module, {
  name: 'get-miss',
  title: 'get, miss',
  jobs: ({ quick, drivers }) => drivers.map((d) => ({ driver: d.name, kind: 'miss', keys: quick ? 500 : 10_000 })),

  async measure(job, { quick, driver }) {
    const store = driver.create({ maxEntries: job.keys * 2 });
    for (let i = 0; i < job.keys; i++) await store.set(`key:${i}`, smallObject(i));
    const absent = Array.from({ length: 1 << 12 }, (_, i) => `absent:${i}`);
    const mask = absent.length - 1;
    let pos = 0;
    let found = 0;
    const run = driver.async
      ? async (n) => {
        for (let i = 0; i < n; i++) if ((await store.get(absent[pos++ & mask])) !== undefined) found++;
      }
      : (n) => {
        for (let i = 0; i < n; i++) if (store.get(absent[pos++ & mask]) !== undefined) found++;
      };
    const result = await measureThroughput(run, { async: driver.async, quick });
    if (found !== 0) throw new Error(`${driver.name}: ${found} gets of absent keys returned a value`);
    await store.close();
    return result;
  },

  report: (done, ctx) => opsTable(done, ctx, ['miss']),
  charts: (done, ctx) => opsChart(done, ctx, ['miss'], { id: 'get-miss', title: 'MemoryStore get, miss' }),
});
