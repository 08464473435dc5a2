#!/usr/bin/env bash
# Network faults made by the kernel (R4): test/netns/*.test.js create their own network
# namespaces, a veth pair and nftables rules, so they need root. Not part of `npm test`.
#   sudo npm run test:netns
#   PARTITION_STALL_MS=60000 sudo -E npm run test:netns   # the full-size partition
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
  echo "test:netns needs root (it creates network namespaces and nftables rules): run 'sudo npm run test:netns'" >&2
  exit 1
fi
missing=()
for tool in ip nft redis-server redis-cli; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if ((${#missing[@]} > 0)); then
  echo "test:netns needs ${missing[*]} (Debian: apt-get install -y iproute2 nftables redis-server redis-tools, or bash scripts/system-deps.sh iproute2 nftables)" >&2
  exit 1
fi
node scripts/ensure-built.js
exec npx jest --config test/netns/jest.config.js "$@"
