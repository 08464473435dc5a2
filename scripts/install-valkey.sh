#!/usr/bin/env bash
# Installs valkey-server (Valkey 8) from Debian 12's bookworm-backports, for the Valkey run of
# the integration and reliability tests (`npm run test:valkey`). Needs root or sudo.
#
# The backports source is made from the machine's own apt configuration: the mirror URI
# and keyring of the deb822 stanza (/etc/apt/sources.list.d/*.sources) whose Suites include
# `bookworm`, or failing that the first `deb` line for bookworm in a one-line .list file.
# Nothing is added when a bookworm-backports source is already configured.
set -euo pipefail

if command -v valkey-server >/dev/null 2>&1; then
  valkey-server --version
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-valkey: needs apt-get (Debian 12); install valkey-server 8 yourself" >&2
  exit 1
fi
sudo_cmd=()
if [ "$(id -u)" != 0 ]; then sudo_cmd=(sudo); fi

target=/etc/apt/sources.list.d/bookworm-backports.sources

has_backports() {
  grep -rqsE '(^|[[:space:]])bookworm-backports([[:space:]]|$)' \
    /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources
}

# from_deb822, from_one_line
. "$(dirname "$0")/lib/debian-source.sh"

if has_backports; then
  echo "install-valkey: a bookworm-backports source is already configured"
else
  stanza=$(from_deb822)
  [ -n "$stanza" ] || stanza=$(from_one_line)
  if [ -z "$stanza" ]; then
    echo "install-valkey: no apt source for bookworm found (is this Debian 12?)" >&2
    exit 1
  fi
  echo "install-valkey: adding bookworm-backports from the machine's bookworm source ($target)"
  printf '%s\n' "$stanza" | "${sudo_cmd[@]}" tee "$target" >/dev/null
fi

"${sudo_cmd[@]}" apt-get update -qq
apt-cache policy valkey-server
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq -t bookworm-backports valkey-server
if [ ! -x /usr/bin/valkey-server ]; then
  echo "install-valkey: valkey-server installed but /usr/bin/valkey-server is missing" >&2
  exit 1
fi
valkey-server --version
