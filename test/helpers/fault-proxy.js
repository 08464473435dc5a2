'use strict';

// A TCP proxy on 127.0.0.1 in front of a real redis-server, driven by the test that owns it.
// It injects byte-level faults into the server→client direction (requests always reach the
// server, so a fault hits commands that Redis has executed: the hard case for a client).
//
//   const proxy = await startFaultProxy({ port: redis.port });
//   new RedisClient({ port: proxy.port });
//   proxy.set('stall');               // half-open: replies held, sockets stay open
//   proxy.set('pass');                // held replies are delivered late (like TCP retransmission)
//
// Modes (proxy.set(mode, arg)):
//   pass                 forward both ways
//   delay <ms>           every chunk, both ways, forwarded <ms> later (order kept)
//   stall                hold server→client bytes; nothing closes (half-open)
//   stall-after <n>      forward <n> more server→client bytes (per connection), then hold
//   truncate [n]         one-shot: the next server chunk is cut after <n> bytes (default: in
//                        the middle of its first reply), then the client gets FIN
//   garbage [bytes]      one-shot: bytes injected into the next server chunk (default 8 random
//                        bytes); arg {bytes, at: 'boundary' | 'inside' | 'bulk'}: at a reply
//                        boundary (default), inside the first reply of the chunk, or in the
//                        middle of the payload of the first whole bulk-string reply
//   extra [bytes]        one-shot: a well-formed extra reply (default `+OK\r\n`) injected at a
//                        reply boundary of the next server chunk
//   reset                every open client socket is reset (RST) now
//   fin                  every open client socket is ended (FIN) now, its server side closed
// One-shot modes fire once (on the first connection that receives data), then the proxy is
// back in `pass`; `proxy.fired` resolves when that happened. `reset` and `fin` act at once
// and leave the proxy in `pass` for new connections.
//
// Placing a one-shot fault by stream position (an object arg, with the keys above):
//   offset: <n>          `truncate` and `garbage`: the fault lands at byte <n> of the
//                        connection's server→client stream, counted from its first byte
//                        (`truncate` forwards bytes 0…n-1). A connection already past <n>
//                        never qualifies, so a small <n> hits the start of a new
//                        connection: with TLS, the server's first handshake flight
//   at: 'record'         `garbage`: inside the payload of the first TLS record of type 23
//                        (application data; in TLS 1.3 also the encrypted part of the
//                        handshake) whose header starts in the chunk. The record's length
//                        then no longer matches its bytes: its authentication check fails
//   close: 'reset'       `truncate`: end the client side with RST instead of FIN
//   fresh: true          only connections accepted after this call qualify
//   times: <k>           fire on <k> connections (once each) before going back to `pass`
//                        (default 1); `proxy.fired` resolves at the first
//
// Over TLS the proxy sees ciphertext: its RESP scanning gives up on the first byte, so
// `heldReplies` stays 0, `garbage` at 'boundary' lands at the start of a chunk (not
// necessarily of a TLS record) and 'inside' in its middle, `truncate` without a count cuts a
// chunk in half, and `garbage` at 'bulk' and `extra` (which need reply boundaries) never
// fire. `stall`, `stall-after`, `delay`, `reset`, `fin` and the options above work on any
// bytes.
const net = require('node:net');
const crypto = require('node:crypto');
const { EventEmitter } = require('node:events');

const ONE_SHOT = new Set(['truncate', 'garbage', 'extra']);
const MODES = new Set(['pass', 'delay', 'stall', 'stall-after', 'reset', 'fin', ...ONE_SHOT]);
const RESP_TYPES = new Set('+-:_,#($!=*~>%|');
const TLS_HEADER = 5; // content type, version (2 bytes), payload length (2 bytes)
const TLS_APPLICATION_DATA = 23;

/**
 * Length of one complete RESP2/RESP3 reply starting at `p`, or -1 when incomplete, or -2
 * when the bytes are not RESP (the stream is corrupt).
 */
