//! The swarm: many seeds, each with its own random faults (up to 30 % loss plus duplication,
//! reordering and corruption). Every byte must arrive once and in order, every connection
//! end must reach CLOSED (TIME-WAIT expired), and nothing may panic. A failure names the seed;
//! `synack swarm --start SEED --seeds 1` replays it. Longer runs: `synack swarm --seeds N`.

use synack_sim::workload::{run_transfer, swarm_spec};

fn run_seeds(seeds: std::ops::Range<u64>) {
    for seed in seeds {
        let spec = swarm_spec(seed);
        let report = std::panic::catch_unwind(|| run_transfer(&spec))
            .unwrap_or_else(|_| panic!("seed {seed} panicked; reproduce with `synack swarm --start {seed} --seeds 1`"));
        assert!(
            report.ok(),
            "seed {seed} failed: {:?}\nspec: {spec:?}\nreproduce with `synack swarm --start {seed} --seeds 1`; \
             its whole trace: `cargo run --release -p synack-sim --example swarm_trace -- {seed}`",
            report.errors
        );
        assert_eq!(report.bytes_delivered, report.bytes_expected, "seed {seed}");
    }
}

// Four quarters so that the test harness spreads them over the cores.
#[test]
fn swarm_seeds_0_to_249_deliver_everything_and_close() {
    run_seeds(0..250);
}
#[test]
fn swarm_seeds_250_to_499_deliver_everything_and_close() {
    run_seeds(250..500);
}
#[test]
fn swarm_seeds_500_to_749_deliver_everything_and_close() {
    run_seeds(500..750);
}
#[test]
fn swarm_seeds_750_to_999_deliver_everything_and_close() {
    run_seeds(750..1000);
}
