'use strict';

/**
 * RedisSentinelClient: the RedisClient API for a primary that Redis Sentinel watches. It asks
 * the sentinels where the primary is (SENTINEL GET-MASTER-ADDR-BY-NAME), checks with ROLE that
 * the node it reached is a primary before using it, and follows a failover: the sentinels'
 * `+switch-master` message (on a subscription of its own), and asking again whenever the
 * primary is lost or turns out to be a replica.
 *
 * Commands are never sent again: one in flight when the primary goes rejects, as on RedisClient.
 */

const net = require('node:net');
const tls = require('node:tls');
const { inspect } = require('node:util');
const { RedisClient } = require('./redis-client');
const {
  resolveConnection, redactedConfig, formatAddress, urlOptionsWithoutAddress, withoutAddress,
} = require('./redis-options');
const { describe } = require('./describe');
const { coalesced, beforeDeadline } = require('./coalesced');
const {
  InvalidArgumentError, RedisClosedError, RedisSentinelError, RedisTimeoutError,
} = require('./errors');

/** Shortest pause between two rounds of questions to the sentinels. */
const ASK_MIN_INTERVAL_MS = 100;
/** The subscription to +switch-master: pause before reconnecting after it broke. */
const WATCH_RETRY_MS = 1000;
/** The subscription's PING period, and the silence after which its sentinel counts as gone. */
const WATCH_PING_MS = 1000;
const WATCH_SILENCE_MS = 3000;



/**
 * The `sentinel` option checked: `{ nodes, name, username?, password?, tls? }`.
 */