function replyEnd(buf, p) {
  if (p >= buf.length) return -1;
  const type = String.fromCharCode(buf[p]);
  // Not RESP (e.g. TLS ciphertext): say so at once, rather than wait for a CRLF.
  if (!RESP_TYPES.has(type)) return -2;
  const nl = buf.indexOf('\r\n', p, 'latin1');
  if (nl < 0) return -1;
  const header = buf.toString('latin1', p + 1, nl);
  const afterLine = nl + 2;
  switch (type) {
    case '+': case '-': case ':': case '_': case ',': case '#': case '(':
      return afterLine;
    case '$': case '!': case '=': {
      const len = Number(header);
      if (!Number.isInteger(len)) return -2;
      if (len < 0) return afterLine;
      return buf.length >= afterLine + len + 2 ? afterLine + len + 2 : -1;
    }
    case '*': case '~': case '>': case '%': case '|': {
      let count = Number(header);
      if (!Number.isInteger(count)) return -2;
      if (count < 0) return afterLine;
      if (type === '%' || type === '|') count *= 2;
      let q = afterLine;
      for (let i = 0; i < count; i++) {
        q = replyEnd(buf, q);
        if (q < 0) return q;
      }
      return q;
    }
    default:
      return -2;
  }
}

/** Garbage that can never complete a reply line by itself: no CR, no LF, no RESP type byte. */
function randomGarbage(n) {
  const out = Buffer.alloc(n);
  const forbidden = new Set(Buffer.from('\r\n+-:$*_,#!=(~>%|'));
  let i = 0;
  while (i < n) {
    const b = crypto.randomBytes(1)[0];
    if (!forbidden.has(b)) out[i++] = b;
  }
  return out;
}

class Pair {
  constructor(proxy, client) {
    this.proxy = proxy;
    this.client = client;
    this.open = true;
    this.held = []; // server→client bytes held while stalled
    this.heldReplies = 0; // whole replies in `held`
    this.budget = Infinity; // bytes still allowed through in stall-after
    this.partial = Buffer.alloc(0); // start of the server reply not yet complete
    this.scanBroken = false;
    this.serial = proxy.stats.accepted; // this connection's number, from 1
    this.serverBytes = 0; // server→client bytes received so far
    this.tlsHeader = Buffer.alloc(0); // start of a TLS record header split across chunks
    this.tlsRemaining = 0; // payload bytes of the current TLS record still to come
    this.tlsBroken = false; // the stream is not TLS records
    this.faultedBy = 0; // the arming of the proxy that last fired on this connection
    this.up = { queue: [], timer: undefined, write: (b) => this.server.write(b) };
    this.down = { queue: [], timer: undefined, write: (b) => this.deliver(b) };
    this.server = net.connect({ host: proxy.target.host, port: proxy.target.port });
    this.server.setNoDelay(true);
    client.setNoDelay(true);
    client.on('data', (chunk) => this.fromClient(chunk));
    this.server.on('data', (chunk) => this.fromServer(chunk));
    client.on('error', () => {});
    this.server.on('error', () => {});
    client.on('close', () => {
      if (this.open) proxy.emit('client-close', { at: performance.now(), byProxy: false });
      this.teardown();
    });
    this.server.on('close', () => this.teardown());
    if (proxy.mode === 'stall-after') this.budget = proxy.arg;
  }

  teardown() {
    if (!this.open) return;
    this.open = false;
    this.proxy.pairs.delete(this);
    clearTimeout(this.up.timer);
    clearTimeout(this.down.timer);
    this.client.destroy();
    this.server.destroy();
  }

  fromClient(chunk) {
    this.proxy.stats.bytesUp += chunk.length;
    this.later(this.up, chunk, this.proxy.mode === 'delay' ? this.proxy.arg : 0);
  }

  /** Forwards `bytes` after `ms`, never ahead of bytes queued earlier in that direction. */
  later(dir, bytes, ms) {
    if (ms === 0 && dir.queue.length === 0) {
      dir.write(bytes);
      return;
    }
    dir.queue.push({ due: performance.now() + ms, bytes });
    this.pump(dir);
  }

