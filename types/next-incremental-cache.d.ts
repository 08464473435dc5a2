// native-cache-manager/next/incremental-cache: the class for next.config's `cacheHandler` (REDIS_URL).
import type { IncrementalCacheHandlerClass } from './next';

declare const IncrementalCacheHandler: IncrementalCacheHandlerClass;
export = IncrementalCacheHandler;
