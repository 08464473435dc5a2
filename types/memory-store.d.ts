import { EventEmitter } from 'node:events';

/** A custom value serializer. */
export interface Serializer {
  serialize(value: unknown): string | Uint8Array;
  deserialize(payload: string | Buffer): unknown;
}

export interface MemoryStoreOptions {
  /** Most entries held; the eviction policy (SIEVE) makes room. Default 1,000,000. */
  maxEntries?: number;
  /** Most bytes held, counting key + value + 56 bytes per entry. Default 256 MiB. */
  maxBytes?: number;
  /** Largest serialized value accepted. Default 64 MiB. */
  maxValueBytes?: number;
  /** Longest key accepted, in UTF-8 bytes. Default 64 KiB. */
  maxKeyBytes?: number;
  /** Milliseconds between background expiry sweeps; 0 turns the sweep off. Default 1000. */
  sweepInterval?: number;
  /**
   * JS-heap budget, in estimated bytes, for decoded master copies of strings and JSON
   * values read more than once; reads of those hand out fresh copies of the master instead
   * of parsing again, without a native call (the native store still decides hit or miss,
   * through a table of write generations it updates). 0 turns it off. Default 64 MiB.
   */
  decodedCacheBytes?: number;
  /**
   * Hand out strings and JSON values shared and deep-frozen instead of a copy per read: no
   * copy and no parse for a value kept within `decodedCacheBytes`. A caller that assigns to
   * what it got throws (strict mode) or changes nothing (sloppy mode); push, splice and the
   * like throw in any mode. Other values (v8-serialized, Buffers, a custom serializer's) are
   * decoded per read as without it. Applies to createCache and the sync API, not through
   * Keyv (which stores its own serialized strings). Default false.
   */
  frozen?: boolean;
  /** With a namespace, `clear()` removes only keys starting with `${namespace}:`. */
  namespace?: string;
  /** Value codec. Default 'auto'. */
  serializer?: 'auto' | 'json' | 'v8' | Serializer;
}

export interface MemoryStoreStats {
  hits: number;
  misses: number;
  sets: number;
  deletes: number;
  evictions: number;
  expirations: number;
  entries: number;
  bytes: number;
  /** Decoded master copies held on the JS heap (see `decodedCacheBytes`). */
  decodedEntries: number;
  /** Their estimated size in bytes, at most `decodedCacheBytes`. */
  decodedBytes: number;
  /** Hits served from them without a native call; included in `hits`. */
  decodedHits: number;
}

export declare const MEMORY_STORE_DEFAULTS: Readonly<Required<Omit<MemoryStoreOptions, 'namespace' | 'serializer'>>>;

/** The native off-heap memory store; a Keyv 5 storage adapter. */
export declare class MemoryStore extends EventEmitter {
  constructor(options?: MemoryStoreOptions);
  readonly opts: Required<Omit<MemoryStoreOptions, 'namespace'>> & { namespace?: string };
  namespace: string | undefined;
  get<T = unknown>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown, ttl?: number): Promise<boolean>;
  delete(key: string): Promise<boolean>;
  has(key: string): Promise<boolean>;
  clear(): Promise<void>;
  getMany<T = unknown>(keys: string[]): Promise<Array<T | undefined>>;
  setMany(entries: Array<{ key: string; value: unknown; ttl?: number }>): Promise<boolean[]>;
  deleteMany(keys: string[]): Promise<boolean>;
  disconnect(): Promise<void>;
  /** Removes expired entries now, off the JS thread; resolves with how many. */
  sweep(): Promise<number>;
  stats(): MemoryStoreStats;
  getSync<T = unknown>(key: string): T | undefined;
  getEntrySync<T = unknown>(key: string): { value: T; expires: number | undefined } | undefined;
  setSync(key: string, value: unknown, ttl?: number): void;
  deleteSync(key: string): boolean;
  hasSync(key: string): boolean;
  expiresAtSync(key: string): number | undefined;
  clearSync(): void;
  /** The fast path createCache uses (internal). */
  readonly [kTier]: unknown;
}

/** The symbol under which stores expose their fast path to createCache. */
export declare const kTier: unique symbol;
