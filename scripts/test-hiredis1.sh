#!/usr/bin/env bash
# Builds and runs the RESP reader's unit tests against hiredis 1.x, the version that
# Homebrew, vcpkg and Alpine ship (Debian 12's libhiredis-dev, which everything else here
# uses, is 0.14). The source is Debian 13's hiredis source package, fetched with apt-get from
# the machine's own mirror (scripts/lib/debian-source.sh) into build-hiredis1/, and built
# without TLS. Needs g++, make and libgtest-dev.
set -euo pipefail
cd "$(dirname "$0")/.."

dir=$PWD/build-hiredis1
suite=${HIREDIS1_SUITE:-trixie}

if [ ! -f "$dir/prefix/lib/libhiredis.a" ]; then
  # shellcheck source=lib/debian-source.sh
  . scripts/lib/debian-source.sh
  mirror=$(bookworm_mirror)
  [ -n "$mirror" ] || { echo "test-hiredis1: no bookworm apt source to take a mirror from" >&2; exit 1; }
  rm -rf "$dir"
  mkdir -p "$dir/apt/lists/partial" "$dir/apt/cache/archives/partial" "$dir/src"
  echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $suite main" \
    >"$dir/apt/sources.list"
  apt_opts=(-o "Dir::Etc::SourceList=$dir/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$dir/apt/lists" -o "Dir::Cache=$dir/apt/cache" -o APT::Sandbox::User=root)
  apt-get "${apt_opts[@]}" update -qq
  (cd "$dir/src" && apt-get "${apt_opts[@]}" source --download-only -qq hiredis)
  tar -xzf "$dir"/src/hiredis_*.orig.tar.gz -C "$dir/src"
  src=$(find "$dir/src" -maxdepth 1 -type d -name 'hiredis-*' | head -1)
  make -C "$src" -j2 static USE_SSL=0 >/dev/null
  mkdir -p "$dir/prefix/include/hiredis" "$dir/prefix/lib"
  cp "$src"/*.h "$dir/prefix/include/hiredis/"
  cp "$src/libhiredis.a" "$dir/prefix/lib/"
fi
version=$(sed -n 's/^#define HIREDIS_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\)/\2/p' "$dir/prefix/include/hiredis/hiredis.h" | paste -sd.)
echo "reply reader against hiredis $version"
g++ -std=c++20 -O1 -Wall -Wextra -Wno-restrict -I"$dir/prefix/include" -Isrc \
  src/redis/reply_reader.cc test/cpp/reply_reader_test.cc "$dir/prefix/lib/libhiredis.a" \
  -lgtest_main -lgtest -pthread -o "$dir/reply_reader_test"
"$dir/reply_reader_test" --gtest_brief=1
