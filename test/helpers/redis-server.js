'use strict';

// Starts a throwaway redis-server for a test file: a free loopback port, no persistence,
// DEBUG allowed, run as a child of the test process and stopped by its pid.
// NCM_TEST_SERVER=valkey (or the `server` option) starts valkey-server instead, driven with
// valkey-cli (`npm run test:valkey`). Valkey 8 takes the same flags used here
// (--enable-debug-command, --save, --appendonly, --unixsocket…) and speaks the same protocol.
const { spawn, execFile, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const tls = require('node:tls');
const os = require('node:os');
const path = require('node:path');

const SERVERS = {
  redis: { kind: 'redis', name: 'Redis', binary: 'redis-server', cli: 'redis-cli' },
  valkey: { kind: 'valkey', name: 'Valkey', binary: 'valkey-server', cli: 'valkey-cli' },
};
const versions = new Map();

/**
 * The server the tests run against: `choice`, else NCM_TEST_SERVER, else redis.
 * `version` is the binary's own (`valkey-server --version` → '8.0.1'), read once.
 * @param {string} [choice] 'redis' or 'valkey'
 * @returns {{kind: 'redis'|'valkey', name: string, binary: string, cli: string, version: string}}
 */
function testServer(choice = process.env.NCM_TEST_SERVER || 'redis') {
  const spec = SERVERS[choice];
  if (spec === undefined) throw new Error(`NCM_TEST_SERVER must be redis or valkey; received ${JSON.stringify(choice)}`);
  if (!versions.has(choice)) {
    const text = execFileSync(spec.binary, ['--version'], { encoding: 'utf8' });
    versions.set(choice, text.match(/v=(\S+)/)?.[1] ?? text.trim());
  }
  return { ...spec, version: versions.get(choice) };
}

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

/**
 * A socket of the test's own to `target` ({ port, host }): TLS (not verified: the tests
 * check our client's verification, not this helper's) when `tlsClient` is given, with its
 * client certificate if it has one.
 */
function connectTo(target, tlsClient) {
  if (tlsClient === undefined) return net.connect(target);
  return tls.connect({
    ...target, rejectUnauthorized: false, cert: tlsClient.cert, key: tlsClient.key,
    minVersion: tlsClient.minVersion, maxVersion: tlsClient.maxVersion,
  });
}
const connectEvent = (tlsClient) => (tlsClient === undefined ? 'connect' : 'secureConnect');

/** Resolves when a raw PING on the port (or socket) gets +PONG (after AUTH when a password is set). */
function waitForPong(target, timeoutMs = 5000, password = undefined, tlsClient = undefined) {
  const until = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const socket = connectTo(target, tlsClient);
      let answered = false;
      let text = '';
      socket.on(connectEvent(tlsClient), () => socket.write(password === undefined ? 'PING\r\n'
        : `${encode(['AUTH', password])}PING\r\n`));
      socket.on('data', (data) => {
        text += data.toString();
        const lines = text.split('\r\n').slice(0, -1); // complete lines
        if (password !== undefined && lines.length < 2 && !text.startsWith('-')) return; // +OK, then PONG
        answered = lines[password === undefined ? 0 : 1] === '+PONG';
        socket.destroy();
      });
      socket.on('close', () => {
        if (answered) resolve();
        else if (Date.now() > until) reject(new Error(`the server did not answer PING on ${JSON.stringify(target)}`));
        else setTimeout(attempt, 20);
      });
      socket.on('error', () => {});
    };
    attempt();
  });
}

/** RESP encoding of one command. */
function encode(args) {
  let out = `*${args.length}\r\n`;
  for (const arg of args) {
    const bytes = Buffer.from(String(arg));
    out += `$${bytes.length}\r\n${bytes.toString('latin1')}\r\n`;
  }
  return out;
}

/**
 * Parses one RESP2 reply at `at` of `buf` (latin1 text). Returns [value, next] or undefined
 * when incomplete; error replies come back as Error objects.
 */
