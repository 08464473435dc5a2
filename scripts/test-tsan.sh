#!/usr/bin/env bash
# ThreadSanitizer over the C++ core: the GoogleTest programs (the memory store with
# concurrent readers, writers and the sweeper) and the connection-manager stress harness
# (owner thread submitting, closing and stopping managers while their I/O threads deliver)
# against a redis-server started here on a free loopback port and stopped by pid, over plain
# TCP and over TLS (certificates made here with the openssl CLI).
#
#   bash scripts/test-tsan.sh           # TSAN_ROUNDS=100 (TLS: TSAN_TLS_ROUNDS=30) by default
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
free_port() {
  node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}
port="$(free_port)"
tls_port="$(free_port)"
certs="$(mktemp -d)"
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no >/dev/null &
redis_pid=$!
tls_pid=
trap 'kill "$redis_pid" $tls_pid 2>/dev/null; wait "$redis_pid" $tls_pid 2>/dev/null || true; rm -rf "$certs"' EXIT
for _ in $(seq 1 100); do
  redis-cli -p "$port" ping >/dev/null 2>&1 && break
  sleep 0.05
done
"$out/connection_manager_stress" "$port" "${TSAN_ROUNDS:-100}"

echo "== connection manager stress over TLS under ThreadSanitizer"
key=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
openssl req -x509 "${key[@]}" -keyout "$certs/ca.key" -out "$certs/ca.crt" -days 2 -subj /CN=tsan-ca 2>/dev/null
openssl req "${key[@]}" -keyout "$certs/server.key" -out "$certs/server.csr" -subj /CN=localhost 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > "$certs/server.ext"
openssl x509 -req -in "$certs/server.csr" -CA "$certs/ca.crt" -CAkey "$certs/ca.key" -CAcreateserial \
  -out "$certs/server.crt" -days 2 -extfile "$certs/server.ext" 2>/dev/null
redis-server --port 0 --tls-port "$tls_port" --tls-cert-file "$certs/server.crt" \
  --tls-key-file "$certs/server.key" --tls-auth-clients no --bind 127.0.0.1 --save '' \
  --appendonly no >/dev/null &
tls_pid=$!
for _ in $(seq 1 100); do
  redis-cli --tls --cacert "$certs/ca.crt" -p "$tls_port" ping >/dev/null 2>&1 && break
  sleep 0.05
done
"$out/connection_manager_stress" "$tls_port" "${TSAN_TLS_ROUNDS:-30}" "$certs/ca.crt"
