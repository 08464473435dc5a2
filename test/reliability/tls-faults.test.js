'use strict';

// Faults under TLS. The fault proxy (test/helpers/fault-proxy.js) sits between the client and
// the TLS port of a real server and forwards the ciphertext as it comes, so what it breaks is
// the TLS stream itself:
//   - half-open: replies stop while every socket stays open (also the server's handshake
//     flight of each new connection), under load and on an idle connection;
//   - the TLS handshake: the first server flight cut (FIN or RST) or with garbage in it, a
//     record header that announces more than ever comes, and the connection cut or garbled
//     after the TLS handshake but before the reply to its PING;
//   - after the handshake, under 64 in flight: garbage inside an application-data record (its
//     authentication check fails), the stream cut mid-record, RST, FIN.
// Every op must settle (with its own key's value or a typed error), no caller may get another
// key's value (values embed their key and a version), and the client must come back by itself.
// Restart under load, 64 MiB values, 50,000 pipelined and disconnect() with 10,000 in flight
// over TLS are in test/integration/redis-tls.test.js.
//
// Scale: TLS_STALL_MS (how long the half-open stall lasts; default 3000), FAULT_LOAD_MS (how
// long the load runs after each fault; default 500).

const { RedisClient, RedisTlsError, RedisConnectionError } = require('../../lib');
const { startRedis } = require('../helpers/redis-server');
const { startFaultProxy } = require('../helpers/fault-proxy');
const { makeCertificates } = require('../helpers/tls-certs');
const { sleep, watchTimerLag, allowing } = require('../helpers/timing');
const { rejectionOf, versionedValues, runLoad } = require('../helpers/load');

const STALL_MS = Number(process.env.TLS_STALL_MS ?? 3000);
const AFTER_MS = Number(process.env.FAULT_LOAD_MS ?? 500);
const KEYS = 256;
const PAYLOAD = 'p'.repeat(48);
// For the tests whose fault is not a timeout: far above what the fault path takes even on a
// loaded machine, so an op (or a connect) that waited for its timer cannot pass for one the
// fault ended.
const FAR = 10_000;
jest.setTimeout(STALL_MS + 60_000 + AFTER_MS * 4);

const { versioned, isOwn } = versionedValues(PAYLOAD);

let certs;
let redis;
let proxy;
let admin; // a direct TLS connection of the test's own, for INFO
let url;
beforeAll(async () => {
  certs = makeCertificates();
  redis = await startRedis({ tls: { certFile: certs.server.certFile, keyFile: certs.server.keyFile } });
  proxy = await startFaultProxy({ port: redis.port });
  url = `rediss://127.0.0.1:${proxy.port}`;
  const seed = new RedisClient(redis.url, { tls: { ca: certs.ca.cert }, connectTimeout: FAR, commandTimeout: FAR });
  await Promise.all(Array.from({ length: KEYS }, (_, i) => seed.command(['SET', `t${i}`, versioned(`t${i}`, 0)])));
  await seed.disconnect();
  admin = await redis.raw();
});
afterAll(async () => {
  await admin?.close();
  await proxy?.close();
  await redis?.cleanup();
  certs?.cleanup();
});

const clients = [];
/** A client of the TLS port through the proxy, verifying the server with the test CA. */
function client(options) {
  const c = new RedisClient(url, { tls: { ca: certs.ca.cert }, ...options });
  clients.push(c);
  return c;
}
// A test that failed half-way leaves no client behind to reconnect during the next one.
afterEach(() => {
  for (const c of clients.splice(0)) c.destroy();
  proxy.set('pass');
});

/** GET and SET calls the server has executed so far (INFO commandstats). */
async function executed() {
  const text = await admin.command(['INFO', 'commandstats']);
  let calls = 0;
  for (const line of text.split('\r\n')) {
    const m = /^cmdstat_(get|set):calls=(\d+)/.exec(line);
    if (m) calls += Number(m[2]);
  }
  return calls;
}

/** The load of the fault tests (test/helpers/load.js) on keys t0…t255, typed errors naming the proxy. */
function load(c, concurrency, until, counts) {
  return runLoad(c, {
    concurrency, until, counts, keyOf: (w, n) => `t${(w * 37 + n * 11) % KEYS}`, versioned, isOwn,
    address: `127.0.0.1:${proxy.port}`, pauseAfterErrorMs: 5,
  });
}

