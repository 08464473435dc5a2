'use strict';

/**
 * Redis connection options: their defaults, validation, and `redis://` / `rediss://` /
 * `unix://` URL parsing. RedisClient and RedisStore resolve their options here; the result
 * is the plain config object handed to the native side (src/napi/redis_config.cc, through
 * nativeConfig) and, for shared clients, the registry's key (lib/redis-registry.js).
 */

const crypto = require('node:crypto');
const fs = require('node:fs');
const tls = require('node:tls');
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
  ioThread: false,
});

const CONNECTION_SPEC = {
  url: { type: 'string', default: undefined },
  tls: { type: 'any', default: undefined }, // checked by resolveTls
  host: { type: 'string', default: undefined },
  port: { type: 'integer', min: 1, max: 65535, default: undefined },
  path: { type: 'string', default: undefined },
  username: { type: 'string', default: undefined },
  password: { type: 'string', default: undefined },
  credentials: { type: 'function', default: undefined },
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
  ioThread: { type: 'boolean', default: REDIS_CLIENT_DEFAULTS.ioThread },
};

/**
 * Parses `redis://[user:pass@]host:port/db`, `rediss://…` (the same, over TLS) and
 * `unix:///path/to.sock[?db=N]`.
 * @param {string} url
 * @returns {{host?: string, port?: number, path?: string, username?: string, password?: string, db?: number, tls?: true}}
 */
function parseRedisUrl(url) {
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidArgumentError(`Redis url must look like redis://host:port/db, rediss://host:port/db or unix:///path; received ${describe(redactUrl(url))}`);
  }
  const out = {};
  if (parsed.username) out.username = decodeUrlPart(parsed.username, 'user name');
  if (parsed.password) out.password = decodeUrlPart(parsed.password, 'password');
  const dbText = parsed.searchParams.get('db');
  switch (parsed.protocol) {
    case 'rediss:':
    case 'redis:': {
      if (parsed.protocol === 'rediss:') out.tls = true;
      if (parsed.hostname) out.host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
      if (parsed.port) out.port = Number(parsed.port);
      const dbPath = parsed.pathname.replace(/^\//, '');
      if (dbPath !== '') {
        if (!/^\d+$/.test(dbPath)) {
          // Described, not repeated: a password with an unencoded '/' ends up here, in part.
          const hint = dbPath.includes('@') ? "; it holds an '@': a '/' in the password must be written %2F" : '';
          throw new InvalidArgumentError(`Redis url: the path after host:port must be a database number; received a path of ${dbPath.length} character(s) that is not one${hint}`);
        }
        out.db = Number(dbPath);
      }
      break;
    }
    case 'unix:':
      if (!parsed.pathname) throw new InvalidArgumentError('Redis url: unix:// needs a socket path, e.g. unix:///run/redis.sock');
      out.path = decodeUrlPart(parsed.pathname, 'socket path');
      break;
    default:
      throw new InvalidArgumentError(`Redis url: protocol must be redis:, rediss: or unix:; received '${parsed.protocol}'`);
  }
  if (dbText !== null) {
    if (!/^\d+$/.test(dbText)) throw new InvalidArgumentError(`Redis url: db must be a number; received '${dbText}'`);
    out.db = Number(dbText);
  }
  return out;
}

/**
 * A %-encoded part of the url (user name, password, socket path), decoded. A bad escape is an
 * InvalidArgumentError that names the part and never repeats its text (it may be a secret).
 */
function decodeUrlPart(text, part) {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new InvalidArgumentError(`Redis url: the ${part} is not valid percent-encoding (each '%' must start an escape such as %25 or %2F)`);
  }
}

/** The url with any password replaced, for messages. */
function redactUrl(url) {
  return typeof url === 'string' ? url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@') : url;
}

const TLS_VERSIONS = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];
const TLS_OPTION_NAMES = ['ca', 'cert', 'key', 'passphrase', 'servername', 'rejectUnauthorized', 'minVersion', 'maxVersion'];

/** A PEM option (`ca`, `cert`, `key`) as one string: strings and Buffers, or an array of them, as Node's tls takes them. */
function pemText(where, name, value) {
  const one = (v) => typeof v === 'string' || v instanceof Uint8Array;
  const text = (v) => (typeof v === 'string' ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('latin1'));
  if (one(value)) return text(value);
  if (Array.isArray(value) && value.length > 0 && value.every(one)) return value.map(text).join('\n');
  // Never the value itself: a key must not reach a message.
  const received = Array.isArray(value) ? `an array of ${value.length} element(s), not all strings or Buffers` : `a value of type ${value === null ? 'null' : typeof value}`;
  throw new InvalidArgumentError(`${where}: option 'tls.${name}' must be a PEM string or Buffer, or a non-empty array of them; received ${received}`);
}

