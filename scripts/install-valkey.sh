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

# Prints the bookworm-backports stanza made from the first deb822 stanza whose Types include
# deb and whose Suites include bookworm (and not Enabled: no): its first URI and its Signed-By (a keyring path, or
# an inline key kept with its continuation lines). Comments are skipped.
from_deb822() {
  local file
  for file in /etc/apt/sources.list.d/*.sources; do
    [ -f "$file" ] || continue
    awk '
      function flush() {
        if (!done && enabled != "no" && types ~ /(^| )deb( |$)/ && suites ~ /(^| )bookworm( |$)/ && uri != "") {
          split(uri, u, " ")
          printf "Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\n", u[1]
          if (key != "") printf "Signed-By: %s\n", key
          done = 1
        }
        types = ""; suites = ""; uri = ""; key = ""; field = ""; enabled = "yes"
      }
      /^[[:space:]]*#/ { next }
      /^[[:space:]]*$/ { flush(); next }
      /^[[:space:]]/ { if (field == "signed-by") key = key "\n" $0; next }
      {
        field = tolower($0); sub(/:.*/, "", field)
        value = $0; sub(/^[^:]*:[[:space:]]*/, "", value); sub(/[[:space:]]+$/, "", value)
        if (field == "types") types = value
        else if (field == "suites") suites = value
        else if (field == "uris") uri = value
        else if (field == "signed-by") key = value
        else if (field == "enabled") enabled = tolower(value)
      }
      END { flush() }
    ' "$file"
  done | awk '/^Types:/ { n++ } n == 1'
}

# The same from one-line sources: `deb [options] URI bookworm components...`.
from_one_line() {
  cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '
    $1 != "deb" { next }
    {
      key = ""; i = 2
      if ($2 ~ /^\[/) {
        for (; i <= NF; i++) {
          if ($i ~ /^\[?signed-by=/) { key = $i; sub(/^\[?signed-by=/, "", key); sub(/\]$/, "", key) }
          if ($i ~ /\]$/) { i++; break }
        }
      }
      if ($(i + 1) == "bookworm") {
        printf "Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\n", $i
        if (key != "") printf "Signed-By: %s\n", key
        exit
      }
    }'
}

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
