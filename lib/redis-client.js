'use strict';

/**
 * RedisClient: a small promise API over the native connection manager, and the
 * per-process registry that shares one manager between every store naming the same
 * endpoint and options.
 *
 * Commands issued in the same tick leave in one write (the I/O thread drains its queue per
 * wake-up); replies come back in batches and settle their promises in order.
 */

const binding = require('./binding');
const { CommandBatch } = require('./redis-batch');
const { validateOptions } = require('./options');
const { describe } = require('./describe');
const {
  InvalidArgumentError, RedisConnectionError, RedisConnectTimeoutError, RedisTimeoutError,
  RedisProtocolError, RedisReplyTooLargeError, RedisClosedError, RedisServerError,
  RedisUnsupportedCommandError,
} = require('./errors');

const MiB = 1024 * 1024;

/** Largest accepted `maxReplyBytes`: Redis's own bulk-string ceiling (proto-max-bulk-len). */
const MAX_REPLY_BYTES_CAP = 512 * MiB;
/** Longest JS string; a longer bulk string fails its own call (read it with { buffers: true }). */
const MAX_STRING_LENGTH = require('node:buffer').constants.MAX_STRING_LENGTH;

/** Connection defaults, documented in the README and types/redis.d.ts. */
const REDIS_CLIENT_DEFAULTS = Object.freeze({
  host: '127.0.0.1',
  port: 6379,
  db: 0,
  connectTimeout: 1000,
  commandTimeout: 500,
  offlineQueue: 0,
  healthCheckInterval: 1000,
  keepAlive: 1000,
  maxReplyBytes: 64 * MiB,
  maxReplyElements: 1_000_000,
  maxReplyDepth: 32,
  disconnectTimeout: 5000,
});

const CONNECTION_SPEC = {
  url: { type: 'string', default: undefined },
  host: { type: 'string', default: undefined },
  port: { type: 'integer', min: 1, max: 65535, default: undefined },
  path: { type: 'string', default: undefined },
  username: { type: 'string', default: undefined },
  password: { type: 'string', default: undefined },
  db: { type: 'integer', min: 0, max: 2 ** 31 - 1, default: undefined },
  clientName: {
    type: 'any', allowed: 'a string without spaces or newlines',
    check: (v) => typeof v === 'string' && !/[\s]/.test(v), default: undefined,
  },
  connectTimeout: { type: 'integer', min: 1, max: 2 ** 31 - 1, default: REDIS_CLIENT_DEFAULTS.connectTimeout },
  commandTimeout: { type: 'integer', min: 1, max: 2 ** 31 - 1, default: REDIS_CLIENT_DEFAULTS.commandTimeout },
  offlineQueue: { type: 'integer', min: 0, max: 1_000_000, default: REDIS_CLIENT_DEFAULTS.offlineQueue },
  healthCheckInterval: { type: 'integer', min: 0, max: 2 ** 31 - 1, default: REDIS_CLIENT_DEFAULTS.healthCheckInterval },
  keepAlive: { type: 'integer', min: 0, max: 2 ** 31 - 1, default: REDIS_CLIENT_DEFAULTS.keepAlive },
  maxReplyBytes: { type: 'integer', min: 1024, max: MAX_REPLY_BYTES_CAP, default: REDIS_CLIENT_DEFAULTS.maxReplyBytes },
  maxReplyElements: { type: 'integer', min: 1, max: 2 ** 31 - 1, default: REDIS_CLIENT_DEFAULTS.maxReplyElements },
  maxReplyDepth: { type: 'integer', min: 1, max: 1000, default: REDIS_CLIENT_DEFAULTS.maxReplyDepth },
};

/**
 * Parses `redis://[user:pass@]host:port/db` and `unix:///path/to.sock[?db=N]`.
 * `rediss://` (TLS) is refused: the hiredis this package builds against has no TLS.
 * @param {string} url
 * @returns {{host?: string, port?: number, path?: string, username?: string, password?: string, db?: number}}
 */
