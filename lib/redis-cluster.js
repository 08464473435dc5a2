'use strict';

/**
 * RedisClusterClient: the RedisClient API over a Redis Cluster. It reads the slot map from the
 * cluster (CLUSTER SLOTS), keeps one RedisClient per primary (opened on the first command that
 * needs it), routes each command by its key's hash slot, follows MOVED and ASK, retries
 * TRYAGAIN and CLUSTERDOWN within the command's deadline, and splits MGET, MSET, DEL, UNLINK,
 * EXISTS and TOUCH by slot, answering in the caller's order.
 *
 * A command is sent again only when the server said it did not run it (MOVED, ASK, TRYAGAIN,
 * CLUSTERDOWN); one whose connection broke or that timed out rejects, as on RedisClient.
 */

const net = require('node:net');
const { inspect } = require('node:util');
const { RedisClient } = require('./redis-client');
const {
  resolveConnection, redactedConfig, formatAddress, urlOptionsWithoutAddress, withoutAddress, REDIS_CLIENT_DEFAULTS,
} = require('./redis-options');
const { keySlot, keyIndexes, SPLIT_COMMANDS, SLOT_COUNT } = require('./redis-slots');
const { describe } = require('./describe');
const { coalesced, beforeDeadline } = require('./coalesced');
const {
  InvalidArgumentError, RedisClosedError, RedisClusterError, RedisServerError, RedisTimeoutError,
} = require('./errors');

const CLUSTER_DEFAULTS = Object.freeze({ maxRedirections: 16 });

/** Shortest pause between two reads of the slot map (a storm of MOVED reads it once). */
const REFRESH_MIN_INTERVAL_MS = 100;
/** TRYAGAIN / CLUSTERDOWN: first pause, doubled per retry up to the last. */
const RETRY_FIRST_MS = 10;
const RETRY_MAX_MS = 200;
/** Most slots or keys an error message lists. */
const LISTED = 10;

function listed(items) {
  const shown = items.slice(0, LISTED).join(', ');
  return items.length > LISTED ? `${shown} and ${items.length - LISTED} more` : shown;
}


/** A host name or address as parseAddress reads it back (no spaces, ':' only in IPv6). */
function isHost(host) {
  return typeof host === 'string' && host !== '' && !/[\s\0/[\]]/.test(host) && (!host.includes(':') || net.isIPv6(host));
}

/** 'host:port' or '[v6]:port' → { host, port }, or undefined when it is not one. */
function parseAddress(text) {
  const match = /^(?:\[([^\]]+)\]|([^:\s]+)):(\d{1,5})$/.exec(text);
  if (match === null) return undefined;
  const port = Number(match[3]);
  if (port < 1 || port > 65535) return undefined;
  return { host: match[1] ?? match[2], port };
}

// Not unref'd: a caller waits on it, and the process must not exit under it.
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The `cluster` option checked: `true`, or `{ nodes?, natMap?, maxRedirections? }`.
 * @returns {{nodes: Array<{host: string, port: number}>, natMap: object|function|undefined, maxRedirections: number}}
 */
