'use strict';

// Clients and stores dropped without disconnect() give their connection (and I/O thread)
// back when they are garbage-collected; a shared connection closes with its last store.
const path = require('node:path');
const { spawn } = require('node:child_process');
const { startRedis } = require('../helpers/redis-server');

const CHILD = path.join(__dirname, '..', 'fixtures', 'redis-gc-child.js');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let redis;
beforeAll(async () => { redis = await startRedis(); });
afterAll(async () => { await redis.cleanup(); });

function startChild(mode) {
  const child = spawn(process.execPath, ['--expose-gc', CHILD, JSON.stringify({ url: redis.url, mode })],
    { stdio: ['pipe', 'pipe', 'pipe'] });
  const state = { child, out: '', err: '' };
  child.stdout.on('data', (d) => { state.out += d; });
  child.stderr.on('data', (d) => { state.err += d; });
  state.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  state.waitFor = async (text) => {
    // Up to 30 s: the child's start-up takes seconds under a loaded sanitizer build.
    const until = Date.now() + 30_000;
    while (Date.now() < until && !state.out.includes(text)) await sleep(25);
    if (!state.out.includes(text)) throw new Error(`child never printed '${text}': ${state.out} ${state.err}`);
  };
  return state;
}

async function connectionsNamed(name) {
  return (await redis.clients()).filter((c) => c.name === name).length;
}

/** Polls CLIENT LIST until `name` has `count` connections (or 10 s passed); returns the last count. */
async function settleCount(name, count) {
  let seen;
  for (let i = 0; i < 200; i++) {
    seen = await connectionsNamed(name);
    if (seen === count) break;
    await sleep(50);
  }
  return seen;
}

async function finish(state) {
  state.child.stdin.write('exit\n');
  const timer = setTimeout(() => { if (state.child.exitCode === null) process.kill(state.child.pid, 'SIGKILL'); }, 20_000);
  const code = await state.exited;
  clearTimeout(timer);
  return code;
}

test('private RedisClients dropped without disconnect(): their connections close on gc', async () => {
  const state = startChild('client');
  await state.waitFor('used 5');
  expect(await connectionsNamed('gc-client')).toBe(5);
  state.child.stdin.write('gc\n');
  await state.waitFor('collected 1');
  expect(await settleCount('gc-client', 0)).toBe(0); // while the process still runs
  state.child.stdin.write('next\n');
  await state.waitFor('collected 2');
  expect(await finish(state)).toBe(0); // exits by itself once stdin is done
  expect(state.err).toBe('');
}, 90_000);

test('shared RedisStores: dropped ones release their share; the connection closes with the last', async () => {
  const state = startChild('store');
  await state.waitFor('used 5');
  expect(await connectionsNamed('gc-store')).toBe(1); // six stores, one shared connection
  state.child.stdin.write('gc\n');
  await state.waitFor('collected 1');
  expect(state.out).toContain('kept k:kept:v1'); // the kept store still works
  expect(await connectionsNamed('gc-store')).toBe(1); // ... on the shared connection
  state.child.stdin.write('next\n');
  await state.waitFor('collected 2');
  expect(await settleCount('gc-store', 0)).toBe(0);
  expect(await finish(state)).toBe(0);
  expect(state.err).toBe('');
}, 90_000);

test('RedisStores with shared: false dropped without disconnect(): their connections close on gc', async () => {
  const state = startChild('private-store');
  await state.waitFor('used 5');
  expect(await connectionsNamed('gc-private-store')).toBe(5);
  state.child.stdin.write('gc\n');
  await state.waitFor('collected 1');
  expect(await settleCount('gc-private-store', 0)).toBe(0);
  state.child.stdin.write('next\n');
  await state.waitFor('collected 2');
  expect(await finish(state)).toBe(0);
}, 90_000);
