'use strict';

// What a user gets from the published tarball on a machine with no compiler and no hiredis:
// `npm pack` of this repository (with the linux-x64 glibc prebuild that scripts/prebuild.sh
// made), installed into a new project with a PATH that holds only node, npm and sh.
//  - with install scripts disabled (pnpm 10, --ignore-scripts) the prebuilt binary loads;
//  - with them enabled the install script finds the prebuild and compiles nothing;
//  - with no prebuild for the machine, require() throws one error that says what and how;
//  - the install script, with nothing to compile with, lists what to install, and with the
//    tools there it builds from source.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync, spawnSync } = require('node:child_process');
const { ensurePrebuild, BUILD_TIMEOUT_MS } = require('../helpers/prebuild');

const ROOT = path.join(__dirname, '..', '..');
const NPM_TIMEOUT_MS = 180_000;

let work;
let tarball;
let env;

/** npm's own CLI script, found beside the node binary (or from the npm on PATH). */
function npmCli() {
  const beside = path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');
  if (fs.existsSync(beside)) return beside;
  return fs.realpathSync(execFileSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim());
}

/** An environment whose PATH holds node, npm and sh only: no g++, make, python3 or pkg-config. */
function bareEnv(dir) {
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  fs.symlinkSync('/bin/sh', path.join(bin, 'sh')); // npm runs scripts with sh
  fs.symlinkSync(process.execPath, path.join(bin, 'node'));
  fs.symlinkSync(npmCli(), path.join(bin, 'npm'));
  const clean = { ...process.env, PATH: bin, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };
  // Nothing of this repository's own runs may reach the user's processes: the sanitizer
  // run's addon override and preload, compiler choices, npm's script variables.
  for (const name of Object.keys(clean)) {
    if (/^(NATIVE_CACHE_MANAGER_ADDON|LD_PRELOAD|CC|CXX|npm_config_node_gyp|npm_config_nodedir|npm_lifecycle_.*|npm_package_.*)$/.test(name)) {
      delete clean[name];
    }
  }
  return clean;
}

function npm(args, cwd) {
  return spawnSync('npm', args, { cwd, env, encoding: 'utf8', timeout: NPM_TIMEOUT_MS });
}

function newProject(name) {
  const dir = path.join(work, name);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true }));
  return dir;
}

/** Runs a script in a project as a user would (node from the bare PATH, cwd = the project). */
function node(cwd, code) {
  return spawnSync('node', ['-e', code], { cwd, env, encoding: 'utf8', timeout: 60_000 });
}

const USE_IT = `
  const { createCache, MemoryStore } = require('native-cache-manager');
  const { locateAddon } = require(require('node:path').join(require.resolve('native-cache-manager'), '..', 'addon-locator.js'));
  (async () => {
    const cache = createCache({ stores: [new MemoryStore()] });
    await cache.set('k', { n: 1, at: new Date(5) });
    const value = await cache.get('k');
    await cache.disconnect();
    console.log(JSON.stringify({ value, kind: locateAddon().kind }));
  })();`;

beforeAll(() => {
  ensurePrebuild();
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'ncm-install-'));
  env = bareEnv(work);
  const packed = npm(['pack', '--silent', '--pack-destination', work, ROOT], ROOT);
  expect(packed.stderr).toBe('');
  expect(packed.status).toBe(0);
  tarball = path.join(work, packed.stdout.trim().split('\n').at(-1));
}, BUILD_TIMEOUT_MS);

afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

test('the tarball holds the prebuilt binary, the loader and the install script, and no build/', () => {
  const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n');
  expect(files).toEqual(expect.arrayContaining([
    'package/prebuilds/linux-x64/native-cache-manager.napi.glibc.node',
    'package/lib/addon-locator.js',
    'package/scripts/install.js',
    'package/binding.gyp',
  ]));
  expect(files.filter((file) => file.startsWith('package/build/'))).toEqual([]);
});