/**
 * What a value is, without any of its content: for options that may hold a key (a PEM text
 * passed as `tls` by mistake).
 */
function typeOf(value) {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length} element(s)`;
  if (value instanceof Uint8Array) return `a ${value.constructor.name} of ${value.byteLength} byte(s)`;
  if (typeof value === 'string') return `a string of ${value.length} character(s)`;
  return `a value of type ${typeof value}`;
}

/**
 * The `tls` option (true, false or Node's tls.connect() names) together with a rediss://
 * url: the TLS settings, or undefined for plain TCP. `ca` stays undefined for Node's root
 * certificates (expanded by nativeConfig, so the registry key and `config` stay small).
 */
function resolveTls(where, option, fromUrl) {
  if (option === undefined) return fromUrl ? resolveTls(where, true, false) : undefined;
  if (option === false) {
    if (fromUrl) throw new InvalidArgumentError(`${where}: option 'tls' is false but the url is rediss:// (TLS); use redis:// for plain TCP`);
    return undefined;
  }
  if (option === true) option = {};
  if (option === null || typeof option !== 'object' || Array.isArray(option) || option instanceof Uint8Array) {
    throw new InvalidArgumentError(`${where}: option 'tls' must be true, false or an object of tls.connect() options (${TLS_OPTION_NAMES.join(', ')}); received ${typeOf(option)}`);
  }
  for (const name of Object.keys(option)) {
    if (!TLS_OPTION_NAMES.includes(name)) {
      throw new InvalidArgumentError(`${where}: unknown option 'tls.${name}'; known TLS options are ${TLS_OPTION_NAMES.join(', ')}`, 'ERR_UNKNOWN_OPTION');
    }
  }
  const out = {
    ca: undefined, cert: undefined, key: undefined, passphrase: undefined, servername: undefined,
    rejectUnauthorized: true, minVersion: tls.DEFAULT_MIN_VERSION, maxVersion: tls.DEFAULT_MAX_VERSION,
  };
  for (const name of ['ca', 'cert', 'key']) {
    if (option[name] !== undefined) out[name] = pemText(where, name, option[name]);
  }
  if (option.passphrase !== undefined) {
    if (typeof option.passphrase !== 'string') {
      throw new InvalidArgumentError(`${where}: option 'tls.passphrase' must be a string; received a value of type ${option.passphrase === null ? 'null' : typeof option.passphrase}`);
    }
    out.passphrase = option.passphrase;
  }
  if (option.servername !== undefined) {
    if (typeof option.servername !== 'string' || option.servername === '' || /[\s\0/]/.test(option.servername)) {
      throw new InvalidArgumentError(`${where}: option 'tls.servername' must be a host name; received ${describe(option.servername)}`);
    }
    out.servername = option.servername;
  }
  if (option.rejectUnauthorized !== undefined) {
    if (typeof option.rejectUnauthorized !== 'boolean') {
      throw new InvalidArgumentError(`${where}: option 'tls.rejectUnauthorized' must be a boolean; received ${describe(option.rejectUnauthorized)}`);
    }
    out.rejectUnauthorized = option.rejectUnauthorized;
  }
  for (const name of ['minVersion', 'maxVersion']) {
    if (option[name] === undefined) continue;
    if (!TLS_VERSIONS.includes(option[name])) {
      throw new InvalidArgumentError(`${where}: option 'tls.${name}' must be one of ${TLS_VERSIONS.join(', ')}; received ${describe(option[name])}`);
    }
    out[name] = option[name];
  }
  if (TLS_VERSIONS.indexOf(out.minVersion) > TLS_VERSIONS.indexOf(out.maxVersion)) {
    throw new InvalidArgumentError(`${where}: option 'tls.minVersion' ('${out.minVersion}') is above 'tls.maxVersion' ('${out.maxVersion}')`);
  }
  if (out.key !== undefined && out.cert === undefined) {
    throw new InvalidArgumentError(`${where}: option 'tls.key' needs 'tls.cert' (the client certificate)`);
  }
  if (out.cert !== undefined && out.key === undefined) {
    throw new InvalidArgumentError(`${where}: option 'tls.cert' needs 'tls.key' (its private key)`);
  }
  return out;
}

let defaultCa;

/**
 * The certificates of the file named by NODE_EXTRA_CA_CERTS as Node takes them: in order, up
 * to the first one that cannot be read; none when the file cannot be read. (Node has already
 * warned about either at startup.)
 */
function extraCaCertificates(file) {
  let text;
  try {
    text = fs.readFileSync(file, 'latin1');
  } catch {
    return [];
  }
  const kept = [];
  for (const block of text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? []) {
    try {
      new crypto.X509Certificate(block); // parsed only to check it
    } catch {
      break;
    }
    kept.push(block);
  }
  return kept;
}

