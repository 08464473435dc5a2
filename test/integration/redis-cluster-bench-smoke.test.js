'use strict';

// The cluster benchmark program must keep working (no timing is asserted: only that every
// client ran every job, checked its values, and that the table and the results file came out).
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFile } = require('node:child_process');
const { collectCharts } = require('../../bench/js/chart');

const SCRIPT = path.join(__dirname, '..', '..', 'bench', 'js', 'redis-cluster.js');
const RUN_TIMEOUT_MS = 600_000;

test('bench/js/redis-cluster.js --quick runs every client and job and writes its results', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ncm-cluster-bench-'));
  try {
    const json = path.join(dir, 'results.json');
    const { code, stdout, stderr } = await new Promise((resolve) => {
      execFile(process.execPath, [SCRIPT, '--quick', '--runs', '1', '--seconds', '0.2', '--json', json],
        { encoding: 'utf8', timeout: RUN_TIMEOUT_MS }, (error, out, err) => resolve({ code: error ? (error.code ?? 1) : 0, stdout: out, stderr: err }));
    });
    expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });
    const labels = ['native-cache-manager RedisClusterClient', 'ioredis Cluster', 'ioredis Cluster (enableAutoPipelining)', 'node-redis createCluster'];
    for (const command of ['GET', 'SET', 'MGET of 100 keys across slots']) {
      for (const label of labels) {
        const row = stdout.split('\n').find((line) => line.startsWith(`| ${command} |`) && line.includes(`| ${label} |`));
        expect([command, label, row !== undefined]).toEqual([command, label, true]);
        // A rate, and for the others a ratio against ours.
        expect(row).toMatch(label === labels[0] ? /\| \d[\d.]* ?[kM]? \|/ : /\d+\.\d\d× \|$/);
      }
    }
    const saved = JSON.parse(fs.readFileSync(json, 'utf8'));
    expect(saved.scenarios['redis-cluster'].results).toHaveLength(5 * labels.length);
    expect(() => collectCharts([json])).not.toThrow();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, RUN_TIMEOUT_MS + 30_000);
