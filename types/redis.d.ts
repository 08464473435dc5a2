import { EventEmitter } from 'node:events';
import { kTier } from './memory-store';

/** A PEM text: a string or Buffer, or several of them. */
export type RedisPem = string | Buffer | Uint8Array | Array<string | Buffer | Uint8Array>;

/** TLS options, with the names, types and meanings of Node's `tls.connect()`. */
export interface RedisTlsOptions {
  /** Trusted CAs; replaces Node's root certificates (and NODE_EXTRA_CA_CERTS). Default: those. */
  ca?: RedisPem;
  /** Client certificate (then its chain), for servers that require one (`tls-auth-clients yes`). */
  cert?: RedisPem;
  /** The client certificate's private key; never appears in messages. */
  key?: RedisPem;
  /** For an encrypted `key`; never appears in messages. */
  passphrase?: string;
  /** Name to verify the certificate against and to send as SNI. Default: the host. */
  servername?: string;
  /** false skips every check of the server's certificate. Default true. */
  rejectUnauthorized?: boolean;
  /** Default tls.DEFAULT_MIN_VERSION ('TLSv1.2'). */
  minVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
  /** Default tls.DEFAULT_MAX_VERSION ('TLSv1.3'). */
  maxVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
}

/**
 * The resolved `tls` settings (`RedisClient#config.tls`): every name is present; a setting
 * that was not given is undefined (`ca` undefined means Node's root certificates), and the
 * key and passphrase show as '***'.
 */
export interface RedisResolvedTlsOptions {
  ca: string | undefined;
  cert: string | undefined;
  key: '***' | undefined;
  passphrase: '***' | undefined;
  servername: string | undefined;
  rejectUnauthorized: boolean;
  minVersion: NonNullable<RedisTlsOptions['minVersion']>;
  maxVersion: NonNullable<RedisTlsOptions['maxVersion']>;
}

/**
 * What a `credentials` provider gives for one connect: the password (an ACL user's, or an
 * auth token such as ElastiCache's IAM token) and, for an ACL user, its name.
 */
export interface RedisCredentials {
  /** ACL user name; absent or '' = the default user (`AUTH password`). */
  username?: string;
  /** A non-empty string or Buffer; never appears in messages. */
  password: string | Buffer | Uint8Array;
}

/** Connection options shared by RedisStore and RedisClient. */
export interface RedisConnectionOptions {
  /** `redis://[user:pass@]host:port/db`, `rediss://…` (TLS) or `unix:///path/to.sock[?db=N]`. */
  url?: string;
  /** TLS: `true` (Node's defaults) or tls.connect()-style options; `rediss://` turns it on. Default off. */
  tls?: boolean | RedisTlsOptions;
  /** Default '127.0.0.1' (overrides the url's host). */
  host?: string;
  /** Default 6379. */
  port?: number;
  /** Unix socket path; used instead of host:port. */
  path?: string;
  /** ACL user name (needs `password`). */
  username?: string;
  /** Sent with AUTH; never appears in error messages. Not with `credentials`. */
  password?: string;
  /**
   * Called on the JS thread before each connect's AUTH (the first connect and every
   * reconnect) for that connect's username and password; may return a promise. A throw, a
   * rejection or an unusable value fails that attempt with RedisCredentialsError (the
   * provider's error as `cause`) and the next attempt waits for the reconnect backoff; a
   * provider that does not settle within `connectTimeout` fails it as a connect timeout.
   * Not with `username`/`password` (or a user or password in the url). Stores share a
   * connection only when they pass the same function. Default: none.
   */
  credentials?: () => RedisCredentials | Promise<RedisCredentials>;
  /** Database selected with SELECT after connecting. Default 0. */
  db?: number;
  /** Sent with CLIENT SETNAME after connecting. */
  clientName?: string;
  /**
   * Milliseconds to open the connection (TCP + TLS + the `credentials` provider + AUTH/SELECT). While the SYN gets no answer, a
   * fresh one is sent on a spare socket every 500 ms. Default 1000.
   */
  connectTimeout?: number;
  /** Milliseconds to wait for a reply; then RedisTimeoutError and the connection is recycled. Default 500. */
  commandTimeout?: number;
  /** Commands held while Redis is known to be down; 0 = fail fast. Default 0. */
  offlineQueue?: number;
  /** PING a connection idle this long (ms); no reply within commandTimeout → replaced. 0 = never. Default 1000. */
  healthCheckInterval?: number;
  /** TCP keepalive delay (ms); 0 = off. Default 1000. */
  keepAlive?: number;
  /**
   * Largest reply accepted, in bytes: an integer in [1024, 512 MiB]. A larger reply is
   * RedisReplyTooLargeError and the connection is recycled. Default 64 MiB.
   */
  maxReplyBytes?: number;
  /** Most elements in one reply. Default 1,000,000. */
  maxReplyElements?: number;
  /** Deepest nesting of a reply. Default 32 (hiredis 0.14 itself stops at 7). */
  maxReplyDepth?: number;
  /**
   * false: the connection runs on Node's own event loop, with no thread hop per command or
   * reply. true: on an I/O thread of its own (sockets, TLS and RESP parsing off the JS
   * thread). See docs/redis.md "ioThread". Default false.
   */
  ioThread?: boolean;
}