function resolveSentinelOption(where, option) {
  const fail = (message) => { throw new InvalidArgumentError(`${where}: option 'sentinel'${message}`); };
  if (option === null || typeof option !== 'object' || Array.isArray(option)) {
    fail(` must be an object { nodes, name, username?, password?, tls? }; received ${describe(option)}`);
  }
  for (const key of Object.keys(option)) {
    if (!['nodes', 'name', 'username', 'password', 'tls'].includes(key)) {
      fail(`: unknown option 'sentinel.${key}' (known: nodes, name, username, password, tls)`);
    }
  }
  if (typeof option.name !== 'string' || option.name === '' || /\s/.test(option.name)) {
    fail(`.name must be the primary's name as the sentinels know it (e.g. 'mymaster'); received ${describe(option.name)}`);
  }
  if (!Array.isArray(option.nodes) || option.nodes.length === 0) {
    fail(`.nodes must be a non-empty array of 'redis://host:port' urls or { host, port }; received ${describe(option.nodes)}`);
  }
  let tlsFromUrl = false;
  const nodes = option.nodes.map((node, i) => {
    if (typeof node === 'string') {
      const match = /^(rediss?):\/\/(\[[^\]]+\]|[^:/?#@]+)(?::(\d+))?\/?$/.exec(node);
      if (match === null) fail(`.nodes[${i}] must look like redis://host:port (or rediss://), without credentials (give them as 'sentinel.username' and 'sentinel.password'); received a string of ${node.length} character(s) that does not`);
      const port = match[3] === undefined ? 26379 : Number(match[3]);
      if (!(port >= 1 && port <= 65535)) fail(`.nodes[${i}]: port must be in [1, 65535]; received ${match[3]}`);
      if (match[1] === 'rediss') tlsFromUrl = true;
      return { host: match[2].replace(/^\[(.*)\]$/, '$1'), port };
    }
    if (node !== null && typeof node === 'object' && typeof node.host === 'string' && node.host !== '' &&
        Number.isInteger(node.port) && node.port >= 1 && node.port <= 65535) {
      return { host: node.host, port: node.port };
    }
    return fail(`.nodes[${i}] must be a 'redis://host:port' url or { host, port }; received ${describe(node)}`);
  });
  // The sentinels' own connection settings, checked as a RedisClient's are.
  const own = resolveConnection(`${where}: option 'sentinel'`, {
    host: nodes[0].host, port: nodes[0].port, username: option.username, password: option.password,
    tls: option.tls ?? (tlsFromUrl ? true : undefined),
  });
  return { nodes, name: option.name, username: option.username, password: option.password, tls: option.tls ?? (tlsFromUrl ? true : undefined), tlsOn: own.tls !== undefined, resolvedTls: own.tls };
}

/** A small RESP reader for the subscription's messages (arrays of bulk strings). */
function readReply(text, at) {
  const end = text.indexOf('\r\n', at);
  if (end === -1) return undefined;
  const type = text[at];
  const line = text.slice(at + 1, end);
  if (type === '+' || type === '-') return { value: type === '-' ? new Error(line) : line, next: end + 2 };
  if (type === ':') return { value: Number(line), next: end + 2 };
  if (type === '$') {
    const length = Number(line);
    if (length < 0) return { value: null, next: end + 2 };
    if (text.length < end + 2 + length + 2) return undefined;
    return { value: text.slice(end + 2, end + 2 + length), next: end + 2 + length + 2 };
  }
  if (type === '*') {
    const count = Number(line);
    const items = [];
    let next = end + 2;
    for (let i = 0; i < count; i++) {
      const item = readReply(text, next);
      if (item === undefined) return undefined;
      items.push(item.value);
      next = item.next;
    }
    return { value: items, next };
  }
  throw new Error(`unexpected RESP type ${JSON.stringify(type)}`);
}

function encode(args) {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
}

class RedisSentinelClient {
  #data; // connection options of the primary (host and port filled in per primary)
  #sentinel;
  #sentinelClients = new Map(); // 'host:port' → RedisClient asking that sentinel
  #current; // { address, client, ready: Promise<void>, checked: boolean }
  #asks = coalesced(() => this.#askSentinels(), ASK_MIN_INTERVAL_MS);
  #closing;
  #watch; // the subscription socket
  #watchTimer;
  #nextWatched = 0;
  #redactedConfig;
  #stats = { switches: 0, asks: 0, switchMessages: 0 };

  /**
   * @param {string|object} [urlOrOptions] options: those of RedisClient for the primary (its
   *   host and port come from the sentinels) and `sentinel: { nodes, name, username?,
   *   password?, tls? }` for the sentinels themselves
   * @param {object} [options] options when the first argument is a url
   */
  constructor(urlOrOptions, options) {
    const merged = typeof urlOrOptions === 'string'
      ? { ...options, url: urlOrOptions }
      : { ...urlOrOptions, ...options };
    const { sentinel, ...connection } = merged;
    if (sentinel === undefined) throw new InvalidArgumentError("RedisSentinelClient: option 'sentinel' is required: { nodes, name }");
    if (connection.cluster !== undefined) throw new InvalidArgumentError("RedisStore: options 'sentinel' and 'cluster' cannot be combined");
    this.#sentinel = resolveSentinelOption('RedisStore', sentinel);
    const config = resolveConnection('RedisStore', connection);
    if (config.path) throw new InvalidArgumentError(`RedisStore: option 'sentinel' finds the primary's host and port; a unix socket path ('${config.path}') cannot be combined with it`);
    // The url's settings, then the options given beside it (which win, as for RedisClient).
    this.#data = { ...(connection.url === undefined ? {} : urlOptionsWithoutAddress(connection.url)), ...withoutAddress(connection) };
    this.#redactedConfig = {
      ...redactedConfig(config), host: undefined, port: undefined,
      sentinel: { nodes: this.#sentinel.nodes.map((n) => formatAddress(n.host, n.port)), name: this.#sentinel.name, tls: this.#sentinel.tlsOn },
    };
    /** The first sentinel's address and the primary's name; the primary's own address is in its errors. */
    this.address = `${this.#redactedConfig.sentinel.nodes[0]} (sentinel, primary '${this.#sentinel.name}')`;
  }

  get config() { return this.#redactedConfig; }

  get closed() { return this.#closing !== undefined; }

  /** The primary's address in use ('host:port'), or undefined before the first command. */
  get primary() { return this.#current?.address; }

  /** Counters: primaries switched to, rounds of questions to the sentinels, +switch-master messages seen. */
  get stats() { return { ...this.#stats }; }

  [inspect.custom](depth, options, inspectFn) {
    const shown = { sentinels: this.#redactedConfig.sentinel.nodes, name: this.#sentinel.name, primary: this.primary, closed: this.closed };
    return `RedisSentinelClient ${inspectFn(shown, options)}`;
  }

  #sentinelClient(address, node) {
    if (this.closed) throw new RedisClosedError('the Redis sentinel client is closed: disconnect() was called', this.address);
    let client = this.#sentinelClients.get(address);
    if (client === undefined || client.closed) {
      const { connectTimeout, commandTimeout } = this.#redactedConfig;
      client = new RedisClient({
        host: node.host, port: node.port, username: this.#sentinel.username, password: this.#sentinel.password,
        tls: this.#sentinel.tls, connectTimeout, commandTimeout, healthCheckInterval: 0,
      });
      this.#sentinelClients.set(address, client);
    }
    return client;
  }

  /** Asks the sentinels in turn where the primary is; coalesced, at most every ASK_MIN_INTERVAL_MS. */
  #ask() {
    return this.#asks.run();
  }

  async #askSentinels() {
    this.#stats.asks++;
    let last;
    for (const node of this.#sentinel.nodes) {
      if (this.closed) throw new RedisClosedError('the Redis sentinel client is closed: disconnect() was called', this.address);
      const address = formatAddress(node.host, node.port);
      let reply;
      try {
        reply = await this.#sentinelClient(address, node).command(['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', this.#sentinel.name]);
      } catch (error) {
        last = { reason: error.message, cause: error };
        continue;
      }
      if (reply === null) {
        last = { reason: `sentinel ${address} does not know a primary named '${this.#sentinel.name}'` };
        continue;
      }
      const port = Array.isArray(reply) ? Number(reply[1]) : NaN;
      if (!Array.isArray(reply) || typeof reply[0] !== 'string' || reply[0] === '' || !Number.isInteger(port) || port < 1 || port > 65535) {
        last = { reason: `sentinel ${address} answered ${describe(reply)}, not [host, port]` };
        continue;
      }
      return this.#use(formatAddress(reply[0], port), reply[0], port);
    }
    throw new RedisSentinelError(`no sentinel said where primary '${this.#sentinel.name}' is (asked ${this.#sentinel.nodes.length}); the last answer: ${last?.reason}`,
      this.address, { cause: last?.cause });
  }

  /** Switches to the primary at `address` (unless already there) and checks its ROLE. */
  #use(address, host, port) {
    // An answer that outlived disconnect() opens nothing.
    if (this.closed) return Promise.reject(new RedisClosedError('the Redis sentinel client is closed: disconnect() was called', this.address));
    if (this.#current?.address === address && !this.#current.client.closed) return this.#current.ready;
    const previous = this.#current;
    const client = new RedisClient({ ...this.#data, host, port });
    const current = { address, client, checked: false, ready: undefined };
    current.ready = client.command(['ROLE']).then((role) => {
      if (!Array.isArray(role) || role[0] !== 'master') {
        throw new RedisSentinelError(`the sentinels named ${address} as primary '${this.#sentinel.name}', but it says its role is ${describe(Array.isArray(role) ? role[0] : role)}`, this.address);
      }
      current.checked = true;
    });
    current.ready.catch(() => {
      // A node that is not (or no longer) the primary: ask again when the next call comes.
      if (this.#current === current) this.#current = undefined;
      client.disconnect().catch(() => {});
    });
    this.#current = current;
    if (previous !== undefined) {
      this.#stats.switches++;
      previous.client.disconnect().catch(() => {});
    }
    this.#startWatching();
    return current.ready;
  }

  /**
   * Sends one command to the primary (see RedisClient#command). The first call asks the
   * sentinels; later calls go straight to the primary found.
   */
  command(args, options) {
    if (this.closed) {
      return Promise.reject(new RedisClosedError('the Redis sentinel client is closed: disconnect() was called', this.address));
    }
    const current = this.#current;
    if (current !== undefined && current.checked) return this.#send(current, args, options);
    // Finding the primary counts against the call's time: its timeout plus one connect timeout.
    const { commandTimeout, connectTimeout } = this.#redactedConfig;
    const budget = (options?.timeout || commandTimeout) + connectTimeout;
    const found = current !== undefined ? current.ready : this.#ask();
    return beforeDeadline(found, budget, () => new RedisTimeoutError(
      `the primary '${this.#sentinel.name}' was not found within ${budget} ms (the command was not sent)`, this.address))
      .then(() => this.#send(this.#current, args, options));
  }

  #send(current, args, options) {
    if (current === undefined) return this.command(args, options);
    return current.client.command(args, options).catch((error) => {
      // The primary lost, or a replica now (READONLY): ask the sentinels again, in the background.
      const lost = error?.code === 'ERR_REDIS_CONNECTION' || error?.code === 'ERR_REDIS_CONNECT_TIMEOUT' ||
        error?.code === 'ERR_REDIS_TIMEOUT' || (error?.code === 'ERR_REDIS_SERVER' && error.redisCode === 'READONLY');
      if (lost && !this.closed) this.#ask().catch(() => {});
      throw error;
    });
  }

  // --- the +switch-master subscription ----------------------------------------------------

  #startWatching() {
    if (this.#watch !== undefined || this.#watchTimer !== undefined || this.closed) return;
    const node = this.#sentinel.nodes[this.#nextWatched++ % this.#sentinel.nodes.length];
    const resolved = this.#sentinel.resolvedTls;
    const socket = this.#sentinel.tlsOn
      ? tls.connect({
        host: node.host, port: node.port, ca: resolved.ca, cert: resolved.cert, key: resolved.key,
        passphrase: resolved.passphrase, servername: resolved.servername ?? (net.isIP(node.host) ? undefined : node.host),
        rejectUnauthorized: resolved.rejectUnauthorized, minVersion: resolved.minVersion, maxVersion: resolved.maxVersion,
      })
      : net.connect({ host: node.host, port: node.port });
    this.#watch = socket;
    socket.unref(); // the watch never keeps the process alive
    socket.setNoDelay(true);
    socket.setKeepAlive(true, WATCH_PING_MS);
    // A sentinel that does not answer (connect, or a PING every WATCH_PING_MS) within
    // WATCH_SILENCE_MS is dropped for the next one: a silent watch would miss a failover.
    socket.setTimeout(WATCH_SILENCE_MS, () => socket.destroy());
    const pings = setInterval(() => socket.write(encode(['PING'])), WATCH_PING_MS);
    pings.unref();
    const { username, password } = this.#sentinel;
    if (password !== undefined) socket.write(encode(username === undefined ? ['AUTH', password] : ['AUTH', username, password]));
    socket.write(encode(['SUBSCRIBE', '+switch-master']));
    let buffered = '';
    socket.on('data', (chunk) => {
      // One character per byte, so bulk lengths (in bytes) index the text; a character cut
      // between two chunks is put back together when the message is decoded.
      buffered += chunk.toString('latin1');
      try {
        for (;;) {
          const item = readReply(buffered, 0);
          if (item === undefined) break;
          buffered = buffered.slice(item.next);
          this.#onWatchReply(item.value);
        }
      } catch {
        socket.destroy();
      }
      if (buffered.length > 1024 * 1024) socket.destroy(); // not a sentinel
    });
    const retry = () => {
      if (this.#watch !== socket) return;
      this.#watch = undefined;
      if (this.closed) return;
      this.#watchTimer = setTimeout(() => {
        this.#watchTimer = undefined;
        this.#startWatching();
      }, WATCH_RETRY_MS);
      this.#watchTimer.unref();
    };
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      clearInterval(pings);
      retry();
    });
  }

  #onWatchReply(reply) {
    if (reply instanceof Error) {
      this.#watch?.destroy(); // e.g. a refused AUTH: try the next sentinel later
      return;
    }
    if (Array.isArray(reply) && reply[0] === 'subscribe') {
      // (Re)subscribed: a switch while no watch was up would be missed; ask once.
      if (this.#current !== undefined) this.#ask().catch(() => {});
      return;
    }
    if (!Array.isArray(reply) || reply[0] !== 'message' || reply[1] !== '+switch-master' || typeof reply[2] !== 'string') return;
    // "<name> <old-ip> <old-port> <new-ip> <new-port>"
    const [name, , , host, portText] = Buffer.from(reply[2], 'latin1').toString('utf8').split(' ');
    const port = Number(portText);
    if (name !== this.#sentinel.name || !host || !Number.isInteger(port) || port < 1 || port > 65535) return;
    this.#stats.switchMessages++;
    this.#use(formatAddress(host, port), host, port).catch(() => {});
  }

  /** Closes the primary's and the sentinels' connections (see RedisClient#disconnect). Idempotent. */
  disconnect(options) {
    if (this.#closing !== undefined) return this.#closing;
    const clients = [...this.#sentinelClients.values(), ...(this.#current ? [this.#current.client] : [])];
    this.#stopWatching();
    this.#closing = Promise.all(clients.map((client) => client.disconnect(options))).then(() => {});
    return this.#closing;
  }

  /** Closes everything at once: pending commands reject. */
  destroy() {
    this.#closing ??= Promise.resolve();
    this.#stopWatching();
    for (const client of this.#sentinelClients.values()) client.destroy();
    this.#current?.client.destroy();
  }

  #stopWatching() {
    clearTimeout(this.#watchTimer);
    this.#watchTimer = undefined;
    const socket = this.#watch;
    this.#watch = undefined;
    socket?.destroy();
  }
}


module.exports = { RedisSentinelClient, resolveSentinelOption };
