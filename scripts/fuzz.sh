#!/usr/bin/env bash
# Builds and runs the libFuzzer targets (clang + ASan + UBSan) for a bounded number of
# executions each, starting from the seed corpora in test/fuzz/corpus/. New inputs found
# go to build-fuzz/corpus/ (not to the repo). Exit status is non-zero on any crash.
#   reply_reader     the RESP reply path (RespReader's caps over hiredis), chunked input
#   command_encoder  command encoding, read back through RespReader
#   tls_read         the TLS read path (TlsTransport): a real server's records cut at every
#                    position, one byte changed or not (the system's OpenSSL, libssl-dev)
#
#   bash scripts/fuzz.sh            # default: 1,200,000 + 300,000 + 2,000 runs
#   FUZZ_RUNS=100000 FUZZ_ENCODER_RUNS=50000 FUZZ_TLS_RUNS=5000 bash scripts/fuzz.sh
set -euo pipefail
cd "$(dirname "$0")/.."

cxx="${FUZZ_CXX:-clang++}"
out=build-fuzz
flags=(-std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -Isrc)

# build_and_run <target> <runs> <sources...>
build_and_run() {
  local target="$1" runs="$2"
  shift 2
  mkdir -p "$out/corpus/$target"
  # shellcheck disable=SC2046
  "$cxx" "${flags[@]}" $(pkg-config --cflags hiredis) "test/fuzz/${target}_fuzz.cc" "$@" \
    $(pkg-config --libs hiredis) -o "$out/${target}_fuzz"
  echo "fuzzing ${target}: $runs runs"
  local status=0
  "$out/${target}_fuzz" -runs="$runs" -rss_limit_mb=2048 -max_len=4096 -print_final_stats=1 \
    "$out/corpus/$target" "test/fuzz/corpus/$target" > "$out/$target.log" 2>&1 || status=$?
  grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb|Done)|ERROR|SUMMARY" "$out/$target.log" || true
  if [ "$status" -ne 0 ]; then
    tail -50 "$out/$target.log" >&2
    echo "the ${target} fuzzer failed (exit $status); the crashing input is in the log above" >&2
  fi
  return "$status"
}

build_and_run reply_reader "${FUZZ_RUNS:-1200000}" src/redis/reply_reader.cc
build_and_run command_encoder "${FUZZ_ENCODER_RUNS:-300000}" src/redis/command_encoder.cc \
  src/redis/reply_reader.cc
# uv.h from Node's headers, alone: that folder also holds Node's OpenSSL headers, which must
# not shadow the system's (the harness links libssl-dev's OpenSSL, not Node's).
uv_include="$out/uv-include"
mkdir -p "$uv_include"
cp -r "$(dirname "$(find /usr/include/node /usr/local/include/node -maxdepth 1 -name uv.h 2>/dev/null | head -1)")"/uv.h \
  "$(dirname "$(find /usr/include/node /usr/local/include/node -maxdepth 1 -name uv.h 2>/dev/null | head -1)")"/uv "$uv_include"/
build_and_run tls_read "${FUZZ_TLS_RUNS:-2000}" "-I$uv_include" src/redis/tls_transport.cc \
  src/redis/tls_context.cc src/redis/timer.cc -lssl -lcrypto -l:libuv.so.1
