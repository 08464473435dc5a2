'use strict';

/**
 * The events and the background work of one cache: the EventEmitter behind `on`/`off`
 * (payloads are only built and emitted when somebody listens), how a write-like call ends
 * (blocking or non-blocking, with its event), and the bookkeeping of work nobody awaits
 * (non-blocking writes, background refreshes) and of running `wrap` loads, which
 * `settled()` and `disconnect()` wait for.
 */

const { EventEmitter } = require('node:events');
const { PromiseTracker } = require('./key-table');

/** Events, non-blocking completion and tracked work of a cache. */
class CacheEvents {
  #emitter = new EventEmitter();
  #nonBlocking;
  #background = new PromiseTracker();
  #running = 0; // wrap loads under way (between loadStarted and loadEnded)
  #loadsDone; // { promise, resolve } while idle() waits for them

  /** @param {boolean} nonBlocking whether writes return before the stores answered */
  constructor(nonBlocking) {
    this.#nonBlocking = nonBlocking;
  }

  /**
   * @param {string} event
   * @param {(...args: any[]) => void} listener
   * @returns {EventEmitter}
   */
  on(event, listener) {
    return this.#emitter.addListener(event, listener);
  }

  /**
   * @param {string} event
   * @param {(...args: any[]) => void} listener
   * @returns {EventEmitter}
   */
  off(event, listener) {
    return this.#emitter.removeListener(event, listener);
  }

  /**
   * Whether `name` has a listener (to skip building a payload nobody receives).
   * @param {string} name
   */
  listening(name) {
    return this.#emitter.listenerCount(name) !== 0;
  }

  /**
   * Emits `name` with `payload` when somebody listens; an undefined payload is emitted as
   * no argument at all (cache-manager's `clear`).
   * @param {string} name
   * @param {unknown} [payload]
   */
  emit(name, payload) {
    if (this.#emitter.listenerCount(name) === 0) return;
    if (payload === undefined) this.#emitter.emit(name);
    else this.#emitter.emit(name, payload);
  }

  /**
   * Reports a failure nobody awaits: its own event, then `error`.
   * @param {string} name
   * @param {unknown} payload
   * @param {unknown} error
   */
  reportBackground(name, payload, error) {
    this.emit(name, payload);
    if (this.listening('error')) this.#emitter.emit('error', error);
  }

  /**
   * Counts `promise` (which must never reject) as background work until it settles.
   * @param {Promise<unknown>} promise
   */
  trackBackground(promise) {
    this.#background.add(promise);
  }

  /** A `wrap` load (a flight) begins: counted until the matching loadEnded(). */
  loadStarted() {
    this.#running++;
  }

  /** A `wrap` load ended, whatever its outcome. */
  loadEnded() {
    if (--this.#running === 0 && this.#loadsDone !== undefined) {
      this.#loadsDone.resolve();
      this.#loadsDone = undefined;
    }
  }

  /** Resolves once no `wrap` load is running. */
  #noLoads() {
    if (this.#running === 0) return Promise.resolve();
    if (this.#loadsDone === undefined) {
      let resolve;
      const promise = new Promise((r) => { resolve = r; });
      this.#loadsDone = { promise, resolve };
    }
    return this.#loadsDone.promise;
  }

  /**
   * Ends a write-like call. `pending` is undefined (every store answered) or the promise of
   * the stores' answers. Emits `name` with `payload` (with `error` added on failure; an
   * undefined payload becomes the error itself, as for `clear`) like cache-manager and
   * resolves with `result`. Non-blocking, the call resolves at once and a failure is
   * reported in the background, unless `wait` (refreshes wait for their writes).
   * @param {Promise<unknown>|undefined} pending
   * @param {string} name
   * @param {object|undefined} payload
   * @param {unknown} result
   * @param {boolean} wait
   * @returns {Promise<unknown>}
   */
  finish(pending, name, payload, result, wait) {
    if (pending === undefined) {
      this.emit(name, payload);
      return Promise.resolve(result);
    }
    const failed = (error) => (payload === undefined ? error : { ...payload, error });
    if (this.#nonBlocking && !wait) {
      this.trackBackground(pending.then(undefined,
        (error) => this.reportBackground(name, failed(error), error)));
      this.emit(name, payload);
      return Promise.resolve(result);
    }
    return pending.then(() => {
      this.emit(name, payload);
      return result;
    }, (error) => {
      this.emit(name, failed(error));
      throw error;
    });
  }

  /**
   * Resolves once every piece of background work started so far has settled.
   * @returns {Promise<void>}
   */
  settled() {
    return Promise.all(this.#background.all()).then(() => undefined);
  }

  /**
   * Resolves once all background work and running loads have settled, or after `timeout` ms.
   * @param {number} timeout
   * @returns {Promise<void>}
   */
  async idle(timeout) {
    const work = Promise.all([...this.#background.all(), this.#noLoads()]);
    let timer;
    await Promise.race([work, new Promise((resolve) => {
      timer = setTimeout(resolve, timeout);
      timer.unref();
    })]);
    clearTimeout(timer);
  }
}

module.exports = { CacheEvents };
