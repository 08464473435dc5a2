'use strict';

/**
 * What the Next.js cache handlers of one process share: a memory tier, an optional Redis tier
 * (a RedisStore, so one connection per endpoint however many handlers Next constructs), the
 * tags manifest, and the warnings they print.
 *
 * Entries are stored as bytes: a format byte, then the entry in V8's serialization format
 * (Buffers, Maps and the rest of what Next puts in an entry come back as they went in).
 */

const crypto = require('node:crypto');
const v8 = require('node:v8');
const { MemoryStore } = require('../memory-store');
const { RedisStore } = require('../redis-store');
const { validateOptions } = require('../options');
const { InvalidArgumentError } = require('../errors');
const { describe } = require('../describe');
const { TagManifest } = require('./tags');

const MiB = 1024 * 1024;
const DAY = 86_400_000;
const FORMAT = 1;
// On globalThis: Next may load this package more than once in a process (per bundle).
const kRegistry = Symbol.for('native-cache-manager.next.backends');
const kByObject = Symbol.for('native-cache-manager.next.backendsByOptions');
// One per process (on globalThis like the registry, so every module copy names backends alike).
const digestKey = (globalThis[Symbol.for('native-cache-manager.next.digestKey')] ??= crypto.randomBytes(32));

const NEXT_HANDLER_DEFAULTS = Object.freeze({
  keyPrefix: 'ncm:next:',
  memoryBytes: 64 * MiB,
  memoryTtl: 1000,
  tagSyncInterval: 100,
  maxTtl: 30 * DAY,
  maxEntryBytes: 32 * MiB,
});

const isRedisOption = (value) => typeof value === 'string' || value instanceof RedisStore ||
  (value !== null && typeof value === 'object' && !Array.isArray(value));

const SPEC = {
  redis: {
    type: 'any', default: undefined, check: isRedisOption,
    allowed: "a redis:// or rediss:// url, RedisStore options or a RedisStore",
  },
  keyPrefix: { type: 'string', default: NEXT_HANDLER_DEFAULTS.keyPrefix },
  memoryBytes: { type: 'integer', min: 0, max: 2 ** 50, default: NEXT_HANDLER_DEFAULTS.memoryBytes },
  memoryTtl: { type: 'integer', min: 0, max: 2 ** 31 - 1, default: NEXT_HANDLER_DEFAULTS.memoryTtl },
  tagSyncInterval: { type: 'integer', min: 0, max: 2 ** 31 - 1, default: NEXT_HANDLER_DEFAULTS.tagSyncInterval },
  maxTtl: { type: 'integer', min: 1000, max: 2 ** 52, default: NEXT_HANDLER_DEFAULTS.maxTtl },
  maxEntryBytes: { type: 'integer', min: 1024, max: 512 * MiB, default: NEXT_HANDLER_DEFAULTS.maxEntryBytes },
  onError: { type: 'function', default: undefined },
};

class NextCacheBackend {
  #memory;
  #redisStore;
  #ownsRedis;
  #redis;
  #opts;
  #failing = new Set();
  #closed = false;

