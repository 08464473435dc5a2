'use strict';

// A Next.js app under test: the package packed and installed into it, `next build`, and
// `next start` processes on loopback, each stopped by pid.
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { freePort } = require('./redis-server');

const ROOT = path.join(__dirname, '..', '..');
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const baseEnv = {
  ...process.env,
  NEXT_TELEMETRY_DISABLED: '1',
  npm_config_nodedir: process.env.npm_config_nodedir ?? '/usr',
  npm_config_audit: 'false',
  npm_config_fund: 'false',
  npm_config_update_notifier: 'false',
};
delete baseEnv.NODE_ENV; // Jest sets 'test'; next build and next start pick their own
delete baseEnv.REDIS_URL;

/**
 * The processes one test file started: `run` and `start` register theirs, `stopAll` kills what
 * is left (a whole process group for `run`: next build's workers, npm's children).
 */
function nextApp(appDir) {
  const nextBin = path.join(appDir, 'node_modules', 'next', 'dist', 'bin', 'next');
  const children = new Set();

  /** Runs a command to completion: { code, output, ms }. */
  function run(command, args, options = {}) {
    const started = Date.now();
    return new Promise((resolve, reject) => {
      const child = spawn(command, args, { cwd: appDir, env: baseEnv, ...options, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      child.group = true;
      children.add(child);
      let output = '';
      child.stdout.on('data', (chunk) => { output += chunk; });
      child.stderr.on('data', (chunk) => { output += chunk; });
      child.on('error', reject);
      child.on('exit', (code) => {
        children.delete(child);
        resolve({ code, output, ms: Date.now() - started });
      });
    });
  }

  /** Packs the repository and installs the tarball into the app (with its other dependencies). */
  async function install(tmp) {
    const pack = await run('npm', ['pack', '--pack-destination', tmp], { cwd: ROOT });
    if (pack.code !== 0) throw new Error(`npm pack failed:\n${pack.output}`);
    const tarball = fs.readdirSync(tmp).find((f) => f.endsWith('.tgz'));
    const result = await run('npm', ['install', '--no-save', '--prefer-offline', path.join(tmp, tarball)]);
    if (result.code !== 0) throw new Error(`npm install failed:\n${result.output}`);
    return result;
  }

  /** `next build` with `env` added; resolves with { code, output, ms }. */
  function build(env = {}) {
    return run(process.execPath, [nextBin, 'build'], { env: { ...baseEnv, ...env } });
  }

  /**
   * `next start` on a free loopback port with `env` added; resolves once `readyPath` answers.
   * The result has `get(path)`, `post(path, body, headers)`, `log`, `exited`, `stop()`.
   */
  async function start(env = {}, { readyPath = '/api/quote?id=__ready', bootTimeout = 90_000 } = {}) {
    const port = await freePort();
    const child = spawn(process.execPath, [nextBin, 'start', '-p', String(port), '-H', '127.0.0.1'], {
      cwd: appDir, env: { ...baseEnv, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    const server = { child, pid: child.pid, port, log: '' };
    child.stdout.on('data', (chunk) => { server.log += chunk; });
    child.stderr.on('data', (chunk) => { server.log += chunk; });
    server.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        server.exitedAt = Date.now();
        children.delete(child);
        resolve({ code, signal });
      });
    });
    server.get = (pathname) => request(port, 'GET', pathname);
    server.post = (pathname, body, headers) => request(port, 'POST', pathname, body, headers);
    server.stop = async () => {
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGKILL');
      await server.exited;
    };
    const until = Date.now() + bootTimeout;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`next start exited: ${server.log}`);
      try {
        await server.get(readyPath);
        return server;
      } catch (error) {
        if (Date.now() > until) throw new Error(`next start did not answer: ${error.message}\n${server.log}`);
        await sleep(100);
      }
    }
  }

  function stopAll() {
    for (const child of children) {
      if (child.exitCode === null && child.signalCode === null) {
        process.kill(child.group ? -child.pid : child.pid, 'SIGKILL');
      }
    }
  }

  return { run, install, build, start, stopAll, nextBin };
}

/**
 * One request on its own connection (or on `agent`'s); resolves with { status, body, json, ms,
 * started, ended }. No byte for a minute fails it.
 */
function request(port, method, pathname, body, headers = {}, agent = false) {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: pathname, agent, headers }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => { text += chunk; });
      response.on('end', () => {
        const type = response.headers['content-type'] ?? '';
        resolve({
          status: response.statusCode, body: text, headers: response.headers, ms: Date.now() - started,
          started, ended: Date.now(), json: type.includes('application/json') ? JSON.parse(text) : undefined,
        });
      });
    });
    req.on('error', reject);
    req.setTimeout(60_000, () => req.destroy(new Error(`${method} ${pathname} timed out`)));
    req.end(body);
  });
}

/**
 * Calls `check` every 25 ms until it returns something truthy or `timeoutMs` pass; resolves
 * with its last result.
 */
async function waitFor(check, timeoutMs) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const result = await check();
    if (result || Date.now() > until) return result;
    await sleep(25);
  }
}

module.exports = { nextApp, request, sleep, waitFor, baseEnv, ROOT };
