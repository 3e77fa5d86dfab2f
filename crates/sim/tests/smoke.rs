use std::time::Duration;
use synack_sim::workload::{run_transfer_sim, TransferSpec};
use synack_sim::{render_trace, LinkConfig, TraceOptions, PPM};

#[test]
fn smoke() {
    let first: u64 = std::env::var("SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0);
    for seed in first..200u64 {
        eprintln!("seed {seed}");
        let link = LinkConfig {
            loss_ppm: PPM / 10 * (seed % 4) as u32,
            duplicate_ppm: PPM / 20,
            reorder_ppm: PPM / 20,
            corrupt_ppm: PPM / 50,
            jitter: Duration::from_millis(2),
            ..LinkConfig::default()
        };
        let mut spec = TransferSpec::new(2, 30_000, seed, link);
        spec.config.tcp_syn_retries = 20;
        spec.config.tcp_synack_retries = 20;
        spec.config.tcp_retries2 = 30;
        spec.record = true;
        spec.time_limit = Duration::from_secs(3000);
        let (r, sim) = run_transfer_sim(&spec);
        if !r.ok() {
            std::fs::write("/tmp/trace.txt", render_trace(&sim, TraceOptions { absolute: true })).unwrap();
        }
        assert!(r.ok(), "seed {seed}: {:?} {:?}", r.errors, r);
    }
}
