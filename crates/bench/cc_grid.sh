#!/bin/bash
# The goodput grid of CUBIC and NewReno over the simulator: every combination of link rate
# (Mbit/s), one-way delay (ms) and loss rate (%), SEEDS seeds each, one connection moving
# BYTES each way (20 MB at 100 Mbit/s, 100 MB at 1 Gbit/s unless BYTES is given). Prints one
# markdown row per cell: NewReno's and CUBIC's median goodput in each direction (Mbit/s,
# range in brackets), their ratio, and CUBIC against RFC 9438 §5's response function (the
# average window max(1.054 (RTT/p)^3/4, 1.22 / p^1/2) segments of 1448 bytes per RTT, capped by
# the link), where the loss rate is above 0.
#
#   crates/bench/cc_grid.sh [BINARY] [SEEDS]
#
# RATES, DELAYS and LOSSES (space-separated) override the grid: 100 1000, 5 25 100, 0 0.01 0.1 1.
set -euo pipefail
BIN=${1:-target/release/synack}
SEEDS=${2:-10}
RATES=${RATES:-100 1000}
DELAYS=${DELAYS:-5 25 100}
LOSSES=${LOSSES:-0 0.01 0.1 1}
[ -x "$BIN" ] || { echo "$BIN: not an executable (cargo build --release first)" >&2; exit 2; }

# Median and range of one direction's goodput (half of what `synack sim` reports for both).
cell() {
    local cc=$1 rate=$2 delay=$3 loss=$4 bytes=$5
    for seed in $(seq "$SEEDS"); do
        "$BIN" sim --cc "$cc" --bandwidth "$rate" --delay "$delay" --loss "$loss" --bytes "$bytes" --seed "$seed" |
            awk '/^goodput/ { print $2 / 2 }'
    done | sort -n | awk '{ a[NR] = $1 } END {
        m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
        printf "%.2f %.2f %.2f\n", m, a[1], a[NR] }'
}

echo "| rate Mbit/s | RTT ms | loss % | NewReno median (range) | CUBIC median (range) | CUBIC / NewReno | RFC 9438 §5 model | CUBIC / model |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
for rate in $RATES; do
    bytes=${BYTES:-$([ "$rate" -ge 1000 ] && echo 100000000 || echo 20000000)}
    for delay in $DELAYS; do
        for loss in $LOSSES; do
            read -r rm rl rh < <(cell reno "$rate" "$delay" "$loss" "$bytes")
            read -r cm cl ch < <(cell cubic "$rate" "$delay" "$loss" "$bytes")
            awk -v rate="$rate" -v delay="$delay" -v loss="$loss" -v rm="$rm" -v rl="$rl" -v rh="$rh" \
                -v cm="$cm" -v cl="$cl" -v ch="$ch" 'BEGIN {
                rtt = 2 * delay / 1000; p = loss / 100
                if (p > 0) {
                    w_cubic = 1.054 * (rtt / p) ^ 0.75; w_reno = 1.22 / sqrt(p)
                    w = (w_cubic > w_reno) ? w_cubic : w_reno
                    model = w * 1448 * 8 / rtt / 1e6; if (model > rate) model = rate
                    m = sprintf("%.2f", model); r = sprintf("%.2f", cm / model)
                } else { m = "-"; r = "-" }
                printf "| %s | %d | %s | %.2f (%.2f–%.2f) | %.2f (%.2f–%.2f) | %.2f | %s | %s |\n",
                    rate, 2 * delay, loss, rm, rl, rh, cm, cl, ch, (rm > 0 ? cm / rm : 0), m, r }'
        done
    done
done
