'use strict';

/**
 * RedisStore: a Keyv 5 storage adapter over the shared native Redis connection manager,
 * and a fast tier for `createCache`.
 *
 * Key layout and value format follow `@keyv/redis` under Keyv so a fleet can move over
 * gradually (see README "RedisStore" → interoperability):
 * - as a Keyv adapter, Keyv hands us `keyv:foo` and a serialized string; we store it under
 *   `${namespace}${keyPrefixSeparator}keyv:foo`, i.e. `keyv::keyv:foo` by default;
 * - as a createCache tier, `foo` is stored under the same key with the same text Keyv's
 *   default serializer makes (lib/keyv-format.js).
 */

const { EventEmitter } = require('node:events');
const { randomBytes } = require('node:crypto');
const { validateOptions } = require('./options');
const { checkKey, checkTtl } = require('./options');
const { describe } = require('./describe');
const { kTier } = require('./tier');
const { RedisClient } = require('./redis-client');
const { RedisClusterClient } = require('./redis-cluster');
const { RedisSentinelClient } = require('./redis-sentinel');
const { acquireSharedClient } = require('./redis-registry');
const { CONNECTION_OPTION_NAMES } = require('./redis-options');
const { encodeEnvelope, decodeEnvelope } = require('./keyv-format');
const {
  InvalidArgumentError, KeyTooLargeError, ValueTooLargeError, RedisClosedError,
} = require('./errors');

const MiB = 1024 * 1024;

// Deletes the lock only if it still holds the caller's token: a holder whose lock expired
// and was taken by another process must not release the new owner's lock.
const UNLOCK_SCRIPT =
  "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

// Lock keys live next to the data keys but can never equal one: under a namespace, data
// keys of the tier are `${namespace}${separator}${namespace}:key`.
const LOCK_PREFIX = 'ncm-refresh-lock:';

/** Store defaults (connection defaults are in REDIS_CLIENT_DEFAULTS). */
const REDIS_STORE_DEFAULTS = Object.freeze({
  namespace: 'keyv',
  keyPrefixSeparator: '::',
  maxKeyBytes: 64 * 1024,
  maxValueBytes: 64 * MiB,
  clearBatchSize: 1000,
  shared: true,
});

const STORE_SPEC = {
  namespace: { type: 'any', allowed: "a string ('' = no prefix)", check: (v) => typeof v === 'string', default: REDIS_STORE_DEFAULTS.namespace },
  keyPrefixSeparator: { type: 'string', default: REDIS_STORE_DEFAULTS.keyPrefixSeparator },
  maxKeyBytes: { type: 'integer', min: 1, max: 512 * MiB, default: REDIS_STORE_DEFAULTS.maxKeyBytes },
  maxValueBytes: { type: 'integer', min: 0, max: 512 * MiB, default: REDIS_STORE_DEFAULTS.maxValueBytes },
  clearBatchSize: { type: 'integer', min: 1, max: 1_000_000, default: REDIS_STORE_DEFAULTS.clearBatchSize },
  shared: { type: 'boolean', default: REDIS_STORE_DEFAULTS.shared },
};

function splitOptions(urlOrOptions, options) {
  const all = typeof urlOrOptions === 'string'
    ? { ...options, url: urlOrOptions }
    : { ...urlOrOptions, ...options };
  const connection = {};
  const store = {};
  for (const [name, value] of Object.entries(all)) {
    if (CONNECTION_OPTION_NAMES.includes(name)) connection[name] = value;
    else store[name] = value;
  }
  return { connection, store };
}

