//! Loss recovery with SACK and timestamps: RACK's losses by time and its reordering timer
//! (RFC 8985), early retransmit (RFC 5827), the scoreboard's retransmissions (RFC 6675) and
//! their loss, spurious fast retransmits undone (RFC 3522, RFC 4015, by D-SACK RFC 2883),
//! what a retransmission timeout resends, and stale ACKs under PAWS.

mod common;
use common::*;
use std::time::Duration;
use synack_engine::{Config, ConnHandle};
use synack_wire::{SeqNum, TcpOptions};

/// MSS 1460 less 12 bytes of timestamps.
const SEG: u32 = 1448;

struct Conn {
    h: H,
    c: ConnHandle,
    /// The peer's next TSval.
    peer_ts: u32,
    /// Where the test's segments start (after the warm-up segment).
    base: u32,
}

impl Conn {
    /// A passive open with SACK and timestamps (no window scale), Nagle off, its handshake and
    /// one segment acknowledged after 5 ms each, so that the connection has an RTT of 5 ms.
    fn new() -> Conn {
        Conn::with(Config::default())
    }

    /// As `new`, with RFC 6675's count of SACKed segments deciding losses instead of RACK
    /// (`tcp_recovery` 0, FreeBSD's default stack).
    fn counting() -> Conn {
        Conn::with(Config::default().with(|c| c.tcp_recovery = 0))
    }

    /// As `new`, with `config` (its seed set).
    fn with(config: Config) -> Conn {
        let (mut h, l) = H::listening(config.with(|c| c.rng_seed = 1));
        let syn =
            TcpOptions { mss: Some(1460), sack_permitted: true, timestamps: Some((1000, 0)), ..Default::default() };
        h.inject(Seg::new(SYN, PEER_ISN, 0).opts(syn));
        let tsval = h.output()[0].opts.timestamps.unwrap().0;
        let ts = TcpOptions { timestamps: Some((1001, tsval)), ..Default::default() };
        h.advance(Duration::from_millis(5)); // the handshake's RTT sample, 5 ms too
        h.inject(Seg::new(ACK, PEER_ISN + 1, h.iss + 1).opts(ts));
        let c = h.ep.accept(l).unwrap();
        h.ep.conn_mut(h.now, c).unwrap().set_nodelay(true);
        let base = h.iss + 1;
        let mut conn = Conn { h, c, peer_ts: 1002, base };
        let ts = conn.send_segments(1);
        conn.h.advance(Duration::from_millis(5));
        conn.ack(1, &[], ts);
        conn.base += SEG;
        assert_eq!(conn.h.ep.conn_info(c).unwrap().srtt, Some(Duration::from_millis(5)));
        conn
    }

    /// The first byte of the test's segments.
    fn s(&self) -> u32 {
        self.base
    }

    /// The peer acknowledges `acked` segments and SACKs `[from, to)` segment ranges, echoing
    /// `ecr`.
    fn ack(&mut self, acked: u32, sack: &[(u32, u32)], ecr: u32) {
        let s = self.base;
        let mut opts = TcpOptions { timestamps: Some((self.peer_ts, ecr)), ..Default::default() };
        for &(from, to) in sack {
            opts.sack.push(SeqNum(s + from * SEG), SeqNum(s + to * SEG));
        }
        self.peer_ts += 1;
        self.h.inject(Seg::new(ACK, PEER_ISN + 1, s + acked * SEG).opts(opts));
    }

    /// Sends `n` full segments; returns the TSval they carry.
    fn send_segments(&mut self, n: u32) -> u32 {
        self.h.ep.send(self.h.now, self.c, &vec![7u8; (n * SEG) as usize]).unwrap();
        let out = self.h.output();
        assert_eq!(out.len(), n as usize);
        out[0].opts.timestamps.unwrap().0
    }

