'use strict';

// Closing a client whose host name lookup is still queued must not wait for the lookup:
// the lookup is cancelled (uv_cancel) and its callback copes with the cancellation.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn, execFileSync } = require('node:child_process');
const { startRedis } = require('../helpers/redis-server');

const CHILD = path.join(__dirname, '..', 'fixtures', 'redis-dns-close.js');
let redis;
let dir;
beforeAll(async () => {
  redis = await startRedis();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ncm-dns-'));
});
afterAll(async () => {
  await redis.cleanup();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function run(mode) {
  const fifo = path.join(dir, `${mode}.fifo`);
  execFileSync('mkfifo', [fifo]);
  const child = spawn(process.execPath, [CHILD, fifo, String(redis.port), mode], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, UV_THREADPOOL_SIZE: '1' },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { err += d; });
  const code = await new Promise((resolve) => {
    const timer = setTimeout(() => {
      process.kill(child.pid, 'SIGKILL');
      // Let a hung child's open() finish so nothing is left behind.
      try { fs.closeSync(fs.openSync(fifo, fs.constants.O_RDWR | fs.constants.O_NONBLOCK)); } catch { /* the FIFO is gone: nothing to release */ }
      resolve('hung');
    }, 20_000);
    child.on('exit', (c) => { clearTimeout(timer); resolve(c); });
  });
  return { code, out, err };
}

test('destroy() during a queued DNS lookup returns at once', async () => {
  const { code, out, err } = await run('destroy');
  expect({ code, err }).toEqual({ code: 0, err: '' });
  const [, ms, pending] = /^closed (\d+) (\S+)/.exec(out);
  // Returns at once (~1 ms); without the cancellation it would wait for the lookup, which
  // never ends while the pool's thread is held.
  expect(Number(ms)).toBeLessThan(4000);
  expect(pending).toBe('ERR_REDIS_CLOSED');
}, 30_000);

test('disconnect({ timeout }) during a queued DNS lookup finishes at its timeout, not after the lookup', async () => {
  const { code, out, err } = await run('disconnect');
  expect({ code, err }).toEqual({ code: 0, err: '' });
  const [, ms, pending] = /^closed (\d+) (\S+)/.exec(out);
  expect(Number(ms)).toBeLessThan(4000); // its 200 ms timeout, or never without the cancellation
  expect(pending).toBe('ERR_REDIS_CLOSED');
}, 30_000);
