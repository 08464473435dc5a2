'use strict';

// The Next.js cache handlers (native-cache-manager/next) called as Next calls them, against a
// redis-server started here. Two handler sets with their own backends stand for two instances
// of an app (each its own memory tier and tags manifest; the shared Redis connection is the
// process's one). The app-level behaviour is in test/e2e/next-cache-handlers.test.js.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const v8 = require('node:v8');
const { startRedis } = require('../helpers/redis-server');
const { sleep } = require('../helpers/next-app');
const { createIncrementalCacheHandler, createUseCacheHandler, NEXT_HANDLER_DEFAULTS } = require('../../lib/next');
const { InvalidArgumentError, RedisClient } = require('../../lib');

let redis;
const opened = [];

beforeAll(async () => {
  redis = await startRedis();
});

afterAll(async () => {
  for (const handler of opened) await handler.disconnect();
  await redis?.cleanup();
});

/** A handler set of one "instance": both handlers on one backend of their own. */
function instance(options = {}) {
  const errors = [];
  // A new options object (with a function) makes a backend of its own.
  const onError = (error, operation) => errors.push({ error, operation });
  const all = { redis: redis.url, ...options, onError };
  const useCache = createUseCacheHandler(all);
  const Incremental = createIncrementalCacheHandler(all); // the same object: the same backend
  expect(Incremental.backend).toBe(useCache.backend);
  opened.push(useCache, Incremental);
  return { useCache, Incremental, errors };
}

const bytes = (text) => new TextEncoder().encode(text);
const streamOf = (...chunks) => new ReadableStream({
  start(controller) {
    for (const chunk of chunks) controller.enqueue(bytes(chunk));
    controller.close();
  },
});
const entry = (text, overrides = {}) => ({
  value: streamOf(text), tags: [], stale: 30, timestamp: Date.now(), expire: 3600, revalidate: 60, ...overrides,
});
const textOf = async (hit) => (hit === undefined ? undefined : new Response(hit.value).text());
const route = (body, tags) => ({
  kind: 'APP_ROUTE', body: Buffer.from(body), status: 200,
  headers: tags ? { 'x-next-cache-tags': tags.join(',') } : {},
});