/**
 * Node's trusted roots as one PEM text: tls.rootCertificates plus the certificates of the
 * file named by NODE_EXTRA_CA_CERTS. Read once per environment, when the first TLS client
 * without `ca` is made (Node reads the file at startup).
 */
function defaultCaText() {
  if (defaultCa === undefined) {
    const file = process.env.NODE_EXTRA_CA_CERTS;
    defaultCa = [...tls.rootCertificates, ...(file ? extraCaCertificates(file) : [])].join('\n');
  }
  return defaultCa;
}

/**
 * Validates connection options (url and/or discrete fields) and returns the full config.
 * @param {string} where
 * @param {object} options
 */
function resolveConnection(where, options) {
  // Checked first and without echoing the value: a password must never reach a message.
  if (options && options.password !== undefined && typeof options.password !== 'string') {
    throw new InvalidArgumentError(`${where}: option 'password' must be a string; received a value of type ${options.password === null ? 'null' : typeof options.password}`);
  }
  const opts = validateOptions(where, options, CONNECTION_SPEC);
  const fromUrl = opts.url !== undefined ? parseRedisUrl(opts.url) : {};
  if (opts.credentials !== undefined) {
    // One source for the secret: the provider gives the username and password of every
    // connect, so a static one beside it would be ignored half the time or always.
    const also = [
      opts.password !== undefined && "'password'",
      opts.username !== undefined && "'username'",
      fromUrl.password !== undefined && 'a password in the url',
      fromUrl.username !== undefined && 'a username in the url',
    ].filter(Boolean);
    if (also.length > 0) {
      throw new InvalidArgumentError(`${where}: option 'credentials' cannot be combined with ${also.join(' or ')}: the provider gives the username and password of every connect`);
    }
  }
  const config = {
    host: opts.host ?? fromUrl.host ?? REDIS_CLIENT_DEFAULTS.host,
    port: opts.port ?? fromUrl.port ?? REDIS_CLIENT_DEFAULTS.port,
    path: opts.path ?? fromUrl.path ?? '',
    username: opts.username ?? fromUrl.username ?? '',
    password: opts.password ?? fromUrl.password ?? '',
    credentials: opts.credentials,
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
    ioThread: opts.ioThread,
    tls: resolveTls(where, opts.tls, fromUrl.tls === true),
  };
  if (config.tls !== undefined && config.path) {
    throw new InvalidArgumentError(`${where}: TLS (option 'tls' or rediss://) needs a host and port, not the unix socket path '${config.path}'`);
  }
  if (config.username && !config.password) {
    throw new InvalidArgumentError(`${where}: a username needs a password (ACL AUTH takes both)`);
  }
  return config;
}

/** The config as the native side takes it: Node's roots filled in when `tls.ca` is not set. */
function nativeConfig(config) {
  // The provider stays in JS (lib/redis-client.js calls it); the native side only learns
  // that each connect must ask for credentials.
  const out = { ...config, credentials: config.credentials !== undefined };
  if (config.tls === undefined) return out;
  return { ...out, tls: { ...config.tls, ca: config.tls.ca ?? defaultCaText() } };
}

/** The config without secrets: for `RedisClient#config`, inspection and messages. */
function redactedConfig(config) {
  const out = { ...config, password: config.password ? '***' : '' };
  if (config.tls !== undefined) {
    out.tls = { ...config.tls, key: config.tls.key === undefined ? undefined : '***', passphrase: config.tls.passphrase === undefined ? undefined : '***' };
  }
  return out;
}

function addressOf(config) {
  if (config.path) return config.path;
  return formatAddress(config.host, config.port);
}

/** 'host:port', with an IPv6 host in brackets. */
function formatAddress(host, port) {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * The options a url carries besides its address (user name, password, db, TLS): what every
 * node of a cluster, or the primary a sentinel names, is given.
 */
function urlOptionsWithoutAddress(url) {
  return withoutAddress(parseRedisUrl(url));
}

/** A copy of `options` without `host` and `port` (nor `url` and `path`, which name an address too). */
function withoutAddress(options) {
  const out = { ...options };
  delete out.host;
  delete out.port;
  delete out.url;
  delete out.path;
  return out;
}

module.exports = {
  REDIS_CLIENT_DEFAULTS,
  /** The options RedisStore hands to its connection: RedisClient's, `cluster` and `sentinel`. */
  CONNECTION_OPTION_NAMES: Object.freeze([...Object.keys(CONNECTION_SPEC), 'cluster', 'sentinel']),
  parseRedisUrl,
  resolveConnection,
  nativeConfig,
  redactedConfig,
  addressOf,
  formatAddress,
  urlOptionsWithoutAddress,
  withoutAddress,
};
