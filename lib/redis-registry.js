'use strict';

/**
 * The shared registry: one RedisClient (one connection manager, one I/O thread, one
 * connection) per JS environment for every store that names the same endpoint and options.
 * Leases count the stores; the last release disconnects the client.
 */

const crypto = require('node:crypto');
const { RedisClient } = require('./redis-client');
const { RedisClusterClient, resolveClusterOption } = require('./redis-cluster');
const { RedisSentinelClient, resolveSentinelOption } = require('./redis-sentinel');
const { resolveConnection, withoutAddress } = require('./redis-options');

// Module state is per environment: each worker thread loads its own copy of this module.
const shared = new Map();
const functionIds = new WeakMap();
let nextFunctionId = 1;
// Secrets enter the registry's keys only as HMAC-SHA-256 digests under this per-environment
// random key: equal secrets still give equal keys, and a heap snapshot or dump shows neither
// the secret nor a plain hash that a dictionary could reverse.
const secretKey = crypto.randomBytes(32);

/** The digest that stands for `secret` (a string) in a registry key; undefined stays undefined. */
function secretDigest(secret) {
  if (secret === undefined) return undefined;
  return `hmac-sha256:${crypto.createHmac('sha256', secretKey).update(secret, 'utf8').digest('base64')}`;
}

/**
 * The resolved config with its secrets (password, tls.key, tls.passphrase) replaced by their
 * digests: what the registry's key is built from.
 * @param {object} config
 */
function withoutSecrets(config) {
  const out = { ...config, password: config.password === '' ? '' : secretDigest(config.password) };
  if (config.tls !== undefined) {
    out.tls = { ...config.tls, key: secretDigest(config.tls.key), passphrase: secretDigest(config.tls.passphrase) };
  }
  return out;
}

/**
 * The registry's key for a resolved config: equal exactly when every setting is. Strings and
 * numbers as JSON, bytes by content, functions by identity, objects with their keys sorted;
 * JSON.stringify alone would turn every function into nothing and a Buffer into whatever
 * its toJSON says.
 * @param {unknown} value
 * @returns {string}
 */
function sharingKey(value) {
  if (typeof value === 'function') {
    let id = functionIds.get(value);
    if (id === undefined) {
      id = nextFunctionId++;
      functionIds.set(value, id);
    }
    return `function#${id}`;
  }
  if (value instanceof Uint8Array) {
    return `bytes:${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64')}`;
  }
  if (Array.isArray(value)) return `[${value.map(sharingKey).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${sharingKey(value[k])}`).join(',')}}`;
  }
  return value === undefined ? 'undefined' : JSON.stringify(value);
}

/**
 * Returns a lease on the shared client for these connection options. The client opens
 * its connection on the first command; `release()` closes it when the last lease goes.
 * @param {object} connection options accepted by RedisClient
 * @returns {{client: RedisClient|RedisClusterClient|RedisSentinelClient, release: (options?: {timeout?: number}) => Promise<void>}}
 */
function acquireSharedClient(connection) {
  const { cluster, sentinel, ...single } = connection;
  const config = resolveConnection('RedisStore', single);
  let key;
  let make;
  if (sentinel !== undefined) {
    // The primary's host and port come from the sentinels; their own password as a digest.
    const { password, resolvedTls, ...named } = resolveSentinelOption('RedisStore', sentinel);
    key = sharingKey({
      sentinel: { ...named, password: secretDigest(password), tls: withoutSecrets({ tls: resolvedTls }).tls },
      ...withoutAddress(withoutSecrets(config)),
    });
    make = () => new RedisSentinelClient(connection);
  } else if (cluster === undefined) {
    key = sharingKey(withoutSecrets(config));
    make = () => new RedisClient(connection);
  } else {
    // A cluster is named by its seeds (host and port say nothing more), natMap by identity
    // when it is a function.
    key = sharingKey({ cluster: resolveClusterOption('RedisStore', cluster, config), ...withoutAddress(withoutSecrets(config)) });
    make = () => new RedisClusterClient(connection);
  }
  let slot = shared.get(key);
  if (slot === undefined || slot.client.closed) {
    slot = { client: make(), refs: 0 };
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

module.exports = { acquireSharedClient, sharingKey, withoutSecrets };
