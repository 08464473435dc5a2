'use strict';

// Builds the addon when it is missing or older than its sources (used by `npm test`).
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const root = path.join(__dirname, '..');
const addon = path.join(root, 'build', 'Release', 'native_cache_manager.node');

function newestSource(dir) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(full) : fs.statSync(full).mtimeMs);
  }
  return newest;
}

const builtAt = fs.existsSync(addon) ? fs.statSync(addon).mtimeMs : 0;
const sourcesAt = Math.max(newestSource(path.join(root, 'src')), fs.statSync(path.join(root, 'binding.gyp')).mtimeMs);
if (builtAt < sourcesAt) {
  console.log('building the native addon (node-gyp rebuild)…');
  execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
}