function parseRedisUrl(url) {
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidArgumentError(`Redis url must look like redis://host:port/db or unix:///path; received ${describe(redactUrl(url))}`);
  }
  const out = {};
  if (parsed.username) out.username = decodeUrlPart(parsed.username, 'the user name');
  if (parsed.password) out.password = decodeUrlPart(parsed.password, 'the password');
  const dbText = parsed.searchParams.get('db');
  switch (parsed.protocol) {
    case 'redis:': {
      if (parsed.hostname) out.host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
      if (parsed.port) out.port = Number(parsed.port);
      const dbPath = parsed.pathname.replace(/^\//, '');
      if (dbPath !== '') {
        if (!/^\d+$/.test(dbPath)) {
          // Not echoed: a password with an unencoded '/' ends up here (redis://u:p/w@host).
          throw new InvalidArgumentError(`Redis url: the path after the host must be a database number such as /0; received a path of ${dbPath.length} characters${dbPath.includes('@') ? ' with an \'@\' in it (percent-encode a \'/\', \'?\' or \'#\' in the password: %2F, %3F, %23)' : ''}`);
        }
        out.db = Number(dbPath);
      }
      break;
    }
    case 'unix:':
      if (!parsed.pathname) throw new InvalidArgumentError('Redis url: unix:// needs a socket path, e.g. unix:///run/redis.sock');
      out.path = decodeUrlPart(parsed.pathname, 'the socket path');
      break;
    case 'rediss:':
      throw new InvalidArgumentError(
        'Redis url: rediss:// (TLS) is not supported yet: the hiredis version this package builds against has no TLS. Use a TLS-terminating proxy (e.g. stunnel) and redis://, or a unix socket',
        'ERR_REDIS_TLS_UNSUPPORTED');
    default:
      throw new InvalidArgumentError(`Redis url: protocol must be redis: or unix:; received '${parsed.protocol}'`);
  }
  if (dbText !== null) {
    if (!/^\d+$/.test(dbText)) throw new InvalidArgumentError(`Redis url: db must be a number; received '${dbText}'`);
    out.db = Number(dbText);
  }
  return out;
}

/** decodeURIComponent, with a typed error that does not repeat the text (it may be a secret). */
function decodeUrlPart(text, what) {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new InvalidArgumentError(`Redis url: ${what} is not valid percent-encoding (a '%' must start %XX with two hex digits; write a literal '%' as %25)`);
  }
}

/** The url with any password replaced, for messages. */
function redactUrl(url) {
  return typeof url === 'string' ? url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@') : url;
}

/**
 * Validates connection options (url and/or discrete fields) and returns the full config.
 * @param {string} where
 * @param {object} options
 */
function resolveConnection(where, options) {
  // Checked first and without echoing the value: a password must never reach a message.
  if (options && options.password !== undefined && typeof options.password !== 'string') {
    throw new InvalidArgumentError(`${where}: option 'password' must be a string; received a value of type ${typeof options.password}`);
  }
  const opts = validateOptions(where, options, CONNECTION_SPEC);
  const fromUrl = opts.url !== undefined ? parseRedisUrl(opts.url) : {};
  const config = {
    host: opts.host ?? fromUrl.host ?? REDIS_CLIENT_DEFAULTS.host,
    port: opts.port ?? fromUrl.port ?? REDIS_CLIENT_DEFAULTS.port,
    path: opts.path ?? fromUrl.path ?? '',
    username: opts.username ?? fromUrl.username ?? '',
    password: opts.password ?? fromUrl.password ?? '',
    db: opts.db ?? fromUrl.db ?? REDIS_CLIENT_DEFAULTS.db,
    clientName: opts.clientName ?? '',
    connectTimeout: opts.connectTimeout,
    commandTimeout: opts.commandTimeout,
    offlineQueue: opts.offlineQueue,
    healthCheckInterval: opts.healthCheckInterval,
    keepAlive: opts.keepAlive,
    maxReplyBytes: opts.maxReplyBytes,
    maxReplyElements: opts.maxReplyElements,
    maxReplyDepth: opts.maxReplyDepth,
  };
  if (config.username && !config.password) {
    throw new InvalidArgumentError(`${where}: a username needs a password (ACL AUTH takes both)`);
  }
  return config;
}