  /**
   * @param {string} where the factory's name, for error messages
   * @param {object} [options] see docs/nextjs.md "Options"
   */
  constructor(where, options) {
    const opts = validateOptions(where, options, SPEC);
    if (opts.memoryBytes > 0 && opts.memoryBytes < 1024) {
      throw new InvalidArgumentError(`${where}: option 'memoryBytes' must be 0 (no memory tier) or at least 1024; received ${describe(opts.memoryBytes)}`);
    }
    this.#opts = opts;
    if (opts.memoryBytes > 0) {
      this.#memory = new MemoryStore({
        maxBytes: opts.memoryBytes,
        maxValueBytes: Math.min(opts.maxEntryBytes, opts.memoryBytes),
        decodedCacheBytes: 0, // entries are Buffers: nothing to decode
      });
    }
    if (opts.redis instanceof RedisStore) {
      this.#redisStore = opts.redis;
      this.#ownsRedis = false;
    } else if (opts.redis !== undefined) {
      this.#redisStore = typeof opts.redis === 'string'
        ? new RedisStore(opts.redis, { clientName: 'next-cache' })
        : new RedisStore({ clientName: 'next-cache', ...opts.redis });
      this.#ownsRedis = true;
    }
    this.#redis = this.#redisStore?.client;
    this.tags = new TagManifest({
      redis: this.#redis,
      keyPrefix: opts.keyPrefix,
      syncInterval: opts.tagSyncInterval,
      report: (error, operation) => this.report(error, operation),
    });
  }

  /** Whether disconnect() was called. */
  get closed() {
    return this.#closed;
  }

  /** Whether entries and tags are shared through Redis. */
  get shared() {
    return this.#redis !== undefined;
  }

  get options() {
    const { redis, ...rest } = this.#opts;
    return { ...rest, redis: redis === undefined ? undefined : this.#redis.config };
  }

  /**
   * Prints a failure once per outage of the same operation (or hands it to `onError`): a
   * cache that cannot reach Redis serves from memory and renders, it does not fail requests.
   */
  report(error, operation) {
    if (this.#opts.onError !== undefined) {
      try {
        this.#opts.onError(error, operation);
      } catch {
        // A throwing onError must not turn a cache miss into a failed request.
      }
      return;
    }
    if (this.#failing.has(operation)) return;
    this.#failing.add(operation);
    const redisDown = typeof error?.code === 'string' && error.code.startsWith('ERR_REDIS');
    console.warn(`[native-cache-manager/next] ${operation} failed (${error?.code ?? error?.name}): ${error?.message}` +
      (redisDown ? '; entries are served from memory or rendered until Redis answers again' : ''));
  }

  #recovered(operation) {
    if (this.#failing.size > 0) this.#failing.delete(operation);
  }

  #key(key) {
    return `${this.#opts.keyPrefix}${key}`;
  }

  /**
   * The entry stored under `key` (decoded), from memory or else from Redis, as `{ entry,
   * fromMemory }`; `entry` is undefined on a miss, a failed read (reported), bytes this version
   * cannot read, or after disconnect().
   * @param {string} key
   * @param {{skipMemory?: boolean}} [options] read Redis even when memory holds a copy
   */
  async read(key, { skipMemory = false } = {}) {
    if (this.#closed) return {};
    const full = this.#key(key);
    let bytes = skipMemory ? undefined : this.#memory?.getSync(full);
    const fromMemory = bytes !== undefined;
    if (bytes === undefined && this.#redis !== undefined) {
      try {
        bytes = await this.#redis.command(['GET', full], { buffers: true });
        this.#recovered('reading an entry');
      } catch (error) {
        this.report(error, 'reading an entry');
        return {};
      }
      if (bytes === null || this.#closed) return {};
      this.#remember(full, bytes, this.#opts.memoryTtl);
    }
    return bytes === undefined ? {} : { entry: this.#decode(bytes), fromMemory };
  }

  /**
   * Stores `entry` under `key` for `ttl` ms (capped by maxTtl) in memory and Redis. Never
   * rejects: a failure is reported, and an entry over maxEntryBytes is not stored.
   */
  async write(key, entry, ttl) {
    if (this.#closed) return;
    const full = this.#key(key);
    let bytes;
    try {
      bytes = Buffer.concat([Buffer.of(FORMAT), v8.serialize(entry)]);
    } catch (error) {
      this.report(error, 'encoding an entry');
      return;
    }
    if (bytes.length > this.#opts.maxEntryBytes) {
      this.report(new InvalidArgumentError(
        `entry '${key.slice(0, 80)}' is ${bytes.length} bytes, over maxEntryBytes (${this.#opts.maxEntryBytes}); not stored`,
        'ERR_VALUE_TOO_LARGE'), 'storing an entry');
      this.delete(key);
      return;
    }
    const life = Math.max(1, Math.min(Math.round(ttl), this.#opts.maxTtl));
    this.#remember(full, bytes, this.#redis === undefined ? life : Math.min(life, this.#opts.memoryTtl));
    if (this.#redis === undefined) return;
    if (this.#closed) return;
    try {
      await this.#redis.command(['SET', full, bytes, 'PX', String(life)]);
      this.#recovered('storing an entry');
    } catch (error) {
      this.report(error, 'storing an entry');
    }
  }

  /** Removes `key` from both tiers (a Redis failure is reported). */
  async delete(key) {
    if (this.#closed) return;
    const full = this.#key(key);
    this.#memory?.deleteSync(full);
    if (this.#redis === undefined) return;
    try {
      await this.#redis.command(['DEL', full]);
    } catch (error) {
      this.report(error, 'deleting an entry');
    }
  }

  #remember(full, bytes, ttl) {
    if (this.#memory === undefined || ttl <= 0) return;
    try {
      this.#memory.setSync(full, bytes, ttl);
    } catch {
      // Over the memory tier's size caps: it is served from Redis.
      this.#memory.deleteSync(full);
    }
  }

  #decode(bytes) {
    if (bytes.length < 2 || bytes[0] !== FORMAT) return undefined;
    try {
      return v8.deserialize(bytes.subarray(1));
    } catch (error) {
      // Written by a Node.js whose serialization format this one cannot read: a miss.
      this.report(error, 'decoding an entry');
      return undefined;
    }
  }

  /**
   * Closes the memory tier and the Redis connection this backend opened. The handlers on it
   * then miss on every read and store nothing (they never reject into Next).
   */
  async disconnect() {
    if (this.#closed) return;
    this.#closed = true;
    const registry = globalThis[kRegistry];
    for (const [key, backend] of registry ?? []) if (backend === this) registry.delete(key);
    await this.#memory?.disconnect();
    if (this.#ownsRedis) await this.#redisStore.disconnect();
  }
}

/**
 * A backend for `options`. Handlers made with equal options of strings and numbers share one
 * (its memory tier and tags manifest too), whichever module copy or handler class asks; options
 * that carry objects (a RedisStore, a credentials function) share one per options object.
 */
function acquireBackend(where, options) {
  const registry = (globalThis[kRegistry] ??= new Map());
  const plain = options === undefined || (options !== null && typeof options === 'object' &&
    Object.values(options).every((v) => v === undefined || typeof v === 'string' || typeof v === 'number'));
  if (!plain) {
    // The same options object (with a RedisStore, a function…) passed to both factories.
    const byObject = (globalThis[kByObject] ??= new WeakMap());
    let backend = byObject.get(options);
    if (backend === undefined || backend.closed) {
      backend = new NextCacheBackend(where, options);
      if (options !== null && typeof options === 'object') byObject.set(options, backend);
    }
    return backend;
  }
  // Named by a keyed digest of the options with their defaults (a url's password is not kept).
  const filled = validateOptions(where, options, SPEC);
  const key = crypto.createHmac('sha256', digestKey).update(JSON.stringify(Object.entries(filled)
    .filter(([, v]) => v !== undefined).sort(([x], [y]) => (x < y ? -1 : 1)))).digest('base64');
  let backend = registry.get(key);
  if (backend === undefined || backend.closed) {
    backend = new NextCacheBackend(where, options);
    registry.set(key, backend);
  }
  return backend;
}

module.exports = { NextCacheBackend, acquireBackend, NEXT_HANDLER_DEFAULTS };