describe("'use cache' handler", () => {
  test('set then get across instances: the bytes, tags and times come back; each get is a new stream', async () => {
    const a = instance();
    const b = instance();
    const stored = entry('hello', { tags: ['t-1'] });
    await a.useCache.set('uc-1', Promise.resolve(stored));
    const hit = await b.useCache.get('uc-1', []);
    expect(await textOf(hit)).toBe('hello');
    expect({ ...hit, value: undefined }).toEqual({ ...stored, value: undefined });
    expect(await textOf(await b.useCache.get('uc-1', []))).toBe('hello');
    expect(await b.useCache.get('uc-missing', [])).toBeUndefined();
  });

  test('a get during a pending set waits for it instead of missing', async () => {
    const { useCache } = instance();
    let resolveEntry;
    const pendingEntry = new Promise((resolve) => { resolveEntry = resolve; });
    const setting = useCache.set('uc-pending', pendingEntry);
    const getting = useCache.get('uc-pending', []);
    await sleep(50);
    resolveEntry(entry('late'));
    expect(await textOf(await getting)).toBe('late');
    await setting;
  });

  test('an entry that expires at once (dynamic) is not stored; an errored stream stores nothing', async () => {
    const { useCache, errors } = instance();
    await useCache.set('uc-dynamic', Promise.resolve(entry('x', { expire: 0 })));
    expect(await useCache.get('uc-dynamic', [])).toBeUndefined();
    const broken = new ReadableStream({ start(c) { c.enqueue(bytes('part')); c.error(new Error('render failed')); } });
    await useCache.set('uc-broken', Promise.resolve(entry('', { value: broken })));
    expect(await useCache.get('uc-broken', [])).toBeUndefined();
    expect(errors).toEqual([]); // a failed render is Next's to report, not a cache failure
    await useCache.set('uc-rejected', Promise.reject(new Error('no entry')));
    expect(await useCache.get('uc-rejected', [])).toBeUndefined();
  });

  test('an entry over maxEntryBytes is not stored and says why', async () => {
    const { useCache, errors } = instance({ maxEntryBytes: 4096 });
    await useCache.set('uc-big', Promise.resolve(entry('small')));
    expect(await textOf(await useCache.get('uc-big', []))).toBe('small');
    await useCache.set('uc-big', Promise.resolve(entry('y'.repeat(5000))));
    expect(await useCache.get('uc-big', [])).toBeUndefined(); // not the older, smaller value
    expect(errors.at(-1).error).toBeInstanceOf(InvalidArgumentError);
    expect(errors.at(-1).error.code).toBe('ERR_VALUE_TOO_LARGE');
    expect(await redis.cli('EXISTS', 'ncm:next:uc:uc-big')).toBe('0');
  });

  test('updateTags on one instance expires the entry on the other; with durations it is stale first', async () => {
    const a = instance();
    const b = instance();
    await a.useCache.set('uc-tag', Promise.resolve(entry('v1', { tags: ['post-1'], timestamp: Date.now() - 10 })));
    expect(await textOf(await b.useCache.get('uc-tag', []))).toBe('v1');
    await a.useCache.updateTags(['post-1'], { expire: 3600 });
    await b.useCache.refreshTags();
    await sleep(NEXT_HANDLER_DEFAULTS.tagSyncInterval + 10); // b's copy is due for a read
    const stale = await b.useCache.get('uc-tag', []);
    expect(stale.revalidate).toBe(-1); // served, and Next refreshes it
    expect(await b.useCache.getExpiration(['post-1'])).toBeGreaterThan(Date.now() + 3_000_000);
    await a.useCache.updateTags(['post-1']);
    await sleep(NEXT_HANDLER_DEFAULTS.tagSyncInterval + 10);
    expect(await b.useCache.get('uc-tag', [])).toBeUndefined();
    expect(await b.useCache.getExpiration(['post-1', 'other'])).toBeLessThanOrEqual(Date.now());
    expect(await b.useCache.getExpiration(['never-revalidated'])).toBe(0);
  });

  test('soft tags passed to get are judged too (revalidatePath)', async () => {
    const a = instance();
    const b = instance();
    await a.useCache.set('uc-soft', Promise.resolve(entry('page data', { timestamp: Date.now() - 10 })));
    expect(await textOf(await b.useCache.get('uc-soft', ['_N_T_/blog']))).toBe('page data');
    await a.useCache.expireTags('_N_T_/blog'); // Next 15's name
    await sleep(NEXT_HANDLER_DEFAULTS.tagSyncInterval + 10);
    expect(await b.useCache.get('uc-soft', ['_N_T_/blog'])).toBeUndefined();
    expect(await textOf(await b.useCache.get('uc-soft', ['_N_T_/other']))).toBe('page data');
  });

  test("the memory tier never serves an entry whose tag another instance revalidated, past the sync interval", async () => {
    const a = instance();
    const b = instance();
    // b holds the entry in memory (it read it once); a revalidates; from then on, every read
    // b makes later than the sync interval after a's call returned is a miss. Measured: the
    // first read that misses, after a's updateTags resolved.
    const lags = [];
    for (let round = 0; round < 20; round++) {
      const key = `uc-bound-${round}`;
      await a.useCache.set(key, Promise.resolve(entry('old', { tags: [`bound-${round}`], timestamp: Date.now() - 10 })));
      expect(await textOf(await b.useCache.get(key, []))).toBe('old');
      await sleep(round * 7 % NEXT_HANDLER_DEFAULTS.tagSyncInterval); // revalidate at any point of b's interval
      await a.useCache.updateTags([`bound-${round}`]);
      const done = Date.now();
      let lag;
      for (;;) {
        const asked = Date.now();
        const hit = await b.useCache.get(key, []);
        if (hit === undefined) {
          lag = Date.now() - done;
          break;
        }
        // A hit is allowed only for a read asked within the interval after a's call (plus a
        // manifest read already under way then: one round trip, generous for a sanitizer build).
        expect(asked - done).toBeLessThanOrEqual(NEXT_HANDLER_DEFAULTS.tagSyncInterval + 500);
        await sleep(5);
      }
      lags.push(lag);
    }
    lags.sort((x, y) => x - y);
    process.stdout.write(`memory tier after a remote revalidation: first miss after ${JSON.stringify({ median: lags[10], max: lags[19] })} ms (tagSyncInterval ${NEXT_HANDLER_DEFAULTS.tagSyncInterval})\n`);
  });
});

