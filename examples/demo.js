'use strict';

// A small tour of the native memory store: values round-trip exactly, entries expire,
// the store stays within its limits, and it plugs into Keyv (and so into cache-manager).
const { Keyv } = require('keyv');
const { MemoryStore } = require('..');

async function main() {
  const store = new MemoryStore({ maxEntries: 10_000, maxBytes: 8 * 1024 * 1024 });

  await store.set('user:1', { name: 'Ada', joined: new Date('2015-12-10'), roles: new Set(['admin']) }, 60_000);
  const user = await store.get('user:1');
  console.log('get user:1      ->', user);
  console.log('expires at      ->', new Date(store.expiresAtSync('user:1')).toISOString());

  await store.set('flash', 'gone soon', 50);
  await new Promise((resolve) => setTimeout(resolve, 80));
  console.log('after its ttl   ->', await store.get('flash'));

  const started = process.hrtime.bigint();
  for (let i = 0; i < 100_000; i++) store.setSync(`item:${i}`, { i, payload: 'x'.repeat(64) });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const stats = store.stats();
  console.log(`100,000 sets in ${ms.toFixed(0)} ms; entries ${stats.entries}, bytes ${stats.bytes}, evictions ${stats.evictions}`);

  const keyv = new Keyv({ store, namespace: 'demo' });
  await keyv.set('greeting', 'hello from Keyv');
  console.log('through Keyv    ->', await keyv.get('greeting'));

  await store.disconnect();
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