/** Where a cluster's or sentinel's nodes are: 'redis://host:port' (rediss:// for TLS) or { host, port }. */
export type RedisNodeAddress = string | { host: string; port: number };

export interface RedisClusterOptions {
  /** Seed nodes; the slot map is read from the first that answers. Default: `url` / `host` and `port`. */
  nodes?: RedisNodeAddress[];
  /** Rewrites the addresses the cluster announces ('host:port' → { host, port }), for nodes behind NAT or in containers. */
  natMap?: Record<string, { host: string; port: number }> | ((address: string) => { host: string; port: number } | undefined | null);
  /** MOVED/ASK replies followed for one command before it fails with RedisClusterError. Default 16. */
  maxRedirections?: number;
}

export interface RedisSentinelOptions {
  /** The sentinels, asked in order. */
  nodes: RedisNodeAddress[];
  /** The primary's name in the sentinels' configuration (`sentinel monitor <name> …`). */
  name: string;
  /** The sentinels' own ACL user name and password (the primary's are the usual options). */
  username?: string;
  password?: string;
  /** TLS to the sentinels (rediss:// sentinel urls turn it on too); the primary's TLS is the usual `tls` option. */
  tls?: boolean | RedisTlsOptions;
}

export interface RedisStoreOptions extends RedisConnectionOptions {
  /**
   * Redis Cluster: `true` (the url or host and port is the seed) or { nodes, natMap,
   * maxRedirections }. Every other connection option applies to every node.
   */
  cluster?: true | RedisClusterOptions;
  /** A primary found through Redis Sentinel; the other connection options apply to the primary. */
  sentinel?: RedisSentinelOptions;
  /** Keys are stored as `${namespace}${keyPrefixSeparator}${key}`; Keyv sets it; '' = no prefix. Default 'keyv'. */
  namespace?: string;
  /** Default '::' (same as @keyv/redis). */
  keyPrefixSeparator?: string;
  /** Longest key accepted, in UTF-8 bytes including the prefix. Default 64 KiB. */
  maxKeyBytes?: number;
  /** Largest stored value, in bytes. Default 64 MiB. */
  maxValueBytes?: number;
  /** COUNT for the SCAN batches of clear(). Default 1000. */
  clearBatchSize?: number;
  /** Share one connection manager per endpoint + options in this process. Default true. */
  shared?: boolean;
}

export declare const REDIS_CLIENT_DEFAULTS: Readonly<{
  host: string; port: number; db: number; connectTimeout: number; commandTimeout: number;
  offlineQueue: number; healthCheckInterval: number; keepAlive: number; maxReplyBytes: number;
  maxReplyElements: number; maxReplyDepth: number; disconnectTimeout: number; ioThread: boolean;
}>;

export declare const REDIS_STORE_DEFAULTS: Readonly<{
  namespace: string; keyPrefixSeparator: string; maxKeyBytes: number; maxValueBytes: number;
  clearBatchSize: number; shared: boolean;
}>;

export type RedisArgument = string | Buffer | Uint8Array | number;
export type RedisReply = string | number | null | Buffer | Error | RedisReply[];

/** A connection manager for one endpoint (own I/O thread, automatic pipelining). */
export declare class RedisClient {
  constructor(url?: string | RedisConnectionOptions, options?: RedisConnectionOptions);
  /** host:port or the socket path. */
  readonly address: string;
  readonly closed: boolean;
  /** The resolved settings; password, TLS key and passphrase shown as '***'. */
  readonly config: Omit<Required<RedisConnectionOptions>, 'url' | 'tls' | 'credentials'> & {
    tls: RedisResolvedTlsOptions | undefined;
    credentials: RedisConnectionOptions['credentials'];
  };
  /**
   * Sends one command on the shared, pipelined connection. Commands that would change that
   * connection's state or block it (SUBSCRIBE…, MONITOR, SELECT, AUTH, HELLO, RESET, QUIT,
   * CLIENT REPLY/SETNAME/TRACKING…, MULTI/EXEC/WATCH, BLPOP and the other blocking pops,
   * XREAD/XREADGROUP with BLOCK, WAIT, WAITAOF) reject with RedisUnsupportedCommandError.
   * A bulk string longer than the longest JS string rejects with RedisReplyTooLargeError
   * (use `buffers: true`); the other replies are not affected.
   */
  command<T = RedisReply>(args: RedisArgument[], options?: { buffers?: boolean; timeout?: number }): Promise<T>;
  disconnect(options?: { timeout?: number }): Promise<void>;
  destroy(): void;
}

