// native-cache-manager/next/use-cache: the object for next.config's `cacheHandlers.default` (REDIS_URL).
import type { UseCacheHandler } from './next';

declare const useCacheHandler: UseCacheHandler;
export = useCacheHandler;
