'use strict';

// The benchmark programs are run in their smoke mode (--quick: tiny inputs) so they cannot
// silently rot. No timing is asserted: only that they run, check their own results and
// print a table naming every competitor.

const { execFile } = require('node:child_process');
const path = require('node:path');

const ROOT = path.join(__dirname, '..', '..');

function run(script, args) {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(ROOT, script), ...args], { cwd: ROOT, timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: error ? (error.code ?? 1) : 0, stdout, stderr }));
  });
}

describe('bench/js/run.js --quick', () => {
  let result;
  beforeAll(async () => {
    result = await run('bench/js/run.js', ['--quick']);
  }, 60_000);

  test('exits 0', () => {
    expect(result.stderr).not.toMatch(/Error/);
    expect(result.code).toBe(0);
  });

  test('prints a table for every scenario', () => {
    for (const title of ['get, hit', 'get, miss', 'set (overwrite)', 'hit ratio on a Zipf trace',
      'memory held and full-GC time', 'latency under churn']) {
      expect(result.stdout).toContain(`### ${title}\n`);
    }
    expect(result.stdout).toMatch(/^\|---\|/m);
  });

  test('names every competitor and the versions measured', () => {
    for (const label of ['MemoryStore (getSync/setSync)', 'MemoryStore (await get/set)', '| lru-cache |',
      '@cacheable/memory (defaults)', '@cacheable/memory (useClone:false, storeHashSize:1)']) {
      expect(result.stdout).toContain(label);
    }
    expect(result.stdout).toMatch(/Node\.js v\d+/);
    expect(result.stdout).toMatch(/lru-cache \d+\.\d+\.\d+/);
    expect(result.stdout).toMatch(/@cacheable\/memory \d+\.\d+\.\d+/);
  });
});

describe('bench/js/run.js arguments', () => {
  test('--only runs just the named scenario', async () => {
    const { code, stdout } = await run('bench/js/run.js', ['--quick', '--only', 'get-miss', '--drivers', 'native-sync,lru-cache']);
    expect(code).toBe(0);
    expect(stdout).toContain('### get, miss');
    expect(stdout).not.toContain('### get, hit');
    expect(stdout).not.toContain('@cacheable/memory');
  });

  test('an unknown scenario fails with a message naming the known ones', async () => {
    const { code, stderr } = await run('bench/js/run.js', ['--only', 'nope']);
    expect(code).not.toBe(0);
    expect(stderr).toContain("unknown scenario 'nope'");
    expect(stderr).toContain('get-hit');
  });
});

describe('bench/js/serializers.js --quick', () => {
  test('compares json, v8 and auto, and auto keeps Date and Map exactly', async () => {
    const { code, stdout } = await run('bench/js/serializers.js', ['--quick']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/\| value \| json: .* \| v8: .* \| auto: .* \|/);
    const row = stdout.split('\n').find((l) => l.startsWith('| object with Date and Map'));
    const [, , json, v8, auto] = row.split('|').map((c) => c.trim());
    expect(json).toContain('(changed)');
    expect(v8).not.toContain('(changed)');
    expect(auto).not.toContain('(changed)');
  });
});
