//! HyStart++ (RFC 9406) over a simulated bottleneck: as the initial slow start fills the
//! link's queue, each round trip's minimum RTT rises, conservative slow start follows, and
//! slow start ends before any loss.

use std::time::Duration;
use synack_sim::workload::{run_transfer, TransferSpec};
use synack_sim::LinkConfig;

/// 10 Mbit/s, 20 ms each way: a window past 50 KB queues at the link.
fn spec(hystart: bool) -> TransferSpec {
    let link = LinkConfig { bandwidth_bps: 10_000_000, ..LinkConfig::with_delay(Duration::from_millis(20)) };
    let mut spec = TransferSpec::new(1, 2_000_000, 7, link);
    spec.config.tcp_hystart = hystart;
    spec
}

#[test]
fn a_queue_building_ends_the_initial_slow_start_before_any_loss() {
    let report = run_transfer(&spec(true));
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.bytes_delivered, report.bytes_expected);
    // Both hosts send 2 MB: each one's slow start ends on the rising RTT.
    assert_eq!(report.hystart_exits, 2);
    assert_eq!(report.retransmitted_segments, 0);
}

#[test]
fn without_hystart_slow_start_runs_on() {
    let report = run_transfer(&spec(false));
    assert_eq!(report.bytes_delivered, report.bytes_expected);
    assert_eq!(report.hystart_exits, 0);
}

/// 1 Gbit/s with 100 ms each way: a window of 25 MB would fill it.
fn long_fat_pipe(autotune: bool) -> TransferSpec {
    let link = LinkConfig { bandwidth_bps: 1_000_000_000, ..LinkConfig::with_delay(Duration::from_millis(100)) };
    let mut spec = TransferSpec::new(1, 20_000_000, 3, link);
    spec.config.tcp_moderate_rcvbuf = autotune;
    spec
}

#[test]
fn buffer_autotuning_lets_one_connection_use_a_long_fat_pipe() {
    let tuned = run_transfer(&long_fat_pipe(true));
    let fixed = run_transfer(&long_fat_pipe(false));
    assert_eq!(tuned.bytes_delivered, tuned.bytes_expected);
    assert_eq!(fixed.bytes_delivered, fixed.bytes_expected);
    // The default 256 KiB buffers carry 256 KiB per 200 ms round trip (about 10 Mbit/s);
    // grown toward tcp_rmem.max (6 MiB) and tcp_wmem.max (4 MiB) the windows carry far more.
    let speedup = fixed.transfer_time.as_secs_f64() / tuned.transfer_time.as_secs_f64();
    assert!(speedup > 4.0, "autotuned {:?}, fixed {:?}", tuned.transfer_time, fixed.transfer_time);
}
