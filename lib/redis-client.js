'use strict';

/**
 * RedisClient: a small promise API over the native connection manager (one endpoint, one
 * I/O thread, one connection). Options are resolved in lib/redis-options.js, commands that
 * may not run on the shared connection are refused by lib/redis-commands.js, and stores share
 * clients through lib/redis-registry.js.
 *
 * Commands issued in the same tick leave in one write (the I/O thread drains its queue per
 * wake-up); replies come back in batches and settle their promises in order.
 */

const binding = require('./binding');
const { CommandBatch } = require('./redis-batch');
const { inspect } = require('node:util');
const {
  REDIS_CLIENT_DEFAULTS, resolveConnection, nativeConfig, redactedConfig, addressOf,
} = require('./redis-options');
const { refusedCommand } = require('./redis-commands');
const { describe } = require('./describe');
const {
  InvalidArgumentError, RedisConnectionError, RedisConnectTimeoutError, RedisTimeoutError,
  RedisProtocolError, RedisReplyTooLargeError, RedisClosedError, RedisServerError,
  RedisUnsupportedCommandError, RedisTlsError, RedisCredentialsError,
} = require('./errors');

/** Longest JS string; a longer bulk string fails its own call (read it with { buffers: true }). */
const MAX_STRING_LENGTH = require('node:buffer').constants.MAX_STRING_LENGTH;

// ErrorKind values from src/redis/request.h. `credentialsError`: the provider's last failure,
// the cause of a kind-9 error.
function makeError(detail, address, credentialsError) {
  const [kind, message, errno] = detail;
  switch (kind) {
    case 1: return new RedisConnectionError(message, address, errno || undefined);
    case 2: return new RedisConnectTimeoutError(message, address);
    case 3: return new RedisTimeoutError(message, address);
    case 4: return new RedisProtocolError(message, address);
    case 5: return new RedisReplyTooLargeError(message, address);
    case 6: return new RedisClosedError(message, address);
    case 7: return new RedisServerError(message, address);
    case 8: return new RedisTlsError(message, address, errno || undefined);
    case 9: return new RedisCredentialsError(message, address, { cause: credentialsError });
    default: return new RedisConnectionError(message, address, errno || undefined);
  }
}

const FLAG_BUFFERS = 1;

/** Kind of an event that asks for a connect attempt's credentials (src/napi/redis_events.h). */
const EVENT_CREDENTIALS = 3;

/** The type of a value, for messages about values that may be secrets. */
function typeName(value) {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a value of type ${typeof value}`;
}

/**
 * What a `credentials` provider returned, checked: `{ username, password }` with the
 * password as bytes, or an InvalidArgumentError that names the option and the type of the
 * offending value (never the value: it is a secret).
 */
function checkCredentials(value) {
  const fail = (message) => ({ error: new InvalidArgumentError(`option 'credentials': ${message}`, 'ERR_INVALID_ARG_TYPE') });
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return fail(`the provider must return (or resolve to) an object { username?, password }; received ${typeName(value)}`);
  }
  const { username, password } = value;
  if (username !== undefined && typeof username !== 'string') {
    return fail(`the provider's 'username' must be a string; received ${typeName(username)}`);
  }
  if (typeof password === 'string') {
    if (password === '') return fail("the provider's 'password' is an empty string");
    return { username: username ?? '', password: Buffer.from(password, 'utf8'), owned: true };
  }
  if (password instanceof Uint8Array) {
    if (password.byteLength === 0) return fail("the provider's 'password' is an empty Buffer");
    return { username: username ?? '', password, owned: false };
  }
  return fail(`the provider's 'password' must be a non-empty string or Buffer; received ${typeName(password)}`);
}

// A client dropped without disconnect(): its connection is closed at once and its I/O
// thread joined. The held value is the native object, never the client itself.
const droppedClients = new FinalizationRegistry((native) => {
  try {
    native.destroy();
  } catch {
    // The environment is going away; its cleanup hook closes the connection.
  }
});

