'use strict';

/**
 * Redis connection options: their defaults, validation, and `redis://` / `unix://` URL
 * parsing. RedisClient and RedisStore resolve their options here; the result is the plain
 * config object handed to the native side (src/napi/redis_config.cc) and, for shared
 * clients, the registry's key (lib/redis-registry.js).
 */

const { validateOptions } = require('./options');
const { describe } = require('./describe');
const { InvalidArgumentError } = require('./errors');

const MiB = 1024 * 1024;

/** Largest accepted `maxReplyBytes`: Redis's own bulk-string ceiling (proto-max-bulk-len). */
const MAX_REPLY_BYTES_CAP = 512 * MiB;

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
  if (parsed.username) out.username = decodeURIComponent(parsed.username);
  if (parsed.password) out.password = decodeURIComponent(parsed.password);
  const dbText = parsed.searchParams.get('db');
  switch (parsed.protocol) {
    case 'redis:': {
      if (parsed.hostname) out.host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
      if (parsed.port) out.port = Number(parsed.port);
      const dbPath = parsed.pathname.replace(/^\//, '');
      if (dbPath !== '') {
        if (!/^\d+$/.test(dbPath)) {
          throw new InvalidArgumentError(`Redis url: the path must be a database number; received '${dbPath}'`);
        }
        out.db = Number(dbPath);
      }
      break;
    }
    case 'unix:':
      if (!parsed.pathname) throw new InvalidArgumentError('Redis url: unix:// needs a socket path, e.g. unix:///run/redis.sock');
      out.path = decodeURIComponent(parsed.pathname);
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

module.exports = {
  REDIS_CLIENT_DEFAULTS,
  CONNECTION_OPTION_NAMES: Object.freeze(Object.keys(CONNECTION_SPEC)),
  parseRedisUrl,
  resolveConnection,
  addressOf,
};
