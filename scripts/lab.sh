#!/usr/bin/env bash
# The kernel-bypass lab: two network namespaces joined by a veth pair, Ferrite's AF_XDP dataplane
# on the server side, redis-cli and redis-benchmark on the client side. Needs root; no spare NIC.
#
#   scripts/lab.sh                 set up, build and run Ferrite in the lab (Ctrl-C tears it down)
#   scripts/lab.sh up | down       only create / remove the namespaces and the veth pair
#   scripts/lab.sh config          print the ferrite.toml the lab runs with
#   scripts/lab.sh loss PERCENT    drop PERCENT% of the packets on the client link, both ways
#                                  (a tc BPF classifier, bpf/lab-loss.bpf.c: this kernel has no netem)
#
# Environment: LAB_ID (suffix that keeps several labs apart, default "lab"), LAB_QUEUES (queues of
# the veth pair, default 1; each needs a shard), FERRITE_BIN (default: the release build).
#
#   server namespace ferrite-srv-$LAB_ID: veth fsrv0, kernel address 10.77.0.2/24 (fallback port),
#                                         dataplane address 10.77.0.1/24 (Ferrite's own stack)
#   client namespace ferrite-cli-$LAB_ID: veth fcli0, address 10.77.0.10/24
set -euo pipefail

LAB_ID=${LAB_ID:-lab}
LAB_QUEUES=${LAB_QUEUES:-1}
SRV_NS="ferrite-srv-$LAB_ID"
CLI_NS="ferrite-cli-$LAB_ID"
SRV_IF=fsrv0
CLI_IF=fcli0
DATAPLANE_ADDR=10.77.0.1
SRV_KERNEL_ADDR=10.77.0.2
CLI_ADDR=10.77.0.10
ROOT=$(cd "$(dirname "$0")/.." && pwd)

need_root() {
  if (( EUID != 0 )); then
    echo "lab: needs root (network namespaces, veth, XDP): run it with sudo" >&2
    exit 2
  fi
}

lab_down() {
  ip netns del "$SRV_NS" 2>/dev/null || true
  ip netns del "$CLI_NS" 2>/dev/null || true
}

lab_up() {
  need_root
  lab_down
  ip netns add "$SRV_NS"
  ip netns add "$CLI_NS"
  # Created inside the server namespace, so labs with different LAB_IDs never collide on names.
  ip -n "$SRV_NS" link add "$SRV_IF" numtxqueues "$LAB_QUEUES" numrxqueues "$LAB_QUEUES" type veth \
    peer name "$CLI_IF" netns "$CLI_NS" numtxqueues "$LAB_QUEUES" numrxqueues "$LAB_QUEUES"
  ip -n "$SRV_NS" addr add "$SRV_KERNEL_ADDR/24" dev "$SRV_IF"
  ip -n "$CLI_NS" addr add "$CLI_ADDR/24" dev "$CLI_IF"
  ip -n "$SRV_NS" link set lo up
  ip -n "$CLI_NS" link set lo up
  ip -n "$SRV_NS" link set "$SRV_IF" up
  ip -n "$CLI_NS" link set "$CLI_IF" up
  # veth leaves TCP checksums to an offload that never happens on the AF_XDP path: have the client
  # kernel compute them, so the dataplane can verify every segment (FACTS-xdp.md).
  ip netns exec "$CLI_NS" ethtool -K "$CLI_IF" tx off >/dev/null
  # The client side opens (and closes first) tens of thousands of connections in the benchmarks:
  # give it the whole port range and let it reuse TIME_WAIT ports.
  ip netns exec "$CLI_NS" sysctl -qw net.ipv4.ip_local_port_range="1024 65535" net.ipv4.tcp_tw_reuse=1
}

lab_config() {
  cat <<EOF
[server]
bind = "$SRV_KERNEL_ADDR"
port = 6379
shards = ${LAB_SHARDS:-$LAB_QUEUES}

[limits]
# Room for the lab's 10,000-idle-connection benchmark.
maxclients = 50000

[metrics]
bind = "127.0.0.1"
port = 9090

[dataplane]
mode = "af_xdp"
interface = "$SRV_IF"
address = "$DATAPLANE_ADDR/24"
port = 6379
bind_mode = "copy"
EOF
}

lab_loss() {
  need_root
  local percent=$1 obj
  obj=$(mktemp --suffix=.bpf.o)
  clang -O2 -target bpf -I"/usr/include/$(uname -m)-linux-gnu" \
    -DLOSS_PER_MILLION="$(awk -v p="$percent" 'BEGIN { printf "%d", p * 10000 }')" \
    -c "$ROOT/bpf/lab-loss.bpf.c" -o "$obj"
  ip netns exec "$CLI_NS" tc qdisc replace dev "$CLI_IF" clsact
  for dir in ingress egress; do
    ip netns exec "$CLI_NS" tc filter replace dev "$CLI_IF" "$dir" pref 1 handle 1 bpf direct-action obj "$obj" sec tc
  done
  rm -f "$obj"
}

case "${1:-run}" in
  up) lab_up ;;
  down) need_root; lab_down ;;
  config) lab_config ;;
  loss) lab_loss "${2:?usage: $0 loss PERCENT}" ;;
  run)
    need_root
    if [[ -z "${FERRITE_BIN:-}" ]]; then
      source "$ROOT/scripts/deps.sh"
      (cd "$ROOT" && cargo build --release --bin ferrite)
      FERRITE_BIN="$ROOT/target/release/ferrite"
    fi
    lab_up
    trap lab_down EXIT
    conf=$(mktemp --suffix=.toml)
    lab_config >"$conf"
    cat <<EOF
lab: Ferrite's dataplane serves $DATAPLANE_ADDR:6379 (userspace TCP over AF_XDP) and its fallback
     port $SRV_KERNEL_ADDR:6379 (kernel TCP). From another terminal, in the client namespace:

  ip netns exec $CLI_NS redis-cli -h $DATAPLANE_ADDR PING
  ip netns exec $CLI_NS redis-benchmark -h $DATAPLANE_ADDR -t set,get -r 100000 -c 50 -n 200000 -P 16 -q
  ip netns exec $CLI_NS redis-cli -h $SRV_KERNEL_ADDR INFO server      # the fallback port
  ip netns exec $SRV_NS curl -s localhost:9090/metrics | grep ferrite_dataplane

Ctrl-C stops Ferrite and removes the namespaces.
EOF
    ip netns exec "$SRV_NS" "$FERRITE_BIN" --config "$conf"
    ;;
  *) echo "usage: $0 [run|up|down|config]" >&2; exit 2 ;;
esac
