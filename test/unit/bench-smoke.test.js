'use strict';

// The benchmark programs are run in their smoke mode (--quick: tiny inputs) so they cannot
// silently rot. No timing is asserted: only that they run, check their own results and
// print a table naming every competitor.

const { execFile } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.join(__dirname, '..', '..');
// Seconds on a quiet machine; minutes under the sanitizer build on a loaded one. Only a
// hang should fail a smoke run, so the bounds are wide.
const RUN_TIMEOUT_MS = 300_000;
jest.setTimeout(RUN_TIMEOUT_MS + 60_000);

function run(script, args) {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(ROOT, script), ...args], { cwd: ROOT, timeout: RUN_TIMEOUT_MS },
      (error, stdout, stderr) => resolve({ code: error ? (error.code ?? 1) : 0, stdout, stderr }));
  });
}

describe('bench/js/run.js --quick', () => {
  let result;
  let dir;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ncm-bench-'));
    result = await run('bench/js/run.js', ['--quick', '--json', path.join(dir, 'memory.json'), '--chart', path.join(dir, 'chart.svg')]);
  }, RUN_TIMEOUT_MS + 60_000);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('exits 0', () => {
    expect(result.stderr).not.toMatch(/Error/);
    expect(result.code).toBe(0);
  });

  test('prints a table for every scenario', () => {
    for (const title of ['get, hit', 'get, miss', 'set (overwrite)', 'createCache: get hit, set, wrap hit, mget of 100', 'hit ratio on a Zipf trace',
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

  test('measures createCache (default and frozen) against both cache-manager set-ups and lru-cache, uniform, Zipf and round-robin keys', () => {
    const section = result.stdout.slice(result.stdout.indexOf('### createCache'));
    const caches = ['native-cache-manager createCache (MemoryStore)', 'native-cache-manager createCache (MemoryStore, frozen: true)',
      'cache-manager + Keyv(CacheableMemory)', 'lru-cache behind await', 'cache-manager default (Keyv + Map, returns references)'];
    const ratios = ['ours', 'frozen'].flatMap((o) => caches.slice(2).map((c) => `${o} × vs ${c}`));
    expect(section).toContain(`| operation, value | ${caches.join(' | ')} | ${ratios.join(' | ')} |`);
    // One row per operation: five ns figures, then six ratios.
    for (const op of ['get hit', 'get hit \\(Zipf 0\\.99\\)', 'get hit \\(8,192 round-robin\\)', 'set', 'wrap hit',
      'wrap hit \\(Zipf 0\\.99\\)', 'wrap hit \\(8,192 round-robin\\)', 'mget of 100']) {
      expect(section).toMatch(new RegExp(`^\\| ${op}, object ~60 B( \\| [\\d.]+){5}( \\| [\\d.]+×){6} \\|$`, 'm'));
    }
  });

  test('writes the results as JSON, with chart data for each throughput scenario', () => {
    const data = JSON.parse(fs.readFileSync(path.join(dir, 'memory.json'), 'utf8'));
    expect(data.format).toBe('native-cache-manager-bench/1');
    expect(Object.keys(data.scenarios)).toEqual(['get-hit', 'get-miss', 'set', 'cache', 'hit-ratio', 'memory', 'latency']);
    const cache = data.scenarios.cache;
    expect(cache.env.node).toBe(process.version);
    expect(cache.env.packages['cache-manager']).toMatch(/^\d+\.\d+\.\d+$/);
    const chart = cache.charts[0];
    expect(chart.rows.map((r) => r.label)).toEqual(['get hit, object ~60 B', 'get hit (Zipf 0.99), object ~60 B',
      'get hit (8,192 round-robin), object ~60 B', 'set, object ~60 B', 'wrap hit, object ~60 B',
      'wrap hit (Zipf 0.99), object ~60 B', 'wrap hit (8,192 round-robin), object ~60 B', 'mget of 100, object ~60 B']);
    for (const row of chart.rows) {
      expect(row.ours).toBeGreaterThan(0);
      for (const label of chart.competitors) expect(row.others[label]).toBeGreaterThan(0);
    }
    const mget = cache.results.filter((r) => r.job.op === 'mget-100');
    expect(mget).toHaveLength(5); // ours, ours frozen, the two cache-manager set-ups, lru-cache
    for (const r of mget) expect(r.results[0].nsPerOp).toBeGreaterThan(0);
  });

  test('draws an SVG chart with a panel per throughput scenario and a bar per competitor', () => {
    const svg = fs.readFileSync(path.join(dir, 'chart.svg'), 'utf8');
    expect(svg.startsWith("<svg xmlns='http://www.w3.org/2000/svg'")).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    for (const title of ['createCache (the cache-manager 7 API), in memory', 'MemoryStore get, hit', 'MemoryStore get, miss',
      'MemoryStore set (overwrite)']) {
      expect(svg).toContain(`>${title} (smoke run)</text>`);
    }
    expect(svg).toContain('cache-manager + Keyv(CacheableMemory)');
    // cache: 8 rows x 3 competitors; get hit, get miss, set: 1 row x 3 competitors each.
    expect(svg.match(/<rect [^>]*><title>/g)).toHaveLength(8 * 3 + 3 * 3);
    expect(svg).toMatch(/<title>mget of 100, object ~60 B vs cache-manager \+ Keyv\(CacheableMemory\): [\d.]+×<\/title>/);
  });
});

describe('bench/js/chart.js', () => {
  test('keeps the scenarios of an earlier run that a later run did not measure', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ncm-bench-'));
    try {
      const file = path.join(dir, 'memory.json');
      const first = await run('bench/js/run.js', ['--quick', '--only', 'get-miss', '--drivers', 'native-sync,lru-cache', '--json', file]);
      expect(first.code).toBe(0);
      const second = await run('bench/js/run.js', ['--quick', '--only', 'set', '--drivers', 'native-sync,lru-cache', '--json', file, '--chart', path.join(dir, 'c.svg')]);
      expect(second.code).toBe(0);
      expect(Object.keys(JSON.parse(fs.readFileSync(file, 'utf8')).scenarios)).toEqual(['get-miss', 'set']);
      const svg = fs.readFileSync(path.join(dir, 'c.svg'), 'utf8');
      expect(svg).toContain('>MemoryStore get, miss (smoke run)</text>');
      expect(svg).toContain('>MemoryStore set (overwrite) (smoke run)</text>');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('refuses a file that is not benchmark results, naming it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ncm-bench-'));
    try {
      const file = path.join(dir, 'other.json');
      fs.writeFileSync(file, '{"name":"x"}');
      const { code, stderr } = await run('bench/js/chart.js', ['--out', path.join(dir, 'c.svg'), file]);
      expect(code).not.toBe(0);
      expect(stderr).toContain(`${file}: not a benchmark results file`);
      expect(fs.existsSync(path.join(dir, 'c.svg'))).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('--chart without --json is refused', async () => {
    const { code, stderr } = await run('bench/js/run.js', ['--quick', '--chart', path.join(os.tmpdir(), 'never.svg')]);
    expect(code).not.toBe(0);
    expect(stderr).toContain('--chart needs --json');
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