/** Records when the proxy accepted connections and when the client closed them. */
function watchProxy() {
  const accepts = [];
  const clientCloses = [];
  const onAccept = (e) => accepts.push(e.at);
  const onClose = (e) => { if (!e.byProxy) clientCloses.push(e.at); };
  proxy.on('connection', onAccept);
  proxy.on('client-close', onClose);
  return {
    accepts,
    clientCloses,
    stop() {
      proxy.off('connection', onAccept);
      proxy.off('client-close', onClose);
    },
  };
}

describe('half-open over TLS: replies stop, sockets stay open', () => {
  // As in half-open.test.js, and over TLS the stall also holds the server's handshake flight
  // of every new connection: each reconnect during the stall ends at the connect timeout.
  const COMMAND_TIMEOUT = 1000;
  const CONNECT_TIMEOUT = 1000;
  // A heal that lands just before a capped backoff step waits up to 1 s, then connect, TLS
  // handshake and its PING (250 ms); an attempt held by the stall completes at the heal.
  const RECOVERY_DESIGN_MS = 1250;

  test('under 64-way load: ops reject at the command or connect timeout, the connection is replaced, recovery after heal, 0 wrong values', async () => {
    const c = client({ commandTimeout: COMMAND_TIMEOUT, connectTimeout: CONNECT_TIMEOUT, healthCheckInterval: 1000 });
    await c.command(['PING']);
    const watch = watchProxy();
    const lag = watchTimerLag();
    let stop = false;
    const running = load(c, 64, () => stop);
    await sleep(300);
    const stallAt = performance.now();
    proxy.set('stall');
    await sleep(STALL_MS);
    const healAt = performance.now();
    proxy.set('pass');
    await sleep(1500);
    stop = true;
    const ops = await running;
    watch.stop();
    await c.disconnect({ timeout: 1000 });
    const worstLag = lag.stop();

    const wrong = ops.filter((o) => o.wrong).length;
    const during = ops.filter((o) => o.start >= stallAt && o.end <= healAt);
    const slowest = during.reduce((m, o) => Math.max(m, o.end - o.start), 0);
    // The ops the stall caught: the 64 in flight when it began (they time out) and those
    // issued during it (they wait for a reconnect whose handshake gets no answer, or fail
    // fast). (An op issued before the stall may still succeed after it began: its reply had
    // passed the proxy already.)
    const caught = ops.filter((o) => o.code !== undefined && o.end > stallAt && o.start < healAt);
    const codes = new Set(caught.map((o) => o.code));
    const firstDeath = watch.clientCloses.find((t) => t > stallAt) - stallAt;
    // The earliest deadline among the ops the stall caught (some were issued before it).
    const firstDeadline = Math.min(...ops.filter((o) => o.code !== undefined && o.end > stallAt)
      .map((o) => o.start)) + COMMAND_TIMEOUT;
    const firstReplacement = watch.accepts.find((t) => t > stallAt + firstDeath - 50) - stallAt;
    const attempts = watch.accepts.filter((t) => t > stallAt && t < healAt).length;
    const recoveredOp = ops.find((o) => o.start >= healAt && o.ok);
    const recovery = recoveredOp.end - healAt;
    const lateFailures = ops.filter((o) => o.start >= recoveredOp.end && !o.ok).length;
    console.log(`TLS stall ${STALL_MS} ms, 64 in flight: ops ${ops.length}, during stall ${during.length} `
      + `(slowest ${slowest.toFixed(0)} ms), codes of the ops it caught ${[...codes].join(',')}, first connection declared dead `
      + `${firstDeath.toFixed(0)} ms after the stall, replaced at ${firstReplacement.toFixed(0)} ms, `
      + `connect attempts during the stall ${attempts}, recovered ${recovery.toFixed(0)} ms after heal, `
      + `failures after recovery ${lateFailures}, wrong ${wrong}, worst timer lateness ${worstLag.toFixed(0)} ms`);

    expect(wrong).toBe(0);
    expect(during.length).toBeGreaterThan(0);
    for (const op of during) expect(op.ok).toBeUndefined(); // nothing answered through a stalled proxy
    for (const op of caught) expect(op.typed).toBe(true);
    for (const code of codes) {
      expect(['ERR_REDIS_TIMEOUT', 'ERR_REDIS_CONNECTION', 'ERR_REDIS_CONNECT_TIMEOUT']).toContain(code);
    }
    expect(codes).toContain('ERR_REDIS_TIMEOUT'); // the 64 written before the stall
    // Reconnects during the stall get no handshake flight: they end at the connect timeout.
    expect(codes).toContain('ERR_REDIS_CONNECT_TIMEOUT');
    // An op waits at most for its own deadline or for the connect attempt it is queued
    // behind, never for the heal.
    expect(slowest).toBeLessThan(allowing(Math.max(COMMAND_TIMEOUT, CONNECT_TIMEOUT), worstLag, 500));
    expect(slowest).toBeLessThan(STALL_MS);
    // Declared dead by a deadline, never before the first one.
    expect(stallAt + firstDeath).toBeGreaterThanOrEqual(firstDeadline - 20);
    expect(firstDeath).toBeLessThan(allowing(COMMAND_TIMEOUT, worstLag, 500));
    expect(firstReplacement).toBeLessThan(STALL_MS);
    // Attempts keep the pace of the connect timeout (each waits for it), not one per call.
    expect(attempts).toBeLessThanOrEqual(Math.ceil(STALL_MS / CONNECT_TIMEOUT) + 2);
    expect(recovery).toBeLessThan(allowing(RECOVERY_DESIGN_MS, worstLag));
    expect(lateFailures).toBe(0);
  });

  // With healthCheckInterval 1000 the PING goes out 1–2 s after the last activity and times
  // out COMMAND_TIMEOUT later: ≤ 2 s + COMMAND_TIMEOUT.
  test('an idle connection: the health PING declares it dead and it is replaced at once; service within 1 s of heal', async () => {
    const c = client({ commandTimeout: 500, connectTimeout: CONNECT_TIMEOUT, healthCheckInterval: 1000 });
    expect(isOwn('t1', await c.command(['GET', 't1']))).toBe(true);
    const watch = watchProxy();
    const lag = watchTimerLag();
    const stallAt = performance.now();
    proxy.set('stall');
    while (watch.clientCloses.length === 0 && performance.now() - stallAt < 10_000) await sleep(20);
    const dead = watch.clientCloses[0] - stallAt;
    while (watch.accepts.length === 0 && performance.now() - stallAt < 10_000) await sleep(20);
    const replaced = watch.accepts[0] - stallAt;
    await sleep(Math.max(0, Math.min(STALL_MS, 10_000) - (performance.now() - stallAt)));
    const healAt = performance.now();
    proxy.set('pass');
    let value;
    let tries = 0;
    const failures = new Set();
    while (value === undefined && performance.now() - healAt < 5000) {
      tries++;
      value = await c.command(['GET', 't2']).catch((e) => {
        failures.add(e.code);
        return sleep(20).then(() => undefined);
      });
    }
    const recovery = performance.now() - healAt;
    watch.stop();
    await c.disconnect({ timeout: 1000 });
    const worstLag = lag.stop();
    console.log(`TLS idle half-open (healthCheckInterval 1000 ms, commandTimeout 500 ms): declared dead `
      + `${dead.toFixed(0)} ms after the stall, new connection at ${replaced.toFixed(0)} ms, recovered `
      + `${recovery.toFixed(0)} ms after heal (${tries} tries, codes before ${[...failures].join(',') || '-'}), `
      + `worst timer lateness ${worstLag.toFixed(0)} ms`);
    expect(isOwn('t2', value)).toBe(true);
    expect(dead).toBeLessThan(allowing(2500, worstLag));
    // Replaced at once, not after a backoff step (the proxy may see the new connection before
    // the old one's close).
    expect(Math.abs(replaced - dead)).toBeLessThan(allowing(100, worstLag));
    expect(recovery).toBeLessThan(allowing(1000, worstLag));
    for (const code of failures) expect(['ERR_REDIS_CONNECT_TIMEOUT', 'ERR_REDIS_TIMEOUT']).toContain(code);
  });
});

