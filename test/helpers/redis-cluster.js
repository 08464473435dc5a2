'use strict';

// Starts a throwaway Redis Cluster for a test file: `primaries` primaries with `replicas`
// replicas each, every node a redis-server (or valkey-server) on a free loopback port started
// by startRedis, joined with `redis-cli --cluster create`. Stopped by pid like any test server.
const { execFile } = require('node:child_process');
const { startRedis, testServer, freePort } = require('./redis-server');
const { keySlot } = require('../../lib/redis-slots');

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
 *   `tls` as for startRedis (the cluster bus speaks TLS too: --tls-cluster yes; its nodes
 *   present their certificate as clients there, so it needs clientAuth usage and a caFile)
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
    // The bus port is given: the default (port + 10000) is past 65535 for high free ports.
    for (let i = 0; i < total; i++) {
      nodes.push(await startRedis({ args: [...args, '--cluster-port', String(await freePort())], tls: options.tls, server: options.server }));
    }
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
    /** Node ids and the slot ranges each primary serves, per node `from`'s view, by first slot. */
    async layout(from = 0) {
      const slots = JSON.parse(await nodes[from].cli('--json', 'CLUSTER', 'SLOTS'));
      return slots.map(([start, end, primary]) => ({ start, end, port: primary[1], id: primary[2] }))
        .sort((a, b) => a.start - b.start);
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

/** `count` keys whose hash slots are in [start, end]. */
function keysInSlots(start, end, count, prefix) {
  const keys = [];
  for (let i = 0; keys.length < count; i++) {
    const key = `${prefix}:${i}`;
    const slot = keySlot(key);
    if (slot >= start && slot <= end) keys.push(key);
  }
  return keys;
}

/**
 * 64 callers INCR their own counters (4 keys each, all in the 200 slots that move) through
 * `client` while `redis-cli --cluster reshard` moves those slots from the first primary to the
 * second and back. Every INCR reply is checked against the caller's own count (a reply out of
 * line is wrong), and at the end every counter against the increments acknowledged (plus those
 * whose outcome is unknown, which may or may not have run).
 * @returns {Promise<{wrong: number, lost: number, failures: number, acked: number, moved: number, asked: number}>}
 */
async function reshardUnderLoad(cluster, client) {
  const [first, second] = await cluster.layout();
  const moving = { start: first.start, end: first.start + 199 };
  const keys = keysInSlots(moving.start, moving.end, 64 * 4, 'ctr');
  const acked = new Map(keys.map((k) => [k, 0]));
  const unsure = new Map(keys.map((k) => [k, 0]));
  let wrong = 0;
  let failures = 0;
  let stop = false;
  const callers = Array.from({ length: 64 }, async (_, c) => {
    const mine = keys.slice(c * 4, c * 4 + 4);
    while (!stop) {
      for (const key of mine) {
        try {
          const value = await client.command(['INCR', key]);
          const low = acked.get(key) + 1;
          if (value < low || value > low + unsure.get(key)) wrong++;
          acked.set(key, value);
          unsure.set(key, 0);
        } catch {
          failures++;
          unsure.set(key, unsure.get(key) + 1); // may or may not have run
        }
      }
    }
  });
  try {
    await sleep(200);
    const move = (from, to) => cluster.admin('reshard', `127.0.0.1:${first.port}`, '--cluster-from', from.id, '--cluster-to', to.id,
      '--cluster-slots', '200', '--cluster-yes', '--cluster-pipeline', '1');
    await move(first, second);
    await sleep(200);
    const moved = (await cluster.layout()).find((r) => r.start === moving.start);
    if (moved?.port !== second.port) throw new Error(`slots ${moving.start}-${moving.end} did not move to ${second.port}`);
    await move(second, first);
    await sleep(200);
  } finally {
    stop = true;
    await Promise.all(callers);
  }
  let lost = 0;
  for (const key of keys) {
    const stored = Number(await client.command(['GET', key]));
    if (stored < acked.get(key) || stored > acked.get(key) + unsure.get(key)) lost++;
  }
  const { moved, asked } = client.stats;
  return { wrong, lost, failures, acked: [...acked.values()].reduce((a, b) => a + b), moved, asked };
}

module.exports = { startCluster, keysInSlots, reshardUnderLoad };
