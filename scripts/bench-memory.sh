#!/usr/bin/env bash
# Memory after loading N small hashes, sets and sorted sets (3 fields/members each), Ferrite beside
# Debian's redis-server: INFO used_memory and the process RSS, side by side, one type at a time.
#
#   scripts/bench-memory.sh            # N = 1000000
#   N=200000 scripts/bench-memory.sh
# The binary is built and run from $CARGO_TARGET_DIR when set (else ./target).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench-lib.sh
source scripts/deps.sh

N=${N:-1000000}
CORES=$(nproc)
FERRITE_SHARDS=${FERRITE_SHARDS:-$(( CORES > 1 ? CORES - 1 : 1 ))}
RPORT=16393
FPORT=16394
cargo build --release --quiet --bin ferrite
FERRITE="${CARGO_TARGET_DIR:-$PWD/target}/release/ferrite"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

gen() { # type
  awk -v n="$N" -v t="$1" 'function cmd(a, b, c, d, e, f, g, h,   s, i, args, k) {
      k = split(a " " b " " c " " d " " e " " f " " g " " h, args, " "); s = "*" k "\r\n"
      for (i = 1; i <= k; i++) s = s "$" length(args[i]) "\r\n" args[i] "\r\n"
      printf "%s", s }
    BEGIN { for (i = 0; i < n; i++) {
      if (t == "hash") cmd("HSET", "h:" i, "f1", "v" i, "f2", "w" i, "f3", "x" i)
      else if (t == "set") cmd("SADD", "s:" i, "m" i, "n" i, "o" i)
      else cmd("ZADD", "z:" i, "1", "m" i, "2", "n" i, "3", "o" i) } }'
}
field() { redis-cli -p "$1" info memory | awk -F: -v f="$2" '$1 == f { print $2+0 }'; }
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }

printf '%-6s %16s %16s %16s %16s %8s\n' type redis_used_MB ferrite_used_MB redis_rss_MB ferrite_rss_MB rss_ratio
for t in hash set zset; do
  redis-server --port $RPORT --bind 127.0.0.1 --save '' --appendonly no --daemonize no --loglevel warning >/dev/null &
  rpid=$!; pids+=($rpid)
  RUST_LOG=ferrite=warn "$FERRITE" --port $FPORT --shards "$FERRITE_SHARDS" --metrics-port 0 >/dev/null 2>&1 &
  fpid=$!; pids+=($fpid)
  wait_ping $RPORT; wait_ping $FPORT
  gen $t | redis-cli -p $RPORT --pipe >/dev/null
  gen $t | redis-cli -p $FPORT --pipe >/dev/null
  sleep 1
  ru=$(field $RPORT used_memory); fu=$(field $FPORT used_memory)
  rr=$(rss_kb $rpid); fr=$(rss_kb $fpid)
  awk -v t=$t -v ru="$ru" -v fu="$fu" -v rr="$rr" -v fr="$fr" \
    'BEGIN { printf "%-6s %16.1f %16.1f %16.1f %16.1f %8.2f\n", t, ru / 1048576, fu / 1048576, rr / 1024, fr / 1024, fr / rr }'
  kill $rpid $fpid; wait $rpid $fpid 2>/dev/null || true
done
