'use strict';

/**
 * Finds the native addon file for this process: a local build (build/Release) or a prebuilt
 * binary shipped in the package under prebuilds/<platform>-<arch>/ (prebuildify's layout:
 * `<name>.<tags>.node`, tags such as `napi`, `glibc`, `musl`, `armv7`). Used by binding.js to
 * load the addon and by scripts/install.js to decide whether a compile is needed.
 *
 * The C library is read from the ELF interpreter of the running Node binary (musl's loader is
 * `ld-musl-*.so.1`): that names the libc this very process uses, costs one small read, and does
 * not mistake a glibc machine that merely has musl installed (or an Alpine file) for musl.
 */

const fs = require('node:fs');
const path = require('node:path');

const PACKAGE_ROOT = path.join(__dirname, '..');
const ADDON_NAME = 'native_cache_manager.node';
const PT_INTERP = 3;

/** What a source build needs, per system, for error messages and the install script. */
const BUILD_REQUIREMENTS = [
  'a C++20 compiler (g++ ≥ 10 or clang ≥ 12), make, python3, pkg-config and the hiredis headers',
  '(Debian/Ubuntu: apt-get install -y g++ make python3 pkg-config libhiredis-dev;',
  'Alpine: apk add g++ make python3 pkgconf hiredis-dev; macOS: brew install hiredis pkg-config)',
].join(' ');

const BUILD_COMMAND = '`npm rebuild native-cache-manager` (pnpm: allow its build with ' +
  '`pnpm approve-builds`, then `pnpm rebuild native-cache-manager`)';

/**
 * The interpreter path recorded in an ELF executable, or null when it cannot be read.
 * @param {string} file
 * @returns {string | null}
 */
