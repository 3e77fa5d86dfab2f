#!/bin/bash
# synack's sender against the kernel's over one impaired path, in one run: `synack serve`
# with its own fault tap (DELAY ms each way, LOSS % each way) on TUN devices in a namespace
# this script creates and deletes (it talks only inside it). synack sends: curl downloads MB
# from `--mode http`; the kernel sends: nc uploads MB to `--mode discard` (a second serve,
# same impairment), with CUBIC set on the route (`congctl cubic`), as synack's default.
#
#   sudo crates/bench/impaired_wire.sh [BINARY] [MB] [RUNS] [DELAY] [LOSS]
#
# Defaults: target/release/synack, 20 MB, 3 runs, 25 ms, 0.5 %. Prints MB/s each way per run.
set -euo pipefail
BIN=${1:-target/release/synack}
MB=${2:-20}
RUNS=${3:-3}
DELAY=${4:-25}
LOSS=${5:-0.5}
BYTES=$((MB * 1000000))
[ -x "$BIN" ] || { echo "$BIN: not an executable (cargo build --release first)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "needs root (a network namespace and TUN devices)" >&2; exit 2; }
BIN=$(realpath "$BIN")
ns=iw$$
cleanup() { ip netns pids "$ns" 2>/dev/null | xargs -r kill -INT; sleep 1; ip netns del "$ns" 2>/dev/null || true; }
trap cleanup EXIT
ip netns add "$ns"
ip netns exec "$ns" ip link set lo up
faults=(--delay "$DELAY" --loss "$LOSS" --seed 5)
ip netns exec "$ns" "$BIN" serve --tun iwd0 --addr 10.223.0.1/24 --mode http "${faults[@]}" >/dev/null 2>&1 &
ip netns exec "$ns" "$BIN" serve --tun iwu0 --addr 10.224.0.1/24 --mode discard "${faults[@]}" >/dev/null 2>&1 &
sleep 2
ip netns exec "$ns" ip route replace 10.224.0.0/24 dev iwu0 congctl cubic
ip netns exec "$ns" ip route replace 10.223.0.0/24 dev iwd0 congctl cubic
now() { date +%s.%N; }
rate() { awk -v b="$BYTES" -v t0="$1" -v t1="$2" 'BEGIN { printf "%.3f", b / (t1 - t0) / 1e6 }'; }
printf '%-4s %16s %16s %8s\n' run synack_sends kernel_sends ratio
for run in $(seq "$RUNS"); do
    t0=$(now)
    ip netns exec "$ns" curl -s --max-time 600 -o /dev/null "http://10.223.0.2:8080/bytes/$BYTES"
    t1=$(now)
    head -c "$BYTES" /dev/zero | ip netns exec "$ns" timeout 600 nc -N 10.224.0.2 8080
    t2=$(now)
    down=$(rate "$t0" "$t1")
    up=$(rate "$t1" "$t2")
    printf '%-4s %11s MB/s %11s MB/s %8s\n' "$run" "$down" "$up" "$(awk -v a="$down" -v b="$up" 'BEGIN { printf "%.2f", a / b }')"
done