    /// Ten segments out; 8 ms later (before a loss probe would be due) the peer SACKs `sack`
    /// and segment 0 is missing; the fast retransmit of segment 0 follows. Returns the TSval
    /// of the ten.
    fn fast_retransmit_of_the_first_of_ten(&mut self, sack: (u32, u32)) -> u32 {
        let ts = self.send_segments(10);
        self.h.advance(Duration::from_millis(8));
        self.ack(0, &[sack], ts);
        assert_eq!(self.sent(), vec![0]);
        ts
    }

    /// Segments sent now, as offsets in segments from our first data byte.
    fn sent(&mut self) -> Vec<u32> {
        let s = self.s();
        self.h.output().iter().filter(|o| !o.data.is_empty()).map(|o| (o.seq - s) / SEG).collect()
    }
}

#[test]
fn a_small_flight_recovers_without_the_timer_early_retransmit_rfc5827() {
    let mut t = Conn::counting();
    let ts = t.send_segments(3);
    // The first is lost: two SACKed segments are all a 3-segment flight can show.
    t.ack(0, &[(1, 2)], ts);
    assert!(t.sent().is_empty(), "one SACKed segment is not enough");
    t.ack(0, &[(1, 3)], ts);
    assert_eq!(t.sent(), vec![0], "the lost segment, at once");
    assert_eq!(t.h.ep.counters().fast_retransmits, 1);
    assert_eq!(t.h.ep.counters().rto_expirations, 0);
}

#[test]
fn sack_recovery_resends_every_lost_hole_not_one_per_round_trip() {
    let mut t = Conn::new();
    let ts = t.send_segments(10);
    // Segments 0 and 2 are lost; 1 and 3..10 arrive.
    t.ack(0, &[(3, 10), (1, 2)], ts);
    assert_eq!(t.sent(), vec![0, 2], "both holes in the same round trip (RFC 6675 NextSeg)");
}

#[test]
fn a_retransmission_lost_again_is_resent_after_a_round_trip_without_the_timer() {
    let mut t = Conn::counting();
    let ts = t.fast_retransmit_of_the_first_of_ten((1, 10));
    // The retransmission is lost too; an ACK from the peer 10 ms later still lacks it.
    t.h.advance(Duration::from_millis(10));
    t.ack(0, &[(1, 10)], ts);
    assert_eq!(t.sent(), vec![0], "sent a third time");
    assert_eq!(t.h.ep.counters().lost_retransmits, 1);
    assert_eq!(t.h.ep.counters().rto_expirations, 0);
}

#[test]
fn a_fast_retransmit_that_reordering_made_spurious_is_undone_rfc3522() {
    let mut t = Conn::new();
    let before = t.h.ep.conn_info(t.c).unwrap();
    // Segment 0 is late, not lost: three later ones arrive first.
    let ts = t.fast_retransmit_of_the_first_of_ten((1, 4));
    assert!(t.h.ep.conn_info(t.c).unwrap().cwnd < before.cwnd, "halved");
    // Then the original arrives: the ACK echoes its timestamp, older than the retransmission's.
    t.ack(10, &[], ts);
    let after = t.h.ep.conn_info(t.c).unwrap();
    assert_eq!(t.h.ep.counters().spurious_retransmits_undone, 1);
    assert_eq!(after.ssthresh, before.ssthresh, "ssthresh restored");
    assert!(after.cwnd >= before.cwnd, "cwnd restored: {} < {}", after.cwnd, before.cwnd);
}

#[test]
fn a_genuine_loss_is_not_undone() {
    let mut t = Conn::new();
    let ts = t.fast_retransmit_of_the_first_of_ten((1, 4));
    // The retransmission (sent 8 ms after the original) fills the hole: the ACK echoes its
    // newer timestamp.
    t.ack(10, &[], ts + 8);
    assert_eq!(t.h.ep.counters().spurious_retransmits_undone, 0);
    assert!(t.h.ep.conn_info(t.c).unwrap().ssthresh < u32::MAX);
}

