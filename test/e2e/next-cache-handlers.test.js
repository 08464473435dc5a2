'use strict';

// The Next.js cache handlers (native-cache-manager/next) in a real Next.js 16 app
// (examples/nextjs-cache-handlers): the package is packed and installed into it, the app is
// built with Redis unset, with Redis down and with Redis up, and two `next start` processes
// share one redis-server started here.
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { startRedis } = require('../helpers/redis-server');
const { nextApp, sleep, waitFor, ROOT } = require('../helpers/next-app');

const APP = path.join(ROOT, 'examples', 'nextjs-cache-handlers');
const app = nextApp(APP);
// Waits that only catch a hang are minutes; bounds that prove something say what they separate.
const SETUP_TIMEOUT = 900_000; // pack + npm install + three next builds: ~2.5 min seen on a busy machine
const TEST_TIMEOUT = 180_000;
const SYNC_INTERVAL = 100; // the handlers' default tagSyncInterval
const timings = {};
let tmp;
let redis;
const builds = {};
let blackholeConnections = 0;
let a;
let b;

const quoteOf = async (server, id) => {
  const response = await server.get(`/api/quote?id=${id}`);
  expect(response.status).toBe(200);
  return response.json;
};
const pageOf = async (server, id) => {
  const response = await server.get(`/isr/${id}`);
  expect(response.status).toBe(200);
  return {
    renderedAt: Number(/data-rendered-at="(\d+)"/.exec(response.body)[1]),
    quoteAt: Number(/data-generated-at="(\d+)"/.exec(response.body)[1]),
  };
};
/** Waits until A's entry for `id` is in Redis (Next may store it just after answering). */
async function storedInRedis(kind, id) {
  const pattern = kind === 'page' ? `ncm:next:isr:*/isr/${id}` : `ncm:next:uc:*"${id}"*`;
  // Gives up only on an entry that is never stored.
  const found = await waitFor(async () => (await redis.cli('KEYS', pattern)) !== '', 30_000);
  expect(found).toBe(true);
}
const quoteOnAThenB = async (id) => {
  const first = await quoteOf(a, id);
  await storedInRedis('quote', id);
  return [first, await quoteOf(b, id)];
};
const pageOnAThenB = async (id) => {
  const first = await pageOf(a, id);
  await storedInRedis('page', id);
  return [first, await pageOf(b, id)];
};
const count = (server, line) => server.log.split('\n').filter((l) => l === line).length;
const revalidate = async (server, query) => {
  const response = await server.post(`/api/revalidate?${query}`);
  expect(response.status).toBe(200);
  return response;
};


/** The id of the server action `name` in the built app. */
function actionId(name) {
  const manifest = JSON.parse(fs.readFileSync(path.join(APP, '.next', 'server', 'server-reference-manifest.json'), 'utf8'));
  return Object.entries(manifest.node).find(([, action]) => action.exportedName === name)[0];
}

/** TCP connections from process `pid` to the test's redis-server (read with `ss`). */
function redisConnectionsOf(pid) {
  const lines = execFileSync('ss', ['-Htnp', 'state', 'established', 'dst', `127.0.0.1:${redis.port}`], { encoding: 'utf8' });
  return lines.split('\n').filter((line) => line.includes(`pid=${pid},`)).length;
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ncm-next-handlers-'));
  timings.install = (await app.install(tmp)).ms;

  // REDIS_URL unset: memory only, one warning, nothing to connect to.
  builds.unset = await app.build({ NEXT_DIST_DIR: '.next-unset' });
  // Redis down: a listener that accepts connections and never answers, the worst kind (a
  // refused connection fails at once; this one waits for the connect timeout).
  const blackhole = net.createServer((socket) => { blackholeConnections++; socket.on('error', () => {}); });
  await new Promise((resolve) => blackhole.listen(0, '127.0.0.1', resolve));
  builds.down = await app.build({ NEXT_DIST_DIR: '.next-down', REDIS_URL: `redis://127.0.0.1:${blackhole.address().port}` });
  blackhole.close();
  redis = await startRedis();
  builds.up = await app.build({ REDIS_URL: redis.url });
  for (const [name, build] of Object.entries(builds)) {
    timings[`build_${name}`] = build.ms;
    if (build.code !== 0) throw new Error(`next build (Redis ${name}) failed:\n${build.output}`);
  }
  a = await app.start({ REDIS_URL: redis.url });
  b = await app.start({ REDIS_URL: redis.url });
}, SETUP_TIMEOUT);

afterAll(async () => {
  app.stopAll();
  await redis?.cleanup();
  for (const dir of ['.next-unset', '.next-down']) fs.rmSync(path.join(APP, dir), { recursive: true, force: true });
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  process.stdout.write(`next cache handlers e2e timings (ms): ${JSON.stringify(timings)}\n`);
});

