// One cache per server process, shared by every request. It lives on globalThis because
// Next may bundle this file into several server chunks (one per route); each copy would
// otherwise make its own cache. Creating it opens nothing: the Redis connection is made by
// the first command, so importing this file during `next build` needs no Redis.
import { createCache, MemoryStore, RedisStore } from 'native-cache-manager';

const globalKey = Symbol.for('example.nextjs.cache');

function makeCache() {
  const stores = [new MemoryStore({ maxEntries: 10_000 })];
  if (process.env.REDIS_URL) {
    stores.push(new RedisStore(process.env.REDIS_URL, {
      commandTimeout: Number(process.env.REDIS_COMMAND_TIMEOUT ?? 500),
      clientName: 'nextjs-example',
    }));
  }
  // With a Redis tier, a background refresh takes a short Redis lock so that one process
  // per key runs it (refreshLock, on by default).
  return createCache({ stores });
}

export const cache = (globalThis[globalKey] ??= makeCache());

// Simulates a slow upstream (a database, an API): the value records when it was made.
export async function loadReport(key, delayMs) {
  console.log(`[example] loading ${key}`);
  await new Promise((resolve) => setTimeout(resolve, delayMs));
  return { key, generatedAt: Date.now(), pid: process.pid };
}

// wrap, but a cache failure (Redis down or slow) never fails the request: the value fn
// produced is used, or fn runs once more if the failure came before it.
export async function cachedReport(key, options, delayMs) {
  let loaded;
  const load = async () => (loaded = await loadReport(key, delayMs));
  try {
    return await cache.wrap(key, load, options);
  } catch (error) {
    console.error(`[example] cache error for ${key}: ${error.code ?? error.message}`);
    return loaded ?? loadReport(key, delayMs);
  }
}
