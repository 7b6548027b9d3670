#!/usr/bin/env bash
# What a Prometheus scrape every second costs the data path: redis-benchmark against one Ferrite,
# alternating rounds with and without a scraper polling /metrics each second; medians and the
# ratio printed. (Shards count and time locally; a scrape gathers their figures.)
#
#   scripts/bench-scrape.sh           ROUNDS=5 scripts/bench-scrape.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench-lib.sh

ROUNDS=${ROUNDS:-3}
REQUESTS=${REQUESTS:-300000}
CLIENTS=${CLIENTS:-50}
KEYSPACE=${KEYSPACE:-100000}
CORES=$(nproc)
FERRITE_SHARDS=${FERRITE_SHARDS:-$(( CORES > 1 ? CORES - 1 : 1 ))}
PORT=${FERRITE_PORT:-16381}
METRICS_PORT=${METRICS_PORT:-19091}

cargo build --release --quiet --bin ferrite
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
RUST_LOG=ferrite=warn ./target/release/ferrite --port "$PORT" --shards "$FERRITE_SHARDS" --metrics-port "$METRICS_PORT" >/dev/null 2>&1 &
pids+=($!)
wait_ping "$PORT"

scraped() { # test pipeline: one run with a scraper polling every second
  ( while true; do curl -sf "http://127.0.0.1:$METRICS_PORT/metrics" >/dev/null; sleep 1; done ) &
  local scraper=$!
  bench_run "$PORT" "$1" "$2"
  kill "$scraper"; wait "$scraper" 2>/dev/null || true
}

echo "redis-benchmark -r $KEYSPACE -c $CLIENTS -n $REQUESTS, $ROUNDS rounds (medians); ferrite --shards $FERRITE_SHARDS"
printf '%-6s %-4s %14s %14s %7s\n' test P unscraped scraped ratio
for test in set get; do
  for p in 16 1; do
    a=(); b=()
    for round in $(seq "$ROUNDS"); do
      if (( round % 2 )); then a+=("$(bench_run "$PORT" "$test" "$p")"); b+=("$(scraped "$test" "$p")")
      else b+=("$(scraped "$test" "$p")"); a+=("$(bench_run "$PORT" "$test" "$p")"); fi
    done
    am=$(printf '%s\n' "${a[@]}" | median); bm=$(printf '%s\n' "${b[@]}" | median)
    printf '%-6s %-4s %14.0f %14.0f %7.3f\n' "$test" "$p" "$am" "$bm" "$(awk -v a="$bm" -v b="$am" 'BEGIN { print a / b }')"
  done
done
