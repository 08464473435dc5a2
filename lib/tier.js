'use strict';

/**
 * The internal "tier" interface: how `createCache` talks to a store without Keyv's layers.
 *
 * A store that offers the fast path exposes `store[kTier]`, an object with the methods
 * below. Each may return a value or a promise (the memory store answers synchronously,
 * Redis asynchronously), and a synchronous method may throw: callers treat a throw like a
 * rejection. Keys arrive unprefixed; the tier applies its own namespace/prefix.
 *
 * @typedef {object} TierOps
 * @property {(key: string) => unknown} get value, or undefined on a miss
 * @property {(key: string) => ({value: unknown, expires: number|undefined}|undefined)} getEntry
 *   value plus absolute expiry (epoch ms; undefined = never)
 * @property {(keys: string[]) => unknown[]} getMany
 * @property {(key: string, value: unknown, ttl?: number) => void} set ttl in ms; 0 = never,
 *   undefined = the store's default (never, unless `defaultTtl` says otherwise)
 * @property {(entries: {key: string, value: unknown, ttl?: number}[]) => void} setMany
 * @property {(key: string) => boolean} delete whether something was removed
 * @property {(keys: string[]) => boolean} deleteMany whether something was removed
 * @property {() => void} clear removes this store's namespace (or everything without one)
 * @property {() => number|undefined} [defaultTtl] optional: the ttl (ms) the store applies to
 *   a `set` without one (a Keyv's `ttl`). A copy of an entry found in a lower tier is
 *   written with at most this ttl when `wrap` has none, as the store would keep it.
 * @property {(options?: {timeout?: number}) => Promise<void>} disconnect
 * @property {(key: string, ttlMs: number) => Promise<string|undefined>} [tryLock] optional,
 *   for tiers shared between processes: takes the refresh lock of `key` for `ttlMs` and
 *   resolves with an owner token, or undefined when someone else holds it. createCache uses
 *   the lowest tier that has it to let one process per key run a background refresh.
 * @property {(key: string, token: string) => Promise<boolean>} [unlock] releases the lock
 *   only if `token` still owns it
 */

const kTier = Symbol.for('native-cache-manager.tier');

module.exports = { kTier };
