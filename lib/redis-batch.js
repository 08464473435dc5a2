'use strict';

/**
 * The commands a RedisClient issues in one tick, packed for a single native call.
 *
 * Handing each command over as an array of JS strings cost several N-API calls per
 * argument (element reads, type checks, UTF-8 measuring and copying), about a third of the
 * JS thread's time at 128 commands in flight. Packed, a batch crosses as one string (every
 * short string argument, concatenated: V8 builds it as a rope and copies it out once), one
 * Float64Array plan, and a list of the few arguments that are long strings or bytes.
 * The plan's layout is read by RedisClientWrap::SubmitPacked (src/napi/redis_client_wrap.cc):
 * per command `id, flags, timeout, argc`, then per argument `n >= 0` (the next n UTF-16 code
 * units of the text) or `-1 - i` (`others[i]`).
 */

/** Longer string arguments travel on their own: written once, straight as UTF-8. */
const INLINE_MAX_CHARS = 1024;

/** Plan entries kept between batches; a larger plan (after a burst) is let go on reset. */
const KEPT_PLAN_ENTRIES = 1 << 16;

class CommandBatch {
  text = '';
  plan = new Float64Array(512);
  length = 0;
  others = [];

  get empty() { return this.length === 0; }

  /**
   * @param {number} id
   * @param {Array<string|Uint8Array>} args checked by the caller
   * @param {number} flags
   * @param {number} timeout
   */
  add(id, args, flags, timeout) {
    const need = this.length + 4 + args.length;
    if (need > this.plan.length) this.#grow(need);
    const plan = this.plan;
    let at = this.length;
    plan[at++] = id;
    plan[at++] = flags;
    plan[at++] = timeout;
    plan[at++] = args.length;
    for (let i = 0; i < args.length; i++) {
      const arg = args[i];
      if (typeof arg === 'string' && arg.length <= INLINE_MAX_CHARS) {
        this.text += arg;
        plan[at++] = arg.length;
      } else {
        plan[at++] = -1 - this.others.length;
        this.others.push(arg);
      }
    }
    this.length = at;
  }

  /** The ids of the commands in the batch (for failing them all). */
  ids() {
    const ids = [];
    for (let at = 0; at < this.length; at += 4 + this.plan[at + 3]) ids.push(this.plan[at]);
    return ids;
  }

  /** Empties the batch, keeping its plan's storage. */
  reset() {
    this.text = '';
    this.length = 0;
    if (this.others.length !== 0) this.others = [];
    if (this.plan.length > KEPT_PLAN_ENTRIES) this.plan = new Float64Array(512);
  }

  #grow(need) {
    let size = this.plan.length * 2;
    while (size < need) size *= 2;
    const bigger = new Float64Array(size);
    bigger.set(this.plan.subarray(0, this.length));
    this.plan = bigger;
  }
}

module.exports = { CommandBatch, INLINE_MAX_CHARS };