function parseReply(buf, at) {
  const nl = buf.indexOf('\r\n', at);
  if (nl < 0) return undefined;
  const head = buf[at];
  const line = buf.slice(at + 1, nl);
  switch (head) {
    case '+': return [line, nl + 2];
    case '-': return [new Error(line), nl + 2];
    case ':': return [Number(line), nl + 2];
    case '$': {
      const len = Number(line);
      if (len < 0) return [null, nl + 2];
      if (buf.length < nl + 2 + len + 2) return undefined;
      return [Buffer.from(buf.slice(nl + 2, nl + 2 + len), 'latin1').toString(), nl + 2 + len + 2];
    }
    case '*': {
      const count = Number(line);
      if (count < 0) return [null, nl + 2];
      const items = [];
      let next = nl + 2;
      for (let i = 0; i < count; i++) {
        const one = parseReply(buf, next);
        if (one === undefined) return undefined;
        items.push(one[0]);
        next = one[1];
      }
      return [items, next];
    }
    default: throw new Error(`unexpected RESP byte ${JSON.stringify(head)}`);
  }
}

/**
 * A bare connection for the test itself (no reconnect, no pipelining rules): holds a
 * client slot, and keeps working when redis-cli could not get one (e.g. under maxclients).
 * `command(args)` resolves with the reply (error replies resolve as Error objects);
 * `closed` resolves when the server or `close()` ends the connection.
 * @param {number} port
 * @param {{password?: string, username?: string, tls?: object}} [options] AUTH right after
 *   connecting; `tls`: connect with TLS (see connectTo)
 */
async function rawConnection(port, options = {}) {
  const socket = connectTo({ host: '127.0.0.1', port }, options.tls);
  socket.setNoDelay(true);
  await new Promise((resolve, reject) => { socket.once(connectEvent(options.tls), resolve); socket.once('error', reject); });
  socket.on('error', () => {});
  const waiting = [];
  const greeting = []; // replies that arrived with nothing waiting (e.g. max clients reached)
  let buffered = '';
  socket.on('data', (data) => {
    buffered += data.toString('latin1');
    for (;;) {
      const one = parseReply(buffered, 0);
      if (one === undefined) break;
      buffered = buffered.slice(one[1]);
      const w = waiting.shift();
      if (w) w.resolve(one[0]);
      else greeting.push(one[0]);
    }
  });
  const closed = new Promise((resolve) => socket.once('close', resolve));
  closed.then(() => {
    for (const w of waiting.splice(0)) w.reject(new Error('raw connection closed'));
  });
  const conn = {
    socket,
    greeting,
    closed,
    command(args) {
      return new Promise((resolve, reject) => {
        if (socket.destroyed) {
          reject(new Error('raw connection closed'));
          return;
        }
        waiting.push({ resolve, reject });
        socket.write(encode(args));
      });
    },
    /** INFO <section> as an object of strings. */
    async info(section = 'stats') {
      const text = await conn.command(['INFO', section]);
      if (text instanceof Error) throw text;
      return Object.fromEntries(text.split('\r\n').filter((l) => l && !l.startsWith('#'))
        .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1)]));
    },
    close() {
      socket.destroy();
      return closed;
    },
  };
  if (options.password !== undefined) {
    const reply = await conn.command(options.username === undefined ? ['AUTH', options.password]
      : ['AUTH', options.username, options.password]);
    if (reply instanceof Error) {
      socket.destroy();
      throw reply;
    }
  }
  return conn;
}

/** Resolves when `<cli> PING` run inside network namespace `netns` answers PONG. */
function waitForPongIn(netns, host, port, timeoutMs = 5000, cli = 'redis-cli') {
  const until = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      execFile('ip', ['netns', 'exec', netns, cli, '-h', host, '-p', String(port), 'PING'], (error, stdout) => {
        if (!error && stdout.trim() === 'PONG') resolve();
        else if (Date.now() > until) reject(new Error(`the server did not answer PING on ${host}:${port} in netns ${netns}`));
        else setTimeout(attempt, 20);
      });
    };
    attempt();
  });
}

