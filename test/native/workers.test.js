'use strict';

const path = require('node:path');
const { Worker } = require('node:worker_threads');
const { execFileSync } = require('node:child_process');

const lib = path.join(__dirname, '..', '..', 'lib');

// Each worker loads its own copy of the addon, fills a store, starts sweeps and clears
// that run on the thread pool, then keeps working until it is terminated.
const workerSource = `
  const { parentPort, workerData } = require('node:worker_threads');
  const { MemoryStore } = require(${JSON.stringify(lib)});
  const store = new MemoryStore({ maxEntries: 5000, sweepInterval: 1 });
  for (let i = 0; i < 20000; i++) store.setSync('k' + i, { i, pad: 'x'.repeat(i % 64) }, i % 3 ? 1 : 0);
  const ok = store.getSync('k19998').i === 19998;
  store.sweep();
  store.clearSync();
  for (let i = 0; i < 20000; i++) store.setSync('again' + i, i);
  parentPort.postMessage({ ok, entries: store.stats().entries });
  let n = 0;
  // A sweep per write: terminate() lands while sweep() creates its promise and queues its work,
  // the window in which napi refuses both (an unchecked refusal once returned a garbage value).
  (function spin() {
    for (let i = 0; i < 100; i++) {
      store.setSync('spin' + (n++ % 10000), n);
      store.sweep().catch(() => {});
    }
    setImmediate(spin);
  })();
`;

function runWorker() {
  return new Promise((resolve, reject) => {
    const worker = new Worker(workerSource, { eval: true });
    worker.once('error', reject);
    worker.once('message', async (msg) => {
      try {
        await new Promise((r) => setTimeout(r, 5));
        const code = await worker.terminate();
        resolve({ ...msg, code });
      } catch (error) {
        reject(error);
      }
    });
  });
}

// R18 of the reliability matrix: 4 workers × 100 rounds.
const ROUNDS = Number(process.env.NCM_WORKER_ROUNDS || 100);

describe('the addon in worker threads', () => {
  test(`4 workers at a time, ${ROUNDS} rounds: each works and is terminated mid-work without a crash`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const results = await Promise.all([runWorker(), runWorker(), runWorker(), runWorker()]);
      for (const r of results) {
        expect(r.ok).toBe(true);
        expect(r.entries).toBe(5000);
        expect(r.code).toBe(1); // terminated
      }
    }
  }, 1_200_000); // minutes under the sanitizer build; 10 on a loaded machine

  test('stores dropped without disconnect() are finalized by GC without a crash', () => {
    const script = `
      const { MemoryStore } = require(${JSON.stringify(lib)});
      for (let round = 0; round < 50; round++) {
        for (let i = 0; i < 20; i++) {
          const s = new MemoryStore({ sweepInterval: 5 });
          for (let j = 0; j < 2000; j++) s.setSync('k' + j, 'v'.repeat(100));
        }
        global.gc();
      }
      const s = new MemoryStore();
      s.setSync('alive', 1);
      console.log(JSON.stringify({ alive: s.getSync('alive') }));`;
    // 2,000,000 writes: seconds here, minutes under a loaded sanitizer build. Only a crash or
    // a hang should fail it.
    const out = execFileSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8', timeout: 600_000 });
    expect(JSON.parse(out)).toEqual({ alive: 1 });
  }, 660_000);
});
