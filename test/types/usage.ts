// Compile-only checks of the published types (index.d.ts, types/*.d.ts): `npm run lint`
// runs `tsc -p test/types`. Nothing here is executed. Each `@ts-expect-error` line is a
// call the types must refuse; tsc fails when such a line compiles.
import { EventEmitter } from 'node:events';
import { Keyv } from 'keyv';
import {
  createCache,
  DEFAULT_DISCONNECT_TIMEOUT,
  MemoryStore,
  MEMORY_STORE_DEFAULTS,
  RedisStore,
  REDIS_STORE_DEFAULTS,
  RedisClient,
  REDIS_CLIENT_DEFAULTS,
  parseRedisUrl,
  kTier,
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
  RedisConnectTimeoutError,
  RedisTimeoutError,
  RedisProtocolError,
  RedisReplyTooLargeError,
  RedisClosedError,
  RedisServerError,
  RedisUnsupportedCommandError,
  RedisTlsError,
  RedisCredentialsError,
  RedisClusterClient,
  RedisSentinelClient,
  RedisClusterError,
  RedisSentinelError,
} from '../..';
import type {
  Cache,
  CacheStore,
  CreateCacheOptions,
  Events,
  KeyvLike,
  MemoryStoreOptions,
  MemoryStoreStats,
  RedisConnectionOptions,
  RedisCredentials,
  RedisReply,
  RedisStoreOptions,
  Serializer,
  StoredDataRaw,
  TierStore,
  WaitUntil,
  WrapOptions,
} from '../..';

