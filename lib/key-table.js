'use strict';

/**
 * A table for a hot path that inserts and deletes an entry per call on a long-lived
 * collection (the running wraps of a cacheId, the background work a cache tracks), kept on
 * a null-prototype object instead of a Map or a Set.
 *
 * Why, measured with `--trace-gc` on Node 20 (V8 11): 4 KiB wrap hits over Redis at 16
 * callers, with those tables as a Map and a Set, promoted half of the young generation at
 * every scavenge and ran 25 full collections in 3 s; with either one alone, still about 20;
 * with both on objects, none, and the same job ran at about 100 k/s instead of 45-75
 * (docs/design.md, "Tables on hot paths"). The values held were never long-lived: something kept them
 * reachable for the young-generation collector only, and a full collection freed them. The
 * likely cause is that a Map or Set rebuilt as it fills with deleted entries leaves its old
 * backing table pointing at the new one; once an old table is in the old generation, that
 * pointer is a root for every scavenge. Moving the entries to a fresh Map every 512
 * deletions was not enough at 128 callers. An object's dictionary keeps no such link.
 *
 * It costs more per operation than a Map (a fresh key string is looked up in V8's string
 * table first; about 20 ns more per get here), so it is used only where the churn was
 * measured to cost more.
 *
 * Keys are strings or non-negative integers; values are never `undefined`.
 */
class KeyTable {
  #entries = Object.create(null);

  /** Counted when asked (not on the hot path, which only gets, sets and deletes). */
  get size() {
    return Object.keys(this.#entries).length;
  }

  get(key) {
    return this.#entries[key];
  }

  has(key) {
    return this.#entries[key] !== undefined;
  }

  set(key, value) {
    this.#entries[key] = value;
    return this;
  }

  delete(key) {
    if (this.#entries[key] === undefined) return false;
    delete this.#entries[key];
    return true;
  }

  clear() {
    this.#entries = Object.create(null);
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