#[test]
fn after_a_timeout_what_the_peer_sacked_is_not_sent_again() {
    let mut t = Conn::counting();
    let ts = t.send_segments(5);
    // 0..3 lost, 3..5 SACKed: too little for a fast retransmit with 5 in flight.
    t.ack(0, &[(3, 5)], ts);
    assert!(t.sent().is_empty());
    let sent = t.h.advance_collect(Duration::from_millis(300));
    let segments: Vec<u32> = sent.iter().map(|(_, o)| (o.seq - t.s()) / SEG).collect();
    assert_eq!(segments, vec![4, 0], "a loss probe (unanswered), then the timeout resends one segment (cwnd 1)");
    assert_eq!(t.h.ep.counters().rto_expirations, 1);
    // The ACKs echo the retransmission's timestamp: it filled the hole (RFC 7323 §4.3).
    let resent_ts = sent[1].1.opts.timestamps.unwrap().0;
    t.ack(1, &[(3, 5)], resent_ts);
    assert_eq!(t.sent(), vec![1, 2], "the rest of the hole");
    t.ack(3, &[(3, 5)], resent_ts);
    assert!(t.sent().is_empty(), "3 and 4 are SACKed: not resent");
    assert_eq!(t.h.ep.counters().spurious_rtos_undone, 0);
}

#[test]
fn a_stale_bare_ack_failing_paws_is_dropped_without_an_answer() {
    let mut t = Conn::new();
    let ts = t.send_segments(1);
    t.peer_ts = 900; // older than the handshake's 1001
    t.ack(1, &[], ts);
    assert!(t.h.output().is_empty(), "answering would hand the peer a duplicate ACK");
    assert_eq!(t.h.ep.counters().dropped_paws, 1);
}

#[test]
fn a_silent_tail_draws_a_loss_probe_after_two_round_trips_not_the_rto_rfc8985() {
    let mut t = Conn::new();
    t.send_segments(3);
    // SRTT is 5 ms: the probe is due at 2 × SRTT and a 2 ms timer allowance (more than one
    // segment is in flight, so no delayed ACK is waited for), long before the 200 ms RTO.
    let sent = t.h.advance_collect(Duration::from_millis(150));
    assert_eq!(sent.len(), 1, "one probe, then the RTO waits");
    assert_eq!((sent[0].1.seq - t.s()) / SEG, 2, "the last segment again");
    assert_eq!(sent[0].0.as_millis(), 5 + 5 + 12, "after the 5 ms handshake and warm-up, 12 ms on");
    assert_eq!(t.h.ep.counters().loss_probes_sent, 1);
    assert_eq!(t.h.ep.counters().rto_expirations, 0);
}

#[test]
fn the_probes_ack_shows_the_loss_and_recovery_starts_at_once() {
    let mut t = Conn::counting();
    let ts = t.send_segments(3);
    t.h.advance(Duration::from_millis(12));
    assert_eq!(t.sent(), vec![2], "the probe");
    // Segments 1 and 2 had arrived, segment 0 was lost: the ACK SACKs them.
    t.ack(0, &[(1, 3)], ts);
    assert_eq!(t.sent(), vec![0]);
    assert_eq!(t.h.ep.counters().fast_retransmits, 1);
}

#[test]
fn a_single_segment_in_flight_waits_for_the_rto_a_delayed_ack_is_likely() {
    let mut t = Conn::new();
    t.send_segments(1);
    let sent = t.h.advance_collect(Duration::from_millis(150));
    assert!(sent.is_empty());
    assert_eq!(t.h.ep.counters().loss_probes_sent, 0);
}

#[test]
fn every_second_full_segment_is_acknowledged_at_once_with_timestamps_too() {
    let mut t = Conn::new();
    let s = t.h.iss + 1 + SEG; // what we have sent (the warm-up segment)
    let opts = |val| TcpOptions { timestamps: Some((val, 0)), ..Default::default() };
    let full = vec![1u8; SEG as usize];
    t.h.inject(Seg::new(ACK, PEER_ISN + 1, s).data(&full).opts(opts(2000)));
    assert!(t.h.output().is_empty(), "the first waits for the delayed ACK");
    t.h.inject(Seg::new(ACK, PEER_ISN + 1 + SEG, s).data(&full).opts(opts(2001)));
    assert_eq!(t.h.keys(), vec![(ACK, s, PEER_ISN + 1 + 2 * SEG, 0)], "a 1448-byte segment is full-sized");
}