/**
 * A connection manager for one endpoint: one I/O thread and one connection, opened on
 * the first command. Usually obtained through the shared registry (see RedisStore);
 * construct it directly for a private connection.
 *
 * Lifetime: the native side reaches the client only through `#link`, which holds it
 * strongly while commands are outstanding or a disconnect is under way and weakly
 * otherwise. An idle client the program no longer references can therefore be collected;
 * `droppedClients` then closes its connection.
 */
class RedisClient {
  #native;
  #config;
  #pending = new Map();
  #nextId = 1;
  #closing;
  #closed = false;
  #referenced = false;
  #link;
  #credentialsError; // the provider's last failure: the cause of RedisCredentialsError

  /**
   * @param {string|object} [urlOrOptions] a redis://, rediss:// (TLS) or unix:// url, or options
   * @param {object} [options] options when the first argument is a url
   */
  constructor(urlOrOptions, options) {
    const merged = typeof urlOrOptions === 'string'
      ? { ...options, url: urlOrOptions }
      : { ...urlOrOptions, ...options };
    if (merged.cluster !== undefined) {
      throw new InvalidArgumentError("RedisClient: option 'cluster' is not for one node's client; use new RedisClusterClient(options) or new RedisStore({ cluster, … })");
    }
    if (merged.sentinel !== undefined) {
      throw new InvalidArgumentError("RedisClient: option 'sentinel' is not for one node's client; use new RedisSentinelClient(options) or new RedisStore({ sentinel, … })");
    }
    this.#config = resolveConnection('RedisClient', merged);
    /** host:port or the socket path; used in error messages. */
    this.address = addressOf(this.#config);
    const link = { strong: undefined, weak: new WeakRef(this) };
    this.#link = link;
    const onEvents = (heads, values) => {
      const client = link.strong ?? link.weak.deref();
      if (client !== undefined) client.#onEvents(heads, values);
    };
    try {
      this.#native = new binding.RedisClientWrap({ ...nativeConfig(this.#config), maxStringLength: MAX_STRING_LENGTH }, onEvents);
    } catch (error) {
      // A TLS certificate or key OpenSSL could not use: the message names the option.
      if (error?.code === 'ERR_INVALID_ARG_VALUE') throw new InvalidArgumentError(`RedisClient: ${error.message}`);
      throw error;
    }
    droppedClients.register(this, this.#native, this);
    // The native side holds the password, key and passphrase it needs for every reconnect (the
    // key inside its TLS context); the JS copies kept here are dropped, so a long-lived client
    // does not keep them reachable. `config` shows them as '***' either way.
    this.#config = redactedConfig(this.#config);
  }

  /** The resolved connection settings, without secrets (password, TLS key and passphrase). */
  get config() {
    return redactedConfig(this.#config);
  }

  [inspect.custom](depth, options, inspectFn) {
    const shown = { address: this.address, closed: this.closed, tls: this.#config.tls !== undefined };
    return `RedisClient ${inspectFn(shown, options)}`;
  }

  /** Whether disconnect() was called. */
  get closed() { return this.#closing !== undefined; }

  /**
   * Sends one command; resolves with the reply (bulk strings as strings, or Buffers with
   * `{ buffers: true }`; integers as numbers; nil as null; arrays as arrays), rejects with
   * RedisServerError for an error reply or another RedisError when there is no reply.
   * @param {Array<string|Buffer|Uint8Array|number>} args e.g. ['SET', key, value, 'PX', 1000];
   *   read at the end of the current tick, when the tick's commands are sent together
   * @param {{buffers?: boolean, timeout?: number}} [options] `timeout` in ms overrides
   *   commandTimeout for this call (e.g. for a slow script; blocking commands are refused)
   * @returns {Promise<unknown>}
   */
  command(args, options) {
    if (this.#closing !== undefined) {
      return Promise.reject(new RedisClosedError('the Redis client is closed: disconnect() was called', this.address));
    }
    if (!Array.isArray(args) || args.length === 0) {
      return Promise.reject(new InvalidArgumentError(`command: expected a non-empty array of arguments; received ${describe(args)}`,
        'ERR_INVALID_ARG_TYPE'));
    }
    let list = args;
    for (let i = 0; i < args.length; i++) {
      const arg = args[i];
      if (typeof arg === 'string' || arg instanceof Uint8Array) continue;
      if (typeof arg === 'number') {
        if (list === args) list = args.slice(); // never modify the caller's array
        list[i] = String(arg);
        continue;
      }
      return Promise.reject(new InvalidArgumentError(
        `command: argument ${i} must be a string, Buffer, Uint8Array or number; received ${describe(arg)}`,
        'ERR_INVALID_ARG_TYPE'));
    }
    const refused = refusedCommand(args);
    if (refused !== undefined) {
      return Promise.reject(new RedisUnsupportedCommandError(
        `command: ${refused.command} is not supported: ${refused.reason}`, this.address, refused.command));
    }
    const timeout = options?.timeout ?? 0;
    if (!Number.isInteger(timeout) || timeout < 0 || timeout > 2 ** 31 - 1) {
      return Promise.reject(new InvalidArgumentError(`command: option 'timeout' must be an integer number of milliseconds in [1, ${2 ** 31 - 1}] (0 = commandTimeout); received ${describe(timeout)}`));
    }
    const id = this.#nextId++;
    // Everything issued in this tick goes to the I/O thread together at the end of it (one
    // native call, one wake-up, one write).
    if (this.#outgoing.empty) queueMicrotask(this.#flushOutgoing);
    this.#outgoing.add(id, list, options?.buffers ? FLAG_BUFFERS : 0, timeout);
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      if (!this.#referenced) {
        this.#referenced = true;
        this.#link.strong = this; // outstanding promises keep the client alive
        this.#native.ref();
      }
    });
  }

  #outgoing = new CommandBatch();
  #flushOutgoing = () => this.#flush();

  #flush() {
    const batch = this.#outgoing;
    if (batch.empty) return;
    let failure;
    try {
      if (!this.#native.submitPacked(batch.text, batch.plan, batch.length, batch.others)) {
        failure = new RedisClosedError('the Redis client is closed', this.address);
      }
    } catch (error) {
      failure = error;
    }
    if (failure === undefined) {
      batch.reset();
      return;
    }
    const ids = batch.ids();
    batch.reset();
    for (const id of ids) {
      const entry = this.#pending.get(id);
      if (entry === undefined) continue;
      this.#pending.delete(id);
      entry.reject(failure);
    }
    this.#releaseRefIfIdle();
  }

  #releaseRefIfIdle() {
    if (this.#pending.size === 0 && this.#referenced) {
      this.#referenced = false;
      if (this.#closing === undefined) this.#link.strong = undefined;
      this.#native.unref();
    }
  }

  /** `heads`: [id, kind] pairs (Float64Array); `values`: the matching replies. */
  #onEvents(heads, values) {
    if (heads === null) {
      this.#onClosed();
      return;
    }
    // Errors made here would only show this callback's frames, never the caller's: skip
    // capturing them. A lost connection fails thousands of commands at once, and the stack
    // capture was most of the cost (10,000 rejections: ~90 ms with frames).
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    let attempts;
    try {
      for (let i = 0; i < values.length; i++) {
        const id = heads[2 * i];
        const kind = heads[2 * i + 1];
        if (kind === EVENT_CREDENTIALS) {
          (attempts ??= []).push(id); // the number of a connect attempt, not a command's id
          continue;
        }
        const entry = this.#pending.get(id);
        if (entry === undefined) continue;
        this.#pending.delete(id);
        const value = values[i];
        if (kind === 0) entry.resolve(value);
        else if (kind === 2) entry.reject(new RedisServerError(value, this.address));
        else entry.reject(makeError(value, this.address, this.#credentialsError));
      }
    } finally {
      Error.stackTraceLimit = stackTraceLimit;
    }
    // After the stack limit is back: the provider's own errors keep their frames.
    if (attempts !== undefined) for (const attempt of attempts) this.#askCredentials(attempt);
    this.#releaseRefIfIdle();
  }

  /**
   * Connect attempt `attempt` has its socket and waits for credentials: calls the provider
   * (on this, the JS thread) and hands its answer to the I/O thread, which then sends AUTH.
   * The attempt's connectTimeout bounds the wait; a late answer is dropped there.
   */
  #askCredentials(attempt) {
    let result;
    try {
      result = this.#config.credentials();
    } catch (error) {
      this.#credentialsFailed(attempt, error, 'threw');
      return;
    }
    if (result !== null && typeof result?.then === 'function') {
      Promise.resolve(result).then(
        (value) => this.#credentialsAnswered(attempt, value),
        (error) => this.#credentialsFailed(attempt, error, 'rejected'));
    } else {
      this.#credentialsAnswered(attempt, result);
    }
  }

  #credentialsAnswered(attempt, value) {
    const checked = checkCredentials(value);
    if (checked.error !== undefined) {
      this.#credentialsError = checked.error;
      if (!this.#closed) this.#native.credentialsFailed(attempt, checked.error.message);
      return;
    }
    try {
      if (!this.#closed) this.#native.credentials(attempt, checked.username, checked.password);
    } finally {
      // Our own copy of a string password; a Buffer the provider returned is its own.
      if (checked.owned) checked.password.fill(0);
    }
  }

  #credentialsFailed(attempt, error, how) {
    this.#credentialsError = error;
    if (this.#closed) return;
    this.#native.credentialsFailed(attempt, `option 'credentials': the provider ${how} (the provider's error is this error's cause)`);
  }

  #onClosed() {
    this.#closed = true;
    this.#link.strong = undefined;
    this.#native.join();
    // As in #onEvents: these errors would only show this callback's frames.
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      for (const entry of this.#pending.values()) {
        entry.reject(new RedisClosedError('the Redis client was closed before the reply arrived', this.address));
      }
    } finally {
      Error.stackTraceLimit = stackTraceLimit;
    }
    this.#pending.clear();
    this.#closeDone?.();
  }

  #closeDone;

  /**
   * Stops accepting commands, waits for the ones in flight, sends QUIT and closes the
   * socket; at `timeout` ms whatever is left is rejected with RedisClosedError and
   * everything is closed. Idempotent: later calls return the same promise.
   * @param {{timeout?: number}} [options] default 5000 ms
   * @returns {Promise<void>}
   */
  disconnect(options) {
    if (this.#closing !== undefined) return this.#closing;
    const timeout = options?.timeout ?? REDIS_CLIENT_DEFAULTS.disconnectTimeout;
    if (typeof timeout !== 'number' || !(timeout >= 0) || timeout > 2 ** 31 - 1) {
      return Promise.reject(new InvalidArgumentError(`disconnect: timeout must be a number of milliseconds >= 0; received ${describe(timeout)}`));
    }
    this.#flush(); // commands issued before disconnect() in this tick still go out
    droppedClients.unregister(this);
    this.#closing = new Promise((resolve) => {
      this.#closeDone = resolve;
      this.#link.strong = this; // until the close event
      const started = this.#native.close(Math.floor(timeout));
      if (!started) {
        this.#closed = true;
        this.#link.strong = undefined;
        resolve();
      }
    });
    return this.#closing;
  }

  /** Closes at once (no QUIT, no waiting): pending commands reject. Synchronous. */
  destroy() {
    if (this.#closed) return;
    this.#closing ??= Promise.resolve();
    this.#outgoing.reset(); // commands of this tick are rejected below, never sent
    droppedClients.unregister(this);
    this.#native.destroy();
    this.#closed = true;
    this.#link.strong = undefined;
    for (const entry of this.#pending.values()) {
      entry.reject(new RedisClosedError('the Redis client was destroyed before the reply arrived', this.address));
    }
    this.#pending.clear();
    this.#closeDone?.();
  }
}

module.exports = { RedisClient };
