'use strict';

// The package's `install` script. A prebuilt binary that loads here means nothing to build;
// otherwise the addon is compiled with node-gyp (build/Release), after a check that the tools
// and hiredis are there, so a machine without them gets a list of what to install instead of
// a compiler's error. NATIVE_CACHE_MANAGER_BUILD_FROM_SOURCE=1 (or npm's --build-from-source)
// compiles even when a prebuilt binary matches.
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const {
  BUILD_REQUIREMENTS, currentTarget, findPrebuild, localBuildPath,
} = require('../lib/addon-locator');

const root = path.join(__dirname, '..');
const target = currentTarget();

function say(line) {
  console.log(`native-cache-manager: ${line}`);
}

function yes(value) {
  return value !== undefined && value !== '' && value !== '0' && value !== 'false';
}

/** Whether the file loads in a fresh Node process (a failed dlopen must not end this one). */
function loads(file) {
  const probe = spawnSync(process.execPath, ['-e', 'require(process.argv[1])', file], { encoding: 'utf8' });
  return { ok: probe.status === 0, detail: (probe.stderr || '').trim().split('\n').find((l) => /Error/.test(l)) || '' };
}

/** True when `command args` runs (exit status 0), without output. */
function runs(command, args) {
  const result = spawnSync(command, args, { stdio: 'ignore', shell: false });
  return result.status === 0;
}

/** What is missing for a source build, as short names. */
function missingForBuild() {
  const missing = [];
  const cxx = process.env.CXX || (process.platform === 'darwin' ? 'clang++' : 'g++');
  if (process.platform !== 'win32') {
    if (!runs(cxx, ['--version']) && !runs('c++', ['--version'])) missing.push('a C++20 compiler');
    if (!runs('make', ['--version'])) missing.push('make');
    if (!runs('pkg-config', ['--version'])) missing.push('pkg-config');
    else if (!runs('pkg-config', ['--exists', 'hiredis'])) missing.push('hiredis (headers and pkg-config file)');
  }
  const python = process.env.PYTHON || process.env.npm_config_python;
  if (!(python ? runs(python, ['--version']) : runs('python3', ['--version']))) missing.push('python3');
  return missing;
}

function nodeGyp() {
  // npm names its bundled node-gyp in npm_config_node_gyp; pnpm and yarn put node-gyp on PATH.
  const bundled = process.env.npm_config_node_gyp;
  return bundled ? [process.execPath, [bundled]] : ['node-gyp', []];
}

function main() {
  const fromSource = yes(process.env.NATIVE_CACHE_MANAGER_BUILD_FROM_SOURCE) ||
    yes(process.env.npm_config_build_from_source);
  if (!fromSource) {
    const prebuilt = findPrebuild(target, root);
    if (prebuilt !== null) {
      const probe = loads(prebuilt);
      if (probe.ok) {
        say(`using the prebuilt binary for ${target.label}: ${path.relative(root, prebuilt)} (nothing to compile)`);
        return 0;
      }
      say(`the prebuilt binary ${path.relative(root, prebuilt)} does not load here (${probe.detail}); building from source`);
    } else {
      say(`no prebuilt binary for ${target.label}; building from source`);
    }
  }

  const missing = missingForBuild();
  if (missing.length > 0) {
    console.error(`native-cache-manager: cannot build the native addon for ${target.label}: missing ${missing.join(', ')}.`);
    console.error(`Install ${BUILD_REQUIREMENTS}, then run \`npm rebuild native-cache-manager\`.`);
    return 1;
  }
  const [command, prefix] = nodeGyp();
  const build = spawnSync(command, [...prefix, 'rebuild'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) {
    console.error(`native-cache-manager: the source build failed (node-gyp rebuild, exit ${build.status ?? build.signal}).`);
    console.error(`It needs ${BUILD_REQUIREMENTS}.`);
    return 1;
  }
  say(`built ${path.relative(root, localBuildPath(root))} from source`);
  return 0;
}

process.exitCode = main();
