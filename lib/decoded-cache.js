'use strict';

/**
 * Decoded values for the keys a MemoryStore serves most, within a byte budget.
 *
 * Reading a JSON entry costs a native call plus `JSON.parse`, and the parse is most of it
 * (about 0.4 µs of 1.4 µs for a 60-byte object, 18 of 23 µs at 4 KiB). For a key read
 * again and again, one decoded master copy is kept on the JS heap and readers get fresh
 * deep copies of it, which is several times faster than parsing. The native store stays
 * the only source of truth: every read still asks it, and it answers `true` (nothing copied
 * across) only for a live entry that carries a master's slot; the reader then checks that
 * the master was decoded from that very entry (its write generation). A new write makes a
 * new entry without a slot, so expiry, eviction, overwrites and deletes are seen at once,
 * and hit/miss statistics and the eviction policy's "visited" bits are as without it.
 *
 * Only strings (immutable, handed out as they are) and JSON data (copied) are kept, and
 * only once the native store says the entry was read before, so one-off reads never enter.
 * In `frozen` mode JSON masters are deep-frozen and handed out themselves (no copy), and a
 * value is kept from its first read, since every read must hand out a frozen value anyway.
 */

const { TAG_STRING } = require('./serializer');

/** Nesting deeper than this is not kept (the copy is recursive); JSON.parse serves it. */
const MAX_COPY_DEPTH = 64;

/** Most ring slots the CLOCK hand looks at to make room for one master. */
const CLOCK_STEPS = 32;

/**
 * Once the budget is full, one candidate in this many is let in. Keeping a master costs a
 * plan and a copy on top of the parse (in frozen mode, a freeze); when the keys read twice outnumber what fits (a
 * working set larger than the budget), letting every one in would replace masters before
 * they are ever read again, and reads would get slower than without this map.
 */
const ADMIT_WHEN_FULL_ONE_IN = 64;

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

/** Shared plans: at most this many shapes, each described in at most this many characters. */
const MAX_SHARED_PLANS = 1024;
const MAX_SHAPE_CHARS = 512;

