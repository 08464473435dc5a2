'use strict';

/**
 * native-cache-manager/next: Next.js cache handlers on a memory tier over Redis.
 *
 * - createIncrementalCacheHandler(options) → a class for next.config's `cacheHandler` (ISR
 *   pages, route handlers, `fetch` data);
 * - createUseCacheHandler(options) → an object for `cacheHandlers.default` (`'use cache'`).
 *
 * Next constructs the `cacheHandler` class several times per request: every instance works on
 * the process's one backend (lib/next/backend.js), nothing lives per instance but the request's
 * own revalidated tags.
 */

const fs = require('node:fs');
const path = require('node:path');
const { acquireBackend, NEXT_HANDLER_DEFAULTS } = require('./backend');
const { now } = require('./tags');
const { InvalidArgumentError } = require('../errors');
const { describe } = require('../describe');

const TAGS_HEADER = 'x-next-cache-tags';
// NCM_NEXT_DEBUG=1 prints each handler call and its outcome.
const debug = process.env.NCM_NEXT_DEBUG ? console.debug.bind(console, '[native-cache-manager/next]') : undefined;

/** `tags` as a list of strings (Next passes a string or a list), or a typed error. */
function tagList(where, tags) {
  const list = typeof tags === 'string' ? [tags] : tags;
  if (!Array.isArray(list) || !list.every((tag) => typeof tag === 'string')) {
    throw new InvalidArgumentError(`${where}: tags must be a string or an array of strings; received ${describe(tags)}`,
      'ERR_INVALID_ARG_TYPE');
  }
  return list;
}

/**
 * Records a revalidation of `tags` (Next passes a string or a list, and `durations`: undefined
 * or `{ expire?: seconds }`). Bad arguments reject with a typed error; a Redis failure is
 * reported, not thrown: the revalidation then reached this instance only.
 */
async function revalidate(backend, where, tags, durations) {
  const list = tagList(where, tags);
  if (durations !== undefined && (durations === null || typeof durations !== 'object' ||
      (durations.expire !== undefined && !(typeof durations.expire === 'number' && durations.expire >= 0)))) {
    throw new InvalidArgumentError(`${where}: durations must be undefined or { expire: seconds ≥ 0 }; received ${describe(durations)}`);
  }
  debug?.(where, list, durations);
  await backend.tags.update(list, durations);
}

/** Milliseconds an entry is kept: Next's `expire` (seconds), or as long as maxTtl allows. */
const lifeOf = (expireSeconds) => (typeof expireSeconds === 'number' && expireSeconds > 0 ? expireSeconds * 1000 : Infinity);

/** The build's id, read once per build directory ('' when Next did not say where it is). */
const buildIds = new Map();
function buildIdOf(serverDistDir) {
  if (typeof serverDistDir !== 'string') return '';
  let id = buildIds.get(serverDistDir);
  if (id === undefined) {
    try {
      id = fs.readFileSync(path.join(serverDistDir, '..', 'BUILD_ID'), 'utf8').trim();
    } catch {
      id = '';
    }
    buildIds.set(serverDistDir, id);
  }
  return id;
}

/**
 * The lastModified that makes Next serve an entry stale and refresh it in the background
 * (its age past `revalidate`), or -1 (a blocking refresh) when it has no revalidate time.
 */
function staleLastModified(revalidateSeconds) {
  return typeof revalidateSeconds === 'number' && revalidateSeconds > 0
    ? now() - revalidateSeconds * 1000 - 1
    : -1;
}

/**
 * Reads entries and judges them by their tags. `describe(entry)` gives `{ tags, timestamp }`,
 * or undefined for an entry of the wrong shape (a miss). A memory copy that is not fresh is
 * checked against Redis before it counts: another instance may have stored a newer entry
 * since this one copied it.
 * @returns {(key: string, describe: Function) => Promise<{stored?: object, verdict?: string}>}
 */
