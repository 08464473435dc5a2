// Type-checks native-cache-manager/next and its entry files, resolved through package.json "exports".
import { createIncrementalCacheHandler, createUseCacheHandler, NEXT_HANDLER_DEFAULTS, RedisStore } from './next-imports';
import IncrementalCache = require('native-cache-manager/next/incremental-cache');
import useCache = require('native-cache-manager/next/use-cache');

const expectType = <T>() => <U extends T>(value: U): U => value;

export async function nextUsage(): Promise<void> {
  const Handler = createIncrementalCacheHandler({ redis: 'redis://127.0.0.1:6379', memoryBytes: 8 * 1024 * 1024 });
  const handler = new Handler({ revalidatedTags: [] });
  const entry = await handler.get('/page', { kind: 'APP_PAGE' });
  expectType<number | undefined>()(entry?.lastModified);
  await handler.set('/page', { kind: 'APP_ROUTE', body: Buffer.from('x') }, { cacheControl: { revalidate: 60, expire: undefined } });
  await handler.revalidateTag(['a', 'b'], { expire: 0 });
  handler.resetRequestCache();
  await Handler.disconnect();

  const viaStore = createUseCacheHandler({ redis: new RedisStore('redis://127.0.0.1:6379'), onError: (error, operation) => void [error.message, operation] });
  const hit = await viaStore.get('k', ['_N_T_/']);
  expectType<ReadableStream<Uint8Array> | undefined>()(hit?.value);
  expectType<number>()(await viaStore.getExpiration(['t']));
  await viaStore.updateTags(['t']);
  expectType<boolean>()(viaStore.backend.shared);
  expectType<number>()(NEXT_HANDLER_DEFAULTS.tagSyncInterval);

  expectType<boolean>()(IncrementalCache.backend.shared);
  await useCache.refreshTags();
}