function escapeGlob(text) {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

// A store dropped without disconnect() gives its share of the connection back when it is
// collected; the shared connection closes with its last share.
const droppedLeases = new FinalizationRegistry((lease) => {
  lease.release().catch(() => {});
});

/** A Redis-backed cache store. Constructing one opens nothing: the first command does. */
class RedisStore extends EventEmitter {
  #lease;
  #client;
  #closed = false;
  #tier;

  /**
   * @param {string|object} [urlOrOptions] `redis://…`/`rediss://…`/`unix://…` url, or options
   * @param {object} [options] options when the first argument is a url
   */
  constructor(urlOrOptions, options) {
    super();
    if (urlOrOptions !== undefined && typeof urlOrOptions !== 'string' &&
        (urlOrOptions === null || typeof urlOrOptions !== 'object')) {
      throw new InvalidArgumentError(`RedisStore: expected a url string or an options object; received ${describe(urlOrOptions)}`,
        'ERR_INVALID_ARG_TYPE');
    }
    const { connection, store } = splitOptions(urlOrOptions ?? {}, options);
    const opts = validateOptions('RedisStore', store, STORE_SPEC);
    this.opts = { ...opts, dialect: 'redis' };
    /** Keyv sets this; keys are stored under `${namespace}${keyPrefixSeparator}${key}`. */
    this.namespace = opts.namespace;
    this.keyPrefixSeparator = opts.keyPrefixSeparator;
    if (opts.shared) {
      this.#lease = acquireSharedClient(connection);
      this.#client = this.#lease.client;
      // Dropped without disconnect(): the share is released when the store is collected,
      // and the shared connection closes with its last share.
      droppedLeases.register(this, this.#lease, this);
    } else {
      this.#client = connection.sentinel !== undefined ? new RedisSentinelClient(connection)
        : connection.cluster !== undefined ? new RedisClusterClient(connection) : new RedisClient(connection);
    }
  }

  /** The connection manager this store uses (shared by default): `client.command([...])`. */
  get client() { return this.#client; }

  #redisKey(key) {
    return this.namespace ? `${this.namespace}${this.keyPrefixSeparator}${key}` : key;
  }

  /** Redis key of an unprefixed createCache key: the key Keyv + @keyv/redis would use. */
  #tierKey(key) {
    return this.namespace ? this.#redisKey(`${this.namespace}:${key}`) : key;
  }

  /** Redis key of the refresh lock of an unprefixed createCache key. */
  #lockKey(key) {
    return this.namespace
      ? `${this.namespace}${this.keyPrefixSeparator}${LOCK_PREFIX}${key}`
      : `${LOCK_PREFIX}${key}`;
  }

  #checkKeySize(method, redisKey) {
    if (redisKey.length > this.opts.maxKeyBytes / 3 &&
        Buffer.byteLength(redisKey) > this.opts.maxKeyBytes) {
      throw new KeyTooLargeError(`${method}: key is ${Buffer.byteLength(redisKey)} bytes (with its prefix); maxKeyBytes is ${this.opts.maxKeyBytes}`);
    }
  }

  #checkValueSize(method, payload) {
    const max = this.opts.maxValueBytes;
    if (payload.length > max / 3) {
      const bytes = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
      if (bytes > max) {
        throw new ValueTooLargeError(`${method}: value is ${bytes} bytes serialized; maxValueBytes is ${max}`);
      }
    }
  }

  #call(args, options) {
    if (this.#closed) {
      return Promise.reject(new RedisClosedError('the Redis store is closed: disconnect() was called', this.#client.address));
    }
    return this.#client.command(args, options);
  }

  #setArgs(method, redisKey, payload, ttl) {
    this.#checkKeySize(method, redisKey);
    this.#checkValueSize(method, payload);
    const args = ['SET', redisKey, payload];
    if (ttl !== undefined && ttl > 0) args.push('PX', String(Math.max(1, Math.ceil(ttl))));
    return args;
  }

  // --- Keyv 5 storage adapter: raw strings (Keyv serializes) ------------------------------

  /** @returns {Promise<string|undefined>} */
  async get(key) {
    checkKey('get', key);
    const reply = await this.#call(['GET', this.#redisKey(key)]);
    return reply === null ? undefined : reply;
  }

  async getMany(keys) {
    checkArray('getMany', keys);
    if (keys.length === 0) return [];
    for (const key of keys) checkKey('getMany', key);
    const replies = await this.#call(['MGET', ...keys.map((k) => this.#redisKey(k))]);
    return replies.map((r) => (r === null ? undefined : r));
  }

  /**
   * @param {string} key
   * @param {string|Buffer} value Keyv's serialized text
   * @param {number} [ttl] ms; 0 or undefined = no expiry
   */
  async set(key, value, ttl) {
    checkKey('set', key);
    checkTtl('set', ttl);
    checkPayload('set', value);
    await this.#call(this.#setArgs('set', this.#redisKey(key), value, ttl));
    return true;
  }

  /** Pipelined: every SET leaves in one write. */
  async setMany(entries) {
    checkArray('setMany', entries);
    const calls = entries.map(({ key, value, ttl }) => {
      checkKey('setMany', key);
      checkTtl('setMany', ttl);
      checkPayload('setMany', value);
      return this.#setArgs('setMany', this.#redisKey(key), value, ttl);
    });
    const results = await Promise.allSettled(calls.map((args) => this.#call(args)));
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    return results.map(() => true);
  }

  /** @returns {Promise<boolean>} whether the key existed */
  async delete(key) {
    checkKey('delete', key);
    return (await this.#call(['UNLINK', this.#redisKey(key)])) > 0;
  }

  /** @returns {Promise<boolean>} whether any key existed */
  async deleteMany(keys) {
    checkArray('deleteMany', keys);
    if (keys.length === 0) return false;
    for (const key of keys) checkKey('deleteMany', key);
    return (await this.#call(['UNLINK', ...keys.map((k) => this.#redisKey(k))])) > 0;
  }

  async has(key) {
    checkKey('has', key);
    return (await this.#call(['EXISTS', this.#redisKey(key)])) === 1;
  }

  async hasMany(keys) {
    checkArray('hasMany', keys);
    return Promise.all(keys.map((k) => this.has(k)));
  }

  /**
   * Removes this store's namespace: SCAN MATCH `${namespace}${separator}*` + UNLINK in
   * batches (never FLUSHDB). Without a namespace (`namespace: ''`) it removes every key
   * of the selected database, still with SCAN + UNLINK.
   */
  async clear() {
    const match = this.namespace ? `${escapeGlob(this.namespace + this.keyPrefixSeparator)}*` : '*';
    for (const node of await this.#scanNodes()) {
      let cursor = '0';
      do {
        const [next, keys] = await this.#callOn(node, ['SCAN', cursor, 'MATCH', match, 'COUNT', String(this.opts.clearBatchSize)]);
        cursor = next;
        // Through the store's client: in a cluster, UNLINK is split by slot.
        if (keys.length > 0) await this.#call(['UNLINK', ...keys]);
      } while (cursor !== '0');
    }
  }

  /** The clients SCAN walks: every primary of a cluster, else the one client. */
  async #scanNodes() {
    if (this.#closed) {
      throw new RedisClosedError('the Redis store is closed: disconnect() was called', this.#client.address);
    }
    return this.#client.cluster === true ? this.#client.primaries() : [this.#client];
  }

  #callOn(node, args) {
    if (this.#closed) {
      return Promise.reject(new RedisClosedError('the Redis store is closed: disconnect() was called', this.#client.address));
    }
    return node.command(args);
  }

  /**
   * Yields `[key, value]` for every entry of a namespace (default: this store's), keys
   * without the prefix. Used by Keyv's `iterator()`. SCAN-based: entries written meanwhile
   * may or may not appear.
   * @param {string} [namespace]
   */
  async *iterator(namespace = this.namespace) {
    const prefix = namespace ? `${namespace}${this.keyPrefixSeparator}` : '';
    const match = `${escapeGlob(prefix)}*`;
    for (const node of await this.#scanNodes()) {
      let cursor = '0';
      do {
        const [next, keys] = await this.#callOn(node, ['SCAN', cursor, 'MATCH', match, 'COUNT',
          String(this.opts.clearBatchSize), 'TYPE', 'string']);
        cursor = next;
        if (keys.length > 0) {
          const values = await this.#call(['MGET', ...keys]);
          for (let i = 0; i < keys.length; i++) {
            if (values[i] !== null) yield [keys[i].slice(prefix.length), values[i]];
          }
        }
      } while (cursor !== '0');
    }
  }

  /**
   * Releases this store's lease on the shared connection; the connection closes (in-flight
   * replies awaited, QUIT, socket closed, thread joined) when the last store lets go.
   * Idempotent. Later calls on this store reject with RedisClosedError.
   * @param {{timeout?: number}} [options] force-close after this many ms (default 5000)
   */
  async disconnect(options) {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#lease) {
      droppedLeases.unregister(this);
      await this.#lease.release(options);
    }
    else await this.#client.disconnect(options);
  }

  /** `await using store = new RedisStore(url)` */
  async [Symbol.asyncDispose]() { await this.disconnect(); }

  // --- createCache tier: values in Keyv's format under Keyv's keys ---------------------
  // Reached only through `store[kTier]` (lib/tier.js), never as public methods.

  async #getEntry(key) {
    checkKey('get', key);
    const text = await this.#call(['GET', this.#tierKey(key)]);
    if (text === null) return undefined;
    const entry = decodeEnvelope(text);
    if (entry === undefined) return undefined;
    if (entry.expires !== undefined && Date.now() > entry.expires) return undefined;
    return entry;
  }

  async #setEntry(key, value, ttl) {
    checkKey('set', key);
    checkTtl('set', ttl);
    const expires = ttl ? Date.now() + ttl : undefined;
    await this.#call(this.#setArgs('set', this.#tierKey(key), encodeEnvelope(value, expires), ttl));
  }

  async #getValues(keys) {
    checkArray('getMany', keys);
    if (keys.length === 0) return [];
    for (const key of keys) checkKey('getMany', key);
    const texts = await this.#call(['MGET', ...keys.map((k) => this.#tierKey(k))]);
    const now = Date.now();
    return texts.map((text) => {
      if (text === null) return undefined;
      const entry = decodeEnvelope(text);
      if (entry === undefined || (entry.expires !== undefined && now > entry.expires)) return undefined;
      return entry.value;
    });
  }

  async #setEntries(entries) {
    checkArray('setMany', entries);
    const now = Date.now();
    const calls = entries.map(({ key, value, ttl }) => {
      checkKey('setMany', key);
      checkTtl('setMany', ttl);
      return this.#setArgs('setMany', this.#tierKey(key), encodeEnvelope(value, ttl ? now + ttl : undefined), ttl);
    });
    const results = await Promise.allSettled(calls.map((args) => this.#call(args)));
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  async #deleteKeys(keys) {
    checkArray('deleteMany', keys);
    if (keys.length === 0) return false;
    for (const key of keys) checkKey('deleteMany', key);
    return (await this.#call(['UNLINK', ...keys.map((k) => this.#tierKey(k))])) > 0;
  }

  /**
   * Takes the refresh lock of `key` for `ttlMs` (SET NX PX with a random token).
   * @returns {Promise<string|undefined>} the token, or undefined when another holder has it
   */
  async #tryLock(key, ttlMs) {
    checkKey('tryLock', key);
    const lockKey = this.#lockKey(key);
    this.#checkKeySize('tryLock', lockKey);
    const token = randomBytes(16).toString('hex');
    const px = String(Math.max(1, Math.ceil(ttlMs)));
    const reply = await this.#call(['SET', lockKey, token, 'NX', 'PX', px]);
    return reply === null ? undefined : token;
  }

  /**
   * Releases the refresh lock of `key` if `token` still owns it (compare-and-delete in Lua).
   * @returns {Promise<boolean>} whether the lock was released
   */
  async #unlock(key, token) {
    checkKey('unlock', key);
    return (await this.#call(['EVAL', UNLOCK_SCRIPT, '1', this.#lockKey(key), token])) === 1;
  }

  /**
   * The fast path used by createCache (see lib/tier.js): one object per store, made on
   * first use.
   * @returns {import('./tier').TierOps}
   */
  get [kTier]() {
    this.#tier ??= {
      get: async (key) => (await this.#getEntry(key))?.value,
      getEntry: (key) => this.#getEntry(key),
      getMany: (keys) => this.#getValues(keys),
      set: (key, value, ttl) => this.#setEntry(key, value, ttl),
      setMany: (entries) => this.#setEntries(entries),
      delete: (key) => this.#deleteKeys([key]),
      deleteMany: (keys) => this.#deleteKeys(keys),
      clear: () => this.clear(),
      tryLock: (key, ttlMs) => this.#tryLock(key, ttlMs),
      unlock: (key, token) => this.#unlock(key, token),
      disconnect: (options) => this.disconnect(options),
    };
    return this.#tier;
  }
}

function checkArray(method, value) {
  if (!Array.isArray(value)) {
    throw new InvalidArgumentError(`${method}: expected an array; received ${describe(value)}`,
      'ERR_INVALID_ARG_TYPE');
  }
}

function checkPayload(method, value) {
  if (typeof value !== 'string' && !(value instanceof Uint8Array)) {
    throw new InvalidArgumentError(
      `${method}: RedisStore as a Keyv adapter stores the text Keyv serialized (a string or Buffer); received ${describe(value)}. Keep Keyv's serializer on, or use the store through createCache`,
      'ERR_INVALID_ARG_TYPE');
  }
}

module.exports = { RedisStore, REDIS_STORE_DEFAULTS };
