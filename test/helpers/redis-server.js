'use strict';

// Starts a throwaway redis-server for a test file: a free loopback port, no persistence,
// DEBUG allowed, run as a child of the test process and stopped by its pid.
const { spawn, execFile } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Resolves when a raw PING on the port (or socket) gets +PONG. */
function waitForPong(target, timeoutMs = 5000) {
  const until = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const socket = net.connect(target);
      let answered = false;
      socket.on('connect', () => socket.write('PING\r\n'));
      socket.on('data', (data) => {
        answered = data.toString().startsWith('+PONG');
        socket.destroy();
      });
      socket.on('close', () => {
        if (answered) resolve();
        else if (Date.now() > until) reject(new Error(`redis-server did not answer PING on ${JSON.stringify(target)}`));
        else setTimeout(attempt, 20);
      });
      socket.on('error', () => {});
    };
    attempt();
  });
}

/** Resolves when `redis-cli PING` run inside network namespace `netns` answers PONG. */
function waitForPongIn(netns, host, port, timeoutMs = 5000) {
  const until = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      execFile('ip', ['netns', 'exec', netns, 'redis-cli', '-h', host, '-p', String(port), 'PING'], (error, stdout) => {
        if (!error && stdout.trim() === 'PONG') resolve();
        else if (Date.now() > until) reject(new Error(`redis-server did not answer PING on ${host}:${port} in netns ${netns}`));
        else setTimeout(attempt, 20);
      });
    };
    attempt();
  });
}

/**
 * @param {{args?: string[], unixSocket?: boolean, password?: string, netns?: string,
 *   host?: string, port?: number}} [options] `netns`: run the server inside that network
 *   namespace (`ip netns exec`, root only; the child is redis-server itself, stopped by pid),
 *   listening on `host` (an address of the namespace) and `port`
 */
async function startRedis(options = {}) {
  const port = options.port ?? await freePort();
  const host = options.host ?? '127.0.0.1';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ncm-redis-'));
  const socketPath = options.unixSocket ? path.join(dir, 'redis.sock') : undefined;
  const args = ['--port', String(port), '--bind', host, '--save', '', '--appendonly', 'no',
    '--dir', dir, '--enable-debug-command', 'local', ...(options.args ?? [])];
  if (options.netns) args.push('--protected-mode', 'no');
  if (socketPath) args.push('--unixsocket', socketPath, '--unixsocketperm', '700');
  const server = { port, host, dir, socketPath, url: `redis://${host}:${port}`, child: undefined };
  // `ip netns exec` enters the namespace and execs the command: the child's pid is redis-server's.
  const [file, argv] = options.netns
    ? ['ip', ['netns', 'exec', options.netns, 'redis-server', ...args]]
    : ['redis-server', args];
  const cliPrefix = options.netns ? ['ip', ['netns', 'exec', options.netns, 'redis-cli']] : ['redis-cli', []];

  server.start = async () => {
    const child = spawn(file, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
    server.child = child;
    server.pid = child.pid;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    server.exited = exited;
    await Promise.race([
      options.netns ? waitForPongIn(options.netns, host, port) : waitForPong({ port, host }),
      exited.then((code) => { throw new Error(`redis-server exited early with ${code}`); }),
    ]);
  };

  /** Stops the server by pid and waits for it to exit. */
  server.stop = async () => {
    if (!server.child || server.child.exitCode !== null || server.child.signalCode !== null) return;
    process.kill(server.pid, 'SIGKILL');
    await server.exited;
  };

  server.restart = async (downMs = 0) => {
    await server.stop();
    if (downMs) await new Promise((r) => setTimeout(r, downMs));
    await server.start();
  };

  /** Runs redis-cli against this server; resolves with its trimmed output. */
  server.cli = (...cliArgs) => new Promise((resolve, reject) => {
    execFile(cliPrefix[0], [...cliPrefix[1], '-h', host, '-p', String(port), ...cliArgs], (error, stdout) => {
      if (error) reject(error);
      else resolve(stdout.trim());
    });
  });

  /** Client connections as parsed CLIENT LIST lines, excluding redis-cli's own. */
  server.clients = async () => {
    const text = await server.cli('CLIENT', 'LIST');
    return text.split('\n').filter(Boolean)
      .map((line) => Object.fromEntries(line.split(' ').map((kv) => kv.split('=', 2))))
      .filter((c) => c.cmd !== 'client|list');
  };

  server.cleanup = async () => {
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  };

  await server.start();
  return server;
}

module.exports = { startRedis, freePort };