describe('byte faults in the TLS handshake', () => {
  // The proxy breaks the first FAULTY connection attempts of a client it has not seen, then
  // lets the next one through. A fault in the server's first flight is a RedisTlsError: the
  // TCP connection was up and the TLS negotiation did not finish. Garbage is caught by
  // OpenSSL (tlsCode from its reason); a server that ends the connection mid-handshake, with
  // FIN or with RST, gives tlsCode 'ECONNRESET', as Node names it. (FIN and RST are not told
  // apart: libuv reports an RST that comes with the last bytes read as the end of the
  // stream.) Once the TLS handshake is done, the connection is still not ready until the
  // reply to its PING; a connection lost then is a RedisConnectionError, as after it.
  const FAULTY = 3;
  const GARBAGE = Buffer.from('GARBAGE!');
  // Jittered backoff after the n-th failure in a row: 50·2^(n-1) ms, in [half, whole].
  const BACKOFF_FLOOR = [25, 50, 100];
  const BACKOFF_CEILING = [50, 100, 200];
  // One connect + TLS handshake + PING on a busy machine (the fault itself ends its attempt
  // in a few ms).
  const ATTEMPT_DESIGN_MS = 250;
  // The server's first flight with the test certificates (P-256) is about 790 bytes; its
  // session tickets follow once the client has finished: byte 1000 is among them.
  const AFTER_HANDSHAKE = 1000;

  const cases = [
    // name, mode, arg, error class (or the classes it may be), tlsCode (RedisTlsError) or
    // errno, message
    ['FIN before the first byte', 'truncate', { offset: 0 }, RedisTlsError,
      /^ECONNRESET$/, /^TLS handshake failed: the server closed the connection/],
    ['RST before the first byte', 'truncate', { offset: 0, close: 'reset' }, RedisTlsError,
      /^ECONNRESET$/, /^TLS handshake failed: the server (reset|closed) the connection/],
    ['FIN inside the server hello', 'truncate', { offset: 60 }, RedisTlsError,
      /^ECONNRESET$/, /^TLS handshake failed: the server closed the connection/],
    ['RST inside the server hello', 'truncate', { offset: 60, close: 'reset' }, RedisTlsError,
      /^ECONNRESET$/, /^TLS handshake failed: the server (reset|closed) the connection/],
    ['garbage before the first record header', 'garbage', { offset: 0, bytes: GARBAGE }, RedisTlsError,
      /^ERR_SSL_/, /^TLS handshake failed: wrong version number/],
    ['garbage inside the server hello', 'garbage', { offset: 20, bytes: GARBAGE }, RedisTlsError,
      /^ERR_SSL_/, /^TLS handshake failed: /],
    // TLS 1.3 (the server's default): the rest of the flight is encrypted in records of type 23.
    ['garbage inside an encrypted handshake record', 'garbage', { at: 'record', bytes: GARBAGE }, RedisTlsError,
      /^ERR_SSL_DECRYPTION_FAILED_OR_BAD_RECORD_MAC$/, /^TLS handshake failed: decryption failed or bad record mac/],
    ['FIN after the TLS handshake, before the PING reply', 'truncate', { offset: AFTER_HANDSHAKE }, RedisConnectionError,
      /^ECONNRESET$/, /^connection closed by the server/],
    // A reset may discard the bytes just before it (the proxy's RST drops what it had not sent
    // yet). A TLS 1.3 connection that got nothing after its handshake and then ends is a
    // RedisTlsError: that is how a server refusing the client's certificate looks.
    ['RST after the TLS handshake, before the PING reply', 'truncate', { offset: AFTER_HANDSHAKE, close: 'reset' },
      [RedisConnectionError, RedisTlsError], /^ECONNRESET$/,
      /^(connection (closed by the server|lost: connection reset by peer)|TLS connection failed: the server closed the connection right after the TLS 1\.3 handshake)/],
    ['garbage after the TLS handshake, before the PING reply', 'garbage', { offset: AFTER_HANDSHAKE, bytes: GARBAGE },
      RedisTlsError, /^ERR_SSL_DECRYPTION_FAILED_OR_BAD_RECORD_MAC$/, /^TLS connection failed: decryption failed or bad record mac/],
  ];

  const codeOf = (error) => (error instanceof RedisTlsError ? error.tlsCode : error.errno);
  const isOneOf = (error, classes) => [classes].flat().some((C) => error instanceof C);

  test.each(cases)('%s: the attempt fails as a typed error, calls fail fast (offlineQueue 0) or are held (offlineQueue 100), reconnect after the backoff', async (name, mode, arg, ErrorClass, codePattern, messagePattern) => {
    const address = `127.0.0.1:${proxy.port}`;
    // offlineQueue 0 (the default): the call that opened the connection gets the failure,
    // later calls fail fast until an attempt succeeds.
    const fast = client({ connectTimeout: FAR, commandTimeout: FAR });
    let acceptedBefore = proxy.stats.accepted;
    let watch = watchProxy();
    const lag = watchTimerLag();
    proxy.set(mode, { ...arg, fresh: true, times: FAULTY });
    const t0 = performance.now();
    const first = await rejectionOf(fast.command(['GET', 't3']));
    const firstMs = performance.now() - t0;
    const rejections = [];
    const failFastMs = [];
    let value;
    while (value === undefined && performance.now() - t0 < FAR) {
      const t = performance.now();
      try {
        value = await fast.command(['GET', 't3']);
      } catch (error) {
        failFastMs.push(performance.now() - t);
        rejections.push(error);
        await sleep(5);
      }
    }
    const recovered = performance.now() - t0;
    const attempts = proxy.stats.accepted - acceptedBefore;
    const accepts = [...watch.accepts];
    watch.stop();
    const detail = proxy.firedDetail;
    await fast.disconnect({ timeout: 1000 });

    // offlineQueue 100: calls made while the attempts fail are held and run once one succeeds.
    const held = client({ connectTimeout: FAR, commandTimeout: FAR, offlineQueue: 100 });
    acceptedBefore = proxy.stats.accepted;
    watch = watchProxy();
    proxy.set(mode, { ...arg, fresh: true, times: FAULTY });
    const heldCalls = [];
    const keyOf = (i) => `t${100 + i}`;
    for (let i = 0; i < 20; i++) heldCalls.push(held.command(['GET', keyOf(i)]));
    for (let i = 20; i < 40; i++) {
      await sleep(10);
      heldCalls.push(held.command(['GET', keyOf(i)]));
    }
    const heldResults = await Promise.allSettled(heldCalls);
    const heldAttempts = proxy.stats.accepted - acceptedBefore;
    watch.stop();
    await held.disconnect({ timeout: 1000 });
    const worstLag = lag.stop();

    const span = accepts[FAULTY] - accepts[0];
    failFastMs.sort((a, b) => a - b);
    const p90FailFast = failFastMs[Math.floor(failFastMs.length * 0.9)] ?? 0;
    const slowestFailFast = failFastMs.at(-1) ?? 0;
    console.log(`TLS handshake, ${name} (${JSON.stringify(detail)}): first call ${first.constructor.name} `
      + `[${codeOf(first)}] "${first.message}" in ${firstMs.toFixed(1)} ms; ${rejections.length} calls failed fast `
      + `(90th percentile ${p90FailFast.toFixed(1)} ms, slowest ${slowestFailFast.toFixed(1)} ms), success ${recovered.toFixed(0)} ms after the first call, `
      + `attempts ${attempts} (first to last ${span.toFixed(0)} ms); offlineQueue 100: `
      + `${heldResults.filter((r) => r.status === 'fulfilled').length}/40 resolved, attempts ${heldAttempts}; `
      + `worst timer lateness ${worstLag.toFixed(0)} ms`);

    // The failed attempt: a typed error naming the address and the cause, from the fault (a
    // few ms), not from the connect or command timer (FAR).
    expect(isOneOf(first, ErrorClass)).toBe(true);
    expect(first.code).toBe(first instanceof RedisTlsError ? 'ERR_REDIS_TLS' : 'ERR_REDIS_CONNECTION');
    expect(codeOf(first)).toMatch(codePattern);
    expect(first.message).toMatch(messagePattern);
    expect(first.message).toContain(address);
    expect(firstMs).toBeLessThan(FAR / 4);
    // Calls while the attempts keep failing: fail fast, with the same class and cause.
    expect(rejections.length).toBeGreaterThan(0);
    for (const error of rejections) {
      expect(isOneOf(error, ErrorClass)).toBe(true);
      expect(error.message).toContain('failing fast');
      expect(error.message).toContain(address);
      expect(codeOf(error)).toMatch(codePattern);
    }
    // They do not wait for the attempt under way. (A call can still meet the I/O thread
    // busy, or not scheduled, for a while on a loaded machine, which the lateness of this
    // thread's timers does not show: the bound is on the 90th percentile, and on all of them
    // only that none waited for a timer.)
    expect(p90FailFast).toBeLessThan(allowing(50, worstLag));
    expect(slowestFailFast).toBeLessThan(FAR / 4);
    // Then the client is back, with the right value.
    expect(isOwn('t3', value)).toBe(true);
    // One attempt per backoff step, not one per call (a call went out every ~5 ms): the
    // FAULTY broken ones and the one that worked.
    expect(attempts).toBe(FAULTY + 1);
    // The attempts waited for the backoff: a timer never fires early, and each step counts
    // from the start of the attempt before it. (The proxy runs on this thread: less its
    // lateness in seeing the first accept, and 10 ms.)
    const floor = BACKOFF_FLOOR.reduce((a, b) => a + b, 0);
    expect(span).toBeGreaterThanOrEqual(floor - 10 - worstLag);
    // …and not much more.
    const ceiling = BACKOFF_CEILING.reduce((a, b) => a + b, 0);
    expect(recovered).toBeLessThan(allowing(ceiling + (FAULTY + 1) * ATTEMPT_DESIGN_MS, worstLag));
    // Held calls: every one resolved with its own key's value, over the one good connection.
    for (const [i, r] of heldResults.entries()) {
      expect(r.status).toBe('fulfilled');
      expect(isOwn(keyOf(i), r.value)).toBe(true);
    }
    expect(heldAttempts).toBe(FAULTY + 1);
  });

  test('a record header that announces more than ever comes: the handshake waits, the connect timeout ends the attempt, the next one works', async () => {
    // A handshake record header of 16 KiB before the real flight: OpenSSL waits for the rest
    // of a record that never arrives. Only the connect timeout can end that attempt.
    const CONNECT_TIMEOUT = 500;
    const c = client({ connectTimeout: CONNECT_TIMEOUT, commandTimeout: FAR });
    const acceptedBefore = proxy.stats.accepted;
    const lag = watchTimerLag();
    proxy.set('garbage', { offset: 0, bytes: Buffer.from([0x16, 0x03, 0x03, 0x40, 0x00]), fresh: true });
    const t0 = performance.now();
    const error = await rejectionOf(c.command(['GET', 't4']));
    const took = performance.now() - t0;
    let value;
    while (value === undefined && performance.now() - t0 < FAR) {
      value = await c.command(['GET', 't4']).catch(() => sleep(20).then(() => undefined));
    }
    const recovered = performance.now() - t0;
    const worstLag = lag.stop();
    await c.disconnect({ timeout: 1000 });
    console.log(`TLS handshake, a 16 KiB record header first: ${error.constructor.name} "${error.message}" after `
      + `${took.toFixed(0)} ms (connectTimeout ${CONNECT_TIMEOUT}), served again ${recovered.toFixed(0)} ms after the `
      + `first call, attempts ${proxy.stats.accepted - acceptedBefore}, worst timer lateness ${worstLag.toFixed(0)} ms`);
    expect(error.code).toBe('ERR_REDIS_CONNECT_TIMEOUT');
    expect(error.message).toContain(`127.0.0.1:${proxy.port}`);
    expect(took).toBeGreaterThanOrEqual(CONNECT_TIMEOUT - 20);
    expect(took).toBeLessThan(allowing(CONNECT_TIMEOUT, worstLag, 500));
    expect(isOwn('t4', value)).toBe(true);
    expect(proxy.stats.accepted - acceptedBefore).toBe(2);
    // The timeout, then one backoff step (≤ 50 ms, less the time the attempt waited) and a
    // clean attempt.
    expect(recovered).toBeLessThan(allowing(CONNECT_TIMEOUT + 50 + ATTEMPT_DESIGN_MS, worstLag, 500));
  });
});

