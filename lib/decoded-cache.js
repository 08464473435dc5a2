'use strict';

/**
 * Decoded values for the keys a MemoryStore serves most, within a byte budget.
 *
 * Reading a JSON entry costs a native call plus `JSON.parse`, and the parse is most of it
 * (about 0.4 µs of 1.4 µs for a 60-byte object, 18 of 23 µs at 4 KiB). For a key read
 * again and again, one decoded master copy is kept on the JS heap and readers get fresh
 * deep copies of it, which is several times faster than parsing.
 *
 * The native store stays the only source of truth, and a read served from a master makes
 * no native call: the store keeps a board (a Float64Array owned here, which it writes
 * under its lock) with one row per master slot, [generation, touched]. When a master is
 * kept, the store writes into its row the write generation of the entry it was decoded
 * from; whenever that entry goes (overwrite, delete, expiry by the sweep, eviction, clear)
 * the store zeroes the row. A read finds the master by key, checks that its row still
 * holds its generation and that the entry's expiry (kept with the master, an entry's
 * expiry never changes) has not passed, and sets `touched`, which the store's eviction
 * hand counts as SIEVE's "visited" bit. So expiry, eviction, overwrites and deletes are
 * seen at once, and hit statistics and the eviction policy are as without masters.
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

/** Board rows at first; the board doubles as masters need rows, up to MAX_BOARD_SLOTS. */
const FIRST_BOARD_SLOTS = 1024;
const MAX_BOARD_SLOTS = 2 ** 24;

/**
 * Estimated JS heap of a kept master besides its value: the Kept record, its Map entry,
 * its ring and board rows.
 */
const MASTER_OVERHEAD = 96;

class Kept {
  constructor(key, master, plan, generation, expiresAt, bytes) {
    this.key = key;
    this.master = master;
    this.plan = plan; // null for a string
    this.generation = generation;
    this.expiresAt = expiresAt; // epoch ms, 0 = never
    this.bytes = bytes;
    this.used = false;
    this.slot = 0; // 1-based, as the entry's hint and the board have it
  }

  /** What a reader gets: the string itself, the shared frozen master, or a fresh copy of the JSON data. */
  copy() {
    this.used = true;
    return this.plan === null ? this.master : copyByPlan(this.master, this.plan);
  }
}

/**
 * Masters in a ring of slots, found by key, bounded by an estimated byte budget. The
 * native entry also carries the slot of its master (a hint set here when a master is kept
 * and cleared when it is dropped), which tells the store which board row to zero when the
 * entry goes. Replacement is CLOCK: a hand sweeps the ring when room is needed, sparing
 * once a master read since the hand last passed and dropping the first one that was not;
 * one insertion looks at no more than CLOCK_STEPS slots, then gives up rather than stall
 * a read.
 */
class DecodedCache {
  #ring = [];
  #free = [];
  #byKey = new Map();
  #board;
  #hand = 0;
  #count = 0;
  #bytes = 0;
  #hits = 0;
  #maxBytes;
  #candidates = 0;
  #native;
  #clock;
  #plans = new Map();
  #frozen;

