'use strict';

// Starts a throwaway Sentinel setup for a test file: a primary and `replicas` replicas
// (redis-server via startRedis) watched by `sentinels` sentinels (`redis-server <conf>
// --sentinel`), all on free loopback ports, stopped by pid.
const { spawn, execFile } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startRedis, freePort, testServer } = require('./redis-server');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function cliOutput(cli, args) {
  return new Promise((resolve, reject) => {
    execFile(cli, args, { timeout: 10_000 }, (error, stdout) => (error ? reject(error) : resolve(stdout.trim())));
  });
}

/**
 * @param {{replicas?: number, sentinels?: number, name?: string, downAfterMs?: number, server?: string, tls?: object}} [options]
 *   `tls`: { certFile, keyFile, caFile }: every node and sentinel speaks TLS only (replication
 *   and the sentinels' own connections too); `urls()` are then rediss://
 */
async function startSentinels(options = {}) {
  const name = options.name ?? 'mymaster';
  const { binary, cli } = testServer(options.server);
  const replicaCount = options.replicas ?? 1;
  const tlsFiles = options.tls;
  const tlsArgs = tlsFiles ? ['--tls-replication', 'yes'] : [];
  const nodeTls = tlsFiles && { certFile: tlsFiles.certFile, keyFile: tlsFiles.keyFile, caFile: tlsFiles.caFile };
  const primary = await startRedis({ server: options.server, tls: nodeTls, args: ['--repl-diskless-sync-delay', '0', ...tlsArgs] });
  const replicas = [];
  const sentinels = [];
  const setup = {
    name, primary, replicas, sentinels,
    /** Every data node (the primary first, as started). */
    get dataNodes() { return [primary, ...replicas]; },
    urls: () => sentinels.map((s) => `${tlsFiles ? 'rediss' : 'redis'}://127.0.0.1:${s.port}`),
    /** Runs the cli against sentinel `i`. */
    sentinelCli: (i, ...args) => cliOutput(cli, ['-h', '127.0.0.1', '-p', String(sentinels[i].port),
      ...(tlsFiles ? ['--tls', '--cacert', tlsFiles.caFile] : []), ...args]),
    /** The primary's port as sentinel `i` sees it. */
    async primaryPort(i = 0) {
      const text = await setup.sentinelCli(i, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name);
      return Number(text.split('\n')[1]);
    },
    async cleanup() {
      for (const s of sentinels) {
        if (s.child.exitCode === null && s.child.signalCode === null) {
          process.kill(s.child.pid, 'SIGKILL');
          await s.exited;
        }
        fs.rmSync(s.dir, { recursive: true, force: true });
      }
      await Promise.all([primary, ...replicas].map((n) => n.cleanup()));
    },
  };
  try {
    for (let i = 0; i < replicaCount; i++) {
      replicas.push(await startRedis({ server: options.server, tls: nodeTls, args: ['--replicaof', '127.0.0.1', String(primary.port), '--repl-diskless-sync-delay', '0', ...tlsArgs] }));
    }
    // Replicas in sync before the sentinels look.
    for (let until = Date.now() + 20_000; ;) {
      const info = await primary.cli('INFO', 'replication');
      if ((info.match(/state=online/g) ?? []).length >= replicaCount) break;
      if (Date.now() > until) throw new Error('replicas did not sync within 20 s');
      await sleep(50);
    }
    for (let i = 0; i < (options.sentinels ?? 3); i++) {
      const port = await freePort();
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ncm-sentinel-'));
      const conf = path.join(dir, 'sentinel.conf');
      fs.writeFileSync(conf, [
        ...(tlsFiles ? ['port 0', `tls-port ${port}`, `tls-cert-file ${tlsFiles.certFile}`, `tls-key-file ${tlsFiles.keyFile}`,
          `tls-ca-cert-file ${tlsFiles.caFile}`, 'tls-auth-clients no', 'tls-replication yes'] : [`port ${port}`]),
        'bind 127.0.0.1', `dir ${dir}`,
        `sentinel monitor ${name} 127.0.0.1 ${primary.port} 2`,
        `sentinel down-after-milliseconds ${name} ${options.downAfterMs ?? 1000}`,
        `sentinel failover-timeout ${name} 10000`,
        `sentinel parallel-syncs ${name} 1`, '',
      ].join('\n'));
      const child = spawn(binary, [conf, '--sentinel'], { stdio: ['ignore', 'ignore', 'pipe'] });
      const exited = new Promise((resolve) => child.once('exit', resolve));
      sentinels.push({ port, dir, child, exited });
    }
    // Every sentinel answers and knows the primary and the other sentinels.
    for (let until = Date.now() + 30_000; ;) {
      try {
        const seen = await Promise.all(sentinels.map((s, i) => setup.sentinelCli(i, 'SENTINEL', 'MASTER', name)));
        const ok = seen.every((text) => {
          const lines = text.split('\n');
          const field = (key) => lines[lines.indexOf(key) + 1];
          return Number(field('num-other-sentinels')) === sentinels.length - 1 && Number(field('num-slaves')) === replicaCount;
        });
        if (ok) break;
      } catch {
        // still starting
      }
      if (Date.now() > until) throw new Error('sentinels did not see each other within 30 s');
      await sleep(100);
    }
  } catch (error) {
    await setup.cleanup();
    throw error;
  }
  return setup;
}

module.exports = { startSentinels };
