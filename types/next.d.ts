// native-cache-manager/next: Next.js cache handlers on a memory tier over Redis.
// Self-contained: it does not import Next's own types (the shapes below are those of Next 15/16).
import type { RedisStore, RedisStoreOptions } from './redis';

export interface NextCacheHandlerOptions {
  /** Where entries and tags are shared: a redis:// / rediss:// url, RedisStore options or a RedisStore. Unset: this process's memory only. */
  redis?: string | RedisStoreOptions | RedisStore;
  /** Prefix of every Redis key the handlers write. Default 'ncm:next:'. */
  keyPrefix?: string;
  /** Bytes of the in-process memory tier; 0 = none. Default 64 MiB. */
  memoryBytes?: number;
  /** With Redis: the longest (ms) an entry is served from memory before it is read from Redis again. Default 1000. */
  memoryTtl?: number;
  /** With Redis: the oldest (ms) the process's copy of the tags manifest may be when an entry is judged. Default 100. */
  tagSyncInterval?: number;
  /** Longest an entry is kept (ms) when Next gives it no `expire`, and the cap on any. Default 30 days. */
  maxTtl?: number;
  /** Largest entry stored (bytes, encoded); bigger ones are not cached. Default 32 MiB. */
  maxEntryBytes?: number;
  /** Called on each failure to read or write (default: one console.warn per outage of each operation). */
  onError?: (error: Error, operation: string) => void;
}

export declare const NEXT_HANDLER_DEFAULTS: Readonly<Required<Omit<NextCacheHandlerOptions, 'redis' | 'onError'>>>;

/** Next's incremental cache entry, as its handler sees it. */
export interface IncrementalCacheEntry {
  lastModified: number;
  value: { kind: string; [field: string]: unknown } | null;
  cacheControl?: { revalidate: number | false; expire: number | undefined };
}

/** What one process's handlers share (tests, diagnostics). */
export interface NextCacheBackend {
  /** Whether disconnect() was called. */
  readonly closed: boolean;
  /** Whether entries and tags go through Redis. */
  readonly shared: boolean;
  /** Closes the memory tier and the Redis connection the handlers opened. */
  disconnect(): Promise<void>;
}

export interface IncrementalCacheHandler {
  get(cacheKey: string, context?: { kind?: string; tags?: string[]; softTags?: string[]; revalidate?: number | false }): Promise<IncrementalCacheEntry | null>;
  set(cacheKey: string, data: IncrementalCacheEntry['value'], context?: { tags?: string[]; cacheControl?: IncrementalCacheEntry['cacheControl'] }): Promise<void>;
  revalidateTag(tags: string | string[], durations?: { expire?: number }): Promise<void>;
  resetRequestCache(): void;
}

export interface IncrementalCacheHandlerClass {
  new (context?: { revalidatedTags?: string[]; [field: string]: unknown }): IncrementalCacheHandler;
  readonly backend: NextCacheBackend;
  disconnect(): Promise<void>;
}

/** Next's `'use cache'` entry. */
export interface UseCacheEntry {
  value: ReadableStream<Uint8Array>;
  tags: string[];
  stale: number;
  timestamp: number;
  expire: number;
  revalidate: number;
}

export interface UseCacheHandler {
  get(cacheKey: string, softTags: string[]): Promise<UseCacheEntry | undefined>;
  set(cacheKey: string, pendingEntry: Promise<UseCacheEntry>): Promise<void>;
  refreshTags(): Promise<void>;
  getExpiration(tags: string[]): Promise<number>;
  updateTags(tags: string[], durations?: { expire?: number }): Promise<void>;
  /** Next.js 15. */
  expireTags(...tags: string[]): Promise<void>;
  /** Next.js 15. */
  receiveExpiredTags(...tags: string[]): Promise<void>;
  readonly backend: NextCacheBackend;
  disconnect(): Promise<void>;
}

export declare function createIncrementalCacheHandler(options?: NextCacheHandlerOptions): IncrementalCacheHandlerClass;
export declare function createUseCacheHandler(options?: NextCacheHandlerOptions): UseCacheHandler;