  /**
   * @param {number} maxBytes budget, estimated (see `estimate`)
   * @param {{setDecodedSlot(key: string, generation: number, slot: number): boolean,
   *   attachBoard(board: Float64Array): void}} native
   * @param {{frozen?: boolean, clock?: () => number}} [options] `frozen`: masters are
   *   deep-frozen and handed out as they are (every reader shares one value), instead of
   *   copied per read; `clock`: the store's clock (epoch ms), for expiry
   */
  constructor(maxBytes, native, options) {
    this.#maxBytes = maxBytes;
    this.#native = native;
    this.#frozen = options?.frozen === true;
    this.#clock = options?.clock ?? Date.now;
    this.#board = new Float64Array(2 * FIRST_BOARD_SLOTS);
    native.attachBoard(this.#board);
  }

  get size() { return this.#count; }

  get bytes() { return this.#bytes; }

  /** Reads served from a master without asking the native store. */
  get hits() { return this.#hits; }

  /**
   * The master of `key` if its entry is still the one it was decoded from and is not
   * expired; the read counts as a hit and as a visit. Otherwise undefined (the caller asks
   * the store), and a master whose entry is gone is dropped.
   */
  hit(key) {
    const kept = this.#byKey.get(key);
    if (kept === undefined) return undefined;
    const row = kept.slot * 2;
    const board = this.#board;
    if (board[row] !== kept.generation) {
      // The entry went, and the store zeroed the row: nothing points at this slot.
      this.#remove(kept, false);
      return undefined;
    }
    if (kept.expiresAt !== 0 && kept.expiresAt <= this.#clock()) return undefined; // the store expires it
    board[row + 1] = 1;
    this.#hits += 1;
    return kept;
  }

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
  keep(key, tag, payload, generation, expiresAt) {
    if (tag === TAG_STRING) {
      const bytes = this.#admit(payload, payload);
      if (bytes !== 0) this.#insert(new Kept(key, payload, null, generation, expiresAt, bytes));
      return payload;
    }
    const parsed = JSON.parse(payload);
    if (this.#frozen) {
      // Shared, never copied: no plan, and an own "__proto__" key is harmless.
      deepFreeze(parsed);
      if (typeof parsed === 'object' && parsed !== null) {
        const bytes = this.#admit(payload, parsed);
        if (bytes !== 0) this.#insert(new Kept(key, parsed, null, generation, expiresAt, bytes));
      }
      return parsed;
    }
    // An own "__proto__" key would become the prototype under plain assignment: such
    // values are rare, and are served by JSON.parse every time.
    if (typeof parsed !== 'object' || parsed === null || payload.includes('"__proto__"')) return parsed;
    const bytes = this.#admit(payload, parsed);
    if (bytes === 0) return parsed;
    const plan = this.#shared(planOf(parsed, 0));
    if (plan === TOO_DEEP) return parsed;
    this.#insert(new Kept(key, parsed, plan, generation, expiresAt, bytes));
    return copyByPlan(parsed, plan);
  }

  /**
   * The estimated size of a master decoded from `payload` if it may come in now (making
   * room for it when the budget is full), else 0. Once the budget is full, one candidate
   * in ADMIT_WHEN_FULL_ONE_IN is let in; the others are turned away before their value is
   * even measured, when one byte a character (a cheap lower bound) already does not fit.
   */
  #admit(payload, parsed) {
    const fullAtFirstSight = this.#bytes + payload.length + MASTER_OVERHEAD > this.#maxBytes;
    if (fullAtFirstSight && !this.#takeTurn()) return 0;
    const bytes = estimate(parsed) + MASTER_OVERHEAD;
    if (bytes > this.#maxBytes) return 0;
    if (this.#bytes + bytes <= this.#maxBytes) return bytes;
    if (!fullAtFirstSight && !this.#takeTurn()) return 0;
    return this.#makeRoom(bytes) ? bytes : 0;
  }

  /** Whether this candidate is the one in ADMIT_WHEN_FULL_ONE_IN let into a full budget. */
  #takeTurn() {
    return ++this.#candidates % ADMIT_WHEN_FULL_ONE_IN === 0;
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

  /** Drops every master (the native entries are gone and the store zeroed the board, or the store is closing). */
  clear() {
    this.#ring = [];
    this.#free = [];
    this.#byKey.clear();
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
    const old = this.#byKey.get(kept.key);
    if (old !== undefined) this.#remove(old);
    const free = this.#free;
    const index = free.length !== 0 ? free[free.length - 1] : this.#ring.length;
    if (index + 1 >= this.#board.length / 2 && !this.#growBoard(index + 2)) return;
    if (!this.#native.setDecodedSlot(kept.key, kept.generation, index + 1)) return; // entry changed
    if (free.length !== 0) free.pop();
    this.#ring[index] = kept;
    kept.slot = index + 1;
    this.#byKey.set(kept.key, kept);
    this.#count += 1;
    this.#bytes += kept.bytes;
  }

  /** A board of twice the rows (at least `slots`), rows copied by the store; false at the cap. */
  #growBoard(slots) {
    let rows = this.#board.length / 2;
    while (rows < slots) rows *= 2;
    if (rows > MAX_BOARD_SLOTS) return false;
    const board = new Float64Array(2 * rows);
    this.#native.attachBoard(board);
    this.#board = board;
    return true;
  }

  /**
   * Frees `kept`'s slot; its entry's hint is cleared first (unless the entry is known to be
   * gone), so no entry points at a reused slot.
   */
  #remove(kept, clearHint = true) {
    if (clearHint) this.#native.setDecodedSlot(kept.key, kept.generation, 0);
    this.#ring[kept.slot - 1] = undefined;
    this.#free.push(kept.slot - 1);
    if (this.#byKey.get(kept.key) === kept) this.#byKey.delete(kept.key);
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

/** Characters V8 can keep one byte each (Latin-1); any other makes a two-byte string. */
const TWO_BYTE = /[\u0100-\uffff]/;

/** Estimated JS heap of a string: a header plus one or two bytes a character, 8-aligned. */
function stringBytes(text) {
  return (16 + text.length * (TWO_BYTE.test(text) ? 2 : 1) + 7) & ~7;
}

/**
 * V8's JSON.parse internalizes string values this short: one copy per distinct text in the
 * process, shared by every value that holds it (ids, codes, flags repeated across records).
 */
const SHARED_STRING_MAX_LENGTH = 10;

/**
 * Estimated JS heap held by a decoded value (JSON data, or a string), from its structure
 * as V8 lays it out on 64-bit machines with pointer compression off: an object is a header
 * and 8 bytes a property, an array a header and 8 bytes an element, a number that is not
 * a small integer a 16-byte box, a string within JSON data a header and its characters
 * unless it is short enough to be shared (then 8 bytes, its share); property names are
 * shared by every value of one shape and not counted. On a 4 KiB page of 45 records this
 * comes to 5.8 KB where V8 holds 4.8 KB (measured with heap statistics). Iterative, so any
 * nesting depth is safe.
 */
function estimate(value) {
  if (typeof value === 'string') return stringBytes(value);
  let bytes = 0;
  const pending = [value];
  while (pending.length !== 0) {
    const item = pending.pop();
    if (typeof item === 'string') {
      bytes += item.length <= SHARED_STRING_MAX_LENGTH ? 8 : stringBytes(item);
    } else if (typeof item === 'number') {
      if (!Number.isInteger(item) || item > 0x3fffffff || item < -0x40000000) bytes += 16;
    } else if (typeof item === 'object' && item !== null) {
      const children = Array.isArray(item) ? item : Object.values(item);
      bytes += 32 + 8 * children.length;
      for (let i = 0; i < children.length; i++) pending.push(children[i]);
    }
  }
  return bytes;
}

module.exports = { DecodedCache, planOf, copyByPlan, deepFreeze, estimate, TOO_DEEP, MASTER_OVERHEAD };
