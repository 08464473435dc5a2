'use strict';

/**
 * A small, byte-bounded map of decoded values for the keys a MemoryStore serves most.
 *
 * Reading a JSON entry costs a native call plus `JSON.parse`, and the parse is most of it
 * (about 0.4 µs of 1.4 µs for a 60-byte object, 18 of 23 µs at 4 KiB). For a key read
 * again and again, this map keeps one decoded master copy on the JS heap and hands out
 * fresh deep copies of it, which is several times faster than parsing. The native store
 * stays the only source of truth: every read still asks it, passing the generation of the
 * write the master was decoded from, and the store answers `true` (same entry, still live;
 * nothing copied across) or with the current payload. So expiry, eviction, deletes and
 * writes from anywhere are seen at once, and hit/miss statistics and the eviction policy's
 * "visited" bits are kept exactly as without this map.
 *
 * Only strings (immutable, handed out as they are) and JSON data (copied) are kept, and
 * only once the native store says the entry was read before, so one-off reads never enter.
 */

const { TAG_STRING } = require('./serializer');

/** Nesting deeper than this is not kept (the copy is recursive); JSON.parse serves it. */
const MAX_COPY_DEPTH = 64;

/** When over budget, how many recently used masters may be passed over to find a victim. */
const SECOND_CHANCES = 8;

/**
 * Once the budget is full, one candidate in this many is let in. Keeping a master costs a
 * plan and a copy on top of the parse; when the keys read twice outnumber what fits (a
 * working set larger than the budget), letting every one in would replace masters before
 * they are ever read again, and reads would get slower than without this map.
 */
const ADMIT_WHEN_FULL_ONE_IN = 8;

const TOO_DEEP = Symbol('too deep');

/** The plan of an object with no object-valued property: one spread copies it. */
const FLAT_OBJECT = Object.freeze({ isArray: false, nested: null });
/** The plan of an array with no object element: one slice copies it. */
const FLAT_ARRAY = Object.freeze({ isArray: true, elements: null });

/**
 * How to copy a piece of JSON data (what JSON.parse returns: plain objects, arrays, strings,
 * numbers, booleans, null) fast: objects are copied with one spread and arrays with one
 * slice (both fast paths in V8), then only the places that hold objects are copied again,
 * by their own plans. Returns TOO_DEEP past MAX_COPY_DEPTH.
 */
function planOf(value, depth) {
  if (depth > MAX_COPY_DEPTH) return TOO_DEEP;
  if (Array.isArray(value)) {
    let elements = null;
    for (let i = 0; i < value.length; i++) {
      const v = value[i];
      if (typeof v !== 'object' || v === null) continue;
      const plan = planOf(v, depth + 1);
      if (plan === TOO_DEEP) return TOO_DEEP;
      (elements ??= new Array(value.length).fill(null))[i] = plan;
    }
    return elements === null ? FLAT_ARRAY : { isArray: true, elements };
  }
  let nested = null;
  const keys = Object.keys(value);
  for (let i = 0; i < keys.length; i++) {
    const v = value[keys[i]];
    if (typeof v !== 'object' || v === null) continue;
    const plan = planOf(v, depth + 1);
    if (plan === TOO_DEEP) return TOO_DEEP;
    (nested ??= []).push(keys[i], plan);
  }
  return nested === null ? FLAT_OBJECT : { isArray: false, nested };
}

/**
 * A deep copy of `value` by its plan: equal to parsing the same JSON text again. Masters
 * never hold an own `__proto__` key (see `keep`), so assigning nested copies creates the
 * same own properties JSON.parse would (spread copies any key as an own property).
 */
function copyByPlan(value, plan) {
  if (plan.isArray) {
    const out = value.slice();
    const elements = plan.elements;
    if (elements !== null) {
      for (let i = 0; i < elements.length; i++) {
        const p = elements[i];
        if (p !== null) out[i] = copyByPlan(value[i], p);
      }
    }
    return out;
  }
  const out = { ...value };
  const nested = plan.nested;
  if (nested !== null) {
    for (let i = 0; i < nested.length; i += 2) out[nested[i]] = copyByPlan(value[nested[i]], nested[i + 1]);
  }
  return out;
}

class Kept {
  constructor(tag, master, plan, generation, bytes) {
    this.tag = tag;
    this.master = master;
    this.plan = plan; // null for a string
    this.generation = generation;
    this.bytes = bytes;
    this.used = false;
  }

  /** What a reader gets: the string itself, or a fresh copy of the JSON data. */
  copy() {
    this.used = true;
    return this.plan === null ? this.master : copyByPlan(this.master, this.plan);
  }
}

class DecodedCache {
  #map = new Map();
  #bytes = 0;
  #maxBytes;
  #candidates = 0;

  /** @param {number} maxBytes budget, estimated (see `estimate`) */
  constructor(maxBytes) {
    this.#maxBytes = maxBytes;
  }

  get size() { return this.#map.size; }

  get bytes() { return this.#bytes; }

  /** @returns {Kept|undefined} */
  peek(key) {
    return this.#map.get(key);
  }

  /**
   * Decodes `payload` (tag TAG_STRING or TAG_JSON, as written by the store) for a reader.
   * Keeps a master when it fits the budget; returns the reader's own value either way.
   */
  keep(key, tag, payload, generation) {
    const bytes = estimate(payload);
    const admit = bytes <= this.#maxBytes &&
      (this.#bytes + bytes <= this.#maxBytes || ++this.#candidates % ADMIT_WHEN_FULL_ONE_IN === 0);
    if (tag === TAG_STRING) {
      if (admit) this.#insert(key, new Kept(tag, payload, null, generation, bytes));
      return payload;
    }
    const parsed = JSON.parse(payload);
    // An own "__proto__" key would become the prototype under plain assignment: such
    // values are rare, and are served by JSON.parse every time.
    if (!admit || typeof parsed !== 'object' || parsed === null || payload.includes('"__proto__"')) {
      return parsed;
    }
    const plan = planOf(parsed, 0);
    if (plan === TOO_DEEP) return parsed;
    this.#insert(key, new Kept(tag, parsed, plan, generation, bytes));
    return copyByPlan(parsed, plan);
  }

  /** Forgets `key` (its entry changed or went away). */
  drop(key) {
    const kept = this.#map.get(key);
    if (kept === undefined) return;
    this.#map.delete(key);
    this.#bytes -= kept.bytes;
  }

  clear() {
    this.#map.clear();
    this.#bytes = 0;
  }

  #insert(key, kept) {
    this.drop(key);
    this.#map.set(key, kept);
    this.#bytes += kept.bytes;
    if (this.#bytes <= this.#maxBytes) return;
    // Over budget: drop the oldest masters, giving ones read since they were last passed
    // over a second chance (moved to the young end), a bounded number of times.
    let chances = SECOND_CHANCES;
    for (const [k, v] of this.#map) {
      if (this.#bytes <= this.#maxBytes) break;
      if (v === kept) continue;
      this.#map.delete(k);
      if (v.used && chances > 0) {
        chances -= 1;
        v.used = false;
        this.#map.set(k, v);
      } else {
        this.#bytes -= v.bytes;
      }
    }
    if (this.#bytes > this.#maxBytes) this.drop(key);
  }
}

/** Estimated JS heap held by a decoded payload: about two bytes per character, plus a header. */
function estimate(payload) {
  return payload.length * 2 + 64;
}

module.exports = { DecodedCache, planOf, copyByPlan, TOO_DEEP };
