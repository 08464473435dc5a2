'use strict';

const { MemoryStore } = require('../../lib');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

describe('MemoryStore expiry sweep and large clear', () => {
  test('sweep() removes expired entries off the JS thread and reports how many', async () => {
    const store = new MemoryStore({ sweepInterval: 0 });
    for (let i = 0; i < 5000; i++) await store.set(`e${i}`, i, 20);
    for (let i = 0; i < 100; i++) await store.set(`keep${i}`, i);
    await sleep(40);
    expect(store.stats().entries).toBe(5100); // lazy expiry has not touched them
    expect(await store.sweep()).toBe(5000);
    expect(store.stats()).toMatchObject({ entries: 100, expirations: 5000 });
    expect(await store.get('keep5')).toBe(5);
    await store.disconnect();
  });

  test('the background sweep runs every sweepInterval ms without being asked', async () => {
    const store = new MemoryStore({ sweepInterval: 25 });
    for (let i = 0; i < 1000; i++) await store.set(`e${i}`, i, 10);
    const deadline = Date.now() + 2000;
    while (store.stats().entries > 0 && Date.now() < deadline) await sleep(20);
    expect(store.stats().entries).toBe(0);
    expect(store.stats().expirations).toBe(1000);
    await store.disconnect();
  });

  test('clear() of 200,000 entries empties the store and it is usable right away', async () => {
    const store = new MemoryStore();
    for (let i = 0; i < 200_000; i++) store.setSync(`k${i}`, 'value');
    await store.clear(); // the detached entries are freed on the thread pool
    expect(store.stats()).toMatchObject({ entries: 0, bytes: 0 });
    expect(await store.get('k5')).toBeUndefined();
    await store.set('after', 1);
    expect(await store.get('after')).toBe(1);
    await store.disconnect();
  });

  test('a store that is dropped without disconnect() does not keep the process alive', async () => {
    const { execFileSync } = require('node:child_process');
    const script = `
      const { MemoryStore } = require(${JSON.stringify(require.resolve('../../lib'))});
      const s = new MemoryStore({ sweepInterval: 10 });
      s.setSync('a', 1, 5);
      console.log('done');`;
    const started = Date.now();
    const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 30_000 });
    expect(out.trim()).toBe('done');
    // Node's start-up included (seconds under the sanitizer build on a loaded machine); a
    // sweep timer that kept the process alive would keep it alive until the 30 s kill.
    expect(Date.now() - started).toBeLessThan(20_000);
  }, 40_000);
});
