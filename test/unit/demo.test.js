'use strict';

const path = require('node:path');
const { execFileSync } = require('node:child_process');

test('examples/demo.js (run by the quick start) works and shows the refresh', () => {
  const out = execFileSync(process.execPath, [path.join(__dirname, '..', '..', 'examples', 'demo.js')], {
    encoding: 'utf8', timeout: 30_000,
  });
  expect(out).toMatch(/get user:1 +-> \{\n +name: 'Ada',\n +joined: 2015-12-10T00:00:00.000Z,\n +roles: Set\(1\) \{ 'admin' \}/);
  expect(out).toMatch(/get missing +-> undefined/);
  expect(out).toMatch(/wrap \(stale hit\) +-> \{ version: 1 \} \(refresh handed to waitUntil: 1\)/);
  expect(out).toMatch(/wrap \(refreshed\) +-> \{ version: 2 \} loads: 2/);
  expect(out).toMatch(/entries 10000, bytes \d+, evictions 9000\d/);
  expect(out).toMatch(/through Keyv +-> hello from Keyv/);
});
