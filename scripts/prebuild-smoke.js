'use strict';

// Smoke test of a prebuilt binary, run by scripts/prebuild.sh inside the Debian 11 root with a
// Node from the npm registry (under qemu for arm64): the package directory given as argv[2]
// holds lib/ and prebuilds/ only, no build/, so the prebuilt binary is what loads. MemoryStore
// set/get always; RedisStore set/get/del against NCM_SMOKE_REDIS_PORT on loopback when set.
const assert = require('node:assert/strict');
const path = require('node:path');

async function main() {
  const pkg = path.resolve(process.argv[2]);
  const { locateAddon } = require(path.join(pkg, 'lib', 'addon-locator'));
  const located = locateAddon(pkg);
  assert.equal(located.kind, 'prebuilt binary', `expected the prebuilt binary, found ${located.kind}`);
  const { createCache, MemoryStore, RedisStore } = require(pkg);

  const memory = createCache({ stores: [new MemoryStore({ maxBytes: 1 << 20 })] });
  await memory.set('k', { at: new Date(0), list: [1, 2n, 'three'] }, 60_000);
  assert.deepEqual(await memory.get('k'), { at: new Date(0), list: [1, 2n, 'three'] });
  assert.equal(await memory.get('missing'), undefined);
  await memory.disconnect();
  const checks = ['MemoryStore set/get'];

  const port = process.env.NCM_SMOKE_REDIS_PORT;
  if (port) {
    const store = new RedisStore(`redis://127.0.0.1:${port}`, { connectTimeout: 10_000, commandTimeout: 30_000 });
    const redis = createCache({ stores: [store] });
    await redis.set('smoke:k', { n: 42 }, 60_000);
    assert.deepEqual(await redis.get('smoke:k'), { n: 42 });
    assert.equal(await redis.del('smoke:k'), true);
    assert.equal(await redis.get('smoke:k'), undefined);
    await redis.disconnect();
    checks.push('RedisStore set/get/del');
  }
  const glibc = process.report.getReport().header.glibcVersionRuntime;
  console.log(`smoke ok: Node.js ${process.version} ${process.arch}, glibc ${glibc}, ` +
    `${path.relative(pkg, located.file)}: ${checks.join(', ')}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