  pump(dir) {
    if (dir.timer !== undefined) return;
    while (dir.queue.length > 0 && this.open) {
      const wait = dir.queue[0].due - performance.now();
      if (wait > 0) {
        dir.timer = setTimeout(() => { dir.timer = undefined; this.pump(dir); }, Math.ceil(wait));
        return;
      }
      dir.write(dir.queue.shift().bytes);
    }
  }

  /** Reply boundaries (offsets into `chunk`) found while scanning it. */
  boundaries(chunk) {
    if (this.scanBroken) return [];
    const base = this.partial.length;
    const buf = base ? Buffer.concat([this.partial, chunk]) : chunk;
    const found = base === 0 ? [0] : [];
    let p = 0;
    for (;;) {
      const end = replyEnd(buf, p);
      if (end === -2) {
        this.scanBroken = true;
        break;
      }
      if (end < 0) break;
      p = end;
      if (p - base > 0) found.push(p - base);
    }
    this.partial = this.scanBroken ? Buffer.alloc(0) : buf.subarray(p);
    return found;
  }

  /** TLS records whose 5-byte header starts (and ends) in `chunk`: [{ at, type, length }]. */
  tlsRecords(chunk) {
    const found = [];
    let p = 0;
    while (p < chunk.length && !this.tlsBroken) {
      if (this.tlsRemaining > 0) {
        const n = Math.min(this.tlsRemaining, chunk.length - p);
        this.tlsRemaining -= n;
        p += n;
        continue;
      }
      const headerStart = p - this.tlsHeader.length; // < 0: the header began in an earlier chunk
      const take = Math.min(TLS_HEADER - this.tlsHeader.length, chunk.length - p);
      this.tlsHeader = Buffer.concat([this.tlsHeader, chunk.subarray(p, p + take)]);
      p += take;
      if (this.tlsHeader.length < TLS_HEADER) break;
      const type = this.tlsHeader[0];
      if (type < 20 || type > 24 || this.tlsHeader[1] !== 3) {
        this.tlsBroken = true; // e.g. RESP: nothing to find
        break;
      }
      this.tlsRemaining = this.tlsHeader.readUInt16BE(3);
      this.tlsHeader = Buffer.alloc(0);
      if (headerStart >= 0) found.push({ at: headerStart, type, length: this.tlsRemaining });
    }
    return found;
  }

  deliver(bytes) {
    if (!this.open || bytes.length === 0) return;
    this.proxy.stats.bytesDown += bytes.length;
    this.client.write(bytes);
  }

  fromServer(chunk) {
    const proxy = this.proxy;
    proxy.stats.bytesFromServer += chunk.length;
    const start = this.serverBytes; // stream position of chunk[0]
    this.serverBytes += chunk.length;
    const cuts = this.boundaries(chunk);
    const records = this.tlsRecords(chunk);
    const mode = proxy.mode;
    if (mode === 'stall' || (mode === 'stall-after' && this.budget <= 0)) {
      this.held.push(chunk);
      this.heldReplies += cuts.filter((c) => c > 0).length;
      return;
    }
    if (mode === 'stall-after') {
      const n = Math.min(this.budget, chunk.length);
      this.budget -= n;
      this.deliver(chunk.subarray(0, n));
      if (n < chunk.length) this.held.push(chunk.subarray(n));
      return;
    }
    if (ONE_SHOT.has(mode)) {
      if (proxy.qualifies(this, start, chunk.length)) proxy.fire(this, mode, chunk, { cuts, records, start });
      else this.deliver(chunk);
      return;
    }
    this.later(this.down, chunk, mode === 'delay' ? proxy.arg : 0);
  }

  flushHeld() {
    const held = this.held;
    this.held = [];
    this.heldReplies = 0;
    for (const chunk of held) this.deliver(chunk);
  }

  reset() {
    if (!this.open) return;
    this.open = false;
    this.proxy.pairs.delete(this);
    this.proxy.emit('client-close', { at: performance.now(), byProxy: true });
    this.client.resetAndDestroy();
    this.server.destroy();
  }

