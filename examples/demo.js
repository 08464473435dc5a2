'use strict';

// A short tour on the embedded default, the native memory store: cache-manager's API,
// exact round trips, wrap with a background refresh you can await, limits, and Keyv.
const { Keyv } = require('keyv');
const { createCache, MemoryStore } = require('..');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function main() {
  const memory = new MemoryStore({ maxEntries: 10_000, maxBytes: 8 * 1024 * 1024 });
  const cache = createCache({ stores: [memory], ttl: 60_000 });

  await cache.set('user:1', { name: 'Ada', joined: new Date('2015-12-10'), roles: new Set(['admin']) });
  console.log('get user:1        ->', await cache.get('user:1'));
  console.log('ttl user:1        ->', new Date(await cache.ttl('user:1')).toISOString());
  console.log('get missing       ->', await cache.get('missing'));

  // wrap: the first call loads, the next ones hit; close to expiry a hit answers with the
  // cached value at once and refreshes in the background.
  let loads = 0;
  const load = async () => {
    loads += 1;
    await sleep(20);
    return { version: loads };
  };
  const options = { ttl: 1000, refreshThreshold: 900 };
  console.log('wrap (cold)       ->', await cache.wrap('report', load, options));
  await sleep(150); // about 850 ms left: inside the 900 ms refresh window
  const refreshes = [];
  const stale = await cache.wrap('report', load, { ...options, waitUntil: (p) => refreshes.push(p) });
  console.log('wrap (stale hit)  ->', stale, `(refresh handed to waitUntil: ${refreshes.length})`);
  await cache.settled(); // every background refresh has stored its value
  console.log('wrap (refreshed)  ->', await cache.wrap('report', load, options), `loads: ${loads}`);

  const started = process.hrtime.bigint();
  for (let i = 0; i < 100_000; i++) memory.setSync(`item:${i}`, { i, payload: 'x'.repeat(64) });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const stats = memory.stats();
  console.log(`100,000 sets in ${ms.toFixed(0)} ms; entries ${stats.entries}, bytes ${stats.bytes}, evictions ${stats.evictions}`);

  // The same store works as a Keyv 5 adapter (and so inside cache-manager itself).
  const keyv = new Keyv({ store: new MemoryStore(), namespace: 'demo' });
  await keyv.set('greeting', 'hello from Keyv');
  console.log('through Keyv      ->', await keyv.get('greeting'));

  await keyv.disconnect();
  await cache.disconnect();
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
