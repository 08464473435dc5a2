'use strict';

// Starts a throwaway Redis Cluster for a test file: `primaries` primaries with `replicas`
// replicas each, every node a redis-server (or valkey-server) on a free loopback port started
// by startRedis, joined with `redis-cli --cluster create`. Stopped by pid like any test server.
const { execFile } = require('node:child_process');
const { startRedis, testServer } = require('./redis-server');

function run(file, args) {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${file} ${args.join(' ')} failed: ${error.message}\n${stdout}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * @param {{primaries?: number, replicas?: number, nodeTimeout?: number, tls?: object, server?: string}} [options]
 *   `tls` as for startRedis (the cluster bus speaks TLS too: --tls-cluster yes)
 * @returns {Promise<{nodes: object[], urls: string[], cli: Function, primaryOf: Function, waitHealthy: Function, cleanup: Function}>}
 */
async function startCluster(options = {}) {
  const primaries = options.primaries ?? 3;
  const replicas = options.replicas ?? 1;
  const nodeTimeout = options.nodeTimeout ?? 1000;
  const total = primaries * (1 + replicas);
  const args = ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf',
    '--cluster-node-timeout', String(nodeTimeout), '--repl-diskless-sync-delay', '0', ...(options.tls ? ['--tls-cluster', 'yes', '--tls-replication', 'yes'] : [])];
  const nodes = [];
  try {
    for (let i = 0; i < total; i++) nodes.push(await startRedis({ args, tls: options.tls, server: options.server }));
  } catch (error) {
    await Promise.all(nodes.map((n) => n.cleanup()));
    throw error;
  }
  const { cli } = testServer(options.server);
  const secure = options.tls ? ['--tls', '--insecure'] : [];
  const cluster = {
    nodes,
    urls: nodes.map((n) => n.url),
    /** Runs the cli against node `i`. */
    cli: (i, ...cliArgs) => nodes[i].cli(...cliArgs),
    /** redis-cli --cluster <args> (create, reshard, …) with the cli's TLS flags. */
    admin: (...adminArgs) => run(cli, [...secure, '--cluster', ...adminArgs]),
    /** The index of the node serving `slot` as primary, per node `from`'s view. */
    async primaryOf(slot, from = 0) {
      const slots = JSON.parse(await nodes[from].cli('--json', 'CLUSTER', 'SLOTS'));
      for (const [start, end, primary] of slots) {
        if (slot >= start && slot <= end) return nodes.findIndex((n) => n.port === primary[1]);
      }
      return -1;
    },
    /**
     * Waits until every running node says cluster_state:ok, all agree on the slot map and, with
     * `withReplicas`, every slot range lists that many replicas (in sync: CLUSTER SLOTS leaves
     * out replicas whose link is down).
     */
    async waitHealthy(timeoutMs = 30_000, withReplicas = 0) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const running = nodes.filter((n) => n.child.exitCode === null && n.child.signalCode === null);
        try {
          const infos = await Promise.all(running.map((n) => n.cli('CLUSTER', 'INFO')));
          const maps = await Promise.all(running.map((n) => n.cli('--json', 'CLUSTER', 'SLOTS')));
          const primaryMaps = maps.map((m) => JSON.stringify(JSON.parse(m).map(([s, e, p]) => [s, e, p[1]]).sort((a, b) => a[0] - b[0])));
          const replicated = maps.every((m) => JSON.parse(m).every((entry) => entry.length >= 3 + withReplicas));
          if (infos.every((t) => t.includes('cluster_state:ok')) && primaryMaps.every((m) => m === primaryMaps[0]) && replicated) return;
        } catch {
          // a node still starting; try again
        }
        if (Date.now() > until) throw new Error(`cluster not healthy after ${timeoutMs} ms`);
        await sleep(100);
      }
    },
    cleanup: () => Promise.all(nodes.map((n) => n.cleanup())),
  };
  try {
    await cluster.admin('create', ...nodes.map((n) => `${n.host}:${n.port}`), '--cluster-replicas', String(replicas), '--cluster-yes');
    await cluster.waitHealthy(30_000, replicas);
  } catch (error) {
    await cluster.cleanup();
    throw error;
  }
  return cluster;
}

module.exports = { startCluster };
