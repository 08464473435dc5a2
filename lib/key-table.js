'use strict';

/**
 * A table for a hot path that inserts and deletes an entry per call on a long-lived
 * collection (the running wraps of a cacheId, the promises a cache tracks), kept on a
 * null-prototype object instead of a Map or a Set.
 *
 * Why: when V8 (11, Node 20) rebuilds the backing table of a Map or a Set as it fills with
 * deleted entries, the retired table keeps a pointer to its successor, for iterators still
 * walking it, and its old entries. Once one retired table is in the old generation, the
 * young-generation collector treats that pointer as a root: the successor and what it held
 * survive, are promoted, retire in turn, and so on until a full collection. Measured with
 * `--trace-gc`: 4 KiB wrap hits over Redis at 16 callers promoted half of the young
 * generation at every scavenge and ran 25 full collections in 3 s; with these tables, none.
 * An object's dictionary drops its old storage when it grows: nothing points forward.
 *
 * It costs more per operation than a Map (a fresh key string is looked up in V8's string
 * table first; about 20 ns more per get here), so it is used only where the churn was
 * measured to cost more (docs/design.md, "Tables on hot paths").
 *
 * Keys are strings or non-negative integers; values are never `undefined`.
 */
class KeyTable {
  #entries = Object.create(null);
  #size = 0;

  get size() {
    return this.#size;
  }

  get(key) {
    return this.#entries[key];
  }

  has(key) {
    return this.#entries[key] !== undefined;
  }

  set(key, value) {
    if (this.#entries[key] === undefined) this.#size++;
    this.#entries[key] = value;
    return this;
  }

  delete(key) {
    if (this.#entries[key] === undefined) return false;
    delete this.#entries[key];
    this.#size--;
    return true;
  }

  clear() {
    this.#entries = Object.create(null);
    this.#size = 0;
  }

  /** The values, in no particular order. */
  values() {
    return Object.values(this.#entries);
  }
}

/**
 * The promises of work under way, each dropped once it settles; `all()` is a snapshot of
 * those running now. A KeyTable under a running number, for the reason given above.
 */
class PromiseTracker {
  #running = new KeyTable();
  #next = 0;

  /** Tracks `promise`, which must never reject. */
  add(promise) {
    const id = this.#next++;
    this.#running.set(id, promise);
    promise.then(() => this.#running.delete(id));
  }

  get size() {
    return this.#running.size;
  }

  /** The promises running now. */
  all() {
    return this.#running.values();
  }
}

module.exports = { KeyTable, PromiseTracker };