/// CUBIC (the default, RFC 9438 §4.6): three duplicate ACKs with ten segments in flight and
/// cwnd 10 take ssthresh to 7 segments, where NewReno takes it to 5 (and both inflate cwnd by
/// the three duplicates, RFC 6582 §3.2).
#[test]
fn cubic_reduces_to_seven_tenths_where_newreno_halves() {
    use synack_engine::CongestionAlgorithm::{Cubic, Reno};
    for (algorithm, after) in [(Cubic, 7), (Reno, 5)] {
        let (mut h, c) = H::established(plain_config().with(|c| c.tcp_congestion_control = algorithm));
        let mss = h.ep.conn_info(c).unwrap().snd_mss as u32;
        h.ep.conn_mut(h.now, c).unwrap().set_nodelay(true);
        h.ep.send(h.now, c, &vec![1u8; 10 * mss as usize]).unwrap();
        assert_eq!(h.output().len(), 10);
        let s = h.iss + 1;
        for _ in 0..3 {
            h.inject(Seg::new(ACK, PEER_ISN + 1, s));
        }
        let info = h.ep.conn_info(c).unwrap();
        assert_eq!((info.ssthresh, info.cwnd), (after * mss, (after + 3) * mss), "{algorithm:?}");
        assert_eq!(h.ep.counters().fast_retransmits, 1);
    }
}

/// RFC 7661 (Linux's tcp_is_cwnd_limited): an application that writes five segments with
/// cwnd 10 does not grow cwnd with their ACKs (slow start grows only while cwnd is below twice
/// what is in flight); one that writes six does; and once cwnd holds sending back, every ACK
/// grows it.
#[test]
fn the_window_grows_only_while_it_limits_sending() {
    for (segments, grows) in [(5u32, false), (6, true), (30, true)] {
        let (mut h, c) = H::established(plain_config());
        let mss = h.ep.conn_info(c).unwrap().snd_mss as u32;
        let cwnd = h.ep.conn_info(c).unwrap().cwnd;
        h.ep.conn_mut(h.now, c).unwrap().set_nodelay(true);
        h.ep.send(h.now, c, &vec![1u8; (segments * mss) as usize]).unwrap();
        h.output();
        h.inject(Seg::new(ACK, PEER_ISN + 1, h.iss + 1 + 2 * mss));
        let after = h.ep.conn_info(c).unwrap().cwnd;
        assert_eq!(after > cwnd, grows, "{segments} segments written: cwnd {cwnd} -> {after}");
    }
}

/// RFC 6937 with NewReno, twenty segments in flight (initial window 20) and ssthresh half of
/// that: segment 0 is lost and the SACKs come one segment at a time. The third starts recovery
/// with the fast retransmit; while the pipe is above ssthresh, proportional rate reduction
/// sends one new segment for every two delivered (ssthresh / prior cwnd = 1/2), where RFC
/// 6675 alone would send nothing until the pipe fell below cwnd. At the end cwnd is ssthresh.
#[test]
fn proportional_rate_reduction_sends_in_step_with_deliveries() {
    use synack_engine::CongestionAlgorithm::Reno;
    let mut t = Conn::with(Config::default().with(|c| {
        c.tcp_congestion_control = Reno;
        c.initial_cwnd_segments = 20;
    }));
    let ts = t.send_segments(20);
    t.h.advance(Duration::from_millis(8));
    t.ack(0, &[(1, 2)], ts);
    t.ack(0, &[(1, 3)], ts);
    assert!(t.sent().is_empty());
    t.ack(0, &[(1, 4)], ts);
    assert_eq!(t.sent(), vec![0], "the fast retransmit");
    t.h.ep.send(t.h.now, t.c, &vec![7u8; (10 * SEG) as usize]).unwrap();
    let mut per_ack = Vec::new();
    for n in 5..=12 {
        t.ack(0, &[(1, n)], ts);
        per_ack.push(t.sent());
    }
    assert_eq!(per_ack, vec![vec![], vec![20], vec![], vec![21], vec![], vec![22], vec![], vec![23]]);
    let ssthresh = t.h.ep.conn_info(t.c).unwrap().ssthresh;
    assert_eq!(ssthresh, 10 * SEG);
    // The ACK that ends recovery echoes the retransmission's timestamp (a real loss, not
    // undone).
    t.ack(24, &[], ts + 8);
    assert_eq!(t.h.ep.conn_info(t.c).unwrap().cwnd, ssthresh, "recovery ends with cwnd at ssthresh (RFC 6937 §3)");
}