/**
 * The RedisClient API over a Redis Cluster: one RedisClient per primary, opened on first use;
 * commands routed by hash slot, MOVED/ASK followed, MGET/MSET/DEL/UNLINK/EXISTS/TOUCH split by
 * slot (replies in the caller's order); another command whose keys span slots rejects with
 * RedisClusterError.
 */
export declare class RedisClusterClient {
  constructor(url?: string | (RedisConnectionOptions & { cluster?: true | RedisClusterOptions }), options?: RedisConnectionOptions & { cluster?: true | RedisClusterOptions });
  /** The first seed's address. */
  readonly address: string;
  readonly closed: boolean;
  readonly cluster: true;
  /** The resolved settings of every node (secrets shown as '***') and the seeds. */
  readonly config: RedisClient['config'] & { cluster: { nodes: string[]; maxRedirections: number } };
  /** MOVED and ASK followed, TRYAGAIN/CLUSTERDOWN retries, slot map reads, since construction. */
  readonly stats: { moved: number; asked: number; retried: number; slotMapReads: number };
  command<T = RedisReply>(args: RedisArgument[], options?: { buffers?: boolean; timeout?: number }): Promise<T>;
  /** The client of every primary in the slot map (for per-node commands such as SCAN). */
  primaries(): Promise<RedisClient[]>;
  disconnect(options?: { timeout?: number }): Promise<void>;
  destroy(): void;
}

/** The RedisClient API for a primary watched by Redis Sentinel; follows failovers. */
export declare class RedisSentinelClient {
  constructor(url?: string | (RedisConnectionOptions & { sentinel: RedisSentinelOptions }), options?: RedisConnectionOptions & { sentinel?: RedisSentinelOptions });
  readonly address: string;
  readonly closed: boolean;
  /** The resolved settings of the primary's connection (secrets shown as '***'; host and port undefined: the sentinels give them). */
  readonly config: Omit<RedisClient['config'], 'host' | 'port'> & { host: undefined; port: undefined; sentinel: { nodes: string[]; name: string; tls: boolean } };
  /** 'host:port' of the primary in use; undefined before the first command. */
  readonly primary: string | undefined;
  /** Primaries switched to, rounds of questions to the sentinels, +switch-master messages seen. */
  readonly stats: { switches: number; asks: number; switchMessages: number };
  command<T = RedisReply>(args: RedisArgument[], options?: { buffers?: boolean; timeout?: number }): Promise<T>;
  disconnect(options?: { timeout?: number }): Promise<void>;
  destroy(): void;
}

/** A Redis store: Keyv 5 storage adapter and createCache tier. */
export declare class RedisStore extends EventEmitter {
  constructor(url?: string | RedisStoreOptions, options?: RedisStoreOptions);
  namespace: string | undefined;
  keyPrefixSeparator: string;
  /** The store options with their defaults (`namespace` as given; Keyv may change `this.namespace`). */
  readonly opts: Required<Omit<RedisStoreOptions, keyof RedisConnectionOptions>> & { dialect: 'redis' };
  /** The (shared) connection manager, for advanced commands: a RedisClient, or the cluster's or sentinel's client. */
  readonly client: RedisClient | RedisClusterClient | RedisSentinelClient;
  get(key: string): Promise<string | undefined>;
  getMany(keys: string[]): Promise<Array<string | undefined>>;
  set(key: string, value: string | Uint8Array, ttl?: number): Promise<boolean>;
  setMany(entries: Array<{ key: string; value: string | Uint8Array; ttl?: number }>): Promise<boolean[]>;
  delete(key: string): Promise<boolean>;
  deleteMany(keys: string[]): Promise<boolean>;
  has(key: string): Promise<boolean>;
  hasMany(keys: string[]): Promise<boolean[]>;
  clear(): Promise<void>;
  /** `[key, value]` pairs of a namespace (default: this store's), via SCAN + MGET. */
  iterator(namespace?: string): AsyncGenerator<[string, string], void, unknown>;
  disconnect(options?: { timeout?: number }): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
  /** The fast path createCache uses (internal). */
  readonly [kTier]: unknown;
}

/** Parses a redis://, rediss:// (`tls: true`) or unix:// url. */
export declare function parseRedisUrl(url: string): {
  host?: string; port?: number; path?: string; username?: string; password?: string; db?: number; tls?: true;
};
