'use strict';

/**
 * Error classes with stable `code` values. Every error this package throws or rejects
 * with is one of these (or a Node.js built-in error passed through from user code).
 * Messages name the argument or option and the value received; they never contain a
 * password.
 */

/** Base class of every error this package creates. */
class NativeCacheError extends Error {
  /**
   * @param {string} message
   * @param {string} code stable machine-readable code
   * @param {object} [options] `{ cause }`
   */
  constructor(message, code, options) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A wrong type, a value out of range, or an unknown option. */
class InvalidArgumentError extends NativeCacheError {
  constructor(message, code = 'ERR_INVALID_ARG_VALUE') {
    super(message, code);
  }
}

/** A key longer (in UTF-8 bytes) than the store's `maxKeyBytes`. */
class KeyTooLargeError extends NativeCacheError {
  constructor(message) {
    super(message, 'ERR_KEY_TOO_LARGE');
  }
}

/** A serialized value larger than the store's `maxValueBytes` (or its whole budget). */
class ValueTooLargeError extends NativeCacheError {
  constructor(message) {
    super(message, 'ERR_VALUE_TOO_LARGE');
  }
}

/** The serializer could not encode or decode a value. */
class SerializationError extends NativeCacheError {
  constructor(message, options) {
    super(message, 'ERR_SERIALIZATION', options);
  }
}

/** A call on a store after its `disconnect()`. */
class StoreClosedError extends NativeCacheError {
  constructor(message = 'the store is closed: disconnect() was called') {
    super(message, 'ERR_STORE_CLOSED');
  }
}

/** A call on a cache after its `disconnect()` started. */
class CacheDisconnectedError extends NativeCacheError {
  constructor(message = 'the cache is disconnected: disconnect() was called') {
    super(message, 'ERR_CACHE_DISCONNECTED');
  }
}

/** `wrap(key, fn)` called again for the same key from inside its own `fn`. */
class WrapRecursionError extends NativeCacheError {
  constructor(key) {
    super(`wrap('${String(key)}') was called from inside its own fn: that would wait for itself forever`,
      'ERR_WRAP_RECURSION');
    this.key = key;
  }
}

/** Every error raised while disconnecting, reported together. */
class DisconnectError extends NativeCacheError {
  /** @param {Error[]} errors */
  constructor(errors) {
    super(`disconnect failed for ${errors.length} store(s): ${errors.map((e) => e.message).join('; ')}`,
      'ERR_DISCONNECT');
    this.errors = errors;
  }
}

/** Base class of Redis errors; `address` is host:port or the unix socket path. */
class RedisError extends NativeCacheError {
  constructor(message, code, address, options) {
    super(address ? `${message} (${address})` : message, code, options);
    this.address = address;
  }
}

/** The connection could not be opened or was lost (`syscall` errors such as ECONNREFUSED). */
class RedisConnectionError extends RedisError {
  constructor(message, address, errno, options) {
    super(message, 'ERR_REDIS_CONNECTION', address, options);
    this.errno = errno;
  }
}

/**
 * A connect attempt failed because the `credentials` provider threw, rejected, or gave a
 * value that is not `{ username?, password }`; `cause` is the provider's own error (or an
 * InvalidArgumentError saying what was wrong with its value). The next attempt waits for
 * the usual reconnect backoff.
 */
class RedisCredentialsError extends RedisError {
  constructor(message, address, options) {
    super(message, 'ERR_REDIS_CREDENTIALS', address, options);
  }
}

/** The connection did not open within `connectTimeout`. */
class RedisConnectTimeoutError extends RedisError {
  constructor(message, address) {
    super(message, 'ERR_REDIS_CONNECT_TIMEOUT', address);
  }
}

/** A command got no reply within `commandTimeout`. */
class RedisTimeoutError extends RedisError {
  constructor(message, address) {
    super(message, 'ERR_REDIS_TIMEOUT', address);
  }
}

/** The server sent bytes that are not valid RESP (or exceed the nesting/element caps). */
class RedisProtocolError extends RedisError {
  constructor(message, address) {
    super(message, 'ERR_REDIS_PROTOCOL', address);
  }
}

/** A reply exceeded `maxReplyBytes`. */
class RedisReplyTooLargeError extends RedisError {
  constructor(message, address) {
    super(message, 'ERR_REDIS_REPLY_TOO_LARGE', address);
  }
}

/** The client or its manager is closed (or closing). */
class RedisClosedError extends RedisError {
  constructor(message, address) {
    super(message, 'ERR_REDIS_CLOSED', address);
  }
}

/**
 * A command refused before it was sent: it would change the state of the shared, pipelined
 * connection (SELECT, AUTH, SUBSCRIBE, MULTI, CLIENT REPLY, …) or block it (BLPOP, WAIT,
 * XREAD … BLOCK, …) for every other caller. `command` names it (e.g. 'BLPOP', 'CLIENT SETNAME').
 */
class RedisUnsupportedCommandError extends RedisError {
  constructor(message, address, command) {
    super(message, 'ERR_REDIS_UNSUPPORTED_COMMAND', address);
    this.command = command;
  }
}

/**
 * The TLS handshake failed or TLS broke: the server's certificate was refused (self-signed,
 * expired, unknown CA, a name it does not hold), the versions did not meet, the server wanted
 * a client certificate… The message gives the reason as Node words it; `tlsCode` is Node's
 * code for it (e.g. 'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_HAS_EXPIRED',
 * 'ERR_TLS_CERT_ALTNAME_INVALID', 'ERR_SSL_UNSUPPORTED_PROTOCOL').
 */
class RedisTlsError extends RedisError {
  constructor(message, address, tlsCode) {
    super(message, 'ERR_REDIS_TLS', address);
    this.tlsCode = tlsCode;
  }
}

/** An error reply from the server; `redisCode` is its first word (WRONGPASS, OOM, …). */
class RedisServerError extends RedisError {
  constructor(message, address) {
    super(message, 'ERR_REDIS_SERVER', address);
    const space = message.indexOf(' ');
    this.redisCode = space > 0 ? message.slice(0, space) : message;
  }
}

/**
 * Redis Cluster could not serve the call: the slot map could not be read or made no sense, no
 * node serves the key's slot, MOVED/ASK went past `maxRedirections`, or a part of a command
 * split by slot failed. `slots` lists the slots concerned; for a split write, `unsureKeys`
 * lists the keys whose part failed (they may or may not have been written) and `cause` is the
 * first part's error.
 */
class RedisClusterError extends RedisError {
  constructor(message, address, { slots = [], unsureKeys, cause } = {}) {
    super(message, 'ERR_REDIS_CLUSTER', address, cause === undefined ? undefined : { cause });
    this.slots = slots;
    if (unsureKeys !== undefined) this.unsureKeys = unsureKeys;
  }
}

/**
 * Redis Sentinel could not give a primary: no sentinel answered or knew the name, or the node
 * it named says it is not a primary (ROLE).
 */
class RedisSentinelError extends RedisError {
  constructor(message, address, options) {
    super(message, 'ERR_REDIS_SENTINEL', address, options);
  }
}

module.exports = {
  NativeCacheError,
  InvalidArgumentError,
  KeyTooLargeError,
  ValueTooLargeError,
  SerializationError,
  StoreClosedError,
  CacheDisconnectedError,
  WrapRecursionError,
  DisconnectError,
  RedisError,
  RedisConnectionError,
  RedisCredentialsError,
  RedisConnectTimeoutError,
  RedisTimeoutError,
  RedisProtocolError,
  RedisReplyTooLargeError,
  RedisClosedError,
  RedisServerError,
  RedisUnsupportedCommandError,
  RedisTlsError,
  RedisClusterError,
  RedisSentinelError,
};