/// RFC 8985 §7 in LAST-ACK (Linux probes in every state with something outstanding): the
/// peer closed, we close, our FIN goes unanswered. With one segment in flight the probe waits
/// 2 × SRTT plus a worst-case delayed ACK, capped at the RTO, so it comes at the RTO's time in
/// the timeout's place: the FIN again, as a probe (no backoff), then the RTO's own
/// retransmission one RTO later.
#[test]
fn a_fin_alone_in_last_ack_draws_a_tail_loss_probe() {
    let mut t = Conn::new();
    let ts = t.peer_ts;
    let fin_from_peer =
        Seg::new(FIN | ACK, PEER_ISN + 1, t.s()).opts(TcpOptions { timestamps: Some((ts, 0)), ..Default::default() });
    t.h.inject(fin_from_peer);
    t.h.output();
    t.h.ep.close(t.h.now, t.c).unwrap();
    let fin = t.h.output();
    assert_eq!(fin.len(), 1);
    assert_eq!((fin[0].flags, fin[0].seq), (FIN | ACK, t.s()));
    let start = t.h.now;
    let sent = t.h.advance_collect(Duration::from_millis(700));
    let fins: Vec<u64> =
        sent.iter().filter(|(_, s)| s.flags.contains(FIN)).map(|(at, _)| (*at - start).as_millis() as u64).collect();
    assert_eq!(fins, vec![200, 400], "the probe at the RTO's time, then the RTO one RTO later");
    assert_eq!(t.h.ep.counters().loss_probes_sent, 1);
    assert_eq!(t.h.ep.counters().rto_expirations, 1);
}

#[test]
fn rack_resends_after_the_reordering_window_not_the_rto_rfc8985() {
    let mut t = Conn::new();
    let ts = t.send_segments(3);
    // 5 ms later segments 1 and 2 are SACKed, 0 is missing: too few for RFC 6675's count,
    // so RACK waits a quarter of the minimum RTT (5 ms / 4) for it to arrive out of order.
    t.h.advance(Duration::from_millis(5));
    t.ack(0, &[(1, 3)], ts);
    assert!(t.sent().is_empty(), "not yet: it may be reordering");
    let sent = t.h.advance_collect(Duration::from_millis(100));
    let resent: Vec<(u64, u32)> = sent.iter().map(|(at, o)| (at.as_micros(), (o.seq - t.s()) / SEG)).collect();
    let acked_at = 5_000 + 5_000 + 5_000;
    assert_eq!(resent, [(acked_at + 1_250, 0)], "the reordering timer, 1.25 ms on");
    assert_eq!(t.h.ep.counters().fast_retransmits, 1);
    assert_eq!(t.h.ep.counters().rto_expirations, 0);
    let info = t.h.ep.conn_info(t.c).unwrap();
    assert_eq!((info.ca_state, info.lost_segments), (3, 1), "in recovery, one segment lost");
}