function judgedReader(backend) {
  const judge = async (key, describeEntry, options) => {
    const { entry: stored, fromMemory } = await backend.read(key, options);
    const shape = stored === undefined ? undefined : describeEntry(stored);
    if (shape === undefined) return {};
    if (shape.tags.length === 0) return { stored, verdict: 'fresh' };
    await backend.tags.refresh();
    return { stored, fromMemory, verdict: backend.tags.judge(shape.tags, shape.timestamp) };
  };
  return async (key, describeEntry) => {
    const first = await judge(key, describeEntry);
    if (first.verdict === undefined || first.verdict === 'fresh' || !first.fromMemory || !backend.shared) return first;
    const again = await judge(key, describeEntry, { skipMemory: true });
    return again.verdict === undefined ? first : again;
  };
}

/**
 * @param {object} [options] see docs/nextjs.md: redis, keyPrefix, memoryBytes, memoryTtl,
 *   tagSyncInterval, maxTtl, maxEntryBytes, onError
 * @returns {Function} the class for next.config's `cacheHandler`
 */
function createIncrementalCacheHandler(options) {
  const backend = acquireBackend('createIncrementalCacheHandler', options);
  const readJudged = judgedReader(backend);

  return class IncrementalCacheHandler {
    /** Tags revalidated earlier in this request (Next passes them to each instance). */
    #revalidatedTags;
    /** Entries are kept per build: a page rendered by one build names its own script files. */
    #prefix;

    /** @param {{revalidatedTags?: string[], serverDistDir?: string}} [context] Next's handler context */
    constructor(context) {
      this.#revalidatedTags = Array.isArray(context?.revalidatedTags) ? context.revalidatedTags : [];
      const build = buildIdOf(context?.serverDistDir);
      this.#prefix = build === '' ? 'isr:' : `isr:${build}:`;
    }

    /** The backend every instance of this class uses (tests, `disconnect()`). */
    static get backend() {
      return backend;
    }

    /** Closes the connection and the memory tier (`next start` exits without it). */
    static disconnect() {
      return backend.disconnect();
    }

    async get(cacheKey, context) {
      if (typeof cacheKey !== 'string') return null;
      const key = `${this.#prefix}${cacheKey}`;
      const tagsOf = (stored) => (stored.value?.kind === 'FETCH'
        ? [...(stored.tags ?? []), ...(context?.tags ?? []), ...(context?.softTags ?? [])]
        : stored.tags ?? []);
      const { stored, verdict } = await readJudged(key, (entry) => (typeof entry.lastModified === 'number'
        ? { tags: tagsOf(entry), timestamp: entry.lastModified } : undefined));
      if (stored === undefined) return null;
      const fetch = stored.value?.kind === 'FETCH';
      if (fetch && tagsOf(stored).some((tag) => this.#revalidatedTags.includes(tag))) return null;
      debug?.('isr get', cacheKey, verdict, stored.lastModified);
      if (verdict === 'expired') return null;
      if (verdict === 'stale') {
        const revalidate = fetch ? (context?.revalidate || stored.value.revalidate) : stored.cacheControl?.revalidate;
        const lastModified = staleLastModified(revalidate);
        if (fetch && lastModified === -1) return null;
        return { lastModified, value: stored.value, cacheControl: stored.cacheControl };
      }
      return { lastModified: stored.lastModified, value: stored.value, cacheControl: stored.cacheControl };
    }

    async set(cacheKey, data, context) {
      if (typeof cacheKey !== 'string') {
        throw new InvalidArgumentError(`cacheHandler.set: key must be a string; received ${describe(cacheKey)}`,
          'ERR_INVALID_ARG_TYPE');
      }
      const key = `${this.#prefix}${cacheKey}`;
      if (data === null || data === undefined) {
        await backend.delete(key);
        return;
      }
      let tags;
      if (data.kind === 'FETCH') {
        tags = context?.tags ?? data.tags ?? [];
      } else {
        const header = data.headers?.[TAGS_HEADER];
        tags = typeof header === 'string' && header !== '' ? header.split(',') : [];
      }
      const cacheControl = context?.cacheControl;
      debug?.('isr set', cacheKey, data.kind, tags);
      await backend.write(key, { lastModified: now(), value: data, cacheControl, tags }, lifeOf(cacheControl?.expire));
    }

    async revalidateTag(tags, durations) {
      await revalidate(backend, 'cacheHandler.revalidateTag', tags, durations);
    }

    resetRequestCache() {
      // Nothing is kept per request.
    }
  };
}

/** A stream over `bytes` (each get hands out a new one). */
function streamOf(bytes) {
  return new ReadableStream({
    start(controller) {
      if (bytes.length > 0) controller.enqueue(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length));
      controller.close();
    },
  });
}

/** The bytes of `stream`, or undefined once they pass `cap` (the stream is then cancelled). */
async function bytesOf(stream, cap) {
  const chunks = [];
  let size = 0;
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > cap) {
      await reader.cancel().catch(() => {});
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size);
}

