#!/bin/bash
# Compares lifecycle binaries (builds of crates/bench/examples/lifecycles) in plain loops.
#
#   crates/bench/ab.sh OLD_BINARY NEW_BINARY...
#
# Each binary is copied K times (default 6) and every copy is timed R times (default 3) on
# STACK (default synack) with N lifecycles (default 300,000), copies of all binaries
# interleaved; printed per binary: the mean over its copies of each copy's best run, their
# standard deviation, minimum and maximum, in microseconds per lifecycle. Copies because on
# this project's VM two copies of the same file differ by up to 2 % (where the file's pages
# land matters), more than many changes are worth; the mean over copies averages that out.
set -euo pipefail
N=${N:-300000}
R=${R:-3}
K=${K:-6}
STACK=${STACK:-synack}
[ $# -ge 1 ] || { echo "usage: $0 BINARY..." >&2; exit 2; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
declare -A bests
for b in "$@"; do
    [ -x "$b" ] || { echo "$b: not an executable" >&2; exit 2; }
    for k in $(seq "$K"); do cp "$b" "$dir/$(basename "$b").$k"; done
done
for k in $(seq "$K"); do
    for b in "$@"; do
        best=
        for _ in $(seq "$R"); do
            # "<stack>: <n> lifecycles in <secs> s = <rate> per second"
            secs=$("$dir/$(basename "$b").$k" "$STACK" "$N" | awk '{print $5}')
            best=$(awk -v s="$secs" -v b="$best" 'BEGIN { print (b == "" || s < b) ? s : b }')
        done
        bests[$b]="${bests[$b]:-} $best"
    done
done
for b in "$@"; do
    echo "${bests[$b]}" | awk -v name="$b" -v n="$N" '{
        for (i = 1; i <= NF; i++) { us = $i * 1e6 / n; v[i] = us; sum += us;
            if (i == 1 || us < lo) lo = us; if (i == 1 || us > hi) hi = us }
        mean = sum / NF; for (i = 1; i <= NF; i++) ss += (v[i] - mean) ^ 2
        sd = NF > 1 ? sqrt(ss / (NF - 1)) : 0
        printf "%-40s mean %.3f  sd %.3f  min %.3f  max %.3f us\n", name, mean, sd, lo, hi }'
done