  fin() {
    if (!this.open) return;
    this.open = false;
    this.proxy.pairs.delete(this);
    this.proxy.emit('client-close', { at: performance.now(), byProxy: true });
    this.server.destroy();
    this.client.end();
    // Never wait for a client that ignores the FIN.
    setTimeout(() => this.client.destroy(), 1000).unref();
  }
}

class FaultProxy extends EventEmitter {
  constructor(target) {
    super();
    this.target = target;
    this.mode = 'pass';
    this.arg = undefined;
    this.pairs = new Set();
    this.stats = { accepted: 0, bytesUp: 0, bytesFromServer: 0, bytesDown: 0, fired: 0 };
    this.fired = Promise.resolve();
    this.firedDetail = undefined;
    this.armed = 0; // how many times a one-shot mode was set
    this.armedAfter = 0; // connections accepted before that (for `fresh`)
    this.remaining = 0; // firings left
    this.server = net.createServer((socket) => {
      this.stats.accepted++;
      const pair = new Pair(this, socket);
      this.pairs.add(pair);
      this.emit('connection', { at: performance.now() });
    });
  }

  get port() { return this.server.address().port; }

  /** Whole replies held back (in `stall`) over every open connection. */
  get heldReplies() {
    let n = 0;
    for (const pair of this.pairs) n += pair.heldReplies;
    return n;
  }

  /** Changes the fault mode; see the top of this file. Returns the proxy. */
  set(mode, arg) {
    if (!MODES.has(mode)) throw new Error(`fault-proxy: unknown mode ${mode}`);
    const previous = this.mode;
    if (mode === 'reset' || mode === 'fin') {
      this.mode = 'pass';
      this.arg = undefined;
      const open = [...this.pairs];
      for (const pair of open) pair[mode]();
      this.stats.fired++;
      this.firedDetail = { mode, connections: open.length };
      return this;
    }
    this.mode = mode;
    this.arg = arg;
    if (mode === 'stall-after') {
      for (const pair of this.pairs) pair.budget = arg;
    }
    if (ONE_SHOT.has(mode)) {
      this.armed++;
      this.armedAfter = this.stats.accepted;
      this.remaining = placement(arg).times ?? 1;
      this.fired = new Promise((resolve) => { this.onFired = resolve; });
    }
    if (mode === 'pass' && (previous === 'stall' || previous === 'stall-after')) {
      for (const pair of this.pairs) {
        pair.budget = Infinity;
        pair.flushHeld();
      }
    }
    return this;
  }

  /** Whether a chunk of `pair`'s server stream at `start` may take the armed fault. */
  qualifies(pair, start, length) {
    const { offset, fresh } = placement(this.arg);
    if (pair.faultedBy === this.armed) return false; // once per connection
    if (fresh && pair.serial <= this.armedAfter) return false;
    return offset === undefined || (offset >= start && offset < start + length);
  }