describe('incremental cache handler', () => {
  test('ISR entries round-trip with their cacheControl; every handler and instance in the process shares one connection', async () => {
    const { Incremental } = instance();
    const byUrl = createIncrementalCacheHandler({ redis: redis.url }); // equal options: one backend
    expect(createUseCacheHandler({ redis: redis.url }).backend).toBe(byUrl.backend);
    opened.push(byUrl);
    const handlers = Array.from({ length: 50 }, (_, i) => new (i % 2 === 0 ? Incremental : byUrl)({ revalidatedTags: [] }));
    const page = { kind: 'APP_PAGE', html: '<p>x</p>', rscData: Buffer.from('rsc'), segmentData: new Map([['/seg', Buffer.from('s')]]), headers: {}, status: 200 };
    await handlers[0].set('/isr/x', page, { cacheControl: { revalidate: 60, expire: 3600 } });
    const results = await Promise.all(handlers.map((h) => h.get('/isr/x', { kind: 'APP_PAGE', isFallback: false })));
    for (const got of results) {
      expect(got.value).toEqual(page);
      expect(Buffer.isBuffer(got.value.rscData)).toBe(true);
      expect(got.value.segmentData.get('/seg').toString()).toBe('s');
      expect(got.cacheControl).toEqual({ revalidate: 60, expire: 3600 });
    }
    // Every handler made in this file so far names the same endpoint: one connection for all.
    const clients = (await redis.cli('CLIENT', 'LIST')).split('\n').filter((l) => l.includes(' name=next-cache '));
    expect(clients).toHaveLength(1);
    const ttl = Number(await redis.cli('PTTL', 'ncm:next:isr:/isr/x'));
    expect(ttl).toBeGreaterThan(3_500_000); // Next's expire, 3600 s
    expect(ttl).toBeLessThanOrEqual(3_600_000);
  });

  test('entries are kept per build (BUILD_ID next to serverDistDir); revalidations reach every build', async () => {
    const { Incremental } = instance();
    const builds = ['build-one', 'build-two'].map((id) => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ncm-next-build-'));
      fs.writeFileSync(path.join(dir, 'BUILD_ID'), `${id}\n`);
      fs.mkdirSync(path.join(dir, 'server'));
      return { id, dir, serverDistDir: path.join(dir, 'server') };
    });
    try {
      const [one, two] = builds.map((b) => new Incremental({ serverDistDir: b.serverDistDir }));
      await one.set('/page', route('from build one', ['_N_T_/page']), { cacheControl: { revalidate: 60, expire: 3600 } });
      expect(await redis.cli('EXISTS', 'ncm:next:isr:build-one:/page')).toBe('1');
      expect(await two.get('/page', { kind: 'APP_ROUTE' })).toBeNull(); // another build renders its own
      await sleep(5);
      expect((await one.get('/page', { kind: 'APP_ROUTE' })).value.body.toString()).toBe('from build one');
      await two.revalidateTag('_N_T_/page');
      await sleep(NEXT_HANDLER_DEFAULTS.tagSyncInterval + 10);
      expect(await one.get('/page', { kind: 'APP_ROUTE' })).toBeNull();
    } finally {
      for (const b of builds) fs.rmSync(b.dir, { recursive: true, force: true });
    }
  });

  test('tags from x-next-cache-tags: expired → miss, stale → served with an age past revalidate', async () => {
    const a = instance();
    const b = instance();
    const writer = new a.Incremental({});
    const reader = new b.Incremental({});
    await writer.set('/r', route('v1', ['_N_T_/r', 'items']), { cacheControl: { revalidate: 60, expire: 3600 } });
    await sleep(5);
    const fresh = await reader.get('/r', { kind: 'APP_ROUTE' });
    expect(fresh.value.body.toString()).toBe('v1');
    await writer.revalidateTag('items', { expire: 3600 }); // revalidateTag(tag, 'max')
    await sleep(NEXT_HANDLER_DEFAULTS.tagSyncInterval + 10);
    const stale = await reader.get('/r', { kind: 'APP_ROUTE' });
    expect(stale.value.body.toString()).toBe('v1');
    expect(Date.now() - stale.lastModified).toBeGreaterThan(60_000); // Next: stale, refresh in the background
    expect(Date.now() - stale.lastModified).toBeLessThan(3_600_000); // not expired
    await writer.revalidateTag('items');
    await sleep(NEXT_HANDLER_DEFAULTS.tagSyncInterval + 10);
    expect(await reader.get('/r', { kind: 'APP_ROUTE' })).toBeNull();
  });

  test('fetch entries are judged by the tags and soft tags Next passes, and the request\'s revalidated tags', async () => {
    const { Incremental } = instance();
    const data = { kind: 'FETCH', data: { headers: {}, body: 'e30=', status: 200, url: 'http://x' }, revalidate: 30 };
    await new Incremental({}).set('f1', data, { fetchCache: true, tags: ['api'] });
    await sleep(5);
    expect((await new Incremental({}).get('f1', { kind: 'FETCH', tags: ['api'], softTags: ['_N_T_/p'] })).value).toEqual(data);
    expect(await new Incremental({ revalidatedTags: ['_N_T_/p'] }).get('f1', { kind: 'FETCH', tags: ['api'], softTags: ['_N_T_/p'] })).toBeNull();
    await new Incremental({}).revalidateTag(['_N_T_/p']);
    expect(await new Incremental({}).get('f1', { kind: 'FETCH', tags: ['api'], softTags: ['_N_T_/p'] })).toBeNull();
    expect((await new Incremental({}).get('f1', { kind: 'FETCH', tags: ['api'], softTags: [] })).value).toEqual(data);
  });

  test('set(key, null) removes the entry; bytes it cannot read are a miss', async () => {
    const { Incremental, errors } = instance();
    const handler = new Incremental({});
    await handler.set('/gone', route('x'), {});
    await handler.set('/gone', null, {});
    expect(await handler.get('/gone', { kind: 'APP_ROUTE' })).toBeNull();
    await redis.cli('SET', 'ncm:next:isr:/garbage', 'not an entry');
    expect(await handler.get('/garbage', { kind: 'APP_ROUTE' })).toBeNull();
    const truncated = Buffer.concat([Buffer.of(1), v8.serialize({ lastModified: 1, value: route('x') }).subarray(0, 10)]);
    const raw = new RedisClient(redis.url);
    await raw.command(['SET', 'ncm:next:isr:/truncated', truncated]);
    await raw.disconnect();
    expect(await handler.get('/truncated', { kind: 'APP_ROUTE' })).toBeNull();
    expect(errors.map((e) => e.operation)).toContain('decoding an entry');
  });

  test('bad arguments and options are refused with typed errors naming them', async () => {
    const { Incremental, useCache } = instance();
    await expect(new Incremental({}).revalidateTag(42)).rejects.toThrow(/tags must be a string or an array of strings; received 42/);
    await expect(useCache.updateTags(['t'], { expire: -1 })).rejects.toThrow(InvalidArgumentError);
    await expect(new Incremental({}).set(7, route('x'), {})).rejects.toThrow(/key must be a string/);
    expect(() => createUseCacheHandler({ memoryBytes: 10 })).toThrow(/option 'memoryBytes' must be 0 \(no memory tier\) or at least 1024; received 10/);
    expect(() => createUseCacheHandler({ tagSyncInterval: -1 })).toThrow(/option 'tagSyncInterval' must be an integer/);
    expect(() => createUseCacheHandler({ redis: 5 })).toThrow(/option 'redis' must be a redis:\/\/ or rediss:\/\/ url, RedisStore options or a RedisStore; received 5/);
    expect(() => createUseCacheHandler({ rediss: 'x' })).toThrow(/unknown option 'rediss'/);
  });
});

