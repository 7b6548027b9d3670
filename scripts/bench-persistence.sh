#!/usr/bin/env bash
# Persistence benchmark, Ferrite beside Debian's redis-server on loopback:
#   1. BGSAVE of KEYS keys while redis-benchmark runs: throughput during the save vs before it.
#   2. Start-up from that checkpoint vs redis-server loading its RDB of the same data.
#   3. SET with the append-only log (aof_fsync = everysec) vs redis-server with appendonly yes,
#      appendfsync everysec: alternating runs, medians, ratios.
#
#   scripts/bench-persistence.sh
#   KEYS=1000000 ROUNDS=3 scripts/bench-persistence.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench-lib.sh
source scripts/deps.sh

KEYS=${KEYS:-1000000}
ROUNDS=${ROUNDS:-3}
CLIENTS=${CLIENTS:-50}
REQUESTS=${REQUESTS:-300000}
KEYSPACE=${KEYSPACE:-100000}
CORES=$(nproc)
FERRITE_SHARDS=${FERRITE_SHARDS:-$(( CORES > 1 ? CORES - 1 : 1 ))}
RPORT=16391
FPORT=16392

cargo build --release --quiet --bin ferrite
FERRITE=$PWD/target/release/ferrite
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

start_redis() { # extra args...
  redis-server --port $RPORT --bind 127.0.0.1 --dir "$work/redis" --dbfilename dump.rdb --save '' \
    --daemonize no --loglevel notice --logfile "$work/redis.log" "$@" &
  pids+=($!); wait_ping $RPORT
}
start_ferrite() { # config file
  RUST_LOG=ferrite=info "$FERRITE" --port $FPORT --shards "$FERRITE_SHARDS" --metrics-port 0 --config "$1" >"$work/ferrite.log" 2>&1 &
  pids+=($!); wait_ping $FPORT
}
stop_port() { redis-cli -p "$1" shutdown nosave >/dev/null 2>&1 || true; sleep 0.3; }
fill() { # port
  awk -v n="$KEYS" 'BEGIN { for (i = 0; i < n; i++) { k = "key:" i; v = "value:" i; printf "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", length(k), k, length(v), v } }' \
    | redis-cli -p "$1" --pipe >/dev/null
}
rps() { # port test pipeline
  redis-benchmark -p "$1" -t "$2" -r "$KEYSPACE" -c "$CLIENTS" -n "$REQUESTS" -P "$3" --csv 2>/dev/null | awk -F'","' 'NR == 2 { print $2 }'
}
saving() { redis-cli -p "$1" info persistence | awk -F: '/^rdb_bgsave_in_progress/ { print $2+0 }'; }
now_ms() { date +%s%3N; }

mkdir -p "$work/redis" "$work/ferrite"
cat >"$work/ferrite.toml" <<EOF
[persistence]
dir = "$work/ferrite"
EOF

echo "== 1. BGSAVE of $KEYS keys under load (redis-benchmark -t get -P 16 -c $CLIENTS -n $REQUESTS -r $KEYSPACE)"
printf '%-14s %12s %12s %8s %10s\n' server before during ratio save_ms
for server in redis ferrite; do
  if [[ $server == redis ]]; then start_redis; port=$RPORT; else start_ferrite "$work/ferrite.toml"; port=$FPORT; fi
  fill $port
  before=$(rps $port get 16)
  t0=$(now_ms)
  redis-cli -p $port bgsave >/dev/null
  during=$(rps $port get 16)
  while [[ $(saving $port) == 1 ]]; do sleep 0.05; done
  t1=$(now_ms)
  printf '%-14s %12.0f %12.0f %8s %10s\n' "$server" "$before" "$during" "$(awk -v a="$during" -v b="$before" 'BEGIN { printf "%.2f", a / b }')" "$((t1 - t0))"
  stop_port $port
done

echo
echo "== 2. start-up from the saved file ($KEYS keys): time from launch until the data is served"
loaded() { redis-cli -p "$1" info persistence 2>/dev/null | awk -F: '/^loading:/ { print $2+0 }'; }
t0=$(now_ms); start_redis
while [[ $(loaded $RPORT) != 0 ]]; do sleep 0.01; done; t1=$(now_ms)
echo "redis-server: $((t1 - t0)) ms; keys: $(redis-cli -p $RPORT dbsize); log: $(grep -o 'DB loaded from disk: [0-9.]* seconds' "$work/redis.log" | tail -1)"
stop_port $RPORT
# Ferrite loads before it listens: serving PING means the data is in.
t0=$(now_ms); start_ferrite "$work/ferrite.toml"; t1=$(now_ms)
echo "ferrite:      $((t1 - t0)) ms; keys: $(redis-cli -p $FPORT dbsize); log: $(grep -o 'secs=[^ ]*' "$work/ferrite.log" | tail -1)"
stop_port $FPORT

echo
echo "== 3. SET with the append-only log, everysec (-r $KEYSPACE -c $CLIENTS -n $REQUESTS; $ROUNDS rounds, medians)"
rm -rf "$work/redis"/* "$work/ferrite"/*
cat >"$work/aof.toml" <<EOF
[persistence]
dir = "$work/ferrite"
aof_enabled = true
aof_fsync = "everysec"
EOF
start_redis --appendonly yes --appendfsync everysec
start_ferrite "$work/aof.toml"
printf '%-6s %-3s %14s %14s %7s\n' test P redis-aof ferrite-aof ratio
for p in 16 1; do
  r=(); f=()
  for round in $(seq "$ROUNDS"); do
    if (( round % 2 )); then r+=("$(rps $RPORT set $p)"); f+=("$(rps $FPORT set $p)")
    else f+=("$(rps $FPORT set $p)"); r+=("$(rps $RPORT set $p)"); fi
  done
  rm=$(printf '%s\n' "${r[@]}" | median); fm=$(printf '%s\n' "${f[@]}" | median)
  printf '%-6s %-3s %14.0f %14.0f %7.2f\n' set "$p" "$rm" "$fm" "$(awk -v a="$fm" -v b="$rm" 'BEGIN { print a / b }')"
done
