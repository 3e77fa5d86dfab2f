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
