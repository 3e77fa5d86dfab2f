#!/bin/bash
# Builds the lifecycle benchmark the way its figures are measured, into its own target
# directory (target/bench), leaving the users' build as it is:
#
#   crates/bench/build.sh            # then: taskset -c 1 target/bench/release/examples/lifecycles ratios
#
# Every function starts on a 64-byte line. The benchmark compares synack with smoltcp in one
# binary, and where the linker happens to put smoltcp's unchanged code moves its lifecycle by
# about 5 % from one synack commit to the next (a cache-line boundary falls elsewhere in its hot
# functions); aligned, smoltcp's code lies the same way in every build and its time stays
# within 1 %. synack's own time is the same either way.
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR=target/bench
export RUSTFLAGS="${RUSTFLAGS:-} -C llvm-args=-align-all-functions=6"
cargo build --release -p synack-bench --example lifecycles "$@"
echo "built target/bench/release/examples/lifecycles"
