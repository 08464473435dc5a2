export declare class NativeCacheError extends Error {
  constructor(message: string, code: string, options?: { cause?: unknown });
  readonly code: string;
}
export declare class InvalidArgumentError extends NativeCacheError {
  constructor(message: string, code?: 'ERR_INVALID_ARG_VALUE' | 'ERR_INVALID_ARG_TYPE' | 'ERR_UNKNOWN_OPTION');
}
export declare class KeyTooLargeError extends NativeCacheError { readonly code: 'ERR_KEY_TOO_LARGE'; }
export declare class ValueTooLargeError extends NativeCacheError { readonly code: 'ERR_VALUE_TOO_LARGE'; }
export declare class SerializationError extends NativeCacheError { readonly code: 'ERR_SERIALIZATION'; }
export declare class StoreClosedError extends NativeCacheError { readonly code: 'ERR_STORE_CLOSED'; }
export declare class CacheDisconnectedError extends NativeCacheError { readonly code: 'ERR_CACHE_DISCONNECTED'; }
export declare class WrapRecursionError extends NativeCacheError {
  readonly code: 'ERR_WRAP_RECURSION';
  readonly key: string;
}
export declare class DisconnectError extends NativeCacheError {
  readonly code: 'ERR_DISCONNECT';
  readonly errors: Error[];
}
export declare class RedisError extends NativeCacheError {
  /** host:port or unix socket path */
  readonly address: string | undefined;
}
export declare class RedisConnectionError extends RedisError {
  readonly code: 'ERR_REDIS_CONNECTION';
  /** e.g. 'ECONNREFUSED' */
  readonly errno: string | undefined;
}
export declare class RedisConnectTimeoutError extends RedisError { readonly code: 'ERR_REDIS_CONNECT_TIMEOUT'; }
export declare class RedisTimeoutError extends RedisError { readonly code: 'ERR_REDIS_TIMEOUT'; }
export declare class RedisProtocolError extends RedisError { readonly code: 'ERR_REDIS_PROTOCOL'; }
export declare class RedisReplyTooLargeError extends RedisError { readonly code: 'ERR_REDIS_REPLY_TOO_LARGE'; }
export declare class RedisClosedError extends RedisError { readonly code: 'ERR_REDIS_CLOSED'; }
export declare class RedisServerError extends RedisError {
  readonly code: 'ERR_REDIS_SERVER';
  /** first word of the server's error reply: WRONGPASS, OOM, NOPERM, … */
  readonly redisCode: string;
}
export declare class RedisUnsupportedCommandError extends RedisError {
  readonly code: 'ERR_REDIS_UNSUPPORTED_COMMAND';
  /** the refused command, upper-cased: 'BLPOP', 'SUBSCRIBE', 'CLIENT SETNAME', 'XREAD BLOCK', … */
  readonly command: string;
}