describe('next build', () => {
  test('with REDIS_URL unset: completes memory-only, with one warning per process', () => {
    expect(builds.unset.code).toBe(0);
    expect(builds.unset.output).toMatch(/REDIS_URL is not set: the Next.js cache is kept in this process's memory only/);
    expect(builds.unset.output).not.toMatch(/failed \(/);
    expect(builds.unset.output).toMatch(/\[app\] quote home/); // the prerender went through the handler
  });

  test('with Redis down (connections accepted, never answered): completes, bounded by the connect timeout', () => {
    expect(builds.down.code).toBe(0);
    expect(blackholeConnections).toBeGreaterThan(0); // it did try
    expect(builds.down.output).toMatch(/\[native-cache-manager\/next\] reading (an entry|the tags manifest) failed \(ERR_REDIS_CONNECT_TIMEOUT\)/);
    // Next retries a prerender whose cache read never ends 3 × 60 s; a bounded read costs
    // about a connect timeout (1 s) per process. The bound sits far from a hang.
    expect(builds.down.ms).toBeLessThan(builds.unset.ms + 60_000);
  });

  test('with Redis up: the prerendered page\'s \'use cache\' entry is stored in Redis', async () => {
    expect(builds.up.code).toBe(0);
    const keys = (await redis.cli('KEYS', 'ncm:next:uc:*')).split('\n').filter(Boolean);
    expect(keys.some((key) => key.includes('"home"'))).toBe(true);
  });
});

describe('two next start instances sharing one redis-server', () => {
  test("a 'use cache' entry is generated once and served by both", async () => {
    const [first, second] = await quoteOnAThenB('shared-1');
    expect(second.generatedAt).toBe(first.generatedAt);
    expect(second.servedBy).toBe(b.pid);
    expect(count(a, '[app] quote shared-1')).toBe(1);
    expect(count(b, '[app] quote shared-1')).toBe(0);
  }, TEST_TIMEOUT);

  test('an ISR page is rendered once and served by both', async () => {
    const [first, second] = await pageOnAThenB('shared-1');
    expect(second.renderedAt).toBe(first.renderedAt);
    expect(count(b, '[app] render /isr/shared-1')).toBe(0);
  }, TEST_TIMEOUT);

  /**
   * Revalidates on A with `trigger`, then reads on B until `changed` says the content is new.
   * B's last read is older than the tags sync interval when A revalidates, so B's next request
   * must read the manifest again. Returns { first, delay }: B's first answer after A's
   * response and how long after A's response B first served the new content.
   */
  async function acrossInstances(trigger, read, changed) {
    await sleep(SYNC_INTERVAL * 3);
    const done = await trigger();
    const first = await read(b);
    let seenAt = changed(first) ? Date.now() : undefined;
    if (seenAt === undefined) {
      // Gives up long after any refresh would end: only content that never changes fails here.
      const later = await waitFor(async () => changed(await read(b)), 30_000);
      expect(later).toBe(true);
      seenAt = Date.now();
    }
    return { first, delay: seenAt - done.ended };
  }

  test("revalidateTag(tag, { expire: 0 }) on A: B's next request serves the new 'use cache' value", async () => {
    const [before, onB] = await quoteOnAThenB('expire-1');
    expect(onB.generatedAt).toBe(before.generatedAt);
    const { first, delay } = await acrossInstances(
      () => revalidate(a, 'tag=quote-expire-1&mode=expire'),
      (server) => quoteOf(server, 'expire-1'),
      (quote) => quote.generatedAt !== before.generatedAt);
    expect(first.generatedAt).not.toBe(before.generatedAt);
    expect(first.generatedAt).toBeGreaterThan(before.generatedAt);
    timings.revalidateTagExpireDelay = delay;
  }, TEST_TIMEOUT);

  test("revalidateTag(tag, 'max') on A: B serves the old value once (stale) and then the new one", async () => {
    const [before, onB] = await quoteOnAThenB('max-1');
    expect(onB.generatedAt).toBe(before.generatedAt);
    const { first, delay } = await acrossInstances(
      () => revalidate(a, 'tag=quote-max-1&mode=max'),
      (server) => quoteOf(server, 'max-1'),
      (quote) => quote.generatedAt !== before.generatedAt);
    expect(first.generatedAt).toBe(before.generatedAt); // stale while it refreshes
    timings.revalidateTagMaxDelay = delay;
  }, TEST_TIMEOUT);

  test("updateTag in a server action on A: B's next request serves the new value", async () => {
    const [before, onB] = await quoteOnAThenB('update-1');
    expect(onB.generatedAt).toBe(before.generatedAt);
    const id = actionId('refreshQuote');
    const { first, delay } = await acrossInstances(
      async () => {
        const response = await a.post('/update', JSON.stringify(['update-1']), {
          'Next-Action': id, 'Content-Type': 'text/plain;charset=UTF-8', Accept: 'text/x-component',
        });
        expect(response.status).toBe(200);
        return response;
      },
      (server) => quoteOf(server, 'update-1'),
      (quote) => quote.generatedAt !== before.generatedAt);
    expect(first.generatedAt).not.toBe(before.generatedAt);
    timings.updateTagDelay = delay;
  }, TEST_TIMEOUT);

  test("revalidatePath on A: B's next request renders the ISR page again", async () => {
    const [before, onB] = await pageOnAThenB('path-1');
    expect(onB.renderedAt).toBe(before.renderedAt);
    const { first, delay } = await acrossInstances(
      () => revalidate(a, 'path=/isr/path-1'),
      (server) => pageOf(server, 'path-1'),
      (page) => page.renderedAt !== before.renderedAt);
    expect(first.renderedAt).toBeGreaterThan(before.renderedAt);
    timings.revalidatePathDelay = delay;
  }, TEST_TIMEOUT);

  test("revalidateTag of a tag the ISR page's 'use cache' data carries: B renders the page again", async () => {
    const [before, onB] = await pageOnAThenB('tagged-1');
    expect(onB.renderedAt).toBe(before.renderedAt);
    const { first, delay } = await acrossInstances(
      () => revalidate(a, 'tag=quote-tagged-1&mode=expire'),
      (server) => pageOf(server, 'tagged-1'),
      (page) => page.renderedAt !== before.renderedAt && page.quoteAt !== before.quoteAt);
    expect(first.renderedAt).toBeGreaterThan(before.renderedAt);
    expect(first.quoteAt).toBeGreaterThan(before.quoteAt);
    timings.isrTagDelay = delay;
  }, TEST_TIMEOUT);

  test('Redis restarted while both serve: pages still render, and sharing resumes', async () => {
    await quoteOf(a, 'restart-1');
    let backAt;
    const outage = redis.restart(3000).then(() => { backAt = Date.now(); });
    await sleep(500); // down now
    const during = await Promise.all([a.get('/api/quote?id=restart-2'), b.get('/isr/restart-2')]);
    await outage;
    for (const response of during) {
      expect(response.status).toBe(200);
      // Each cache call gives up after a connect timeout (1 s) or a command timeout (0.5 s):
      // the pages were answered while Redis was still down, not when it came back.
      expect(response.ended).toBeLessThan(backAt);
    }
    // Back (empty: the server keeps nothing on disk). Once the clients have reconnected, an
    // entry A stores is served by B again.
    const again = await waitFor(async () => {
      const first = await quoteOf(a, `restart-3-${Date.now()}`);
      await sleep(200); // A's write lands
      const second = await quoteOf(b, first.id);
      return first.generatedAt === second.generatedAt ? first : undefined;
    }, 30_000);
    expect(again).toBeDefined();
    expect(a.log).toMatch(/\[native-cache-manager\/next\] (reading|storing) .* failed/);
  }, TEST_TIMEOUT);

  test('500 requests over both instances: at most 2 Redis connections per instance', async () => {
    const paths = ['/api/quote?id=load-1', '/api/quote?id=load-2', '/isr/load-1', '/isr/load-2', '/'];
    let next = 0;
    const worker = async () => {
      while (next < 500) {
        const i = next++;
        const response = await (i % 2 === 0 ? a : b).get(paths[i % paths.length]);
        expect(response.status).toBe(200);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    const perInstance = [redisConnectionsOf(a.pid), redisConnectionsOf(b.pid)];
    timings.redisConnectionsPerInstance = perInstance;
    for (const n of perInstance) {
      expect(n).toBeGreaterThanOrEqual(1);
      expect(n).toBeLessThanOrEqual(2);
    }
  }, TEST_TIMEOUT);

  test('SIGTERM: a request in flight is answered, then the instance exits; the other keeps serving', async () => {
    await quoteOf(a, 'term-1');
    const inFlight = a.get('/isr/term-2'); // a first render
    await sleep(20);
    const sent = Date.now();
    process.kill(a.pid, 'SIGTERM');
    const [response, exit] = await Promise.all([inFlight, a.exited]);
    timings.exitAfterSigterm = a.exitedAt - sent;
    expect(response.status).toBe(200);
    expect(exit.signal).toBeNull(); // Next handles SIGTERM and exits on its own
    expect([0, 143]).toContain(exit.code);
    expect(a.exitedAt - sent).toBeLessThan(30_000); // a hang, not a figure (40-100 ms seen)
    expect((await quoteOf(b, 'term-1')).servedBy).toBe(b.pid);
  }, TEST_TIMEOUT);
});