describe('faults after the TLS handshake, under 64 in flight', () => {
  const cases = [
    // name, mode, arg, the codes the in-flight ops may get, their tlsCode
    // Bytes inserted inside a record's payload: its authentication tag no longer matches.
    ['garbage inside an application-data record', 'garbage', { at: 'record', bytes: Buffer.from('GARBAGE!') },
      ['ERR_REDIS_TLS'], 'ERR_SSL_DECRYPTION_FAILED_OR_BAD_RECORD_MAC'],
    ['the stream cut mid-record (FIN)', 'truncate', undefined, ['ERR_REDIS_CONNECTION'], undefined],
    ['RST', 'reset', undefined, ['ERR_REDIS_CONNECTION'], undefined],
    ['FIN', 'fin', undefined, ['ERR_REDIS_CONNECTION'], undefined],
  ];

  test.each(cases)('%s: every op settles, the in-flight ones reject typed, 0 wrong values, one new connection', async (name, mode, arg, codes, tlsCode) => {
    const c = client({ commandTimeout: FAR, connectTimeout: FAR });
    await c.command(['PING']);
    const acceptedBefore = proxy.stats.accepted;
    const base = await executed();
    const counts = { issued: 0, settled: 0 };
    let faultAt;
    let stopAt = Infinity;
    // Load goes on for AFTER_MS after the fault and until an op started after it succeeded,
    // at most FAR.
    const running = load(c, 64, (lastOkStart) => performance.now() >= stopAt
      && (lastOkStart > faultAt || performance.now() >= faultAt + FAR), counts);
    await sleep(200);
    if (mode === 'reset' || mode === 'fin') {
      // Hold the replies until the server has executed every GET and SET issued, with all 64
      // callers waiting: then all 64 are surely written (and not re-sent) when the socket
      // dies. Over TLS the proxy cannot count replies; the server counts the commands.
      proxy.set('stall');
      const holdSince = performance.now();
      let caughtUp = false;
      while (!caughtUp && performance.now() - holdSince < FAR / 4) {
        await sleep(10);
        caughtUp = counts.issued - counts.settled === 64 && (await executed()) - base === counts.issued;
      }
      expect(caughtUp).toBe(true);
      faultAt = performance.now();
      proxy.set(mode);
    } else {
      proxy.set(mode, arg);
      await proxy.fired;
      faultAt = performance.now();
    }
    stopAt = performance.now() + AFTER_MS;
    const ops = await running;
    await c.disconnect({ timeout: 1000 });

    const failed = ops.filter((o) => o.code !== undefined);
    const wrong = ops.filter((o) => o.wrong).length;
    const lastFailure = failed.reduce((m, o) => Math.max(m, o.end), -Infinity);
    const firstOkAfter = ops.filter((o) => o.ok && o.start > faultAt).reduce((m, o) => Math.min(m, o.end), Infinity);
    const tlsCodes = [...new Set(failed.map((o) => o.tlsCode).filter(Boolean))];
    console.log(`TLS ${name} (${JSON.stringify(proxy.firedDetail ?? {})}), 64 in flight: ops ${ops.length}, `
      + `failed ${failed.length} (${[...new Set(failed.map((o) => o.code))].join(',')}${tlsCodes.length ? ` ${tlsCodes.join(',')}` : ''}), `
      + `last failure ${(lastFailure - faultAt).toFixed(1)} ms after the fault, first success after it `
      + `${(firstOkAfter - faultAt).toFixed(1)} ms, reconnects ${proxy.stats.accepted - acceptedBefore}, wrong ${wrong}`);

    expect(ops.length).toBe(counts.issued); // every op settled
    expect(wrong).toBe(0);
    expect(failed.length).toBeGreaterThan(0); // the fault was noticed
    if (mode === 'reset' || mode === 'fin') expect(failed.length).toBe(64);
    expect(failed.length).toBeLessThanOrEqual(64); // only what was in flight
    for (const op of failed) {
      expect(codes).toContain(op.code);
      expect(op.typed).toBe(true);
      expect(op.tlsCode).toBe(tlsCode);
    }
    // Typically a few ms (logged above): an op left to its timer would settle at FAR.
    expect(lastFailure - faultAt).toBeLessThan(FAR / 4);
    expect(firstOkAfter - faultAt).toBeLessThan(FAR / 4);
    expect(proxy.stats.accepted - acceptedBefore).toBe(1); // one new connection, no storm
    expect(ops.filter((o) => o.start > lastFailure).every((o) => o.ok)).toBe(true);
  });
});
