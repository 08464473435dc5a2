export declare class NativeCacheError extends Error {
  constructor(message: string, code: string, options?: { cause?: unknown });
  readonly code: string;
}
export type InvalidArgumentCode =
  | 'ERR_INVALID_ARG_VALUE'
  | 'ERR_INVALID_ARG_TYPE'
  | 'ERR_UNKNOWN_OPTION';
export declare class InvalidArgumentError extends NativeCacheError {
  /** `code` defaults to 'ERR_INVALID_ARG_VALUE'. */
  constructor(message: string, code?: InvalidArgumentCode);
  readonly code: InvalidArgumentCode;
}
export declare class KeyTooLargeError extends NativeCacheError {
  constructor(message: string);
  readonly code: 'ERR_KEY_TOO_LARGE';
}
export declare class ValueTooLargeError extends NativeCacheError {
  constructor(message: string);
  readonly code: 'ERR_VALUE_TOO_LARGE';
}
export declare class SerializationError extends NativeCacheError {
  constructor(message: string, options?: { cause?: unknown });
  readonly code: 'ERR_SERIALIZATION';
}
export declare class StoreClosedError extends NativeCacheError {
  constructor(message?: string);
  readonly code: 'ERR_STORE_CLOSED';
}
export declare class CacheDisconnectedError extends NativeCacheError {
  constructor(message?: string);
  readonly code: 'ERR_CACHE_DISCONNECTED';
}
export declare class WrapRecursionError extends NativeCacheError {
  constructor(key: string);
  readonly code: 'ERR_WRAP_RECURSION';
  readonly key: string;
}
export declare class DisconnectError extends NativeCacheError {
  constructor(errors: Error[]);
  readonly code: 'ERR_DISCONNECT';
  readonly errors: Error[];
}
export declare class RedisError extends NativeCacheError {
  /** `address` is appended to the message when given. */
  constructor(message: string, code: string, address?: string, options?: { cause?: unknown });
  /** host:port or unix socket path */
  readonly address: string | undefined;
}
export declare class RedisConnectionError extends RedisError {
  constructor(message: string, address?: string, errno?: string, options?: { cause?: unknown });
  readonly code: 'ERR_REDIS_CONNECTION';
  /** e.g. 'ECONNREFUSED' */
  readonly errno: string | undefined;
}
/**
 * The `credentials` provider threw, rejected, or gave a value that is not
 * `{ username?, password }`: that connect attempt failed. `cause` is the provider's error (or
 * an InvalidArgumentError naming what was wrong with its value, never the value itself).
 */
export declare class RedisCredentialsError extends RedisError {
  constructor(message: string, address?: string, options?: { cause?: unknown });
  readonly code: 'ERR_REDIS_CREDENTIALS';
}
export declare class RedisConnectTimeoutError extends RedisError {
  constructor(message: string, address?: string);
  readonly code: 'ERR_REDIS_CONNECT_TIMEOUT';
}
export declare class RedisTimeoutError extends RedisError {
  constructor(message: string, address?: string);
  readonly code: 'ERR_REDIS_TIMEOUT';
}
export declare class RedisProtocolError extends RedisError {
  constructor(message: string, address?: string);
  readonly code: 'ERR_REDIS_PROTOCOL';
}
export declare class RedisReplyTooLargeError extends RedisError {
  constructor(message: string, address?: string);
  readonly code: 'ERR_REDIS_REPLY_TOO_LARGE';
}
export declare class RedisClosedError extends RedisError {
  constructor(message: string, address?: string);
  readonly code: 'ERR_REDIS_CLOSED';
}
export declare class RedisServerError extends RedisError {
  /** `message` is the server's error reply; its first word becomes `redisCode`. */
  constructor(message: string, address?: string);
  readonly code: 'ERR_REDIS_SERVER';
  /** first word of the server's error reply: WRONGPASS, OOM, NOPERM, … */
  readonly redisCode: string;
}
export declare class RedisUnsupportedCommandError extends RedisError {
  constructor(message: string, address: string | undefined, command: string);
  readonly code: 'ERR_REDIS_UNSUPPORTED_COMMAND';
  /** the refused command, upper-cased: 'BLPOP', 'SUBSCRIBE', 'CLIENT SETNAME', 'XREAD BLOCK', … */
  readonly command: string;
}
export declare class RedisTlsError extends RedisError {
  constructor(message: string, address?: string, tlsCode?: string);
  readonly code: 'ERR_REDIS_TLS';
  /**
   * Node's code for the reason: 'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_HAS_EXPIRED',
   * 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'ERR_TLS_CERT_ALTNAME_INVALID',
   * 'ERR_SSL_UNSUPPORTED_PROTOCOL', …
   */
  readonly tlsCode: string | undefined;
}
/**
 * Redis Cluster could not serve the call: the slot map could not be read or made no sense, no
 * node serves the slot, MOVED/ASK went past maxRedirections, a command's keys span slots, or
 * a part of a command split by slot failed.
 */
export declare class RedisClusterError extends RedisError {
  constructor(message: string, address?: string, options?: { slots?: number[]; unsureKeys?: Array<string | Uint8Array>; cause?: unknown });
  readonly code: 'ERR_REDIS_CLUSTER';
  /** the hash slots concerned */
  readonly slots: number[];
  /** split writes (MSET, DEL, UNLINK, TOUCH): the keys of the failed parts, which may or may not have been written */
  readonly unsureKeys?: Array<string | Uint8Array>;
}
/** Redis Sentinel gave no usable primary: no sentinel answered or knew the name, or the node named is not a primary. */
export declare class RedisSentinelError extends RedisError {
  constructor(message: string, address?: string, options?: { cause?: unknown });
  readonly code: 'ERR_REDIS_SENTINEL';
}
