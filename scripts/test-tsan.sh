#!/usr/bin/env bash
# ThreadSanitizer over the C++ core: the GoogleTest programs (the memory store with
# concurrent readers, writers and the sweeper) and the connection-manager stress harness
# (owner thread submitting, closing and stopping managers while their I/O threads deliver)
# against a redis-server started here on a free loopback port and stopped by pid.
#
#   bash scripts/test-tsan.sh           # TSAN_ROUNDS=100 stress rounds by default
set -euo pipefail
cd "$(dirname "$0")/.."

out=build-tsan
cmake -S . -B "$out" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNCM_BUILD_BENCHMARKS=OFF \
  -DCMAKE_CXX_FLAGS="-fsanitize=thread -fno-omit-frame-pointer" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=thread" >/dev/null
cmake --build "$out" -j 2
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1"

echo "== GoogleTest under ThreadSanitizer"
ctest --test-dir "$out" --output-on-failure

echo "== connection manager stress under ThreadSanitizer"
port="$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")"
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no >/dev/null &
redis_pid=$!
trap 'kill "$redis_pid" 2>/dev/null; wait "$redis_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  redis-cli -p "$port" ping >/dev/null 2>&1 && break
  sleep 0.05
done
"$out/connection_manager_stress" "$port" "${TSAN_ROUNDS:-100}"
