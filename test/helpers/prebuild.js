'use strict';

// The linux-x64 glibc prebuild made by scripts/prebuild.sh, for the tests of what users
// install. Under CI (CI=true) .ci/run builds it before the tests and a missing or stale one is
// a failure; elsewhere it is built here when missing or older than the sources (the script
// needs root: a Debian 11 root made with debootstrap, cached under build-prebuild/).
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const ROOT = path.join(__dirname, '..', '..');
const PREBUILD = path.join(ROOT, 'prebuilds', 'linux-x64', 'native-cache-manager.napi.glibc.node');
const LOCK = path.join(ROOT, 'build-prebuild', '.test-lock');
const BUILD_TIMEOUT_MS = 30 * 60_000;

function newestSource(dir) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(full) : fs.statSync(full).mtimeMs);
  }
  return newest;
}

function isFresh() {
  if (!fs.existsSync(PREBUILD)) return false;
  const sources = Math.max(newestSource(path.join(ROOT, 'src')), fs.statSync(path.join(ROOT, 'binding.gyp')).mtimeMs);
  return fs.statSync(PREBUILD).mtimeMs >= sources;
}

function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * The path of the linux-x64 glibc prebuild, built first when that is allowed and needed.
 * @returns {string}
 */
function ensurePrebuild() {
  if (isFresh()) return PREBUILD;
  if (process.env.CI === 'true') {
    throw new Error(`${path.relative(ROOT, PREBUILD)} is missing or older than src/: ` +
      '.ci/run must run `bash scripts/prebuild.sh linux-x64-glibc` before the tests');
  }
  // Two test files may ask at once: one builds, the other waits for it.
  fs.mkdirSync(path.dirname(LOCK), { recursive: true });
  const deadline = Date.now() + BUILD_TIMEOUT_MS;
  for (;;) {
    try {
      fs.mkdirSync(LOCK);
      break;
    } catch (error) {
      if (error.code !== 'EEXIST' || Date.now() > deadline) throw error;
      sleep(1000);
    }
  }
  try {
    if (!isFresh()) {
      execFileSync('bash', [path.join(ROOT, 'scripts', 'prebuild.sh'), 'linux-x64-glibc'], {
        cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'], timeout: BUILD_TIMEOUT_MS,
      });
    }
  } finally {
    fs.rmdirSync(LOCK);
  }
  if (!fs.existsSync(PREBUILD)) throw new Error(`scripts/prebuild.sh did not make ${PREBUILD}`);
  return PREBUILD;
}

module.exports = { ensurePrebuild, PREBUILD, BUILD_TIMEOUT_MS };