describe('installed with install scripts disabled (pnpm 10, --ignore-scripts)', () => {
  let project;
  let installed;

  beforeAll(() => {
    project = newProject('ignore-scripts');
    const result = npm(['install', '--ignore-scripts', '--prefer-offline', tarball], project);
    expect(result.stderr).not.toMatch(/ERR!/);
    expect(result.status).toBe(0);
    installed = path.join(project, 'node_modules', 'native-cache-manager');
  }, NPM_TIMEOUT_MS);

  test('require() loads the prebuilt binary and the cache works', () => {
    expect(fs.existsSync(path.join(installed, 'build'))).toBe(false);
    const result = node(project, USE_IT);
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual({ value: { n: 1, at: new Date(5).toISOString() }, kind: 'prebuilt binary' });
  });

  test('native-cache-manager/next and its entry files resolve under require, as next.config uses them', () => {
    const result = node(project, `
      delete process.env.REDIS_URL;
      const next = require('native-cache-manager/next');
      const [incremental, useCacheFile] = ['incremental-cache', 'use-cache']
        .map((name) => require.resolve('native-cache-manager/next/' + name));
      const Handler = require(incremental);
      const useCache = require(useCacheFile);
      console.log(JSON.stringify({
        factories: [typeof next.createIncrementalCacheHandler, typeof next.createUseCacheHandler],
        handler: typeof Handler, methods: typeof new Handler({}).get + typeof useCache.get,
        oneBackend: Handler.backend === useCache.backend, shared: Handler.backend.shared,
      }));
      Handler.disconnect();`);
    expect(result.stderr).toMatch(/^\[native-cache-manager\/next\] REDIS_URL is not set/);
    expect(result.stderr.split('\n').filter(Boolean)).toHaveLength(1); // one warning for both files
    expect(JSON.parse(result.stdout)).toEqual({
      factories: ['function', 'function'], handler: 'function', methods: 'functionfunction', oneBackend: true, shared: false,
    });
  });

  test('without a prebuild for the machine, require() throws one error saying what was looked for and how to build', () => {
    fs.renameSync(path.join(installed, 'prebuilds'), path.join(installed, 'prebuilds.away'));
    try {
      const result = node(project, `
        try {
          require('native-cache-manager');
        } catch (error) {
          console.log(JSON.stringify({ code: error.code, message: error.message, cause: error.cause !== undefined }));
        }`);
      expect(result.stderr).toBe('');
      const error = JSON.parse(result.stdout);
      expect(error.code).toBe('ERR_ADDON_NOT_LOADED');
      expect(error.cause).toBe(false);
      const { message } = error;
      expect(message).toContain('no native addon for linux-x64 (glibc)');
      expect(message).toContain(path.join(installed, 'prebuilds', 'linux-x64', '*.napi.glibc.node'));
      expect(message).toContain(path.join(installed, 'build', 'Release', 'native_cache_manager.node'));
      expect(message).toContain('prebuilt binaries for: none');
      expect(message).toContain('apt-get install -y g++ make python3 pkg-config libhiredis-dev');
      expect(message).toContain('apk add g++ make python3 pkgconf hiredis-dev');
      expect(message).toContain('npm rebuild native-cache-manager');
      expect(message).toContain('pnpm approve-builds');
    } finally {
      fs.renameSync(path.join(installed, 'prebuilds.away'), path.join(installed, 'prebuilds'));
    }
  });

  test('the install script, with no prebuild and no compiler, names what to install and fails', () => {
    fs.renameSync(path.join(installed, 'prebuilds'), path.join(installed, 'prebuilds.away'));
    try {
      const result = spawnSync('node', ['scripts/install.js'], { cwd: installed, env, encoding: 'utf8' });
      expect(result.status).toBe(1);
      expect(result.stdout).toContain('no prebuilt binary for linux-x64 (glibc); building from source');
      expect(result.stderr).toContain('cannot build the native addon for linux-x64 (glibc): missing a C++20 compiler, make, pkg-config, python3');
      expect(result.stderr).toContain('apt-get install -y g++ make python3 pkg-config libhiredis-dev');
      expect(fs.existsSync(path.join(installed, 'build'))).toBe(false);
    } finally {
      fs.renameSync(path.join(installed, 'prebuilds.away'), path.join(installed, 'prebuilds'));
    }
  });

  test('the install script, with no prebuild but the tools there, builds from source and that build loads', () => {
    fs.renameSync(path.join(installed, 'prebuilds'), path.join(installed, 'prebuilds.away'));
    try {
      // This machine's PATH (g++, make, python3, pkg-config, libhiredis-dev) and Node's own
      // headers: node-gyp cannot download them here.
      const toolsEnv = { ...env, PATH: `${env.PATH}:${process.env.PATH}` };
      if (process.env.npm_config_nodedir) toolsEnv.npm_config_nodedir = process.env.npm_config_nodedir;
      else if (fs.existsSync('/usr/include/node/node.h')) toolsEnv.npm_config_nodedir = '/usr';
      const result = spawnSync('npm', ['rebuild', '--foreground-scripts', 'native-cache-manager'],
        { cwd: project, env: toolsEnv, encoding: 'utf8', timeout: NPM_TIMEOUT_MS });
      expect(result.stdout).toContain('no prebuilt binary for linux-x64 (glibc); building from source');
      expect(result.stdout).toContain('built build/Release/native_cache_manager.node from source');
      expect(result.status).toBe(0);
      const used = node(project, USE_IT);
      expect(used.stderr).toBe('');
      expect(JSON.parse(used.stdout).kind).toBe('local build');
    } finally {
      fs.rmSync(path.join(installed, 'build'), { recursive: true, force: true });
      fs.renameSync(path.join(installed, 'prebuilds.away'), path.join(installed, 'prebuilds'));
    }
  }, NPM_TIMEOUT_MS);
});

test('installed with install scripts enabled, the install script uses the prebuild and compiles nothing', () => {
  const project = newProject('with-scripts');
  const result = npm(['install', '--foreground-scripts', '--prefer-offline', tarball], project);
  expect(result.status).toBe(0);
  expect(result.stdout).toContain('native-cache-manager: using the prebuilt binary for linux-x64 (glibc): ' +
    'prebuilds/linux-x64/native-cache-manager.napi.glibc.node (nothing to compile)');
  expect(fs.existsSync(path.join(project, 'node_modules', 'native-cache-manager', 'build'))).toBe(false);
  const used = node(project, USE_IT);
  expect(used.stderr).toBe('');
  expect(JSON.parse(used.stdout).kind).toBe('prebuilt binary');
}, NPM_TIMEOUT_MS);
