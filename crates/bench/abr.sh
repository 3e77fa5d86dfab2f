#!/bin/bash
# Compares two lifecycle binaries (builds of crates/bench/examples/lifecycles) the way
# `lifecycles ratios` compares two stacks: short runs of each in turn, and the median of the
# rounds' ratios, so that a slow stretch of this VM slows both sides of a round.
#
#   crates/bench/abr.sh OLD_BINARY NEW_BINARY
#
# R rounds (default 41) of N lifecycles (default 60,000) on STACK (default synack). Prints
# each side's median and fastest time per lifecycle in microseconds, and the median of the
# rounds' NEW/OLD time ratios with its quartiles: below 1 means NEW is faster. Two copies of
# one binary gave medians of 1.009 and 1.016 on noisy stretches (docs/BENCHMARKS.md, session
# 22): read a median within about 2 % of 1 as no difference.
set -euo pipefail
N=${N:-60000}
R=${R:-41}
STACK=${STACK:-synack}
[ $# -eq 2 ] || { echo "usage: $0 OLD_BINARY NEW_BINARY" >&2; exit 2; }
for b in "$@"; do
    [ -x "$b" ] || { echo "$b: not an executable" >&2; exit 2; }
done
# "<stack>: <n> lifecycles in <secs> s = <rate> per second": the rate has every digit.
us_per_lifecycle() { "$1" "$STACK" "$N" | awk '{ print 1e6 / $8 }'; }
for _ in $(seq "$R"); do
    echo "$(us_per_lifecycle "$1") $(us_per_lifecycle "$2")"
done | awk '
    { old[NR] = $1; new[NR] = $2; ratio[NR] = $2 / $1 }
    # Sorts a[1..n] in place (insertion sort: a few dozen rounds).
    function sort(a, n,   i, j, t) {
        for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
    }
    function median(s, n) { return n % 2 ? s[(n + 1) / 2] : (s[n / 2] + s[n / 2 + 1]) / 2 }
    function quartile(s, n, q) { return s[int((n - 1) * q) + 1] }
    END {
        sort(old, NR); sort(new, NR); sort(ratio, NR)
        printf "old: median %.3f us, fastest %.3f us\n", median(old, NR), old[1]
        printf "new: median %.3f us, fastest %.3f us\n", median(new, NR), new[1]
        printf "new/old: median %.3f, quartiles %.3f and %.3f (%d rounds)\n", median(ratio, NR), quartile(ratio, NR, 0.25), quartile(ratio, NR, 0.75), NR
    }'