function resolveClusterOption(where, option, seedConfig) {
  const fail = (message) => { throw new InvalidArgumentError(`${where}: option 'cluster'${message}`); };
  if (option === true) {
    return { nodes: [{ host: seedConfig.host, port: seedConfig.port }], natMap: undefined, maxRedirections: CLUSTER_DEFAULTS.maxRedirections };
  }
  if (option === null || typeof option !== 'object' || Array.isArray(option)) {
    fail(` must be true or an object { nodes, natMap, maxRedirections }; received ${describe(option)}`);
  }
  for (const name of Object.keys(option)) {
    if (!['nodes', 'natMap', 'maxRedirections'].includes(name)) fail(`: unknown option 'cluster.${name}' (known: nodes, natMap, maxRedirections)`);
  }
  let nodes = [{ host: seedConfig.host, port: seedConfig.port }];
  if (option.nodes !== undefined) {
    if (!Array.isArray(option.nodes) || option.nodes.length === 0) {
      fail(`.nodes must be a non-empty array of 'redis://host:port' urls or { host, port }; received ${describe(option.nodes)}`);
    }
    nodes = option.nodes.map((node, i) => {
      if (typeof node === 'string') {
        // Only the address is taken from a node's url; credentials and TLS come from the options.
        const match = /^(rediss?):\/\/(?:[^@/]*@)?(\[[^\]]+\]|[^:/?#]+)(?::(\d+))?\/?$/.exec(node);
        if (match === null) fail(`.nodes[${i}] must look like redis://host:port (or rediss://); received a string of ${node.length} character(s) that does not`);
        const port = match[3] === undefined ? REDIS_CLIENT_DEFAULTS.port : Number(match[3]);
        if (!(port >= 1 && port <= 65535)) fail(`.nodes[${i}]: port must be in [1, 65535]; received ${match[3]}`);
        const host = match[2].replace(/^\[(.*)\]$/, '$1');
        if (!isHost(host)) fail(`.nodes[${i}]: the host is not a host name or address`);
        return { host, port };
      }
      if (node !== null && typeof node === 'object' && isHost(node.host) &&
          Number.isInteger(node.port) && node.port >= 1 && node.port <= 65535) {
        return { host: node.host, port: node.port };
      }
      return fail(`.nodes[${i}] must be a 'redis://host:port' url or { host, port }; received ${describe(node)}`);
    });
  }
  const { natMap } = option;
  if (natMap !== undefined && typeof natMap !== 'function' && (natMap === null || typeof natMap !== 'object')) {
    fail(`.natMap must be an object { 'host:port': { host, port } } or a function (address) => { host, port }; received ${describe(natMap)}`);
  }
  const maxRedirections = option.maxRedirections ?? CLUSTER_DEFAULTS.maxRedirections;
  if (!Number.isInteger(maxRedirections) || maxRedirections < 0 || maxRedirections > 1000) {
    fail(`.maxRedirections must be an integer in [0, 1000]; received ${describe(maxRedirections)}`);
  }
  return { nodes, natMap, maxRedirections };
}

/**
 * CLUSTER SLOTS checked: [[start, end, [host, port, id?, …], replicas…], …] → ranges of
 * { start, end, host, port }. A reply that does not have this shape throws.
 * @param {unknown} reply
 * @param {string} askedHost the host of the node asked: an empty host in the reply means it
 */
function parseSlotMap(reply, askedHost) {
  if (!Array.isArray(reply)) throw new Error(`CLUSTER SLOTS replied ${describe(reply)}, not an array`);
  const ranges = [];
  for (let i = 0; i < reply.length; i++) {
    const entry = reply[i];
    const where = `CLUSTER SLOTS entry ${i}`;
    if (!Array.isArray(entry) || entry.length < 3) throw new Error(`${where} is not [start, end, primary, …]`);
    const [start, end, primary] = entry;
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end >= SLOT_COUNT || start > end) {
      const shown = (v) => (Number.isInteger(v) ? String(v) : describe(v));
      throw new Error(`${where}: slot range ${shown(start)}-${shown(end)} is not within 0-${SLOT_COUNT - 1}`);
    }
    if (!Array.isArray(primary) || primary.length < 2 || typeof primary[0] !== 'string' || !Number.isInteger(primary[1])) {
      throw new Error(`${where}: the primary is not [host, port, …]`);
    }
    const port = primary[1];
    if (port < 1 || port > 65535) throw new Error(`${where}: port ${port} is not in [1, 65535]`);
    const host = primary[0] === '' ? askedHost : primary[0];
    if (host === '?' || /[\s\0/]/.test(host)) throw new Error(`${where}: the primary's address ${describe(host)} is not a host`);
    ranges.push({ start, end, host, port });
  }
  if (ranges.length === 0) throw new Error('CLUSTER SLOTS replied no slot ranges: the cluster serves no slot');
  return ranges;
}

