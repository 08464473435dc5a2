#!/usr/bin/env bash
# One command from a fresh clone: system packages, npm packages, the addon, then the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/system-deps.sh
if [ -z "${npm_config_nodedir:-}" ] && [ -f /usr/include/node/node.h ]; then
  export npm_config_nodedir=/usr   # build against the installed Node headers, no download
fi
# --ignore-scripts: no dependency needs a build step for these tests (one would compile
# sqlite3 from source for minutes); our own addon is built by ensure-built.js just below.
npm install --no-audit --no-fund --ignore-scripts
node scripts/ensure-built.js
npm run demo
