'use strict';

/**
 * Shared bookkeeping for `wrap`: the per-`cacheId` tables of in-flight loads and
 * refreshes (so that concurrent calls coalesce, like cache-manager's process-wide
 * coalescing keyed by `cacheId` + key), and the async context that lets a `wrap` nested
 * inside its own `fn` be recognised instead of waiting for itself forever.
 *
 * The context uses AsyncLocalStorage. On Node 20 an active AsyncLocalStorage turns on
 * promise hooks for the whole process, which slows every promise down noticeably, so the
 * storage is only enabled while some `fn` is running and is switched off again once the
 * loop goes idle (checked from a setImmediate, so a burst of misses pays the switch once).
 */

const { AsyncLocalStorage } = require('node:async_hooks');
const { KeyTable } = require('./key-table');

/**
 * cacheId → tables, with a count of the caches using them so that the entry goes away with
 * the last of its caches (disconnected or garbage-collected): creating many short-lived
 * caches must not grow this map.
 * @type {Map<string, {flights: KeyTable, refreshes: Map<string, Promise<void>>, users: number}>}
 */
const registries = new Map();

function release(cacheId) {
  const registry = registries.get(cacheId);
  if (registry !== undefined && --registry.users === 0) registries.delete(cacheId);
}

const finalizer = new FinalizationRegistry(release);

/**
 * The tables shared by every cache with this `cacheId`, held for `owner` until
 * `releaseRegistry(owner)` or until `owner` is garbage-collected.
 * @param {string} cacheId
 * @param {object} owner the cache
 */
function registryFor(cacheId, owner) {
  let registry = registries.get(cacheId);
  if (registry === undefined) {
    registry = { flights: new KeyTable(), refreshes: new Map(), users: 0 };
    registries.set(cacheId, registry);
  }
  registry.users++;
  finalizer.register(owner, cacheId, owner);
  return registry;
}

/**
 * Gives up `owner`'s hold on its tables (at most once).
 * @param {string} cacheId
 * @param {object} owner
 */
function releaseRegistry(cacheId, owner) {
  if (finalizer.unregister(owner)) release(cacheId);
}

/** Number of cacheIds with live tables (for tests). */
function registryCount() {
  return registries.size;
}

const storage = new AsyncLocalStorage();
let running = 0;
let idleCheck;

function disableWhenIdle() {
  idleCheck = undefined;
  if (running === 0) storage.disable();
}

function fnDone() {
  running--;
  if (running === 0 && idleCheck === undefined) {
    idleCheck = setImmediate(disableWhenIdle);
    idleCheck.unref();
  }
}

/**
 * Calls `fn()` with `flight` recorded as the innermost running load of this async chain.
 * @param {object} flight
 * @param {() => unknown} fn
 * @returns {Promise<unknown>} fn's result
 */
function runLoad(flight, fn) {
  running++;
  let result;
  try {
    result = storage.run({ flight, parent: storage.getStore() }, fn);
  } catch (error) {
    fnDone();
    return Promise.reject(error);
  }
  const promise = Promise.resolve(result);
  promise.then(fnDone, fnDone);
  return promise;
}

/**
 * Calls `fn()` outside of any load: a background refresh is not awaited by the load that
 * happened to start it, so a `wrap` inside the refresh may wait for that load safely.
 * @param {() => unknown} fn
 */
function runDetached(fn) {
  return storage.exit(fn);
}

/**
 * Whether the current async chain runs inside the `fn` of `flight` (directly or through
 * other nested loads): joining it would then wait for itself.
 * @param {object} flight
 */
function isInside(flight) {
  for (let node = storage.getStore(); node !== undefined; node = node.parent) {
    if (node.flight === flight) return true;
  }
  return false;
}

module.exports = {
  registryFor, releaseRegistry, registryCount, runLoad, runDetached, isInside,
};