/** The leading word of a command, upper-cased ('' when it is not text). */
function commandName(arg) {
  if (typeof arg === 'string') return arg.toUpperCase();
  if (arg instanceof Uint8Array && arg.length < 32) return Buffer.from(arg).toString('latin1').toUpperCase();
  return '';
}

class RedisClusterClient {
  #options; // the connection options every node gets (host and port replaced)
  #seeds;
  #natMap;
  #tlsOn;
  #servername; // the name TLS verifies nodes announced by IP against
  #maxRedirections;
  #commandTimeout;
  #connectTimeout;
  #nodes = new Map(); // 'host:port' → RedisClient
  #slots = new Array(SLOT_COUNT); // slot → 'host:port' of its primary
  #mapped = false;
  #mapReads = coalesced(() => this.#readSlotMap(), REFRESH_MIN_INTERVAL_MS);
  #closing;
  #redactedConfig;
  #stats = { moved: 0, asked: 0, retried: 0, slotMapReads: 0 };

  /**
   * @param {string|object} [urlOrOptions] a seed's redis:// or rediss:// url, or options: those of
   *   RedisClient (for every node) and `cluster: true | { nodes, natMap, maxRedirections }`
   * @param {object} [options] options when the first argument is a url
   */
  constructor(urlOrOptions, options) {
    const merged = typeof urlOrOptions === 'string'
      ? { ...options, url: urlOrOptions }
      : { ...urlOrOptions, ...options };
    const { cluster = true, ...connection } = merged;
    const config = resolveConnection('RedisStore', connection);
    if (config.path) throw new InvalidArgumentError(`RedisStore: option 'cluster' needs host:port seeds, not the unix socket path '${config.path}'`);
    if (config.db !== 0) throw new InvalidArgumentError(`RedisStore: option 'db' must be 0 with 'cluster' (Redis Cluster has database 0 only); received ${config.db}`);
    const resolved = resolveClusterOption('RedisStore', cluster, config);
    this.#seeds = resolved.nodes;
    this.#natMap = resolved.natMap;
    this.#maxRedirections = resolved.maxRedirections;
    this.#commandTimeout = config.commandTimeout;
    this.#connectTimeout = config.connectTimeout;
    const seedHost = this.#seeds[0].host;
    this.#tlsOn = config.tls !== undefined;
    this.#servername = config.tls?.servername ?? (net.isIP(seedHost) ? undefined : seedHost);
    // Node clients are made as nodes are learnt, so the options (password included) are kept
    // here, in a private field; `config` and inspection show them redacted.
    // The url's settings, then the options given beside it (which win, as for RedisClient).
    this.#options = { ...(connection.url === undefined ? {} : urlOptionsWithoutAddress(connection.url)), ...withoutAddress(connection) };
    this.#redactedConfig = { ...redactedConfig(config), cluster: { nodes: this.#seeds.map((n) => formatAddress(n.host, n.port)), maxRedirections: this.#maxRedirections } };
    /** The first seed's address; nodes' own addresses appear in their errors. */
    this.address = formatAddress(seedHost, this.#seeds[0].port);
  }

  /** The resolved settings, without secrets. */
  get config() { return this.#redactedConfig; }

  get closed() { return this.#closing !== undefined; }

  /**
   * Counters since construction: MOVED and ASK replies followed, TRYAGAIN/CLUSTERDOWN retries,
   * and reads of the slot map that succeeded.
   * @returns {{moved: number, asked: number, retried: number, slotMapReads: number}}
   */
  get stats() { return { ...this.#stats }; }

  /** This is a cluster client (RedisStore asks, for clear() and iterator()). */
  get cluster() { return true; }

  [inspect.custom](depth, options, inspectFn) {
    const shown = { seeds: this.#redactedConfig.cluster.nodes, primaries: this.#primaryAddresses(), closed: this.closed };
    return `RedisClusterClient ${inspectFn(shown, options)}`;
  }

  /** The addresses of the primaries in the current slot map. */
  #primaryAddresses() {
    return [...new Set(this.#slots.filter(Boolean))];
  }

  /** The client of a node, made on first use. */
  #node(address) {
    // A refresh or a redirection that outlived disconnect() opens nothing.
    if (this.closed) throw new RedisClosedError('the Redis cluster client is closed: disconnect() was called', this.address);
    let client = this.#nodes.get(address);
    if (client === undefined || client.closed) {
      const { host, port } = parseAddress(address);
      const options = { ...this.#options, host, port };
      if (this.#tlsOn) options.tls = this.#tlsFor(host);
      client = new RedisClient(options);
      this.#nodes.set(address, client);
    }
    return client;
  }

  /** TLS options for a node: a node announced by IP is checked against the seed's host name. */
  #tlsFor(host) {
    const base = typeof this.#options.tls === 'object' && this.#options.tls !== null ? this.#options.tls : {};
    if (base.servername !== undefined || this.#servername === undefined || !net.isIP(host)) return { ...base };
    return { ...base, servername: this.#servername };
  }

  /** An announced address after natMap. */
  #translate(host, port) {
    const address = formatAddress(host, port);
    if (this.#natMap === undefined) return address;
    const mapped = typeof this.#natMap === 'function' ? this.#natMap(address) : this.#natMap[address];
    if (mapped === undefined || mapped === null) return address;
    if (!isHost(mapped.host) || !Number.isInteger(mapped.port) || mapped.port < 1 || mapped.port > 65535) {
      throw new InvalidArgumentError(`RedisStore: option 'cluster.natMap' gave ${describe(mapped)} for ${address}; expected { host, port }`);
    }
    return formatAddress(mapped.host, mapped.port);
  }

  /**
   * Reads the slot map (coalesced: callers during a read share it; reads are at least
   * REFRESH_MIN_INTERVAL_MS apart). Resolves when the map is read, rejects when it could not be.
   */
  #refresh() {
    return this.#mapReads.run();
  }

  /** A background refresh: errors are kept for the callers waiting on the map, not thrown. */
  #refreshSoon() {
    if (this.closed) return;
    this.#refresh().catch(() => {});
  }

  async #readSlotMap() {
    if (this.closed) return;
    // Ask known primaries first, then the seeds; the first good answer wins.
    const candidates = [...new Set([...this.#primaryAddresses(), ...this.#seeds.map((n) => formatAddress(n.host, n.port))])];
    let last; // { address, reason, cause } of the last failure
    for (const address of candidates) {
      if (this.closed) return;
      const { host } = parseAddress(address);
      let reply;
      try {
        reply = await this.#node(address).command(['CLUSTER', 'SLOTS'], { timeout: this.#commandTimeout });
      } catch (error) {
        last = { address, reason: error.message, cause: error }; // the message names the node
        continue;
      }
      let ranges;
      try {
        ranges = parseSlotMap(reply, host);
      } catch (error) {
        last = { address, reason: `the slot map from ${address} is not valid: ${error.message}` };
        continue;
      }
      this.#install(ranges);
      this.#stats.slotMapReads++;
      return;
    }
    const error = new RedisClusterError(
      `could not read the cluster's slot map (asked ${candidates.length} node(s)); the last answer: ${last?.reason ?? 'none'}`,
      undefined, { cause: last?.cause });
    error.address = last?.address ?? this.address;
    throw error;
  }

  #install(ranges) {
    if (this.closed) return;
    const slots = new Array(SLOT_COUNT);
    for (const { start, end, host, port } of ranges) {
      const address = this.#translate(host, port);
      for (let slot = start; slot <= end; slot++) slots[slot] = address;
    }
    this.#slots = slots;
    this.#mapped = true;
    // Nodes that are no longer primaries: their commands in flight finish, then they close.
    const primaries = new Set(this.#primaryAddresses());
    for (const [address, client] of this.#nodes) {
      if (!primaries.has(address)) {
        this.#nodes.delete(address);
        client.disconnect().catch(() => {});
      }
    }
  }

  /**
   * Sends one command, routed by its key (see RedisClient#command for the arguments and
   * replies). Commands of several keys in different slots: MGET, MSET, DEL, UNLINK, EXISTS and
   * TOUCH are split by slot; any other rejects naming the slots.
   */
  command(args, options) {
    if (this.closed) {
      return Promise.reject(new RedisClosedError('the Redis cluster client is closed: disconnect() was called', this.address));
    }
    if (!Array.isArray(args) || args.length === 0) {
      return Promise.reject(new InvalidArgumentError(`command: expected a non-empty array of arguments; received ${describe(args)}`,
        'ERR_INVALID_ARG_TYPE'));
    }
    const timeout = options?.timeout ?? 0;
    if (!Number.isInteger(timeout) || timeout < 0 || timeout > 2 ** 31 - 1) {
      return Promise.reject(new InvalidArgumentError(`command: option 'timeout' must be an integer number of milliseconds in [1, ${2 ** 31 - 1}] (0 = commandTimeout); received ${describe(timeout)}`));
    }
    for (let i = 0; i < args.length; i++) {
      const arg = args[i];
      if (typeof arg !== 'string' && typeof arg !== 'number' && !(arg instanceof Uint8Array)) {
        return Promise.reject(new InvalidArgumentError(
          `command: argument ${i} must be a string, Buffer, Uint8Array or number; received ${describe(arg)}`, 'ERR_INVALID_ARG_TYPE'));
      }
    }
    const name = commandName(args[0]);
    if ((name === 'MSET' || name === 'MSETNX') && (args.length < 3 || args.length % 2 === 0)) {
      // Checked here: split by slot, a missing value would fail one part after others wrote.
      return Promise.reject(new InvalidArgumentError(`command: ${name} takes key value pairs; received ${args.length - 1} argument(s) after the name`));
    }
    const indexes = keyIndexes(name, args);
    if (indexes === undefined || indexes.length === 0) return this.#route(args, undefined, options);
    const first = keySlot(keyOf(args[indexes[0]]));
    let spans = false;
    for (let i = 1; i < indexes.length && !spans; i++) spans = keySlot(keyOf(args[indexes[i]])) !== first;
    if (!spans) return this.#route(args, first, options);
    if (SPLIT_COMMANDS.has(name)) return this.#split(name, args, indexes, options);
    const slots = [...new Set(indexes.map((i) => keySlot(keyOf(args[i]))))];
    return Promise.reject(new RedisClusterError(
      `command: ${name}'s keys are in different hash slots (${listed(slots)}); in a cluster they must share one: give them a common hash tag, e.g. {user42}:a and {user42}:b`,
      this.address, { slots }));
  }

  /**
   * Waits for a read of the slot map, at most until `deadline` (the read itself is shared and
   * goes on for the other callers).
   */
  async #mapBefore(deadline, budget) {
    await beforeDeadline(this.#refresh(), deadline - Date.now(), () => new RedisTimeoutError(
      `the cluster's slot map was not read within ${budget} ms (the command was not sent)`, this.address));
    if (this.closed) throw new RedisClosedError('the Redis cluster client is closed: disconnect() was called', this.address);
  }

  /** The node serving `slot` (any primary when slot is undefined), reading the map first if needed. */
  async #target(slot, deadline, budget) {
    if (!this.#mapped) await this.#mapBefore(deadline, budget);
    if (slot === undefined) {
      const primaries = this.#primaryAddresses();
      return primaries[Math.floor(Math.random() * primaries.length)];
    }
    let address = this.#slots[slot];
    if (address === undefined) {
      await this.#mapBefore(deadline, budget);
      address = this.#slots[slot];
    }
    if (address === undefined) {
      throw new RedisClusterError(`no node serves hash slot ${slot} (the cluster's slot map leaves it out)`, this.address, { slots: [slot] });
    }
    return address;
  }

  async #route(args, slot, options) {
    const budget = options?.timeout || this.#commandTimeout;
    const allowed = budget + (this.#mapped ? 0 : this.#connectTimeout);
    const deadline = Date.now() + allowed;
    const buffers = options?.buffers === true;
    let address = await this.#target(slot, deadline, allowed);
    let asking = false;
    let askedAt; // the target of the last ASK: a TRYAGAIN from it is retried there, with ASKING
    let retries = 0;
    for (let redirections = 0; ; ) {
      const left = deadline - Date.now();
      if (left <= 0) throw new RedisTimeoutError(`the command got no reply within ${budget} ms (redirected ${redirections} time(s))`, address);
      const node = this.#node(address);
      let reply;
      try {
        if (asking) {
          // ASKING and the command leave together, in this order, on the target's connection.
          node.command(['ASKING'], { timeout: left }).catch(() => {});
          asking = false;
          askedAt = address;
        } else {
          askedAt = undefined;
        }
        reply = await node.command(args, { buffers, timeout: left });
        return reply;
      } catch (error) {
        if (!(error instanceof RedisServerError)) {
          // Lost connection, timeout, closed: never sent again. The map may have changed.
          if (!(error instanceof InvalidArgumentError) && error?.code !== 'ERR_REDIS_UNSUPPORTED_COMMAND') this.#refreshSoon();
          throw error;
        }
        const redirect = parseRedirect(error);
        if (redirect !== undefined) {
          if (redirections >= this.#maxRedirections) {
            throw new RedisClusterError(`gave up after ${redirections} redirection(s) (maxRedirections); the last: ${redirect.kind} to slot ${redirect.slot} at ${redirect.address}`,
              this.address, { slots: [redirect.slot], cause: error });
          }
          redirections++;
          if (redirect.slot < 0 || redirect.slot >= SLOT_COUNT || redirect.target === undefined) {
            throw new RedisClusterError(`the server redirected to a slot or address that makes no sense: ${describe(error.message)}`, error.address, { slots: [], cause: error });
          }
          const target = this.#translate(redirect.target.host, redirect.target.port);
          if (redirect.kind === 'MOVED') {
            this.#stats.moved++;
            this.#slots[redirect.slot] = target; // the slot moved for good
            this.#refreshSoon();
          } else {
            this.#stats.asked++;
            asking = true;
          }
          address = target;
          continue;
        }
        if (error.redisCode === 'TRYAGAIN' || error.redisCode === 'CLUSTERDOWN') {
          const pause = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** retries++);
          if (Date.now() + pause >= deadline) throw error;
          this.#stats.retried++;
          if (error.redisCode === 'CLUSTERDOWN') this.#refreshSoon();
          await sleep(pause);
          if (askedAt !== undefined) {
            asking = true; // the slot is still migrating to the node that asked for it
          } else if (slot !== undefined && this.#slots[slot] !== undefined) {
            address = this.#slots[slot];
          }
          continue;
        }
        throw error;
      }
    }
  }

  /** MGET, MSET, DEL, UNLINK, EXISTS, TOUCH over several slots: one command per slot. */
  async #split(name, args, indexes, options) {
    const step = name === 'MSET' ? 2 : 1;
    const groups = new Map(); // slot → { args, positions }
    for (let n = 0; n < indexes.length; n++) {
      const at = indexes[n];
      const slot = keySlot(keyOf(args[at]));
      let group = groups.get(slot);
      if (group === undefined) {
        group = { args: [args[0]], positions: [] };
        groups.set(slot, group);
      }
      group.args.push(...args.slice(at, at + step));
      group.positions.push(n);
    }
    const parts = [...groups.entries()];
    const results = await Promise.allSettled(parts.map(([slot, group]) => this.#route(group.args, slot, options)));
    const failed = [];
    for (let i = 0; i < parts.length; i++) if (results[i].status === 'rejected') failed.push(i);
    if (failed.length > 0) {
      const slots = failed.map((i) => parts[i][0]);
      const cause = results[failed[0]].reason;
      const writes = name !== 'MGET' && name !== 'EXISTS';
      const unsureKeys = writes ? failed.flatMap((i) => parts[i][1].positions.map((n) => keyOf(args[indexes[n]]))) : undefined;
      const written = writes ? ` the keys of the other ${parts.length - failed.length} slot(s) were ${name === 'MSET' ? 'written' : 'applied'}; those of the failed slot(s) may or may not have been (error.unsureKeys: ${listed(unsureKeys.map((k) => describe(String(k))))}).` : '';
      throw new RedisClusterError(`${name} split over ${parts.length} hash slots: the part for slot(s) ${listed(slots)} failed: ${cause?.message}.${written}`,
        this.address, { slots, unsureKeys, cause });
    }
    if (name === 'MGET') {
      const out = new Array(indexes.length);
      for (let i = 0; i < parts.length; i++) {
        const { positions } = parts[i][1];
        const values = results[i].value;
        for (let j = 0; j < positions.length; j++) out[positions[j]] = values[j];
      }
      return out;
    }
    if (name === 'MSET') return 'OK';
    let sum = 0;
    for (const result of results) sum += result.value;
    return sum;
  }

  /**
   * The clients of every primary (after reading the slot map if needed): for commands each
   * node answers for itself, such as SCAN.
   * @returns {Promise<RedisClient[]>}
   */
  async primaries() {
    if (this.closed) throw new RedisClosedError('the Redis cluster client is closed: disconnect() was called', this.address);
    if (!this.#mapped) await this.#mapBefore(Date.now() + this.#commandTimeout + this.#connectTimeout, this.#commandTimeout + this.#connectTimeout);
    return this.#primaryAddresses().map((address) => this.#node(address));
  }

  /** Closes every node's connection (see RedisClient#disconnect). Idempotent. */
  disconnect(options) {
    if (this.#closing !== undefined) return this.#closing;
    const clients = [...this.#nodes.values()];
    this.#nodes.clear();
    this.#closing = Promise.all(clients.map((client) => client.disconnect(options))).then(() => {});
    return this.#closing;
  }

  /** Closes every node's connection at once: pending commands reject. */
  destroy() {
    this.#closing ??= Promise.resolve();
    for (const client of this.#nodes.values()) client.destroy();
    this.#nodes.clear();
  }
}

/** A key argument as the slot function takes it. */
function keyOf(arg) {
  if (typeof arg === 'string' || arg instanceof Uint8Array) return arg;
  // A number is sent as its text; anything else is refused by the node's client (slot 0 here).
  return typeof arg === 'number' ? String(arg) : '';
}


/** 'MOVED 3999 127.0.0.1:6381' / 'ASK …' → { kind, slot, address, target }. */
function parseRedirect(error) {
  if (error.redisCode !== 'MOVED' && error.redisCode !== 'ASK') return undefined;
  const match = /^(MOVED|ASK) (\d+) (\S+)/.exec(error.message);
  if (match === null) return { kind: error.redisCode, slot: -1, address: '?', target: undefined };
  let target = parseAddress(match[3]);
  // Redis 7 may announce ':port' (an unknown endpoint): the node that replied.
  if (target === undefined && /^:\d+$/.test(match[3]) && error.address) {
    const self = parseAddress(error.address);
    if (self !== undefined) target = { host: self.host, port: Number(match[3].slice(1)) };
  }
  if (target !== undefined && (target.port < 1 || target.port > 65535)) target = undefined;
  return { kind: match[1], slot: Number(match[2]), address: match[3], target };
}

module.exports = { RedisClusterClient, resolveClusterOption, parseSlotMap, CLUSTER_DEFAULTS };
