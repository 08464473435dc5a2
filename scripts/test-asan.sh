#!/usr/bin/env bash
# Builds the addon with AddressSanitizer + UndefinedBehaviorSanitizer (build/Debug) and
# runs the Jest suite against it with the ASan runtime preloaded into node.
# Leak detection is off: V8's own allocations at exit would drown real reports.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${npm_config_nodedir:-}" ] && [ -f /usr/include/node/node.h ]; then
  export npm_config_nodedir=/usr
fi
gyp="$(dirname "$(command -v npm)")/../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js"
[ -f "$gyp" ] || gyp="$(npm root -g)/npm/node_modules/node-gyp/bin/node-gyp.js"

sanitize="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
node "$gyp" configure >/dev/null
CFLAGS="$sanitize" CXXFLAGS="$sanitize" LDFLAGS="-fsanitize=address,undefined" \
  node "$gyp" build --debug

# Refuse to report a clean run of an addon that is not instrumented.
symbols="$(nm -D build/Debug/native_cache_manager.node)"
if ! grep -q __asan_init <<<"$symbols"; then
  echo "build/Debug/native_cache_manager.node is not built with AddressSanitizer" >&2
  exit 1
fi

asan_runtime="$(g++ -print-file-name=libasan.so)"
export NATIVE_CACHE_MANAGER_ADDON="$PWD/build/Debug/native_cache_manager.node"
export LD_PRELOAD="$asan_runtime"
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:halt_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
npx jest --runInBand "$@"
