// One cache per server process, created on first use and shared by every request.
// Creating it opens nothing: the Redis connection is made by the first command, so
// `next build` never needs Redis.
import { createCache, MemoryStore, RedisStore } from 'native-cache-manager';

const globalKey = Symbol.for('example.nextjs.cache');

export function getCache() {
  if (!globalThis[globalKey]) {
    const stores = [new MemoryStore({ maxEntries: 10_000 })];
    if (process.env.REDIS_URL) {
      stores.push(new RedisStore(process.env.REDIS_URL, { commandTimeout: 500 }));
    }
    globalThis[globalKey] = createCache({ stores });
  }
  return globalThis[globalKey];
}

// Simulates a slow upstream (a database, an API): the value records when it was made.
export async function loadReport(key, delayMs) {
  await new Promise((resolve) => setTimeout(resolve, delayMs));
  return { key, generatedAt: Date.now(), pid: process.pid };
}