#[test]
fn rack_with_three_segments_sacked_resends_at_once() {
    let mut t = Conn::new();
    let ts = t.send_segments(4);
    t.h.advance(Duration::from_millis(5));
    t.ack(0, &[(1, 4)], ts);
    assert_eq!(t.sent(), vec![0], "no reordering seen, DupThresh SACKed: no window");
}

#[test]
fn rack_finds_a_lost_retransmission_when_later_data_is_delivered() {
    let mut t = Conn::new();
    let ts = t.fast_retransmit_of_the_first_of_ten((1, 4));
    // New data goes out after the retransmission (PRR lets some out as SACKs arrive) ...
    t.h.ep.send(t.h.now, t.c, &vec![7u8; (5 * SEG) as usize]).unwrap();
    assert!(t.sent().is_empty(), "the pipe is full");
    t.h.advance(Duration::from_millis(1));
    t.ack(0, &[(1, 6)], ts);
    let later = t.sent();
    assert!(later.iter().any(|&s| s >= 10), "new data after the retransmission: {later:?}");
    // ... and is SACKed 6 ms later while the retransmission of 0 is not: it was lost again.
    t.h.advance(Duration::from_millis(6));
    t.ack(0, &[(1, 11)], ts + 9);
    assert_eq!(t.sent().first(), Some(&0), "segment 0 a third time, without the timer");
    assert_eq!(t.h.ep.counters().lost_retransmits, 1);
    assert_eq!(t.h.ep.counters().rto_expirations, 0);
}

#[test]
fn a_dsack_shows_the_fast_retransmit_needless_and_it_is_undone_rfc2883() {
    let mut t = Conn::new();
    let before = t.h.ep.conn_info(t.c).unwrap();
    let ts = t.fast_retransmit_of_the_first_of_ten((1, 4));
    assert!(t.h.ep.conn_info(t.c).unwrap().cwnd < before.cwnd);
    // The ACK of everything echoes the retransmission's timestamp: no proof from Eifel ...
    t.ack(10, &[], ts + 8);
    assert_eq!(t.h.ep.counters().spurious_retransmits_undone, 0);
    // ... but the duplicate that then arrives is reported by a D-SACK block: both copies got
    // there, the retransmission was needless.
    let s = t.s();
    let mut opts = TcpOptions { timestamps: Some((t.peer_ts, ts + 8)), ..Default::default() };
    opts.sack.push(SeqNum(s), SeqNum(s + SEG));
    t.h.inject(Seg::new(ACK, PEER_ISN + 1, s + 10 * SEG).opts(opts));
    let after = t.h.ep.conn_info(t.c).unwrap();
    assert_eq!(t.h.ep.counters().spurious_retransmits_undone, 1);
    assert_eq!(after.ssthresh, before.ssthresh, "ssthresh restored");
    assert!(after.cwnd >= before.cwnd, "cwnd restored: {} < {}", after.cwnd, before.cwnd);
}

/// Ten segments out with more queued, then silence past the RTO: the first is resent.
/// Returns the original TSval and the retransmission's.
fn timeout_of_ten(t: &mut Conn) -> (u32, u32) {
    let ts = t.send_segments(10);
    t.h.ep.send(t.h.now, t.c, &vec![7u8; (5 * SEG) as usize]).unwrap();
    let sent = t.h.advance_collect(Duration::from_millis(250));
    let resent: Vec<u32> = sent.iter().map(|(_, o)| (o.seq - t.s()) / SEG).collect();
    assert_eq!(resent.last(), Some(&0), "the timeout resends the first: {resent:?}");
    assert_eq!(t.h.ep.counters().rto_expirations, 1);
    (ts, sent.last().unwrap().1.opts.timestamps.unwrap().0)
}

