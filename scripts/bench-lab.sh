#!/usr/bin/env bash
# The dataplane benchmark, in the veth lab (scripts/lab.sh): redis-benchmark in the client
# namespace against (a) Ferrite's AF_XDP dataplane, (b) Debian's redis-server and (c) Ferrite on
# kernel sockets, all three in the server namespace; alternating runs, medians, ratios printed.
# Then: throughput with 10,000 idle connections open, p99.9 latency under 1% loss on the client
# link, and Ferrite's CPU use while idle. Needs root.
#
#   scripts/bench-lab.sh
#   ROUNDS=5 REQUESTS=500000 scripts/bench-lab.sh
#   SECTIONS="throughput idle loss cpu" (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench-lib.sh
source scripts/deps.sh

ROUNDS=${ROUNDS:-3}
REQUESTS=${REQUESTS:-200000}
CLIENTS=${CLIENTS:-50}
KEYSPACE=${KEYSPACE:-100000}
PIPELINES=${PIPELINES:-"16 1"}
TESTS=${TESTS:-"set get"}
SECTIONS=${SECTIONS:-"throughput idle loss cpu"}
IDLE_CONNECTIONS=${IDLE_CONNECTIONS:-10000}
export LAB_ID=${LAB_ID:-bench} LAB_QUEUES=1
SRV_NS="ferrite-srv-$LAB_ID"
CLI_NS="ferrite-cli-$LAB_ID"
DP=10.77.0.1:6379
REDIS=10.77.0.2:6380
KERNEL=10.77.0.2:6381

