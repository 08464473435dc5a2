#!/usr/bin/env bash
# Builds and runs the libFuzzer targets (clang + ASan + UBSan) for a bounded number of
# executions each, starting from the seed corpus in test/fuzz/corpus/. New inputs found
# go to build-fuzz/corpus/ (not to the repo). Exit status is non-zero on any crash.
#
#   bash scripts/fuzz.sh            # default: 1,200,000 runs of the reply reader
#   FUZZ_RUNS=100000 bash scripts/fuzz.sh
set -euo pipefail
cd "$(dirname "$0")/.."

runs="${FUZZ_RUNS:-1200000}"
cxx="${FUZZ_CXX:-clang++}"
out=build-fuzz
mkdir -p "$out/corpus/reply_reader"

flags=(-std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -Isrc)
# shellcheck disable=SC2046
"$cxx" "${flags[@]}" $(pkg-config --cflags hiredis) \
  test/fuzz/reply_reader_fuzz.cc src/redis/reply_reader.cc \
  $(pkg-config --libs hiredis) -o "$out/reply_reader_fuzz"

echo "fuzzing the RESP reply reader: $runs runs"
status=0
"$out/reply_reader_fuzz" -runs="$runs" -rss_limit_mb=2048 -max_len=4096 -print_final_stats=1 \
  "$out/corpus/reply_reader" test/fuzz/corpus/reply_reader > "$out/reply_reader.log" 2>&1 || status=$?
grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb|Done)|ERROR|SUMMARY" "$out/reply_reader.log" || true
if [ "$status" -ne 0 ]; then
  tail -50 "$out/reply_reader.log" >&2
  echo "the fuzzer failed (exit $status); the crashing input is in the log above" >&2
fi
exit "$status"
