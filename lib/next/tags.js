'use strict';

/**
 * The tags manifest of the Next.js cache handlers: when each tag was last revalidated.
 *
 * Two timestamps per tag (epoch ms), as Next.js keeps them: `stale` (entries made before it
 * are served stale while they refresh: `revalidateTag(tag, 'max')`) and `expired` (entries made
 * before it are misses: `updateTag`, one-argument `revalidateTag`, `revalidatePath`). With a
 * Redis tier they live in two Redis hashes every instance reads, plus a counter bumped on every
 * change; each process keeps a copy and re-reads it when the counter moved, at most once per
 * `syncInterval` and before any entry is judged with a copy older than that.
 */

const { coalesced } = require('../coalesced');

/**
 * Epoch milliseconds on the clock Next stamps its entries with (`performance.timeOrigin +
 * performance.now()`), so an entry and a revalidation made in one process compare exactly.
 */
const now = () => performance.timeOrigin + performance.now();

class TagManifest {
  /** @type {Map<string, number>} */
  #stale = new Map();
  /** @type {Map<string, number>} */
  #expired = new Map();
  #redis;
  #keys;
  #interval;
  #report;
  #version; // the counter last read (null: no tag was ever revalidated)
  #syncedAt = -Infinity;
  #sync;
  /** Revalidations made here ([map name, tag, ms, when]) that a read under way may not hold yet. */
  #recent = [];

  /**
   * @param {{redis?: {command: Function}, keyPrefix: string, syncInterval: number,
   *   report: (error: Error, operation: string) => void}} options
   */
  constructor({ redis, keyPrefix, syncInterval, report }) {
    this.#redis = redis;
    this.#interval = syncInterval;
    this.#report = report;
    this.#keys = {
      stale: `${keyPrefix}tags:stale`,
      expired: `${keyPrefix}tags:expired`,
      version: `${keyPrefix}tags:version`,
    };
    this.#sync = coalesced(() => this.#read(), 0);
  }

  /** Milliseconds since the copy was last read from Redis (Infinity before the first read). */
  get age() {
    return now() - this.#syncedAt;
  }

  /**
   * Brings the local copy up to date when it is older than the sync interval (a no-op without
   * Redis). Never rejects: a failed read is reported and the local copy is used.
   * @param {boolean} [force] read whatever the copy's age
   */
  async refresh(force = false) {
    if (this.#redis === undefined) return;
    if (!force && now() - this.#syncedAt < this.#interval) return;
    await this.#sync.run();
  }

  async #read() {
    const started = now();
    const { stale, expired, version } = this.#keys;
    try {
      const seen = await this.#redis.command(['GET', version]);
      if (seen !== this.#version) {
        // Read after the counter: a change made between the two reads is in the hashes and
        // moves the counter again, so the next read takes it too.
        const [staleFlat, expiredFlat] = seen === null ? [[], []] : await Promise.all([
          this.#redis.command(['HGETALL', stale]),
          this.#redis.command(['HGETALL', expired]),
        ]);
        // Redis holds every instance's revalidations, this one's included: its copy replaces
        // ours, and what was revalidated here while the read was under way is put back.
        this.#stale = fromFlat(staleFlat);
        this.#expired = fromFlat(expiredFlat);
        for (const [name, tag, at, when] of this.#recent) {
          if (when >= started) (name === 'stale' ? this.#stale : this.#expired).set(tag, at);
        }
        this.#version = seen;
      }
      this.#recent = this.#recent.filter((record) => record[3] >= started);
      this.#syncedAt = started;
    } catch (error) {
      // Tried now: the next try waits for the interval, so an outage adds no round trip per read.
      this.#syncedAt = started;
      this.#report(error, 'reading the tags manifest');
    }
  }

  /**
   * Records a revalidation of `tags` now, here and (with Redis) for every instance.
   * @param {string[]} tags
   * @param {{expire?: number}} [durations] Next's: `expire` in seconds from now; given, the
   *   tags are stale now and expire after it; absent, they expire now
   * @returns {Promise<void>} never rejects: when Redis could not record it, that is reported
   *   (the revalidation then reached this instance only)
   */
  async update(tags, durations) {
    const at = now();
    const stale = [];
    const expired = [];
    for (const tag of tags) {
      if (durations !== undefined) {
        stale.push(tag, at);
        if (typeof durations.expire === 'number') expired.push(tag, at + durations.expire * 1000);
      } else {
        expired.push(tag, at);
      }
    }
    this.receive(stale, expired);
    if (this.#redis === undefined || tags.length === 0) return;
    for (let i = 0; i < stale.length; i += 2) this.#recent.push(['stale', stale[i], stale[i + 1], at]);
    for (let i = 0; i < expired.length; i += 2) this.#recent.push(['expired', expired[i], expired[i + 1], at]);
    const keys = this.#keys;
    const writes = [];
    if (stale.length > 0) writes.push(this.#redis.command(['HSET', keys.stale, ...stale.map(String)]));
    if (expired.length > 0) writes.push(this.#redis.command(['HSET', keys.expired, ...expired.map(String)]));
    writes.push(this.#redis.command(['INCR', keys.version]));
    try {
      await Promise.all(writes);
    } catch (error) {
      this.#report(error, 'recording a revalidation in Redis (it reached this instance only)');
    }
  }

  /**
   * Takes revalidations into the local copy only (flat [tag, ms, tag, ms, ...] lists): the
   * latest revalidation of a tag replaces the one held, as in Next's own manifest.
   */
  receive(stale, expired) {
    setFlat(this.#stale, stale);
    setFlat(this.#expired, expired);
  }

  /**
   * How an entry made at `timestamp` with `tags` stands: 'expired' (a miss), 'stale' (serve
   * it and refresh) or 'fresh'.
   * @param {Iterable<string>} tags
   * @param {number} timestamp epoch ms
   */
  judge(tags, timestamp) {
    const at = now();
    let verdict = 'fresh';
    for (const tag of tags) {
      const expiredAt = this.#expired.get(tag);
      if (expiredAt !== undefined && expiredAt > timestamp && expiredAt <= at) return 'expired';
      const staleAt = this.#stale.get(tag);
      if (staleAt !== undefined && staleAt > timestamp) verdict = 'stale';
    }
    return verdict;
  }

  /** The latest `expired` timestamp of `tags`, 0 when none was revalidated. */
  expiration(tags) {
    let latest = 0;
    for (const tag of tags) latest = Math.max(latest, this.#expired.get(tag) ?? 0);
    return latest;
  }
}

/** Sets each pair of a flat [name, ms, name, ms, ...] list (strings or numbers) in `map`. */
function setFlat(map, flat) {
  if (!Array.isArray(flat)) return map;
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const at = Number(flat[i + 1]);
    if (Number.isFinite(at)) map.set(String(flat[i]), at);
  }
  return map;
}

const fromFlat = (flat) => setFlat(new Map(), flat);

module.exports = { TagManifest, now };
