#!/bin/bash
# Goodput of CUBIC and NewReno over the simulator: one connection moving BYTES each way over
# a link of RATE Mbit/s with a one-way delay of DELAY ms, at each loss rate, SEEDS seeds each;
# prints the median and range in Mbit/s (both directions), as `synack sim` reports it.
#
#   crates/bench/cc_goodput.sh [BINARY] [RATE] [DELAY] [BYTES] [SEEDS] [LOSS...]
#
# Defaults: target/release/synack, 100 Mbit/s, 25 ms (RTT 50 ms), 20 MB, 10 seeds, loss 0.01 0.1 1 %.
set -euo pipefail
BIN=${1:-target/release/synack}
RATE=${2:-100}
DELAY=${3:-25}
BYTES=${4:-20000000}
SEEDS=${5:-10}
shift $(( $# < 5 ? $# : 5 ))
LOSSES=${*:-0.01 0.1 1}
[ -x "$BIN" ] || { echo "$BIN: not an executable (cargo build --release first)" >&2; exit 2; }
printf '%-8s %-6s %10s %16s\n' loss_% cc median range
for loss in $LOSSES; do
    for cc in reno cubic; do
        values=$(for seed in $(seq "$SEEDS"); do
            "$BIN" sim --cc "$cc" --bandwidth "$RATE" --delay "$DELAY" --loss "$loss" --bytes "$BYTES" --seed "$seed" |
                awk '/^goodput/ { print $2 }'
        done | sort -n)
        echo "$values" | awk -v loss="$loss" -v cc="$cc" '{ a[NR] = $1 } END {
            m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
            printf "%-8s %-6s %10.1f %7.1f-%-8.1f\n", loss, cc, m, a[1], a[NR] }'
    done
done
