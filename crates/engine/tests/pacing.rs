//! Pacing (`Config::pacing`, as Linux paces over the fq qdisc): past the first ten segments,
//! data leaves spaced at the pacing rate, 200 % of cwnd per smoothed RTT in slow start,
//! instead of in a burst of what cwnd allows.

mod common;
use common::*;
use std::time::Duration;

/// 1460-byte segments (plain_config: no timestamps).
const MSS: u32 = 1460;

#[test]
fn past_the_first_ten_segments_data_leaves_at_the_pacing_rate() {
    let config = plain_config().with(|c| {
        c.pacing = true;
        c.tcp_rmem.default = 1 << 20;
    });
    let (mut h, c) = H::established_after(config, Duration::from_millis(100));
    h.ep.send(h.now, c, &vec![7u8; 40 * MSS as usize]).unwrap();
    let first = h.advance_collect(Duration::from_millis(1));
    assert_eq!(first.len(), 10, "the initial window goes at once");
    // All ten acknowledged 100 ms later: cwnd 20, RTT 100 ms, so the pacing rate is
    // 2 × 20 segments per 100 ms, a segment every 2.5 ms.
    h.advance(Duration::from_millis(99));
    h.inject(Seg::new(ACK, PEER_ISN + 1, h.iss + 1 + 10 * MSS).win(65535));
    let info = h.ep.conn_info(c).unwrap();
    assert_eq!(info.cwnd, 20 * MSS);
    let srtt_us = info.srtt.unwrap().as_micros() as u64;
    let gap_us = MSS as u64 * srtt_us / (2 * 20 * MSS as u64);
    let sent = h.advance_collect(Duration::from_millis(100));
    assert_eq!(sent.len(), 20, "cwnd's worth, spread out");
    let at: Vec<u64> = sent.iter().map(|(t, _)| t.as_micros()).collect();
    // The first leaves at once; the second within half a gap (it takes back up to half its
    // time from the pause before it), every later one a gap after the one before.
    assert_eq!(at[0], h.now.as_micros() - 100_000);
    assert!(at[1] - at[0] >= gap_us / 2 && at[1] - at[0] <= gap_us, "{at:?}");
    for pair in at[1..].windows(2) {
        let d = pair[1] - pair[0];
        assert!(d + 2 >= gap_us && d <= gap_us + 2, "gap {d} µs, expected {gap_us}: {at:?}");
    }
}

#[test]
fn without_pacing_the_same_window_leaves_at_once() {
    let config = plain_config().with(|c| c.tcp_rmem.default = 1 << 20);
    let (mut h, c) = H::established_after(config, Duration::from_millis(100));
    h.ep.send(h.now, c, &vec![7u8; 40 * MSS as usize]).unwrap();
    assert_eq!(h.output().len(), 10);
    h.advance(Duration::from_millis(99));
    h.inject(Seg::new(ACK, PEER_ISN + 1, h.iss + 1 + 10 * MSS).win(65535));
    let sent = h.advance_collect(Duration::from_millis(100));
    assert_eq!(sent.len(), 20);
    assert!(sent.iter().all(|(t, _)| *t == sent[0].0));
}