#[test]
fn a_spurious_timeout_found_by_frto_is_undone_rfc5682() {
    let mut t = Conn::new();
    let before = t.h.ep.conn_info(t.c).unwrap();
    let (_, resent_ts) = timeout_of_ten(&mut t);
    assert_eq!(t.h.ep.conn_info(t.c).unwrap().cwnd, 1460, "collapsed to one segment");
    // The retransmission is acknowledged (its own timestamp echoed: Eifel cannot tell):
    // F-RTO sends new data, not segment 1 (step 2b).
    t.ack(1, &[], resent_ts);
    let next = t.sent();
    assert!(!next.is_empty() && next.iter().all(|&s| s >= 10), "new data: {next:?}");
    // Then an ACK of segments never retransmitted: they were not lost, the timeout was
    // spurious (step 3b); the window comes back and nothing more is resent.
    t.ack(5, &[], resent_ts);
    assert_eq!(t.h.ep.counters().spurious_rtos_undone, 1);
    let after = t.h.ep.conn_info(t.c).unwrap();
    assert!(after.cwnd >= before.cwnd, "cwnd restored: {} < {}", after.cwnd, before.cwnd);
    assert!(t.sent().iter().all(|&s| s >= 10), "segments 5..10 are not resent");
}

#[test]
fn a_genuine_timeout_goes_on_resending_after_frto_new_data() {
    let mut t = Conn::new();
    let (_, resent_ts) = timeout_of_ten(&mut t);
    t.ack(1, &[], resent_ts);
    assert!(t.sent().iter().all(|&s| s >= 10));
    // A duplicate ACK with nothing new SACKed: the loss was real (step 3a). (A SACK of the
    // new data would show that not all was lost: spurious, as Linux counts it.)
    t.ack(1, &[], resent_ts);
    assert_eq!(t.sent().first(), Some(&1), "resending goes on from SND.UNA");
    assert_eq!(t.h.ep.counters().spurious_rtos_undone, 0);
}

#[test]
fn a_timeout_whose_ack_echoes_the_original_is_undone_rfc3522() {
    let mut t = Conn::new();
    let (ts, _) = timeout_of_ten(&mut t);
    // The first ACK after the timeout echoes the original transmission's timestamp: the
    // originals were only delayed.
    t.ack(10, &[], ts);
    assert_eq!(t.h.ep.counters().spurious_rtos_undone, 1);
    assert!(t.sent().iter().all(|&s| s >= 10), "nothing resent");
}

/// RFC 5681 §4.1 and RFC 2861 (Linux's tcp_slow_start_after_idle): after two seconds idle,
/// more than six RTOs, a cwnd grown to 20 segments restarts from the initial window of 10;
/// after less than an RTO it is kept; with `tcp_slow_start_after_idle` off it is kept
/// whatever the spell.
#[test]
fn sending_after_an_idle_spell_restarts_from_the_initial_window() {
    for (idle_ms, restart, expected) in [(2000, true, 10), (100, true, 20), (2000, false, 20)] {
        let mut t = Conn::with(Config::default().with(|c| c.tcp_slow_start_after_idle = restart));
        let ts = t.send_segments(10);
        t.h.advance(Duration::from_millis(5));
        t.ack(10, &[], ts);
        assert_eq!(t.h.ep.conn_info(t.c).unwrap().cwnd / SEG, 20);
        t.h.advance(Duration::from_millis(idle_ms));
        t.h.ep.send(t.h.now, t.c, &vec![7u8; 40 * SEG as usize]).unwrap();
        let sent = t.sent().len() as u32;
        let cwnd = t.h.ep.conn_info(t.c).unwrap().cwnd / SEG;
        assert_eq!((sent, cwnd), (expected, expected), "idle {idle_ms} ms, restart {restart}");
    }
}

