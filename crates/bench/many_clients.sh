#!/bin/bash
# A thousand clients at once against the shipped `synack serve`: ApacheBench (`ab`, Debian's
# apache2-utils) with 1000 concurrent connections, each request a new connection.
#
#   sudo crates/bench/many_clients.sh [BINARY] [REQUESTS] [RUNS]
#
# BINARY defaults to target/release/synack, REQUESTS to 50000, RUNS to 3. In a namespace this
# script creates and deletes (it talks only inside it), `synack serve --mode http` on a TUN
# device; per run, `ab -c 1000` fetches /bytes/100, first with the device's kernel queue as
# `serve` sets it (5,000 packets), then with Linux's TUN default (500) as the anchor. Printed:
# requests a second, median, 99th percentile and longest request (ms), failed requests, and the
# packets the kernel dropped on the device's queue toward synack during the run.
set -euo pipefail
BIN=${1:-target/release/synack}
REQUESTS=${2:-50000}
RUNS=${3:-3}
[ -x "$BIN" ] || { echo "$BIN: not an executable (cargo build --release first)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "needs root (a network namespace and a TUN device)" >&2; exit 2; }
command -v ab >/dev/null || { echo "needs ab (apt-get install apache2-utils)" >&2; exit 2; }
BIN=$(realpath "$BIN")
ns=mc$$
cleanup() { ip netns pids "$ns" 2>/dev/null | xargs -r kill -INT; sleep 1; ip netns del "$ns" 2>/dev/null || true; }
trap cleanup EXIT
ip netns add "$ns"
ip netns exec "$ns" ip link set lo up
ip netns exec "$ns" "$BIN" serve --tun mc0 --addr 10.211.0.1/24 --port 8080 --mode http >/dev/null 2>&1 &
for _ in $(seq 50); do
    ip netns exec "$ns" curl -s -o /dev/null --max-time 1 http://10.211.0.2:8080/bytes/1 && break
    sleep 0.2
done
drops() { ip netns exec "$ns" cat /sys/class/net/mc0/statistics/tx_dropped; }
printf '%-6s %-4s %8s %7s %7s %8s %7s %8s\n' queue run req/s p50_ms p99_ms max_ms failed dropped
for qlen in 5000 500; do
    ip netns exec "$ns" ip link set mc0 txqueuelen "$qlen"
    for run in $(seq "$RUNS"); do
        before=$(drops)
        out=$(ip netns exec "$ns" ab -q -n "$REQUESTS" -c 1000 http://10.211.0.2:8080/bytes/100 2>&1)
        rps=$(awk '/Requests per second/ { printf "%.0f", $4 }' <<<"$out")
        p50=$(awk '$1 == "50%" { print $2 }' <<<"$out")
        p99=$(awk '$1 == "99%" { print $2 }' <<<"$out")
        max=$(awk '$1 == "100%" { print $2 }' <<<"$out")
        failed=$(awk '/Failed requests/ { print $3 }' <<<"$out")
        printf '%-6s %-4s %8s %7s %7s %8s %7s %8s\n' "$qlen" "$run" "$rps" "$p50" "$p99" "$max" "$failed" $(($(drops) - before))
    done
done
