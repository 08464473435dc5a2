#!/usr/bin/env bash
# One command from a fresh clone: system packages, npm packages, the addon, then the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/system-deps.sh
if [ -z "${npm_config_nodedir:-}" ] && [ -f /usr/include/node/node.h ]; then
  export npm_config_nodedir=/usr   # build against the installed Node headers, no download
fi
npm install --no-audit --no-fund
node scripts/ensure-built.js
npm run demo
