'use strict';

// How the loader picks the addon file: the C library of the running Node, and the prebuild
// whose tags (prebuildify's `name.napi.glibc.node`) fit it.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { detectLibc, elfInterpreter, findPrebuild, parseTags, shippedTargets } = require('../../lib/addon-locator');

let dir;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ncm-locator-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function prebuilds(target, files) {
  fs.mkdirSync(path.join(dir, 'prebuilds', target), { recursive: true });
  for (const file of files) fs.writeFileSync(path.join(dir, 'prebuilds', target, file), '');
}

test('the C library is read from the running Node binary: glibc here', () => {
  expect(elfInterpreter(process.execPath)).toMatch(/\/ld-linux-[\w-]+\.so\.\d$/);
  expect(detectLibc()).toBe('glibc');
});

test('a file that is not ELF has no interpreter', () => {
  const file = path.join(dir, 'not-elf');
  fs.writeFileSync(file, 'hello');
  expect(elfInterpreter(file)).toBe(null);
  expect(elfInterpreter(path.join(dir, 'missing'))).toBe(null);
});

test('prebuild file names are read with node-gyp-build\'s tags', () => {
  expect(parseTags('native-cache-manager.napi.glibc.node')).toMatchObject({ napi: true, libc: 'glibc', specificity: 2 });
  expect(parseTags('node.napi.musl.node')).toMatchObject({ napi: true, libc: 'musl' });
  expect(parseTags('native-cache-manager.napi.armv7.node')).toMatchObject({ armv: '7' });
  expect(parseTags('README.md')).toBe(null);
});

test('the prebuild whose libc tag matches is chosen; an untagged one fits any libc; others are not', () => {
  prebuilds('linux-x64', ['x.napi.musl.node', 'x.napi.glibc.node', 'x.abi115.node', 'notes.txt']);
  const target = (libc) => ({ dir: 'linux-x64', libc, arch: 'x64' });
  expect(findPrebuild(target('glibc'), dir)).toBe(path.join(dir, 'prebuilds', 'linux-x64', 'x.napi.glibc.node'));
  expect(findPrebuild(target('musl'), dir)).toBe(path.join(dir, 'prebuilds', 'linux-x64', 'x.napi.musl.node'));

  prebuilds('linux-arm64', ['x.napi.node']);
  expect(findPrebuild({ dir: 'linux-arm64', libc: 'musl', arch: 'arm64' }, dir))
    .toBe(path.join(dir, 'prebuilds', 'linux-arm64', 'x.napi.node'));
  expect(findPrebuild({ dir: 'darwin-arm64', libc: null, arch: 'arm64' }, dir)).toBe(null);
  expect(shippedTargets(dir)).toEqual(['linux-arm64', 'linux-x64 (glibc)', 'linux-x64 (musl)']);
});

test('a Node-API prebuild for the other libc only is not chosen', () => {
  prebuilds('linux-x64', ['x.napi.glibc.node']);
  expect(findPrebuild({ dir: 'linux-x64', libc: 'musl', arch: 'x64' }, dir)).toBe(null);
});
