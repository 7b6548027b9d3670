#!/usr/bin/env bash
# Loopback benchmark: redis-benchmark against Ferrite and Debian's redis-server, same settings,
# alternating runs, medians and ratios printed.
#
#   scripts/bench.sh                 # -t set,get -r 100000 -c 50, at -P 16 and -P 1, 3 rounds
#   ROUNDS=5 REQUESTS=500000 scripts/bench.sh
#   FERRITE_SHARDS=2 scripts/bench.sh    # shard count for Ferrite (default: see below)
#
# On a machine where redis-benchmark shares the cores with the server (this lab: 2 cores), the
# load generator needs a core of its own; FERRITE_SHARDS defaults to (cores - 1), at least 1, so
# Ferrite does not fight the client for CPU. Set it explicitly to measure other layouts.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench-lib.sh

ROUNDS=${ROUNDS:-3}
REQUESTS=${REQUESTS:-200000}
CLIENTS=${CLIENTS:-50}
KEYSPACE=${KEYSPACE:-100000}
PIPELINES=${PIPELINES:-"16 1"}
TESTS=${TESTS:-"set get"}
CORES=$(nproc)
FERRITE_SHARDS=${FERRITE_SHARDS:-$(( CORES > 1 ? CORES - 1 : 1 ))}
REDIS_PORT=${REDIS_PORT:-16379}
FERRITE_PORT=${FERRITE_PORT:-16380}

for tool in redis-server redis-benchmark redis-cli; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (apt-get install redis-server redis-tools)"; exit 2; }
done
cargo build --release --quiet --bin ferrite

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize no --loglevel warning >/dev/null &
pids+=($!)
RUST_LOG=ferrite=warn ./target/release/ferrite --port "$FERRITE_PORT" --shards "$FERRITE_SHARDS" --metrics-port 0 >/dev/null 2>&1 &
pids+=($!)
wait_ping "$REDIS_PORT"
wait_ping "$FERRITE_PORT"

echo "redis-benchmark -r $KEYSPACE -c $CLIENTS -n $REQUESTS, $ROUNDS rounds (medians); cores: $CORES; ferrite --shards $FERRITE_SHARDS"
printf '%-6s %-4s %14s %14s %7s\n' test P redis-server ferrite ratio
for test in $TESTS; do
  for p in $PIPELINES; do
    r=(); f=()
    for round in $(seq "$ROUNDS"); do
      # Alternate which server goes first, so drift on a shared machine hits both alike.
      if (( round % 2 )); then r+=("$(bench_run "$REDIS_PORT" "$test" "$p")"); f+=("$(bench_run "$FERRITE_PORT" "$test" "$p")")
      else f+=("$(bench_run "$FERRITE_PORT" "$test" "$p")"); r+=("$(bench_run "$REDIS_PORT" "$test" "$p")"); fi
    done
    rm=$(printf '%s\n' "${r[@]}" | median); fm=$(printf '%s\n' "${f[@]}" | median)
    printf '%-6s %-4s %14.0f %14.0f %7.2f\n' "$test" "$p" "$rm" "$fm" "$(awk -v a="$fm" -v b="$rm" 'BEGIN { print a / b }')"
  done
done
