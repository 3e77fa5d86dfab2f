#!/bin/bash
# Real-wire throughput of the shipped `synack serve`, beside the kernel's own TCP, in one run.
#
#   sudo crates/bench/serve_wire.sh [BINARY] [MB] [RUNS]
#
# BINARY defaults to target/release/synack, MB (per transfer, 10^6 bytes) to 1000, RUNS to 3.
# Per run, in namespaces this script creates and deletes (it talks only inside them):
# - anchor: kernel -> kernel over a veth pair between two namespaces, nc sending MB one way
#   and then the other;
# - `synack serve --mode http` on a TUN device: curl downloads MB (synack -> kernel);
# - `synack serve --mode discard`: nc uploads MB (kernel -> synack);
# each with offload (the default) and with --no-offload. Printed: MB/s, the ratio to the same
# run's veth figure, and the TUN's bytes per packet in the direction that moved the data (each
# write synack makes is one received packet on the device; each read one sent packet).
set -euo pipefail
BIN=${1:-target/release/synack}
MB=${2:-1000}
RUNS=${3:-3}
BYTES=$((MB * 1000000))
[ -x "$BIN" ] || { echo "$BIN: not an executable (cargo build --release first)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "needs root (network namespaces and a TUN device)" >&2; exit 2; }
BIN=$(realpath "$BIN")
tag=sw$$
cleanup() { for ns in ${tag}a ${tag}b ${tag}t; do ip netns del "$ns" 2>/dev/null || true; done; }
trap cleanup EXIT

now() { date +%s.%N; }
mbps() { awk -v b="$BYTES" -v t0="$1" -v t1="$2" 'BEGIN { printf "%.0f", b / (t1 - t0) / 1e6 }'; }

veth_setup() {
    ip netns add ${tag}a; ip netns add ${tag}b
    ip link add ${tag}x netns ${tag}a type veth peer name ${tag}y netns ${tag}b
    ip -n ${tag}a addr add 10.231.0.1/24 dev ${tag}x; ip -n ${tag}a link set ${tag}x up; ip -n ${tag}a link set lo up
    ip -n ${tag}b addr add 10.231.0.2/24 dev ${tag}y; ip -n ${tag}b link set ${tag}y up; ip -n ${tag}b link set lo up
}

# One nc transfer of BYTES from namespace $1 to the listener in namespace $2 at $3; prints MB/s.
veth_transfer() {
    ip netns exec "$2" timeout 120 nc -l -N "$3" 9100 > /dev/null &
    local server=$!
    sleep 0.3
    local t0 t1
    t0=$(now)
    head -c "$BYTES" /dev/zero | ip netns exec "$1" timeout 120 nc -N "$3" 9100
    wait $server
    t1=$(now)
    mbps "$t0" "$t1"
}

# Starts `synack serve` in a fresh namespace; $1: mode, $2...: more options.
serve_start() {
    ip netns add ${tag}t; ip -n ${tag}t link set lo up
    ip netns exec ${tag}t "$BIN" serve --tun syn0 --addr 10.232.0.1/24 --port 8080 --mode "$@" > /dev/null &
    SERVER=$!
    for _ in $(seq 100); do
        ip netns exec ${tag}t ip -br addr show syn0 2>/dev/null | grep -q 10.232 && break
        sleep 0.05
    done
    sleep 0.2
}
serve_stop() {
    kill -INT $SERVER; wait $SERVER || true
    ip netns del ${tag}t
}
stat() { ip netns exec ${tag}t cat "/sys/class/net/syn0/statistics/$1"; }
per_packet() { awk -v b="$1" -v p="$2" 'BEGIN { printf "%.0f", b / (p > 0 ? p : 1) }'; }
FORMAT='%-4s %-16s %10s %10s %8s %14s\n'
# One line of the table: run, what, the veth anchor's MB/s, this transfer's MB/s, bytes/packet.
row() { printf "$FORMAT" "$1" "$2" "$3" "$4" "$(awk -v a="$4" -v b="$3" 'BEGIN { printf "%.2f", a / b }')" "$5"; }

echo "serve_wire: $MB MB per transfer, $RUNS runs, $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p')"
printf "$FORMAT" run what "veth MB/s" "MB/s" ratio "bytes/packet"
for run in $(seq "$RUNS"); do
    veth_setup
    down_anchor=$(veth_transfer ${tag}b ${tag}a 10.231.0.1)
    up_anchor=$(veth_transfer ${tag}a ${tag}b 10.231.0.2)
    ip netns del ${tag}a; ip netns del ${tag}b
    for mode in offload no-offload; do
        opt=(); [ $mode = no-offload ] && opt=(--no-offload)
        serve_start http "${opt[@]}"
        rb=$(stat rx_bytes); rp=$(stat rx_packets)
        t0=$(now)
        ip netns exec ${tag}t curl -s -o /dev/null --max-time 120 "http://10.232.0.2:8080/bytes/$BYTES"
        t1=$(now)
        down=$(mbps "$t0" "$t1")
        bpp=$(per_packet $(( $(stat rx_bytes) - rb )) $(( $(stat rx_packets) - rp )))
        serve_stop
        row "$run" "curl $mode" "$down_anchor" "$down" "$bpp"
        serve_start discard "${opt[@]}"
        tb=$(stat tx_bytes); tp=$(stat tx_packets)
        t0=$(now)
        head -c "$BYTES" /dev/zero | ip netns exec ${tag}t timeout 120 nc -N 10.232.0.2 8080
        t1=$(now)
        up=$(mbps "$t0" "$t1")
        bpp=$(per_packet $(( $(stat tx_bytes) - tb )) $(( $(stat tx_packets) - tp )))
        serve_stop
        row "$run" "nc $mode" "$up_anchor" "$up" "$bpp"
    done
done
