'use strict';

// The linux-x64 glibc prebuilt binary depends on nothing but the C library and the Node
// process: hiredis, libstdc++ and libgcc are linked in (and kept out of its dynamic symbol
// table), and no symbol version it needs is newer than glibc 2.31 (Debian 11, Ubuntu 20.04).
const { execFileSync } = require('node:child_process');
const { ensurePrebuild, BUILD_TIMEOUT_MS } = require('../helpers/prebuild');

const GLIBC_FLOOR = '2.31';
const GLIBC_LIBRARIES = /^(libc\.so\.6|libm\.so\.6|libpthread\.so\.0|libdl\.so\.2|librt\.so\.1|ld-linux-x86-64\.so\.2)$/;

let file;
beforeAll(() => {
  file = ensurePrebuild();
}, BUILD_TIMEOUT_MS);

const run = (command, ...args) => execFileSync(command, [...args, file], { encoding: 'utf8' });

function compareVersions(a, b) {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

test('is an x86-64 ELF shared object', () => {
  expect(run('readelf', '-h')).toMatch(/Type:\s+DYN[\s\S]*Machine:\s+Advanced Micro Devices X86-64/);
});

test('names only glibc libraries as NEEDED (no hiredis, libstdc++ or libgcc_s)', () => {
  const needed = [...run('readelf', '-d').matchAll(/\(NEEDED\)\s+Shared library: \[(.+)\]/g)].map((m) => m[1]);
  expect(needed).toContain('libc.so.6');
  expect(needed.filter((lib) => !GLIBC_LIBRARIES.test(lib))).toEqual([]);
});

test('ldd resolves nothing outside glibc', () => {
  const libraries = run('ldd').split('\n').map((line) => line.trim().split(/\s+/)[0]).filter(Boolean);
  const foreign = libraries.filter((lib) => lib !== 'linux-vdso.so.1' &&
    !GLIBC_LIBRARIES.test(lib.replace(/^.*\//, '')));
  expect(foreign).toEqual([]);
});

test(`needs GLIBC_ symbol versions up to ${GLIBC_FLOOR} and no GLIBCXX_, CXXABI_ or GCC_`, () => {
  const versions = new Set([...run('objdump', '-T').matchAll(/\b(GLIBC|GLIBCXX|CXXABI|GCC)_([0-9][0-9.]*)/g)]
    .map((m) => `${m[1]}_${m[2]}`));
  expect([...versions].filter((v) => !v.startsWith('GLIBC_'))).toEqual([]);
  const highest = [...versions].map((v) => v.slice('GLIBC_'.length)).sort(compareVersions).at(-1);
  expect(compareVersions(highest, GLIBC_FLOOR)).toBeLessThanOrEqual(0);
});

test('exports only the Node-API entry points (hiredis and the C++ runtime stay inside)', () => {
  const defined = run('objdump', '-T').split('\n')
    .filter((line) => /\sg\s+D[FO]\s/.test(line) && !line.includes('*UND*'))
    .map((line) => line.trim().split(/\s+/).at(-1));
  expect(defined.sort()).toEqual(['napi_register_module_v1', 'node_api_module_get_api_version_v1']);
});
