import { EventEmitter } from 'node:events';
import { kTier } from './memory-store';

/** Anything with the fast-path tier interface: MemoryStore, RedisStore. */
export interface TierStore {
  readonly [kTier]: unknown;
}

/**
 * The parts of a Keyv 5 instance that createCache uses (any `new Keyv(...)` fits; typed
 * structurally so that the `keyv` package is not needed to compile against these types).
 */
export interface KeyvLike {
  get(key: string, options?: { raw?: boolean }): Promise<any>;
  getMany(keys: string[]): Promise<any[]>;
  set(key: string, value: any, ttl?: number): Promise<boolean>;
  setMany(entries: Array<{ key: string; value: any; ttl?: number }>): Promise<boolean[]>;
  delete(key: string): Promise<boolean>;
  clear(): Promise<void>;
  disconnect?(): Promise<void>;
}

export type CacheStore = TierStore | KeyvLike;

export type WaitUntil = (promise: Promise<unknown>) => void;

export interface CreateCacheOptions {
  /** Tiers, fastest first. Default: one `new MemoryStore()`. */
  stores?: CacheStore[];
  /** Default ttl in milliseconds; 0 or unset = no expiry. */
  ttl?: number;
  /** Default wrap refresh threshold in milliseconds; unset = no background refresh. */
  refreshThreshold?: number;
  /** Background refreshes write every tier instead of the tiers down to the one hit. Default false. */
  refreshAllStores?: boolean;
  /** Writes don't wait for the stores; reads ask every tier at once, first hit wins. Default false. */
  nonBlocking?: boolean;
  /** Coalescing scope of wrap; caches with the same id share loads. Default: random. */
  cacheId?: string;
  /** Receives each background refresh promise (e.g. Next.js `after`). */
  waitUntil?: WaitUntil;
  /**
   * With a tier shared between processes (RedisStore), a background refresh first takes a
   * short lock on the key there, so one process per key runs `fn` while the others keep
   * serving the stale value. Default true; false lets every process refresh.
   */
  refreshLock?: boolean;
  /**
   * Milliseconds the refresh lock lives if its holder never releases it (a crashed
   * process); make it longer than `fn` takes. Integer >= 1. Default 10000.
   */
  refreshLockTtl?: number;
}

export type WrapOptions<T> = {
  ttl?: number | ((value: T) => number);
  refreshThreshold?: number | ((value: T) => number);
  /** Replaces the cache's `waitUntil` for this call. */
  waitUntil?: WaitUntil;
  /** true: resolve with `{ value, expires }` (see WrapOptionsRaw). */
  raw?: false;
};

export type WrapOptionsRaw<T> = Omit<WrapOptions<T>, 'raw'> & { raw: true };

/** What `wrap(..., { raw: true })` returns; `expires` is epoch ms, undefined = never. */
export type StoredDataRaw<T> = { value?: T; expires?: number };

export interface DisconnectOptions {
  /** Most milliseconds to wait for in-flight work before closing the stores. Default 5000. */
  timeout?: number;
}

export type Events = {
  get: <T>(data: { key: string; value?: T; store?: string; error?: unknown }) => void;
  mget: <T>(data: { keys: string[]; values?: T[]; error?: unknown }) => void;
  set: <T>(data: { key: string; value: T; store?: string; error?: unknown }) => void;
  mset: <T>(data: { list: Array<{ key: string; value: T; ttl?: number }>; error?: unknown }) => void;
  del: (data: { key: string; error?: unknown }) => void;
  mdel: (data: { keys: string[]; error?: unknown }) => void;
  clear: (error?: unknown) => void;
  ttl: <T>(data: { key: string; value?: StoredDataRaw<T>; error?: unknown }) => void;
  refresh: <T>(data: { key: string; value: T; error?: unknown }) => void;
  /** Failures nobody awaits: non-blocking writes, a throwing waitUntil. */
  error: (error: unknown) => void;
};

export interface Cache {
  get: <T>(key: string) => Promise<T | undefined>;
  mget: <T>(keys: string[]) => Promise<Array<T | undefined>>;
  /** Absolute expiry in epoch ms; undefined when missing or never expiring. */
  ttl: (key: string) => Promise<number | undefined>;
  set: <T>(key: string, value: T, ttl?: number) => Promise<T>;
  mset: <T>(list: Array<{ key: string; value: T; ttl?: number }>) => Promise<Array<{ key: string; value: T; ttl?: number }>>;
  del: (key: string) => Promise<boolean>;
  mdel: (keys: string[]) => Promise<boolean>;
  clear: () => Promise<boolean>;
  on: <E extends keyof Events>(event: E, listener: Events[E]) => EventEmitter;
  off: <E extends keyof Events>(event: E, listener: Events[E]) => EventEmitter;
  /** Rejects new calls, waits for in-flight work (up to `timeout`), closes every store. */
  disconnect: (options?: DisconnectOptions) => Promise<undefined>;
  /** Resolves when every background refresh and non-blocking write started so far has settled. */
  settled: () => Promise<void>;
  cacheId: () => string;
  stores: CacheStore[];
  wrap<T>(key: string, fnc: () => T | Promise<T>, ttl?: number | ((value: T) => number),
    refreshThreshold?: number | ((value: T) => number)): Promise<T>;
  wrap<T>(key: string, fnc: () => T | Promise<T>, options: WrapOptions<T>): Promise<T>;
  wrap<T>(key: string, fnc: () => T | Promise<T>, options: WrapOptionsRaw<T>): Promise<StoredDataRaw<T>>;
  [Symbol.asyncDispose](): Promise<undefined>;
}

/** Default of `disconnect({ timeout })`, in milliseconds. */
export declare const DEFAULT_DISCONNECT_TIMEOUT: number;

/** Creates a cache with the cache-manager 7.2.9 API (plus waitUntil, settled, disconnect options). */
export declare function createCache(options?: CreateCacheOptions): Cache;