function elfInterpreter(file) {
  let fd;
  try {
    fd = fs.openSync(file, 'r');
    const header = Buffer.alloc(64);
    if (fs.readSync(fd, header, 0, 64, 0) < 52 || header.readUInt32BE(0) !== 0x7f454c46) return null;
    const is64 = header[4] === 2;
    const little = header[5] === 1;
    const u16 = (b, o) => (little ? b.readUInt16LE(o) : b.readUInt16BE(o));
    const u32 = (b, o) => (little ? b.readUInt32LE(o) : b.readUInt32BE(o));
    const word = (b, o) => (is64 ? Number(little ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o)) : u32(b, o));
    const phoff = word(header, is64 ? 0x20 : 0x1c);
    const phentsize = u16(header, is64 ? 0x36 : 0x2a);
    const phnum = u16(header, is64 ? 0x38 : 0x2c);
    const table = Buffer.alloc(phentsize * phnum);
    fs.readSync(fd, table, 0, table.length, phoff);
    for (let i = 0; i < phnum; i++) {
      const entry = i * phentsize;
      if (u32(table, entry) !== PT_INTERP) continue;
      const offset = word(table, entry + (is64 ? 0x08 : 0x04));
      const size = word(table, entry + (is64 ? 0x20 : 0x10));
      const name = Buffer.alloc(Math.min(size, 4096));
      fs.readSync(fd, name, 0, name.length, offset);
      return name.toString('latin1').replace(/\0.*$/s, '');
    }
    return null;
  } catch {
    return null;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * The C library of this Node process on Linux: 'glibc' or 'musl'; null elsewhere.
 * @returns {'glibc' | 'musl' | null}
 */
function detectLibc() {
  if (process.platform !== 'linux') return null;
  const interpreter = elfInterpreter(process.execPath);
  if (interpreter !== null) return interpreter.includes('musl') ? 'musl' : 'glibc';
  // A Node binary without an interpreter (static) or unreadable: fall back to the report
  // header, which names a glibc version only under glibc (slower: tens of milliseconds).
  const header = process.report?.getReport?.().header;
  return header?.glibcVersionRuntime ? 'glibc' : 'musl';
}

/**
 * This process's target: platform, architecture and (Linux) C library.
 * @returns {{platform: string, arch: string, libc: 'glibc' | 'musl' | null, dir: string, label: string}}
 */
function currentTarget() {
  const { platform, arch } = process;
  const libc = detectLibc();
  const dir = `${platform}-${arch}`;
  return { platform, arch, libc, dir, label: libc ? `${dir} (${libc})` : dir };
}

/**
 * The tags of a prebuild file name (node-gyp-build's rules): `name.napi.glibc.node`.
 * @param {string} file
 */
function parseTags(file) {
  const parts = file.split('.');
  if (parts.pop() !== 'node') return null;
  const tags = { file, napi: false, libc: null, armv: null, runtime: null, specificity: 0 };
  for (const part of parts.slice(1)) {
    if (part === 'napi') tags.napi = true;
    else if (part === 'glibc' || part === 'musl') tags.libc = part;
    else if (/^armv\d+$/.test(part)) tags.armv = part.slice(4);
    else if (part === 'node' || part === 'electron') tags.runtime = part;
    else continue;
    tags.specificity++;
  }
  return tags;
}

/**
 * The prebuilt binary for a target, or null: a Node-API build whose libc tag matches (or that
 * has none), the most specific first.
 * @param {{dir: string, libc: string | null, arch: string}} target
 * @param {string} [root] the package directory
 * @returns {string | null}
 */
function findPrebuild(target, root = PACKAGE_ROOT) {
  const dir = path.join(root, 'prebuilds', target.dir);
  let files;
  try {
    files = fs.readdirSync(dir);
  } catch {
    return null;
  }
  const armv = target.arch === 'arm' ? String(process.config.variables.arm_version ?? '') : null;
  const matches = files
    .map(parseTags)
    .filter((t) => t !== null && t.napi && (t.runtime === null || t.runtime === 'node'))
    .filter((t) => t.libc === null || t.libc === target.libc)
    .filter((t) => t.armv === null || t.armv === armv)
    .sort((a, b) => b.specificity - a.specificity);
  return matches.length > 0 ? path.join(dir, matches[0].file) : null;
}

/**
 * The targets this package has prebuilt binaries for, as `linux-x64 (glibc)` labels.
 * @param {string} [root]
 * @returns {string[]}
 */
function shippedTargets(root = PACKAGE_ROOT) {
  const labels = [];
  let dirs = [];
  try {
    dirs = fs.readdirSync(path.join(root, 'prebuilds')).sort();
  } catch {
    return labels;
  }
  for (const dir of dirs) {
    let files = [];
    try {
      files = fs.readdirSync(path.join(root, 'prebuilds', dir)).sort();
    } catch {
      continue;
    }
    for (const tags of files.map(parseTags).filter((t) => t !== null && t.napi)) {
      labels.push(tags.libc ? `${dir} (${tags.libc})` : dir);
    }
  }
  return labels;
}

/**
 * Where the addon of a local source build is (whether or not it exists).
 * @param {string} [root]
 */
function localBuildPath(root = PACKAGE_ROOT) {
  return path.join(root, 'build', 'Release', ADDON_NAME);
}

/**
 * The file to load: an explicit override, a local build, else a matching prebuild.
 * @param {string} [root]
 * @returns {{file: string | null, kind: 'override' | 'local build' | 'prebuilt binary' | null, target: object, looked: string[]}}
 */
function locateAddon(root = PACKAGE_ROOT) {
  const target = currentTarget();
  const override = process.env.NATIVE_CACHE_MANAGER_ADDON;
  if (override) return { file: override, kind: 'override', target, looked: [override] };
  const local = localBuildPath(root);
  const prebuildDir = path.join(root, 'prebuilds', target.dir);
  const looked = [local, `${prebuildDir}${path.sep}*.napi${target.libc ? `.${target.libc}` : ''}.node`];
  if (fs.existsSync(local)) return { file: local, kind: 'local build', target, looked };
  const prebuilt = findPrebuild(target, root);
  if (prebuilt !== null) return { file: prebuilt, kind: 'prebuilt binary', target, looked };
  return { file: null, kind: null, target, looked };
}

/**
 * The one message for "no addon here": what this process is, what was looked for, what the
 * package ships, and how to build it.
 * @param {{target: object, looked: string[]}} located
 * @param {string} [root]
 */
function notFoundMessage(located, root = PACKAGE_ROOT) {
  const shipped = shippedTargets(root);
  return [
    `native-cache-manager: no native addon for ${located.target.label}, Node.js ${process.version}.`,
    `Looked for a local build at ${located.looked[0]} and a prebuilt binary ${located.looked[1]}: neither exists.`,
    `This copy of the package has prebuilt binaries for: ${shipped.length > 0 ? shipped.join(', ') : 'none'}.`,
    `To build it from source, install ${BUILD_REQUIREMENTS},`,
    `then run ${BUILD_COMMAND}.`,
  ].join('\n');
}

module.exports = {
  BUILD_COMMAND,
  BUILD_REQUIREMENTS,
  currentTarget,
  detectLibc,
  elfInterpreter,
  findPrebuild,
  localBuildPath,
  locateAddon,
  notFoundMessage,
  parseTags,
  shippedTargets,
};