/// Linux counts what an ACK newly delivers (tcp_cong_control): two segments SACKed out of
/// order and then covered by the cumulative ACK with the one before them grow slow start by
/// one segment, not three; FreeBSD's stack grows by every byte the ACK covers.
#[test]
fn slow_start_grows_by_what_an_ack_newly_delivers() {
    for (by_delivered, growth) in [(true, 1), (false, 3)] {
        let mut t = Conn::with(Config::default().with(|c| c.compat.cwnd_grows_by_delivered = by_delivered));
        let ts = t.send_segments(6);
        let cwnd = t.h.ep.conn_info(t.c).unwrap().cwnd;
        t.h.advance(Duration::from_millis(5));
        t.ack(0, &[(1, 3)], ts);
        t.sent();
        let sacked = t.h.ep.conn_info(t.c).unwrap().cwnd;
        assert_eq!(sacked, cwnd, "SACKs out of order do not grow cwnd");
        t.ack(3, &[], ts);
        let after = t.h.ep.conn_info(t.c).unwrap().cwnd;
        assert_eq!((after - cwnd) / SEG, growth, "delivered counting {by_delivered}");
    }
}

/// Once data has been delivered more than three segments out of order, a SACK is progress
/// like a cumulative ACK: cwnd grows by what it newly SACKs (Linux's tcp_may_raise_cwnd);
/// before that it does not (RFC 5681 §3.1).
#[test]
fn sacks_grow_cwnd_once_the_path_has_reordered_past_the_threshold() {
    let mut t = Conn::new();
    let ts = t.send_segments(10);
    let cwnd = t.h.ep.conn_info(t.c).unwrap().cwnd;
    t.h.advance(Duration::from_millis(5));
    t.ack(0, &[(9, 10)], ts);
    assert_eq!(t.h.ep.conn_info(t.c).unwrap().cwnd, cwnd, "in order so far: no growth on a SACK");
    // Segment 3 arrives after 9: six segments of reordering.
    t.ack(0, &[(3, 4), (9, 10)], ts);
    let info = t.h.ep.conn_info(t.c).unwrap();
    assert_eq!(info.reordering, 7);
    assert_eq!(info.cwnd, cwnd + SEG, "the SACK of segment 3 grows cwnd in slow start");
    // The cumulative ACK counts only what was not SACKed before.
    t.ack(10, &[], ts);
    assert_eq!(t.h.ep.conn_info(t.c).unwrap().cwnd, cwnd + 9 * SEG);
}

/// Without timestamps, Linux takes an RTT sample from every ACK (the send time of the first
/// byte it covers); FreeBSD times one segment a round trip. Four segments leave together;
/// the first is ACKed 50 ms later (the timed segment, both ways), the second 30 ms after
/// that: an 80 ms sample moves SRTT on only where every ACK counts.
#[test]
fn without_timestamps_every_ack_gives_an_rtt_sample_as_linux() {
    for (every_ack, moves) in [(true, true), (false, false)] {
        let config = Config::default().with(|c| {
            c.tcp_timestamps = false;
            c.rng_seed = 1;
            c.compat.rtt_from_every_ack = every_ack;
        });
        let (mut h, l) = H::listening(config);
        let syn = TcpOptions { mss: Some(1460), sack_permitted: true, ..Default::default() };
        h.inject(Seg::new(SYN, PEER_ISN, 0).opts(syn));
        h.output();
        h.advance(Duration::from_millis(50));
        h.inject(Seg::new(ACK, PEER_ISN + 1, h.iss + 1));
        let c = h.ep.accept(l).unwrap();
        h.ep.conn_mut(h.now, c).unwrap().set_nodelay(true);
        let mss = h.ep.conn_info(c).unwrap().snd_mss as u32;
        h.ep.send(h.now, c, &vec![7u8; 4 * mss as usize]).unwrap();
        assert_eq!(h.output().len(), 4);
        h.advance(Duration::from_millis(50));
        h.inject(Seg::new(ACK, PEER_ISN + 1, h.iss + 1 + mss));
        let after_first = h.ep.conn_info(c).unwrap().srtt.unwrap();
        h.advance(Duration::from_millis(30));
        h.inject(Seg::new(ACK, PEER_ISN + 1, h.iss + 1 + 2 * mss));
        let after_second = h.ep.conn_info(c).unwrap().srtt.unwrap();
        assert_eq!(after_second > after_first, moves, "every ACK {every_ack}: {after_first:?} -> {after_second:?}");
    }
}