  /** Applies a one-shot fault to `chunk` from `pair`'s server (see the top of this file). */
  fire(pair, mode, chunk, { cuts, records, start }) {
    const arg = this.arg;
    const { offset, close } = placement(arg);
    // The first boundary strictly inside the chunk, or the chunk's start when it is one.
    const firstReplyEnd = cuts.find((c) => c > 0);
    const middleOfFirstReply = Math.max(1,
      Math.floor((cuts.includes(0) ? (firstReplyEnd ?? chunk.length) : chunk.length) / 2));
    // Where the fault goes in this chunk; undefined when the chunk has no such place: then it
    // passes unchanged and the fault stays armed for a later chunk.
    let at;
    if (offset !== undefined) {
      at = offset - start;
    } else if (mode === 'truncate') {
      at = typeof arg === 'number' ? Math.min(arg, chunk.length - 1) : middleOfFirstReply;
    } else if (mode === 'garbage') {
      if (arg?.at === 'bulk') at = insideBulkPayload(chunk, cuts);
      else if (arg?.at === 'record') at = insideRecordPayload(chunk, records);
      else if (arg?.at === 'inside') at = middleOfFirstReply;
      else at = cuts[0] ?? 0;
    } else {
      // extra: prefer a boundary after the first reply, so a caller is already waiting behind it
      at = firstReplyEnd ?? cuts[0];
    }
    if (at === undefined) {
      pair.deliver(chunk);
      return;
    }
    this.stats.fired++;
    pair.faultedBy = this.armed;
    if (--this.remaining <= 0) {
      this.mode = 'pass';
      this.arg = undefined;
    }
    let detail;
    if (mode === 'truncate') {
      pair.deliver(chunk.subarray(0, at));
      detail = { mode, forwarded: at, of: chunk.length, offset: start + at, close: close ?? 'fin' };
      if (close === 'reset') pair.reset();
      else pair.fin();
    } else {
      const bytes = mode === 'garbage'
        ? (Buffer.isBuffer(arg) ? arg : (arg?.bytes ?? randomGarbage(8)))
        : Buffer.from((Buffer.isBuffer(arg) || typeof arg === 'string') ? arg : (arg?.bytes ?? '+OK\r\n'));
      pair.deliver(Buffer.concat([chunk.subarray(0, at), bytes, chunk.subarray(at)]));
      detail = mode === 'garbage' ? { mode, at, offset: start + at, bytes: bytes.toString('hex') } : { mode, at };
    }
    this.firedDetail = detail;
    this.emit('fired', detail);
    this.onFired?.(detail);
  }

  /** Closes the listener and every connection. */
  close() {
    for (const pair of [...this.pairs]) pair.teardown();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * @param {{port: number, host?: string}} target the real redis-server
 * @returns {Promise<FaultProxy>} listening on a free 127.0.0.1 port
 */
async function startFaultProxy(target) {
  const proxy = new FaultProxy({ host: target.host ?? '127.0.0.1', port: target.port });
  await new Promise((resolve, reject) => {
    proxy.server.once('error', reject);
    proxy.server.listen(0, '127.0.0.1', resolve);
  });
  return proxy;
}

/** The placement keys of a one-shot mode's arg (an object arg; see the top of this file). */
function placement(arg) {
  return arg !== null && typeof arg === 'object' && !Buffer.isBuffer(arg) ? arg : {};
}

/** Offset in the middle of the payload bytes (in `chunk`) of its first application-data record. */
function insideRecordPayload(chunk, records) {
  const record = records.find((r) => r.type === TLS_APPLICATION_DATA && r.length > 1
    && r.at + TLS_HEADER < chunk.length);
  if (record === undefined) return undefined;
  const inChunk = Math.min(record.length, chunk.length - record.at - TLS_HEADER);
  return record.at + TLS_HEADER + Math.floor(inChunk / 2);
}

/** Offset in the middle of the payload of the first whole `$<len>` reply starting at a cut. */
function insideBulkPayload(chunk, cuts) {
  for (const cut of cuts) {
    if (chunk[cut] !== 0x24) continue; // '$'
    const headerEnd = chunk.indexOf('\r\n', cut);
    if (headerEnd < 0) return undefined;
    const length = Number(chunk.toString('latin1', cut + 1, headerEnd));
    if (!(length > 1) || headerEnd + 2 + length + 2 > chunk.length) continue;
    return headerEnd + 2 + Math.floor(length / 2);
  }
  return undefined;
}

/**
 * A redis-server of the test's own with a fault proxy in front, holding `entries` ([key,
 * value] pairs, written over a direct connection). `stop()` closes the proxy and the server.
 */
async function startProxiedRedis(entries = []) {
  const { startRedis } = require('./redis-server');
  const { RedisClient } = require('../../lib');
  const redis = await startRedis();
  const proxy = await startFaultProxy({ port: redis.port });
  const seed = new RedisClient(redis.url);
  await Promise.all(entries.map(([key, value]) => seed.command(['SET', key, value])));
  await seed.disconnect();
  const stop = async () => {
    await proxy.close();
    await redis.cleanup();
  };
  return { redis, proxy, stop };
}

module.exports = { startFaultProxy, startProxiedRedis, replyEnd, randomGarbage };