function addressOf(config) {
  if (config.path) return config.path;
  return config.host.includes(':') ? `[${config.host}]:${config.port}` : `${config.host}:${config.port}`;
}

// ErrorKind values from src/redis/request.h.
function makeError(detail, address) {
  const [kind, message, errno] = detail;
  switch (kind) {
    case 1: return new RedisConnectionError(message, address, errno || undefined);
    case 2: return new RedisConnectTimeoutError(message, address);
    case 3: return new RedisTimeoutError(message, address);
    case 4: return new RedisProtocolError(message, address);
    case 5: return new RedisReplyTooLargeError(message, address);
    case 6: return new RedisClosedError(message, address);
    case 7: return new RedisServerError(message, address);
    default: return new RedisConnectionError(message, address, errno || undefined);
  }
}

const FLAG_BUFFERS = 1;

// Commands refused on the shared, pipelined connection, with the reason given to the caller.
// Every caller's commands travel on one socket in order, so a command that changes that
// connection's state or holds it for a while would change or stall everyone else's commands.
const STATE_REASON = 'it changes the state of the connection every caller shares';
const PUSH_REASON = 'it turns the shared connection into a push stream; use a dedicated client library for Pub/Sub or MONITOR';
const BLOCKING_REASON = 'a blocking command holds the shared connection and stalls every command pipelined behind it; poll with the non-blocking form (LPOP, ZPOPMIN, XREAD without BLOCK, …) instead';
const TRANSACTION_REASON = 'other callers\' commands would land inside the transaction on the shared connection; use EVAL or FUNCTION for atomic groups';
const UNSUPPORTED_COMMANDS = new Map([
  ...['SUBSCRIBE', 'PSUBSCRIBE', 'SSUBSCRIBE', 'UNSUBSCRIBE', 'PUNSUBSCRIBE', 'SUNSUBSCRIBE', 'MONITOR',
    'SYNC', 'PSYNC'].map((name) => [name, PUSH_REASON]),
  ['SELECT', `${STATE_REASON}; use the 'db' option (or redis://host:port/db)`],
  ['AUTH', `${STATE_REASON}; use the 'username' and 'password' options`],
  ['HELLO', `${STATE_REASON} (protocol, auth, name); use the connection options`],
  ['RESET', STATE_REASON],
  ['QUIT', `${STATE_REASON}; call disconnect()`],
  ['READONLY', STATE_REASON],
  ['READWRITE', STATE_REASON],
  ...['MULTI', 'EXEC', 'DISCARD', 'WATCH', 'UNWATCH'].map((name) => [name, TRANSACTION_REASON]),
  ...['BLPOP', 'BRPOP', 'BLMOVE', 'BRPOPLPUSH', 'BZPOPMIN', 'BZPOPMAX', 'BLMPOP', 'BZMPOP', 'WAIT',
    'WAITAOF'].map((name) => [name, BLOCKING_REASON]),
]);
// CLIENT subcommands that change the connection's state (CLIENT ID, LIST, INFO … are fine).
const UNSUPPORTED_CLIENT_SUBCOMMANDS = new Map([
  ['REPLY', STATE_REASON],
  ['SETNAME', `${STATE_REASON}; use the 'clientName' option`],
  ['SETINFO', STATE_REASON],
  ['TRACKING', STATE_REASON],
  ['CACHING', STATE_REASON],
  ['NO-EVICT', STATE_REASON],
  ['NO-TOUCH', STATE_REASON],
]);
const LONGEST_REFUSED_NAME = 12;

/** Upper-cased text of a command word (string or bytes); '' for anything else or long words. */
function commandWord(arg) {
  if (typeof arg === 'string') return arg.length <= LONGEST_REFUSED_NAME ? arg.toUpperCase() : '';
  if (arg instanceof Uint8Array && arg.length <= LONGEST_REFUSED_NAME) {
    return Buffer.from(arg.buffer, arg.byteOffset, arg.length).toString('latin1').toUpperCase();
  }
  return '';
}