(( EUID == 0 )) || { echo "bench-lab: needs root (network namespaces, XDP)"; exit 2; }
cargo build --release --quiet --bin ferrite
FERRITE=$PWD/target/release/ferrite

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  scripts/lab.sh down
}
trap cleanup EXIT
scripts/lab.sh up
work=$(mktemp -d)
scripts/lab.sh config >"$work/dataplane.toml"
# (c): Ferrite with kernel sockets only, on its own port, same shard count.
cat >"$work/kernel.toml" <<EOF
[server]
bind = "10.77.0.2"
port = 6381
shards = 1
[metrics]
port = 0
EOF
cli() { ip netns exec "$CLI_NS" "$@"; }
# Started without a shell function in between, so $! is the server itself (ip netns exec execs).
RUST_LOG=ferrite=warn ip netns exec "$SRV_NS" "$FERRITE" --config "$work/dataplane.toml" >"$work/dataplane.log" 2>&1 &
pids+=($!)
RUST_LOG=ferrite=warn ip netns exec "$SRV_NS" "$FERRITE" --config "$work/kernel.toml" >"$work/kernel.log" 2>&1 &
pids+=($!)
ip netns exec "$SRV_NS" redis-server --bind 10.77.0.2 --port 6380 --protected-mode no --save '' --appendonly no --daemonize no --loglevel warning >/dev/null &
pids+=($!)
for target in $DP $REDIS $KERNEL; do
  for _ in $(seq 100); do cli redis-cli -h "${target%:*}" -p "${target#*:}" ping >/dev/null 2>&1 && break; sleep 0.1; done
  cli redis-cli -h "${target%:*}" -p "${target#*:}" ping >/dev/null || { echo "bench-lab: $target not answering"; cat "$work"/*.log; exit 1; }
done

run() { # target test pipeline [extra redis-benchmark args]
  local target=$1 test=$2 p=$3; shift 3
  cli sh -c "ulimit -n $(ulimit -Hn); redis-benchmark -h ${target%:*} -p ${target#*:} -t $test -r $KEYSPACE -c $CLIENTS -n $REQUESTS -P $p --csv $*" 2>/dev/null \
    | awk -F'","' 'NR > 1 { rps = $2 } END { print rps }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }'; }

echo "lab: veth + netns, $(nproc) cores; redis-benchmark -r $KEYSPACE -c $CLIENTS -n $REQUESTS; $ROUNDS rounds, medians"
echo "(a) ferrite dataplane $DP (AF_XDP, 1 shard)  (b) redis-server $REDIS  (c) ferrite kernel sockets $KERNEL (1 shard)"

if [[ " $SECTIONS " == *" throughput "* ]]; then
  printf '%-5s %-3s %12s %12s %12s %8s %8s\n' test P redis ferrite-dp ferrite-kern dp/redis kern/redis
  for test in $TESTS; do
    for p in $PIPELINES; do
      a=(); b=(); c=()
      for round in $(seq "$ROUNDS"); do
        # Rotate the order each round so drift on a shared machine hits all three alike.
        case $(( round % 3 )) in
          1) a+=("$(run $DP "$test" "$p")"); b+=("$(run $REDIS "$test" "$p")"); c+=("$(run $KERNEL "$test" "$p")") ;;
          2) b+=("$(run $REDIS "$test" "$p")"); c+=("$(run $KERNEL "$test" "$p")"); a+=("$(run $DP "$test" "$p")") ;;
          0) c+=("$(run $KERNEL "$test" "$p")"); a+=("$(run $DP "$test" "$p")"); b+=("$(run $REDIS "$test" "$p")") ;;
        esac
      done
      am=$(printf '%s\n' "${a[@]}" | median); bm=$(printf '%s\n' "${b[@]}" | median); cm=$(printf '%s\n' "${c[@]}" | median)
      printf '%-5s %-3s %12.0f %12.0f %12.0f %8s %8s\n' "$test" "$p" "$bm" "$am" "$cm" "$(ratio "$am" "$bm")" "$(ratio "$cm" "$bm")"
    done
  done
fi

if [[ " $SECTIONS " == *" idle "* ]]; then
  echo
  echo "idle connections: $IDLE_CONNECTIONS idle clients open on the dataplane while $CLIENTS work"
  printf '%-5s %-3s %12s %12s %8s\n' test P without with kept
  measure_idle() { # test p -> "without with"
    local without=() with=()
    for _ in $(seq "$ROUNDS"); do without+=("$(run $DP "$1" "$2")"); done
    # No shell function in between: $! must be redis-benchmark itself (ip and sh exec it).
    ip netns exec "$CLI_NS" sh -c "ulimit -n $(ulimit -Hn); exec redis-benchmark -h ${DP%:*} -p ${DP#*:} -c $IDLE_CONNECTIONS -I" >/dev/null 2>&1 &
    local idle=$!
    for _ in $(seq 100); do
      n=$(cli redis-cli -h "${DP%:*}" info clients | awk -F: '/^connected_clients/ { print $2+0 }')
      (( n >= IDLE_CONNECTIONS )) && break; sleep 0.2
    done
    echo "  (connected_clients: $n)" >&2
    for _ in $(seq "$ROUNDS"); do with+=("$(run $DP "$1" "$2")"); done
    kill "$idle" 2>/dev/null || true; wait "$idle" 2>/dev/null || true
    # Let the server see the idle clients go before the next measurement.
    for _ in $(seq 100); do
      n=$(cli redis-cli -h "${DP%:*}" info clients | awk -F: '/^connected_clients/ { print $2+0 }')
      (( n <= 1 )) && break; sleep 0.2
    done
    echo "$(printf '%s\n' "${without[@]}" | median) $(printf '%s\n' "${with[@]}" | median)"
  }
  for test in $TESTS; do
    for p in $PIPELINES; do
      read -r wo wi < <(measure_idle "$test" "$p")
      printf '%-5s %-3s %12.0f %12.0f %8s\n' "$test" "$p" "$wo" "$wi" "$(ratio "$wi" "$wo")"
    done
  done
fi

if [[ " $SECTIONS " == *" loss "* ]]; then
  echo
  echo "1% loss on the client link (both directions): p99.9 latency, -P 1, $CLIENTS clients"
  scripts/lab.sh loss 1
  p999() { # target test
    cli sh -c "redis-benchmark -h ${1%:*} -p ${1#*:} -t $2 -r $KEYSPACE -c $CLIENTS -n 50000" 2>/dev/null \
      | awk '/^ *[0-9.]+% <= / { gsub("%", "", $1); if ($1 + 0 >= 99.9) { print $3; exit } }'
  }
  printf '%-5s %14s %14s\n' test redis-p99.9ms ferrite-dp-p99.9ms
  for test in $TESTS; do
    printf '%-5s %14s %14s\n' "$test" "$(p999 $REDIS "$test")" "$(p999 $DP "$test")"
  done
  scripts/lab.sh loss 0
fi

if [[ " $SECTIONS " == *" cpu "* ]]; then
  echo
  ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
  pid=$(pgrep -f "ferrite --config $work/dataplane.toml" | head -1)
  t0=$(ticks "$pid"); sleep 5; t1=$(ticks "$pid")
  echo "idle CPU of the dataplane ferrite over 5 s: $(awk -v d=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f%%", 100 * d / hz / 5 }')"
fi