/**
 * @param {object} [options] as createIncrementalCacheHandler's
 * @returns {object} the handler for next.config's `cacheHandlers.default`
 */
function createUseCacheHandler(options) {
  const backend = acquireBackend('createUseCacheHandler', options);
  const readJudged = judgedReader(backend);
  /** A `set` under way per key: a `get` of that key waits for it (our promise, not Next's). */
  const pending = new Map();
  const maxEntryBytes = backend.options.maxEntryBytes;

  return {
    async get(cacheKey, softTags) {
      const waiting = pending.get(cacheKey);
      if (waiting !== undefined) await waiting;
      const soft = Array.isArray(softTags) ? softTags : [];
      const { stored, verdict } = await readJudged(`uc:${cacheKey}`, (entry) => (
        Buffer.isBuffer(entry.value) && Array.isArray(entry.tags) && typeof entry.timestamp === 'number'
          ? { tags: [...entry.tags, ...soft], timestamp: entry.timestamp } : undefined));
      if (stored === undefined || stored.expire < 0) return undefined;
      const { value, ...entry } = stored;
      debug?.('use cache get', cacheKey, verdict, entry.timestamp);
      if (verdict === 'expired') return undefined;
      if (verdict === 'stale') entry.revalidate = -1;
      return { ...entry, value: streamOf(value) };
    },

    async set(cacheKey, pendingEntry) {
      let settle;
      const done = new Promise((resolve) => { settle = resolve; });
      pending.set(cacheKey, done);
      try {
        const entry = await pendingEntry;
        // An entry that expires at once is dynamic: Next renders it on every read.
        if (entry.expire === 0 && !process.env.__NEXT_DEV_SERVER) {
          await entry.value.cancel().catch(() => {});
          return;
        }
        const bytes = await bytesOf(entry.value, maxEntryBytes);
        if (bytes === undefined) {
          backend.report(new InvalidArgumentError(`'use cache' entry is over maxEntryBytes (${maxEntryBytes}); not stored`,
            'ERR_VALUE_TOO_LARGE'), 'storing an entry');
          await backend.delete(`uc:${cacheKey}`); // the older entry is not what the function returns now
          return;
        }
        const { tags, stale, timestamp, expire, revalidate: revalidateSeconds } = entry;
        debug?.('use cache set', cacheKey, timestamp, bytes.length);
        await backend.write(`uc:${cacheKey}`,
          { tags: Array.isArray(tags) ? tags : [], stale, timestamp, expire, revalidate: revalidateSeconds, value: bytes },
          lifeOf(expire));
      } catch (error) {
        // The render failed or its stream errored: nothing (partial) is stored. Next reports
        // the render's error itself.
        debug?.('use cache set', cacheKey, 'not stored:', error?.message);
      } finally {
        if (pending.get(cacheKey) === done) pending.delete(cacheKey);
        settle();
      }
    },

    async refreshTags() {
      await backend.tags.refresh();
    },

    async getExpiration(tags) {
      await backend.tags.refresh();
      return backend.tags.expiration(tagList('cacheHandlers.getExpiration', tags));
    },

    async updateTags(tags, durations) {
      await revalidate(backend, 'cacheHandlers.updateTags', tags, durations);
    },

    // Next.js 15's names for the same two operations.
    async expireTags(...tags) {
      await revalidate(backend, 'cacheHandlers.expireTags', tags.flat());
    },

    async receiveExpiredTags(...tags) {
      const at = now();
      backend.tags.receive([], tagList('cacheHandlers.receiveExpiredTags', tags.flat()).flatMap((tag) => [tag, at]));
    },

    /** The backend this handler uses (tests, `disconnect()`). */
    backend,

    /** Closes the connection and the memory tier. */
    disconnect() {
      return backend.disconnect();
    },
  };
}

module.exports = { createIncrementalCacheHandler, createUseCacheHandler, NEXT_HANDLER_DEFAULTS };