/**
 * Whether a command may not run on the shared connection.
 * @param {Array<unknown>} args
 * @returns {{command: string, reason: string}|undefined}
 */
function refusedCommand(args) {
  const name = commandWord(args[0]);
  if (name === '') return undefined;
  const reason = UNSUPPORTED_COMMANDS.get(name);
  if (reason !== undefined) return { command: name, reason };
  if (name === 'CLIENT' && args.length > 1) {
    const sub = commandWord(args[1]);
    const subReason = UNSUPPORTED_CLIENT_SUBCOMMANDS.get(sub);
    if (subReason !== undefined) return { command: `CLIENT ${sub}`, reason: subReason };
  }
  if (name === 'XREAD' || name === 'XREADGROUP') {
    // Options come before STREAMS; after it everything is a key or an id.
    for (let i = 1; i < args.length; i++) {
      const word = commandWord(args[i]);
      if (word === 'STREAMS') break;
      if (word === 'BLOCK') return { command: `${name} BLOCK`, reason: BLOCKING_REASON };
    }
  }
  return undefined;
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

  /**
   * @param {string|object} [urlOrOptions] a redis:// or unix:// url, or options
   * @param {object} [options] options when the first argument is a url
   */
  constructor(urlOrOptions, options) {
    const merged = typeof urlOrOptions === 'string'
      ? { ...options, url: urlOrOptions }
      : { ...urlOrOptions, ...options };
    this.#config = resolveConnection('RedisClient', merged);
    /** host:port or the socket path; used in error messages. */
    this.address = addressOf(this.#config);
    const link = { strong: undefined, weak: new WeakRef(this) };
    this.#link = link;
    const nativeConfig = { ...this.#config, maxStringLength: MAX_STRING_LENGTH };
    this.#native = new binding.RedisClientWrap(nativeConfig, (heads, values) => {
      const client = link.strong ?? link.weak.deref();
      if (client !== undefined) client.#onEvents(heads, values);
    });
    droppedClients.register(this, this.#native, this);
  }

  /** The resolved connection settings, without the password. */
  get config() {
    const { password, ...rest } = this.#config;
    return { ...rest, password: password ? '***' : '' };
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
    try {
      for (let i = 0; i < values.length; i++) {
        const id = heads[2 * i];
        const entry = this.#pending.get(id);
        if (entry === undefined) continue;
        this.#pending.delete(id);
        const kind = heads[2 * i + 1];
        const value = values[i];
        if (kind === 0) entry.resolve(value);
        else if (kind === 2) entry.reject(new RedisServerError(value, this.address));
        else entry.reject(makeError(value, this.address));
      }
    } finally {
      Error.stackTraceLimit = stackTraceLimit;
    }
    this.#releaseRefIfIdle();
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

// --- sharing: one manager per endpoint + options per JS environment ------------------------

// Module state is per environment: each worker thread loads its own copy of this module.
const shared = new Map();

/**
 * Returns a lease on the shared client for these connection options. The client opens
 * its connection on the first command; `release()` closes it when the last lease goes.
 * @param {object} connection options accepted by RedisClient
 * @returns {{client: RedisClient, release: (options?: {timeout?: number}) => Promise<void>}}
 */
function acquireSharedClient(connection) {
  const config = resolveConnection('RedisStore', connection);
  const key = JSON.stringify(config);
  let slot = shared.get(key);
  if (slot === undefined || slot.client.closed) {
    slot = { client: new RedisClient(connection), refs: 0 };
    shared.set(key, slot);
  }
  slot.refs++;
  let released = false;
  return {
    client: slot.client,
    release(options) {
      if (released) return Promise.resolve();
      released = true;
      slot.refs--;
      if (slot.refs > 0) return Promise.resolve();
      if (shared.get(key) === slot) shared.delete(key);
      return slot.client.disconnect(options);
    },
  };
}

module.exports = {
  RedisClient,
  REDIS_CLIENT_DEFAULTS,
  CONNECTION_OPTION_NAMES: Object.freeze(Object.keys(CONNECTION_SPEC)),
  parseRedisUrl,
  acquireSharedClient,
};