/** Fails to compile unless `actual` has exactly the type `Expected`. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
function expectType<Expected>() {
  return <Actual>(actual: Actual, ..._exact: Equal<Actual, Expected> extends true ? [] : [never]) => actual;
}

interface User {
  id: number;
  name: string;
}
declare function loadUser(): Promise<User>;

export async function memoryStore(): Promise<void> {
  const options: MemoryStoreOptions = {
    maxEntries: 10_000,
    maxBytes: 64 * 1024 * 1024,
    maxValueBytes: 1024 * 1024,
    maxKeyBytes: 1024,
    sweepInterval: 0,
    decodedCacheBytes: 0,
    namespace: 'app',
    serializer: 'v8',
  };
  const store = new MemoryStore(options);
  new MemoryStore();
  new MemoryStore({ serializer: 'json' });
  new MemoryStore({ frozen: true });
  // @ts-expect-error frozen is a boolean
  new MemoryStore({ frozen: 'yes' });
  const custom: Serializer = {
    serialize: (value) => JSON.stringify(value),
    deserialize: (payload) => JSON.parse(payload.toString()),
  };
  new MemoryStore({ serializer: custom });
  // @ts-expect-error maxEntries is a number
  new MemoryStore({ maxEntries: '10' });
  // @ts-expect-error serializer is 'auto', 'json', 'v8' or an object
  new MemoryStore({ serializer: 'msgpack' });
  // @ts-expect-error unknown option (the store throws on it too)
  new MemoryStore({ maxEntires: 10 });

  expectType<number>()(store.opts.maxEntries);
  expectType<string | undefined>()(store.opts.namespace);
  expectType<number>()(MEMORY_STORE_DEFAULTS.decodedCacheBytes);
  expectType<boolean>()(MEMORY_STORE_DEFAULTS.frozen);
  // @ts-expect-error the defaults are read-only
  MEMORY_STORE_DEFAULTS.maxEntries = 1;

  expectType<User | undefined>()(await store.get<User>('k'));
  expectType<boolean>()(await store.set('k', { id: 1 }, 1000));
  expectType<boolean>()(await store.delete('k'));
  expectType<boolean>()(await store.has('k'));
  expectType<Array<number | undefined>>()(await store.getMany<number>(['a', 'b']));
  expectType<boolean[]>()(await store.setMany([{ key: 'a', value: 1 }, { key: 'b', value: 2, ttl: 10 }]));
  expectType<boolean>()(await store.deleteMany(['a']));
  expectType<number>()(await store.sweep());
  const stats: MemoryStoreStats = store.stats();
  expectType<number>()(stats.decodedBytes);
  expectType<string | undefined>()(store.getSync<string>('k'));
  const entry = store.getEntrySync<User>('k');
  if (entry !== undefined) {
    expectType<User>()(entry.value);
    expectType<number | undefined>()(entry.expires);
  }
  store.setSync('k', 'v');
  expectType<boolean>()(store.deleteSync('k'));
  expectType<boolean>()(store.hasSync('k'));
  expectType<number | undefined>()(store.expiresAtSync('k'));
  store.clearSync();
  store.on('error', (error: unknown) => void error);
  // @ts-expect-error keys are strings
  await store.get(1);
  // @ts-expect-error ttl is a number of milliseconds
  await store.set('k', 'v', '1s');
  // @ts-expect-error getMany takes an array
  await store.getMany('a');
  await store.disconnect();

  // A store is a tier and a Keyv storage adapter.
  const tier: TierStore = store;
  void tier[kTier];
  new Keyv({ store: new MemoryStore(), namespace: 'users' });
}

export async function redis(): Promise<void> {
  const connection: RedisConnectionOptions = {
    url: 'redis://127.0.0.1:6379/0',
    host: '127.0.0.1',
    port: 6379,
    username: 'app',
    password: 'secret',
    db: 1,
    clientName: 'worker',
    connectTimeout: 1000,
    commandTimeout: 500,
    offlineQueue: 100,
    healthCheckInterval: 1000,
    keepAlive: 1000,
    maxReplyBytes: 1024 * 1024,
    maxReplyElements: 1000,
    maxReplyDepth: 8,
  };
  const storeOptions: RedisStoreOptions = {
    ...connection,
    namespace: 'app',
    keyPrefixSeparator: ':',
    maxKeyBytes: 1024,
    maxValueBytes: 1024 * 1024,
    clearBatchSize: 100,
    shared: false,
  };
  const store = new RedisStore('redis://localhost:6379', storeOptions);
  new RedisStore();
  new RedisStore({ path: '/run/redis.sock' });
  new RedisStore('unix:///run/redis.sock?db=2', { commandTimeout: 200 });
  // @ts-expect-error port is a number
  new RedisStore({ port: '6379' });
  // @ts-expect-error shared is a boolean
  new RedisStore({ shared: 'yes' });
  // @ts-expect-error the first argument is a url or options
  new RedisStore(6379);

  expectType<'redis'>()(store.opts.dialect);
  expectType<string>()(store.opts.namespace);
  expectType<number>()(store.opts.clearBatchSize);
  expectType<boolean>()(REDIS_STORE_DEFAULTS.shared);
  expectType<number>()(REDIS_CLIENT_DEFAULTS.disconnectTimeout);
  expectType<string | undefined>()(await store.get('k'));
  expectType<Array<string | undefined>>()(await store.getMany(['a', 'b']));
  expectType<boolean>()(await store.set('k', 'v', 1000));
  await store.set('k', Buffer.from('v'));
  await store.set('k', new Uint8Array([1, 2]));
  // @ts-expect-error a Keyv adapter stores serialized text or bytes
  await store.set('k', { id: 1 });
  expectType<boolean[]>()(await store.setMany([{ key: 'a', value: 'x', ttl: 10 }]));
  expectType<boolean>()(await store.delete('k'));
  expectType<boolean>()(await store.deleteMany(['a']));
  expectType<boolean[]>()(await store.hasMany(['a']));
  for await (const [key, value] of store.iterator('app')) {
    expectType<string>()(key);
    expectType<string>()(value);
  }
  await store.clear();
  new Keyv({ store, namespace: 'users' });

  const client = store.client;
  expectType<RedisReply>()(await client.command(['GET', 'k']));
  expectType<Buffer | null>()(await client.command<Buffer | null>(['GET', Buffer.from('k')], { buffers: true }));
  await client.command(['SET', 'k', 'v', 'PX', 1000], { timeout: 2000 });
  // @ts-expect-error arguments are strings, bytes or numbers
  await client.command(['SET', 'k', { v: 1 }]);
  // @ts-expect-error a command is an array of arguments
  await client.command('PING');
  // @ts-expect-error buffers is a boolean
  await client.command(['GET', 'k'], { buffers: 1 });
  expectType<string>()(client.address);
  expectType<boolean>()(client.closed);
  expectType<number>()(client.config.commandTimeout);

  // Cluster and Sentinel: the same store, the same client API.
  const clustered = new RedisStore({ cluster: { nodes: ['redis://10.0.0.1:7000', { host: '10.0.0.2', port: 7000 }], maxRedirections: 8, natMap: { '10.0.0.1:7000': { host: 'localhost', port: 7000 } } } });
  new RedisStore('rediss://cache.example:6379', { cluster: true });
  new RedisStore({ cluster: { natMap: (address: string) => (address === 'x:1' ? { host: 'y', port: 2 } : undefined) } });
  // @ts-expect-error cluster is true or an object
  new RedisStore({ cluster: 'yes' });
  const clusterClient = new RedisClusterClient({ url: 'redis://10.0.0.1:7000', cluster: true });
  expectType<number>()(clusterClient.stats.moved);
  expectType<RedisClient[]>()(await clusterClient.primaries());
  expectType<RedisReply>()(await clustered.client.command(['GET', 'k']));
  const sentinelStore = new RedisStore({ sentinel: { nodes: ['redis://10.0.0.1:26379'], name: 'mymaster', password: 'p' }, password: 'data' });
  // @ts-expect-error a sentinel needs the primary's name
  new RedisStore({ sentinel: { nodes: ['redis://10.0.0.1:26379'] } });
  const sentinelClient = new RedisSentinelClient({ sentinel: { nodes: [{ host: '10.0.0.1', port: 26379 }], name: 'm', tls: true } });
  expectType<string | undefined>()(sentinelClient.primary);
  await sentinelStore.disconnect();
  const clusterError = new RedisClusterError('m', 'a', { slots: [1] });
  expectType<number[]>()(clusterError.slots);
  expectType<'ERR_REDIS_SENTINEL'>()(new RedisSentinelError('m').code);

  const own = new RedisClient({ host: 'localhost', port: 6380, offlineQueue: 10 });
  new RedisClient('redis://localhost', { db: 3 });
  new RedisClient('rediss://redis.example:6380');
  new RedisClient({ host: 'redis.example', tls: true });
  new RedisStore('rediss://redis.example:6380', {
    tls: {
      ca: [Buffer.from('-----BEGIN CERTIFICATE-----'), '-----BEGIN CERTIFICATE-----'],
      cert: '-----BEGIN CERTIFICATE-----',
      key: Buffer.from('-----BEGIN PRIVATE KEY-----'),
      passphrase: 'secret',
      servername: 'redis.example',
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
      maxVersion: 'TLSv1.3',
    },
  });
  // A credentials provider: sync or async, a string or Buffer password.
  new RedisClient({ credentials: () => ({ password: 'token' }) });
  const rotating = new RedisStore('rediss://cache.example:6379', {
    credentials: async (): Promise<RedisCredentials> => ({ username: 'app', password: Buffer.from('token') }),
  });
  expectType<RedisConnectionOptions['credentials']>()(rotating.client.config.credentials);
  // @ts-expect-error the provider returns { username?, password }
  new RedisClient({ credentials: () => 'token' });
  // @ts-expect-error the password is a string or bytes
  new RedisClient({ credentials: async () => ({ username: 'app', password: 42 }) });
  // @ts-expect-error credentials is a function
  new RedisClient({ credentials: { password: 'token' } });
  // @ts-expect-error versions are Node's names
  new RedisClient({ tls: { minVersion: 'TLS1.2' } });
  // @ts-expect-error rejectUnauthorized is a boolean
  new RedisClient({ tls: { rejectUnauthorized: 'no' } });
  expectType<boolean | undefined>()(own.config.tls?.rejectUnauthorized);
  const resolvedTls = own.config.tls;
  if (resolvedTls !== undefined) {
    expectType<string | undefined>()(resolvedTls.servername);
    expectType<'***' | undefined>()(resolvedTls.passphrase);
    expectType<'***' | undefined>()(resolvedTls.key);
    expectType<string | undefined>()(resolvedTls.ca);
    expectType<boolean>()(resolvedTls.rejectUnauthorized);
    expectType<'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3'>()(resolvedTls.minVersion);
  }
  await own.disconnect({ timeout: 100 });
  own.destroy();
  // @ts-expect-error disconnect takes { timeout }
  await own.disconnect(100);

  const parsed = parseRedisUrl('redis://user:pw@host:6380/2');
  expectType<number | undefined>()(parsed.db);
  expectType<string | undefined>()(parsed.path);
  expectType<true | undefined>()(parseRedisUrl('rediss://host').tls);

  await store.disconnect({ timeout: 1000 });
  await store[Symbol.asyncDispose]();
}

export async function cache(): Promise<void> {
  const memory = new MemoryStore({ maxEntries: 1000 });
  const redisStore = new RedisStore('redis://localhost:6379');
  const keyv = new Keyv();
  const keyvLike: KeyvLike = keyv;
  const stores: CacheStore[] = [memory, redisStore, keyvLike];
  const waitUntil: WaitUntil = (promise) => void promise.catch(() => {});
  const options: CreateCacheOptions = {
    stores,
    ttl: 60_000,
    refreshThreshold: 10_000,
    refreshAllStores: true,
    nonBlocking: false,
    cacheId: 'users',
    waitUntil,
    refreshLock: true,
    refreshLockTtl: 5000,
  };
  const c: Cache = createCache(options);
  createCache();
  createCache({ stores: [new Keyv({ store: new MemoryStore() })] });
  // @ts-expect-error ttl is a number of milliseconds
  createCache({ ttl: '1m' });
  // @ts-expect-error a store is a MemoryStore, a RedisStore or a Keyv instance
  createCache({ stores: [new Map()] });
  // @ts-expect-error stores is an array
  createCache({ stores: memory });
  // @ts-expect-error waitUntil is a function
  createCache({ waitUntil: true });
  // @ts-expect-error unknown option
  createCache({ refresh: 1000 });

  expectType<User | undefined>()(await c.get<User>('user:1'));
  expectType<Array<number | undefined>>()(await c.mget<number>(['a', 'b']));
  expectType<number | undefined>()(await c.ttl('a'));
  expectType<number>()(await c.set('a', 1, 1000));
  expectType<User>()(await c.set('u', { id: 1, name: 'ann' }));
  const list = await c.mset([{ key: 'a', value: 1 }, { key: 'b', value: 2, ttl: 1000 }]);
  expectType<Array<{ key: string; value: number; ttl?: number }>>()(list);
  expectType<boolean>()(await c.del('a'));
  expectType<boolean>()(await c.mdel(['a', 'b']));
  expectType<boolean>()(await c.clear());
  expectType<string>()(c.cacheId());
  expectType<CacheStore[]>()(c.stores);
  await c.settled();
  // @ts-expect-error keys are strings
  await c.get(1);
  // @ts-expect-error mget takes an array of keys
  await c.mget('a', 'b');
  // @ts-expect-error ttl is a number
  await c.set('a', 1, '1m');
  // @ts-expect-error mset entries need a key
  await c.mset([{ value: 1 }]);

  // The methods are bound: destructuring keeps them working.
  const { get, wrap } = c;
  expectType<string | undefined>()(await get<string>('a'));

  // wrap: positional ttl and refreshThreshold, or an options object.
  expectType<User>()(await c.wrap('user:1', loadUser));
  expectType<User>()(await wrap('user:1', loadUser, 60_000, 10_000));
  expectType<number>()(await c.wrap('n', () => 42, (value) => value * 1000));
  const wrapOptions: WrapOptions<User> = {
    ttl: (user) => (user.id > 0 ? 60_000 : 1000),
    refreshThreshold: 10_000,
    waitUntil: (promise) => void promise,
  };
  expectType<User>()(await c.wrap('user:1', loadUser, wrapOptions));
  expectType<User>()(await c.wrap('user:1', loadUser, { ttl: 1000, raw: false }));
  const raw = await c.wrap('user:1', loadUser, { ttl: 1000, refreshThreshold: 100, raw: true });
  expectType<StoredDataRaw<User>>()(raw);
  expectType<User | undefined>()(raw.value);
  expectType<number | undefined>()(raw.expires);
  // @ts-expect-error the key is a string
  await c.wrap(1, loadUser);
  // @ts-expect-error fn is a function
  await c.wrap('k', 42);
  // @ts-expect-error a ttl function gets the value, a User here
  await c.wrap('user:1', loadUser, (value: string) => value.length);
  // @ts-expect-error refreshThreshold is a number or a function
  await c.wrap('user:1', loadUser, { refreshThreshold: '10s' });
  // @ts-expect-error waitUntil is a function
  await c.wrap('user:1', loadUser, { waitUntil: 'after' });

  // Events: typed payloads, chainable on/off.
  const emitter: EventEmitter = c.on('get', ({ key, value, store, error }) => {
    expectType<string>()(key);
    expectType<string | undefined>()(store);
    void value;
    void error;
  });
  c.on('mget', ({ keys, values }) => void [keys.length, values?.length]);
  c.on('set', ({ key, value }) => void [key, value]);
  c.on('mset', ({ list: entries }) => void entries.map((e) => e.key));
  c.on('del', ({ key }) => void key);
  c.on('mdel', ({ keys }) => void keys);
  c.on('clear', (error) => void error);
  c.on('ttl', ({ key, value }) => void [key, value?.expires]);
  c.on('refresh', ({ key, value, error }) => void [key, value, error]);
  const onError: Events['error'] = (error) => void error;
  c.on('error', onError).on('newListener', () => {});
  c.off('error', onError);
  void emitter;
  // @ts-expect-error not an event of the cache
  c.on('expire', () => {});
  // @ts-expect-error a del payload has no value
  c.on('del', ({ value }) => void value);

  await c.disconnect({ timeout: DEFAULT_DISCONNECT_TIMEOUT });
  expectType<undefined>()(await c.disconnect());
  // @ts-expect-error disconnect takes { timeout }
  await c.disconnect(1000);
  await c[Symbol.asyncDispose]();
}

export function errors(error: unknown): void {
  const all = [
    new InvalidArgumentError('bad'),
    new InvalidArgumentError('bad', 'ERR_UNKNOWN_OPTION'),
    new KeyTooLargeError('key'),
    new ValueTooLargeError('value'),
    new SerializationError('json', { cause: new Error('cycle') }),
    new StoreClosedError(),
    new CacheDisconnectedError(),
    new WrapRecursionError('k'),
    new DisconnectError([new Error('a')]),
    new RedisConnectionError('refused', '127.0.0.1:6379', 'ECONNREFUSED'),
    new RedisConnectTimeoutError('slow', '127.0.0.1:6379'),
    new RedisTimeoutError('slow', '127.0.0.1:6379'),
    new RedisProtocolError('garbage', '127.0.0.1:6379'),
    new RedisReplyTooLargeError('big', '127.0.0.1:6379'),
    new RedisClosedError('closed', '127.0.0.1:6379'),
    new RedisServerError('WRONGPASS invalid', '127.0.0.1:6379'),
    new RedisUnsupportedCommandError('no', '127.0.0.1:6379', 'BLPOP'),
    new RedisTlsError('TLS handshake failed: certificate has expired', '127.0.0.1:6380', 'CERT_HAS_EXPIRED'),
    new RedisCredentialsError("option 'credentials': the provider threw", '127.0.0.1:6379', { cause: new Error('down') }),
  ];
  const base: NativeCacheError[] = all;
  void base;
  // @ts-expect-error the codes of InvalidArgumentError are fixed
  new InvalidArgumentError('bad', 'ERR_OTHER');
  // @ts-expect-error DisconnectError takes the list of errors
  new DisconnectError('failed');

  if (error instanceof RedisServerError) {
    expectType<'ERR_REDIS_SERVER'>()(error.code);
    expectType<string>()(error.redisCode);
    expectType<string | undefined>()(error.address);
  } else if (error instanceof RedisUnsupportedCommandError) {
    expectType<string>()(error.command);
  } else if (error instanceof RedisCredentialsError) {
    expectType<'ERR_REDIS_CREDENTIALS'>()(error.code);
    void error.cause;
  } else if (error instanceof RedisTlsError) {
    expectType<'ERR_REDIS_TLS'>()(error.code);
    expectType<string | undefined>()(error.tlsCode);
  } else if (error instanceof RedisConnectionError) {
    expectType<string | undefined>()(error.errno);
  } else if (error instanceof RedisError) {
    expectType<string>()(error.code);
  } else if (error instanceof DisconnectError) {
    expectType<Error[]>()(error.errors);
  } else if (error instanceof WrapRecursionError) {
    expectType<string>()(error.key);
  } else if (error instanceof NativeCacheError) {
    expectType<string>()(error.code);
    expectType<string>()(error.message);
  }
}