describe('without Redis', () => {
  test('memory only: entries and tags work in the process, nothing connects', async () => {
    const useCache = createUseCacheHandler({ keyPrefix: 'mem-only:' });
    opened.push(useCache);
    expect(useCache.backend.shared).toBe(false);
    await useCache.set('m1', Promise.resolve(entry('local', { tags: ['m'], timestamp: Date.now() - 10 })));
    expect(await textOf(await useCache.get('m1', []))).toBe('local');
    await useCache.updateTags(['m']);
    expect(await useCache.get('m1', [])).toBeUndefined();
  });

  test('Redis unreachable: reads miss and writes are dropped within the connect timeout, one report per operation', async () => {
    const errors = [];
    const useCache = createUseCacheHandler({ redis: { url: 'redis://127.0.0.1:1', connectTimeout: 300 }, onError: (e, op) => errors.push(op) });
    opened.push(useCache);
    const started = Date.now();
    await useCache.set('down', Promise.resolve(entry('x')));
    expect(await useCache.get('down-2', [])).toBeUndefined();
    await useCache.refreshTags();
    expect(Date.now() - started).toBeLessThan(5000); // a hang is minutes; each call is bounded by 300 ms
    expect(errors).toEqual(expect.arrayContaining(['storing an entry', 'reading an entry']));
    // A revalidation resolves (Next awaits it in server actions) and says it stayed here.
    await expect(useCache.updateTags(['down-tag'])).resolves.toBeUndefined();
    expect(errors).toContain('recording a revalidation in Redis (it reached this instance only)');
    expect(await useCache.getExpiration(['down-tag'])).toBeGreaterThan(0);
  });

  test('after disconnect() the handlers miss and store nothing; they never reject into Next', async () => {
    const options = { redis: redis.url, keyPrefix: 'closed:' };
    const useCache = createUseCacheHandler(options);
    const Incremental = createIncrementalCacheHandler(options);
    await useCache.set('c1', Promise.resolve(entry('before')));
    await Incremental.disconnect(); // closes what both share
    expect(useCache.backend.closed).toBe(true);
    await expect(useCache.get('c1', [])).resolves.toBeUndefined();
    await expect(useCache.set('c2', Promise.resolve(entry('after')))).resolves.toBeUndefined();
    await expect(new Incremental({}).get('/x', { kind: 'APP_ROUTE' })).resolves.toBeNull();
    expect(await redis.cli('EXISTS', 'closed:uc:c2')).toBe('0');
    // A new handler with the same options gets a new backend.
    const again = createUseCacheHandler(options);
    opened.push(again);
    expect(again.backend.closed).toBe(false);
    expect(await textOf(await again.get('c1', []))).toBe('before');
  });
});
