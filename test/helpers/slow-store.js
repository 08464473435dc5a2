'use strict';

/**
 * SlowStore: a real MemoryStore answered asynchronously, after a timer of `delay` ms, the
 * way a network store (Redis) answers. It offers both the `[kTier]` interface that
 * createCache uses directly and the Keyv storage-adapter methods (so the same store can sit
 * under `new Keyv({ store })` for the real cache-manager). `calls` counts operations.
 */

const { MemoryStore, kTier } = require('../../lib');

const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

class SlowStore {
  /**
   * @param {{delay?: number, disconnectError?: Error}} [options] `disconnectError`: what
   *   disconnect() rejects with (after closing the memory store), like a server that
   *   refuses a clean shutdown
   */
  constructor({ delay = 10, disconnectError } = {}) {
    this.memory = new MemoryStore();
    this.delay = delay;
    this.calls = { get: 0, set: 0, delete: 0, clear: 0, disconnect: 0 };
    this.namespace = undefined;
    const m = this.memory;
    const later = async (what, fn) => {
      this.calls[what] += 1;
      await sleep(this.delay);
      return fn();
    };
    this.tier = {
      name: 'slow',
      get: (key) => later('get', () => m.getSync(key)),
      getEntry: (key) => later('get', () => m.getEntrySync(key)),
      getMany: (keys) => later('get', () => keys.map((key) => m.getSync(key))),
      set: (key, value, ttl) => later('set', () => m.setSync(key, value, ttl)),
      setMany: (entries) => later('set', () => entries.forEach((e) => m.setSync(e.key, e.value, e.ttl))),
      delete: (key) => later('delete', () => m.deleteSync(key)),
      deleteMany: (keys) => later('delete', () => keys.map((key) => m.deleteSync(key)).some(Boolean)),
      clear: () => later('clear', () => m.clearSync()),
      disconnect: () => later('disconnect', async () => {
        await m.disconnect();
        if (disconnectError) throw disconnectError;
      }),
    };
  }

  get [kTier]() { return this.tier; }

  // Keyv storage adapter
  get(key) { return this.tier.get(key); }

  async set(key, value, ttl) {
    await this.tier.set(key, value, ttl);
    return true;
  }

  delete(key) { return this.tier.delete(key); }

  clear() { return this.tier.clear(); }

  disconnect() { return this.tier.disconnect(); }
}

module.exports = { SlowStore, sleep };