/**
 * @param {{args?: string[], unixSocket?: boolean, password?: string, netns?: string,
 *   host?: string, port?: number, server?: 'redis'|'valkey', tls?: {certFile: string,
 *   keyFile: string, caFile?: string, authClients?: 'yes'|'no'|'optional', protocols?: string,
 *   client?: {cert: string, key: string}, plain?: boolean}}} [options] `args` are extra server arguments (e.g.
 *   ['--maxmemory', '2mb']); `password` starts the server with --requirepass, and `cli`,
 *   `clients` and `raw` then authenticate with it; `netns`: run the server inside that network
 *   namespace (`ip netns exec`, root only; the child is the server itself, stopped by pid),
 *   listening on `host` (an address of the namespace) and `port`; `server`: which server to
 *   start (default: NCM_TEST_SERVER, else redis). The result's `kind` ('redis' or 'valkey'),
 *   `name` and `version` say which one runs. `tls`: the port speaks TLS only (plain TCP off,
 *   `url` is rediss://), with this certificate and key, `caFile` to verify clients (needed for
 *   authClients 'yes'), `protocols` for --tls-protocols (e.g. 'TLSv1.2'), `client` the
 *   certificate the helper's own connections present, and `plain: true` to keep a plain TCP
 *   port open as well (the same server on both: `plainPort` and `plainUrl`)
 */
async function startRedis(options = {}) {
  const { kind, name, binary, cli, version } = testServer(options.server);
  const port = options.port ?? await freePort();
  const host = options.host ?? '127.0.0.1';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ncm-redis-'));
  const socketPath = options.unixSocket ? path.join(dir, 'redis.sock') : undefined;
  const { password } = options;
  const tlsServer = options.tls;
  // The helper's own TLS connections (PING on start, raw connections): unverified.
  const tlsClient = tlsServer && { ...tlsServer.client };
  const plainPort = tlsServer?.plain ? await freePort() : undefined;
  const listen = tlsServer === undefined ? ['--port', String(port)] : [
    '--port', String(plainPort ?? 0), '--tls-port', String(port), '--tls-cert-file', tlsServer.certFile,
    '--tls-key-file', tlsServer.keyFile, '--tls-auth-clients', tlsServer.authClients ?? 'no',
    ...(tlsServer.caFile ? ['--tls-ca-cert-file', tlsServer.caFile] : []),
    ...(tlsServer.protocols ? ['--tls-protocols', tlsServer.protocols] : []),
  ];
  const args = [...listen, '--bind', host, '--save', '', '--appendonly', 'no',
    '--dir', dir, '--enable-debug-command', 'local', ...(options.args ?? [])];
  if (options.netns) args.push('--protected-mode', 'no');
  if (socketPath) args.push('--unixsocket', socketPath, '--unixsocketperm', '700');
  if (password !== undefined) args.push('--requirepass', password);
  const scheme = tlsServer === undefined ? 'redis' : 'rediss';
  const server = {
    kind, name, version, port, host, dir, socketPath, url: `${scheme}://${host}:${port}`, child: undefined,
    plainPort, plainUrl: plainPort === undefined ? undefined : `redis://${host}:${plainPort}`,
  };
  // `ip netns exec` enters the namespace and execs the command: the child's pid is the server's.
  const [file, argv] = options.netns
    ? ['ip', ['netns', 'exec', options.netns, binary, ...args]]
    : [binary, args];
  const cliPrefix = options.netns ? ['ip', ['netns', 'exec', options.netns, cli]] : [cli, []];

  server.start = async () => {
    const child = spawn(file, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
    server.child = child;
    server.pid = child.pid;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    server.exited = exited;
    await Promise.race([
      options.netns ? waitForPongIn(options.netns, host, port, 5000, cli) : waitForPong({ port, host }, 5000, password, tlsClient),
      exited.then((code) => { throw new Error(`${binary} exited early with ${code}`); }),
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

  /** Runs redis-cli (valkey-cli for Valkey) against this server; resolves with its trimmed output. */
  server.cli = (...cliArgs) => new Promise((resolve, reject) => {
    const auth = password === undefined ? [] : ['--no-auth-warning', '-a', password];
    const secure = tlsServer === undefined ? [] : ['--tls', '--insecure',
      ...(tlsServer.client?.certFile ? ['--cert', tlsServer.client.certFile, '--key', tlsServer.client.keyFile] : [])];
    execFile(cliPrefix[0], [...cliPrefix[1], '-h', host, '-p', String(port), ...secure, ...auth, ...cliArgs], (error, stdout) => {
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

  /** A bare connection of the test's own (see rawConnection), authenticated when a password is set. */
  server.raw = (rawOptions) => rawConnection(port,
    { ...(password === undefined ? {} : { password }), tls: tlsClient, ...rawOptions });

  server.cleanup = async () => {
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  };

  await server.start();
  return server;
}

module.exports = { startRedis, freePort, rawConnection, testServer };