/** A plan's structure as text: equal text, interchangeable plans. */
function shapeOf(plan) {
  if (plan === FLAT_OBJECT) return 'o';
  if (plan === FLAT_ARRAY) return 'a';
  if (plan.isArray) return `a[${plan.elements.map((p) => (p === null ? '' : shapeOf(p))).join(',')}]`;
  let out = 'o{';
  for (let i = 0; i < plan.nested.length; i += 2) out += `${JSON.stringify(plan.nested[i])}:${shapeOf(plan.nested[i + 1])},`;
  return `${out}}`;
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

/**
 * Freezes `value` and everything it holds. For JSON data only (what JSON.parse returns:
 * plain objects, arrays and primitives; a typed array could not be frozen),
 * without recursion, so any nesting depth is safe. Returns `value`.
 */
function deepFreeze(value) {
  if (typeof value !== 'object' || value === null) return value;
  const pending = [value];
  while (pending.length !== 0) {
    const item = pending.pop();
    Object.freeze(item);
    const children = Array.isArray(item) ? item : Object.values(item);
    for (let i = 0; i < children.length; i++) {
      const child = children[i];
      if (typeof child === 'object' && child !== null) pending.push(child);
    }
  }
  return value;
}

class Kept {
  constructor(key, master, plan, generation, bytes) {
    this.key = key;
    this.master = master;
    this.plan = plan; // null for a string
    this.generation = generation;
    this.bytes = bytes;
    this.used = false;
    this.slot = -1;
  }

  /** What a reader gets: the string itself, the shared frozen master, or a fresh copy of the JSON data. */
  copy() {
    this.used = true;
    return this.plan === null ? this.master : copyByPlan(this.master, this.plan);
  }
}

/**
 * Masters in a ring of slots, bounded by an estimated byte budget. There is no map from
 * keys: the native entry itself carries the slot of its master (a hint set here when a
 * master is kept and cleared when it is dropped), so a read finds it with the same native
 * call that checks the entry is live, and a key with no master costs nothing extra.
 * Replacement is CLOCK: a hand sweeps the ring when room is needed, sparing once a master
 * read since the hand last passed and dropping the first one that was not; one insertion
 * looks at no more than CLOCK_STEPS slots, then gives up rather than stall a read.
 */
class DecodedCache {
  #ring = [];
  #free = [];
  #hand = 0;
  #count = 0;
  #bytes = 0;
  #maxBytes;
  #candidates = 0;
  #native;
  #plans = new Map();
  #frozen;

  /**
   * @param {number} maxBytes budget, estimated (see `estimate`)
   * @param {{setDecodedSlot(key: string, generation: number, slot: number): boolean}} native
   * @param {{frozen?: boolean}} [options] `frozen`: masters are deep-frozen and handed out
   *   as they are (every reader shares one value), instead of copied per read
   */
  constructor(maxBytes, native, options) {
    this.#maxBytes = maxBytes;
    this.#native = native;
    this.#frozen = options?.frozen === true;
  }

  get size() { return this.#count; }

  get bytes() { return this.#bytes; }

  /** The master in `slot` (1-based, as the entry's hint has it) if it was made from write `generation`. */
  at(slot, generation) {
    const kept = this.#ring[slot - 1];
    return kept !== undefined && kept.generation === generation ? kept : undefined;
  }

  /**
   * Decodes `payload` (tag TAG_STRING or TAG_JSON, as written by the store) for a reader.
   * Keeps a master when there is room; returns the reader's own value either way (in
   * frozen mode: the frozen value, shared when kept).
   */
  keep(key, tag, payload, generation) {
    const bytes = estimate(payload);
    if (tag === TAG_STRING) {
      if (this.#admits(bytes)) this.#insert(new Kept(key, payload, null, generation, bytes));
      return payload;
    }
    const parsed = JSON.parse(payload);
    if (this.#frozen) {
      // Shared, never copied: no plan, and an own "__proto__" key is harmless.
      deepFreeze(parsed);
      if (typeof parsed === 'object' && parsed !== null && this.#admits(bytes)) {
        this.#insert(new Kept(key, parsed, null, generation, bytes));
      }
      return parsed;
    }
    // An own "__proto__" key would become the prototype under plain assignment: such
    // values are rare, and are served by JSON.parse every time.
    if (typeof parsed !== 'object' || parsed === null || payload.includes('"__proto__"') ||
        !this.#admits(bytes)) {
      return parsed;
    }
    const plan = this.#shared(planOf(parsed, 0));
    if (plan === TOO_DEEP) return parsed;
    this.#insert(new Kept(key, parsed, plan, generation, bytes));
    return copyByPlan(parsed, plan);
  }

  /** Whether a master of `bytes` may come in now (making room for it when full). */
  #admits(bytes) {
    return bytes <= this.#maxBytes &&
      (this.#bytes + bytes <= this.#maxBytes ||
        (++this.#candidates % ADMIT_WHEN_FULL_ONE_IN === 0 && this.#makeRoom(bytes)));
  }

  /** Drops the master of `kept`'s slot after a read found it stale. */
  forget(slot) {
    const kept = this.#ring[slot - 1];
    if (kept !== undefined) this.#remove(kept);
  }

  /** Drops every master whose key starts with `prefix` (their entries are gone). */
  dropPrefix(prefix) {
    for (const kept of this.#ring) if (kept !== undefined && kept.key.startsWith(prefix)) this.#remove(kept, false);
  }

  /** Drops every master (the native entries are gone, or the store is closing). */
  clear() {
    this.#ring = [];
    this.#free = [];
    this.#hand = 0;
    this.#count = 0;
    this.#bytes = 0;
    this.#plans.clear();
  }

  /**
   * One plan object per shape: values of one shape (the usual case: one type of record per
   * key pattern) share it, so a read touches a plan that is already in the CPU cache.
   */
  #shared(plan) {
    if (plan === TOO_DEEP || plan === FLAT_OBJECT || plan === FLAT_ARRAY) return plan;
    const shape = shapeOf(plan);
    if (shape.length > MAX_SHAPE_CHARS) return plan;
    const known = this.#plans.get(shape);
    if (known !== undefined) return known;
    if (this.#plans.size < MAX_SHARED_PLANS) this.#plans.set(shape, plan);
    return plan;
  }

  #insert(kept) {
    const free = this.#free;
    const slot = free.length !== 0 ? free[free.length - 1] : this.#ring.length;
    if (!this.#native.setDecodedSlot(kept.key, kept.generation, slot + 1)) return; // entry changed
    if (free.length !== 0) free.pop();
    this.#ring[slot] = kept;
    kept.slot = slot;
    this.#count += 1;
    this.#bytes += kept.bytes;
  }

  /** Frees `kept`'s slot; its entry's hint is cleared first, so no entry points at a reused slot. */
  #remove(kept, clearHint = true) {
    if (clearHint) this.#native.setDecodedSlot(kept.key, kept.generation, 0);
    this.#ring[kept.slot] = undefined;
    this.#free.push(kept.slot);
    this.#count -= 1;
    this.#bytes -= kept.bytes;
  }

  /** Moves the hand until `bytes` more fit, for at most CLOCK_STEPS slots. */
  #makeRoom(bytes) {
    const ring = this.#ring;
    for (let steps = 0; steps < CLOCK_STEPS && ring.length !== 0; steps++) {
      if (this.#hand >= ring.length) this.#hand = 0;
      const kept = ring[this.#hand++];
      if (kept === undefined) continue;
      if (kept.used) {
        kept.used = false;
      } else {
        this.#remove(kept);
        if (this.#bytes + bytes <= this.#maxBytes) return true;
      }
    }
    return this.#bytes + bytes <= this.#maxBytes;
  }
}

/** Estimated JS heap held by a decoded payload: about two bytes per character, plus a header. */
function estimate(payload) {
  return payload.length * 2 + 64;
}

module.exports = { DecodedCache, planOf, copyByPlan, deepFreeze, TOO_DEEP };
