//! ESTABLISHED (RFC 9293 §3.10.7.4): data, acknowledgments, retransmission, flow control, and
//! the RST/SYN/ACK rules of RFC 5961.

mod common;
use common::*;
use std::time::Duration;
use synack_engine::{Config, ConnError, ConnHandle, Event, SendError, State};
use synack_wire::TcpOptions;

fn data(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 % 251) as u8).collect()
}

#[test]
fn in_order_data_is_delivered_and_acknowledged_after_the_delayed_ack_timeout() {
    let (mut h, c) = H::established(plain_config());
    h.inject(Seg::new(ACK | PSH, PEER_ISN + 1, h.iss + 1).data(b"hello"));
    assert!(h.output().is_empty(), "the ACK is delayed");
    assert!(h.events().contains(&Event::Readable(c)));
    assert_eq!(h.read_all(c), b"hello");
    let sent = h.advance_collect(Duration::from_millis(100));
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0.as_millis(), 40, "delayed ACK after 40 ms");
    assert_eq!(sent[0].1.key(), (ACK, h.iss + 1, PEER_ISN + 6, 0));
}

#[test]
fn every_second_full_sized_segment_is_acknowledged_at_once() {
    let (mut h, _) = H::established(plain_config());
    let d = data(1460);
    h.inject(Seg::new(ACK, PEER_ISN + 1, h.iss + 1).data(&d));
    assert!(h.output().is_empty());
    h.inject(Seg::new(ACK, PEER_ISN + 1 + 1460, h.iss + 1).data(&d));
    assert_eq!(h.keys(), vec![(ACK, h.iss + 1, PEER_ISN + 1 + 2920, 0)]);
}

#[test]
fn out_of_order_data_gets_an_immediate_duplicate_ack_and_is_reassembled() {
    let (mut h, c) = H::established(plain_config());
    h.inject(Seg::new(ACK, PEER_ISN + 6, h.iss + 1).data(b"world"));
    assert_eq!(h.keys(), vec![(ACK, h.iss + 1, PEER_ISN + 1, 0)]);
    assert!(h.read_all(c).is_empty());
    h.inject(Seg::new(ACK, PEER_ISN + 1, h.iss + 1).data(b"hello"));
    assert_eq!(h.keys(), vec![(ACK, h.iss + 1, PEER_ISN + 11, 0)], "the gap filled: ACK at once");
    assert_eq!(h.read_all(c), b"helloworld");
}

#[test]
fn duplicate_data_is_discarded_and_acknowledged() {
    let (mut h, c) = H::established(plain_config());
    h.inject(Seg::new(ACK, PEER_ISN + 1, h.iss + 1).data(b"abc"));
    h.inject(Seg::new(ACK, PEER_ISN + 1, h.iss + 1).data(b"abc"));
    assert_eq!(h.keys(), vec![(ACK, h.iss + 1, PEER_ISN + 4, 0)]);
    assert_eq!(h.read_all(c), b"abc");
    // Wholly old, it fails the acceptability test (RFC 9293 §3.10.7.4, first).
    assert_eq!(h.ep.counters().dropped_out_of_window, 1);
}

#[test]
fn partly_old_segment_delivers_only_its_new_bytes() {
    let (mut h, c) = H::established(plain_config());
    h.inject(Seg::new(ACK, PEER_ISN + 1, h.iss + 1).data(b"abc"));
    h.inject(Seg::new(ACK, PEER_ISN + 2, h.iss + 1).data(b"bcdef"));
    assert_eq!(h.read_all(c), b"abcdef");
}

#[test]
fn segment_beyond_the_window_is_answered_with_an_ack_and_dropped() {
    let (mut h, c) = H::established(plain_config());
    h.inject(Seg::new(ACK, PEER_ISN + 1 + 70_000, h.iss + 1).data(b"far"));
    assert_eq!(h.keys(), vec![(ACK, h.iss + 1, PEER_ISN + 1, 0)]);
    assert!(h.read_all(c).is_empty());
    assert_eq!(h.ep.counters().dropped_out_of_window, 1);
}

#[test]
fn rst_with_the_exact_sequence_number_resets_the_connection() {
    let (mut h, c) = H::established(plain_config());
    h.inject(Seg::new(RST, PEER_ISN + 1, 0));
    assert!(h.output().is_empty());
    assert_eq!(h.state(c), State::Closed);
    assert!(h.events().contains(&Event::Error(c, ConnError::Reset)));
    assert_eq!(h.ep.send(h.now, c, b"x"), Err(SendError::Failed(ConnError::Reset)));
}

#[test]
fn rst_in_the_window_but_not_exact_gets_a_challenge_ack_rfc5961() {
    let (mut h, c) = H::established(plain_config());
    h.inject(Seg::new(RST, PEER_ISN + 100, 0));
    assert_eq!(h.keys(), vec![(ACK, h.iss + 1, PEER_ISN + 1, 0)]);
    assert_eq!(h.state(c), State::Established);
    assert_eq!(h.ep.counters().challenge_acks_sent, 1);
}

#[test]
fn rst_in_the_window_resets_when_insecure_rst_is_configured() {
    let (mut h, c) = H::established(plain_config().with(|c| c.tcp_insecure_rst = true));
    h.inject(Seg::new(RST, PEER_ISN + 100, 0));
    assert_eq!(h.state(c), State::Closed);
}

#[test]
fn rst_outside_the_window_is_dropped_silently() {
    let (mut h, c) = H::established(plain_config());
    h.inject(Seg::new(RST, PEER_ISN - 10, 0));
    h.inject(Seg::new(RST, PEER_ISN + 1_000_000, 0));
    assert!(h.output().is_empty());
    assert_eq!(h.state(c), State::Established);
}

#[test]
fn syn_in_a_synchronized_state_gets_a_challenge_ack_rfc5961() {
    let (mut h, c) = H::established(plain_config());
    h.inject(Seg::new(SYN, PEER_ISN + 1, 0));
    assert_eq!(h.keys(), vec![(ACK, h.iss + 1, PEER_ISN + 1, 0)]);
    assert_eq!(h.state(c), State::Established);
}

#[test]
fn ack_of_data_never_sent_is_answered_and_dropped() {
    let (mut h, c) = H::established(plain_config());
    h.inject(Seg::new(ACK, PEER_ISN + 1, h.iss + 500).data(b"zz"));
    assert_eq!(h.keys(), vec![(ACK, h.iss + 1, PEER_ISN + 1, 0)]);
    assert!(h.read_all(c).is_empty(), "the segment was dropped whole");
    assert_eq!(h.ep.counters().dropped_bad_ack, 1);
}

#[test]
fn segment_without_ack_is_dropped() {
    let (mut h, c) = H::established(plain_config());
    h.inject(Seg::new(PSH, PEER_ISN + 1, 0).data(b"no ack"));
    assert!(h.read_all(c).is_empty());
    assert_eq!(h.ep.counters().dropped_no_ack_flag, 1);
}

#[test]
fn a_write_is_cut_into_mss_segments_with_psh_on_the_last() {
    let (mut h, c) = H::established(plain_config());
    h.ep.conn_mut(h.now, c).unwrap().set_nodelay(true);
    assert_eq!(h.ep.send(h.now, c, &data(4000)), Ok(4000));
    let out = h.keys();
    let s = h.iss + 1;
    assert_eq!(
        out,
        vec![
            (ACK, s, PEER_ISN + 1, 1460),
            (ACK, s + 1460, PEER_ISN + 1, 1460),
            (ACK | PSH, s + 2920, PEER_ISN + 1, 1080)
        ]
    );
}

#[test]
fn nagle_holds_a_small_segment_while_data_is_unacknowledged_and_nodelay_does_not() {
    let (mut h, c) = H::established(plain_config());
    h.ep.send(h.now, c, b"first").unwrap();
    assert_eq!(h.keys().len(), 1);
    h.ep.send(h.now, c, b"second").unwrap();
    assert!(h.output().is_empty(), "Nagle: wait for the ACK");
    h.inject(Seg::new(ACK, PEER_ISN + 1, h.iss + 6));
    assert_eq!(h.keys(), vec![(ACK | PSH, h.iss + 6, PEER_ISN + 1, 6)]);
    h.ep.conn_mut(h.now, c).unwrap().set_nodelay(true);
    h.ep.send(h.now, c, b"third").unwrap();
    assert_eq!(h.keys(), vec![(ACK | PSH, h.iss + 12, PEER_ISN + 1, 5)]);
}

/// A passive open whose final ACK came `rtt` after the SYN-ACK.
fn established_after(rtt: Duration) -> (H, synack_engine::ConnHandle) {
    let (mut h, l) = H::syn_received(plain_config());
    h.advance(rtt);
    h.inject(Seg::new(ACK, PEER_ISN + 1, h.iss + 1));
    let c = h.ep.accept(l).expect("accepted");
    h.events();
    (h, c)
}

#[test]
fn unacknowledged_data_is_retransmitted_with_doubling_rto() {
    // The handshake's 300 ms is the first RTT sample (RFC 6298 §2.2): RTO 300 + 4 × 150 ms.
    let (mut h, c) = established_after(Duration::from_millis(300));
    h.ep.send(h.now, c, b"lost").unwrap();
    h.output();
    let start = h.now;
    let sent = h.advance_collect(Duration::from_secs(8));
    let waits: Vec<u64> = sent.iter().map(|(t, _)| t.saturating_since(start).as_millis() as u64).collect();
    assert_eq!(waits, [900, 2700, 6300], "RTO 900 ms, doubled each time");
    assert!(sent.iter().all(|(_, s)| s.key() == (ACK | PSH, h.iss + 1, PEER_ISN + 1, 4)));
    assert_eq!(h.ep.counters().rto_expirations, 3);
}

#[test]
fn data_retransmissions_give_up_after_tcp_retries2() {
    let (mut h, c) = H::established(plain_config().with(|c| c.tcp_retries2 = 3));
    h.ep.send(h.now, c, b"lost").unwrap();
    h.output();
    h.advance(Duration::from_secs(600));
    assert_eq!(h.state(c), State::Closed);
    assert!(h.events().contains(&Event::Error(c, ConnError::TimedOut)));
}

/// The passive open's handshake gives the first RTT sample, unless the SYN-ACK was sent
/// again (Karn's rule): then the RTO stays at its initial second.
#[test]
fn the_handshake_gives_the_first_rtt_sample() {
    let (h, c) = established_after(Duration::from_millis(30));
    assert_eq!(h.ep.conn_info(c).unwrap().srtt, Some(Duration::from_millis(30)));
    let (mut h, l) = H::syn_received(plain_config());
    h.advance(Duration::from_millis(30));
    h.inject(Seg::new(SYN, PEER_ISN, 0).opts(mss(1460)));
    assert_eq!(h.output().len(), 1, "the SYN-ACK again");
    h.inject(Seg::new(ACK, PEER_ISN + 1, h.iss + 1));
    let c = h.ep.accept(l).unwrap();
    let info = h.ep.conn_info(c).unwrap();
    assert_eq!((info.srtt, info.rto), (None, Duration::from_secs(1)));
}

#[test]
fn rtt_samples_bring_the_rto_down_to_its_minimum() {
    let (mut h, c) = established_after(Duration::from_millis(10));
    for i in 0..5u32 {
        h.ep.send(h.now, c, b"ping").unwrap();
        h.output();
        h.advance(Duration::from_millis(10));
        h.inject(Seg::new(ACK, PEER_ISN + 1, h.iss + 5 + 4 * i));
    }
    let info = h.ep.conn_info(c).unwrap();
    assert_eq!(info.srtt, Some(Duration::from_millis(10)));
    assert_eq!(info.rto, Duration::from_millis(200), "RFC 6298 with Linux's 200 ms floor");
}

#[test]
fn three_duplicate_acks_trigger_a_fast_retransmit_before_the_rto() {
    let (mut h, c) = H::established(plain_config());
    h.ep.conn_mut(h.now, c).unwrap().set_nodelay(true);
    h.ep.send(h.now, c, &data(1460 * 6)).unwrap();
    assert_eq!(h.output().len(), 6);
    let s = h.iss + 1;
    // The first segment is lost; segments 2..4 arrive and each draws a duplicate ACK.
    for _ in 0..3 {
        h.inject(Seg::new(ACK, PEER_ISN + 1, s));
    }
    let out = h.keys();
    assert_eq!(out[0], (ACK, s, PEER_ISN + 1, 1460), "the first segment again");
    assert_eq!(h.ep.counters().fast_retransmits, 1);
    let info = h.ep.conn_info(c).unwrap();
    assert_eq!(info.ssthresh, 1460 * 3, "half the flight");
    // A full ACK ends recovery with cwnd = min(ssthresh, FlightSize + SMSS) (RFC 6582 §3.2
    // step 5, option 1): nothing is in flight any more, so one segment.
    h.inject(Seg::new(ACK, PEER_ISN + 1, s + 1460 * 6));
    assert_eq!(h.ep.conn_info(c).unwrap().cwnd, 1460);
}

#[test]
fn partial_ack_in_recovery_retransmits_the_next_hole() {
    let (mut h, c) = H::established(plain_config());
    h.ep.conn_mut(h.now, c).unwrap().set_nodelay(true);
    h.ep.send(h.now, c, &data(1460 * 6)).unwrap();
    h.output();
    let s = h.iss + 1;
    for _ in 0..3 {
        h.inject(Seg::new(ACK, PEER_ISN + 1, s));
    }
    h.output();
    h.inject(Seg::new(ACK, PEER_ISN + 1, s + 1460 * 2));
    assert_eq!(h.keys()[0], (ACK, s + 1460 * 2, PEER_ISN + 1, 1460), "RFC 6582 partial ACK");
}

#[test]
fn zero_window_stops_sending_and_is_probed_until_it_opens() {
    let (mut h, c) = H::established(plain_config());
    h.ep.conn_mut(h.now, c).unwrap().set_nodelay(true);
    h.inject(Seg::new(ACK, PEER_ISN + 1, h.iss + 1).win(0));
    h.ep.send(h.now, c, b"blocked").unwrap();
    assert!(h.output().is_empty(), "nothing fits in a zero window");
    let sent = h.advance_collect(Duration::from_secs(4));
    assert!(sent.len() >= 2, "probes keep coming: {sent:?}");
    assert!(sent.iter().all(|(_, s)| s.key() == (ACK, h.iss, PEER_ISN + 1, 0)), "probe: SND.UNA-1, no data");
    h.inject(Seg::new(ACK, PEER_ISN + 1, h.iss + 1).win(1000));
    assert_eq!(h.keys(), vec![(ACK | PSH, h.iss + 1, PEER_ISN + 1, 7)]);
    assert!(h.ep.counters().window_probes_sent >= 2);
}

/// Zero-window probes go on while the peer answers them, past `tcp_retries2` probes; once
/// the peer falls silent, that many unanswered probes end the connection (as Linux gives up
/// on a probed peer that is gone).
#[test]
fn zero_window_probes_end_only_when_they_go_unanswered() {
    let config = plain_config().with(|c| c.tcp_retries2 = 3);
    let (mut h, c) = H::established(config);
    h.inject(Seg::new(ACK, PEER_ISN + 1, h.iss + 1).win(0));
    h.ep.send(h.now, c, b"blocked").unwrap();
    h.output();
    let mut answered = 0;
    for _ in 0..2000 {
        // Each probe is answered at once, the window still shut.
        if !h.advance_collect(Duration::from_millis(100)).is_empty() {
            h.inject(Seg::new(ACK, PEER_ISN + 1, h.iss + 1).win(0));
            answered += 1;
        }
    }
    assert!(answered > 3, "{answered} probes");
    assert_eq!(h.state(c), State::Established, "an answered probe keeps it open");
    h.advance_collect(Duration::from_secs(600));
    assert_eq!(h.state(c), State::Closed, "three unanswered probes in a row end it");
    assert!(h.events().contains(&Event::Error(c, ConnError::TimedOut)));
}

/// TCP_INFO's chronograph (Linux's tcpi_busy_time and tcpi_rwnd_limited): 100 ms of data
/// held back by a zero window, 30 ms more in flight after the window opens; nothing runs
/// before data is queued or after everything is acknowledged.
#[test]
fn the_chronograph_counts_busy_and_window_limited_time() {
    let (mut h, c) = H::established(plain_config());
    h.ep.conn_mut(h.now, c).unwrap().set_nodelay(true);
    h.inject(Seg::new(ACK, PEER_ISN + 1, h.iss + 1).win(0));
    h.advance(Duration::from_millis(50));
    let info = |h: &H| {
        let i = h.ep.conn_info_at(h.now, c).unwrap();
        (i.busy_time.as_millis(), i.rwnd_limited.as_millis())
    };
    assert_eq!(info(&h), (0, 0), "nothing queued yet");
    h.ep.send(h.now, c, b"blocked").unwrap();
    h.output();
    h.now = h.now + Duration::from_millis(100);
    assert_eq!(info(&h), (100, 100));
    h.inject(Seg::new(ACK, PEER_ISN + 1, h.iss + 1).win(1000));
    assert_eq!(h.keys().len(), 1, "the data goes");
    h.now = h.now + Duration::from_millis(30);
    assert_eq!(info(&h), (130, 100), "busy, no longer window-limited");
    h.inject(Seg::new(ACK, PEER_ISN + 1, h.iss + 1 + 7).win(1000));
    h.now = h.now + Duration::from_millis(500);
    assert_eq!(info(&h), (130, 100), "stopped once all is acknowledged");
}

#[test]
fn a_full_receive_buffer_advertises_zero_and_reading_reopens_the_window() {
    let (mut h, c) = H::established(plain_config().with(|c| c.tcp_rmem.default = 3000));
    let d = data(1460);
    h.inject(Seg::new(ACK, PEER_ISN + 1, h.iss + 1).data(&d));
    h.inject(Seg::new(ACK, PEER_ISN + 1461, h.iss + 1).data(&d));
    let ack = h.output();
    assert_eq!(ack.last().unwrap().win, 3000 - 2920);
    h.inject(Seg::new(ACK, PEER_ISN + 2921, h.iss + 1).data(&d[..80]));
    h.advance(Duration::from_millis(50));
    assert_eq!(h.output().last().unwrap().win, 0);
    // Beyond a zero window: dropped (an ACK says where we are).
    h.inject(Seg::new(ACK, PEER_ISN + 3001, h.iss + 1).data(b"x"));
    assert_eq!(h.output().last().unwrap().key(), (ACK, h.iss + 1, PEER_ISN + 3001, 0));
    assert_eq!(h.read_all(c).len(), 3000);
    let update = h.output();
    assert_eq!(update.last().unwrap().win, 3000, "window update after the read");
}

#[test]
fn send_buffer_limits_queued_data_and_writable_follows_acks() {
    let (mut h, c) = H::established(plain_config().with(|c| c.tcp_wmem.min = 1));
    h.ep.conn_mut(h.now, c).unwrap().set_send_buffer_size(100);
    assert_eq!(h.ep.send(h.now, c, &data(150)), Ok(100));
    assert_eq!(h.ep.send(h.now, c, b"more"), Err(SendError::WouldBlock));
    h.output();
    h.inject(Seg::new(ACK, PEER_ISN + 1, h.iss + 101));
    assert!(h.events().contains(&Event::Writable(c)));
    assert_eq!(h.ep.send(h.now, c, b"more"), Ok(4));
}

/// SO_SNDBUF is held within `tcp_wmem`'s bounds, as Linux holds it within its own.
#[test]
fn a_send_buffer_set_is_held_within_tcp_wmem() {
    let (mut h, c) = H::established(plain_config().with(|c| c.tcp_wmem.max = 1 << 20));
    h.ep.conn_mut(h.now, c).unwrap().set_send_buffer_size(100);
    assert_eq!(h.ep.buffer_sizes(c).unwrap().send, 4096, "raised to tcp_wmem.min");
    h.ep.conn_mut(h.now, c).unwrap().set_send_buffer_size(usize::MAX);
    assert_eq!(h.ep.buffer_sizes(c).unwrap().send, 1 << 20, "lowered to tcp_wmem.max");
}

/// `peek` (MSG_PEEK) copies without taking: the same bytes come again, and the window does not
/// open until a read takes them.
#[test]
fn peek_leaves_the_data_for_the_next_read() {
    let (mut h, c) = H::established(plain_config().with(|c| c.tcp_rmem.default = 3000));
    h.inject(Seg::new(ACK | PSH, PEER_ISN + 1, h.iss + 1).data(b"abcdef"));
    h.output();
    let mut buf = [0u8; 16];
    assert_eq!(h.ep.peek(h.now, c, &mut buf), Ok(6));
    assert_eq!(&buf[..6], b"abcdef");
    assert_eq!(h.ep.peek(h.now, c, &mut buf[..3]), Ok(3));
    assert_eq!(h.ep.queue_lens(c).unwrap().unread, 6, "nothing taken");
    assert_eq!(h.read_all(c), b"abcdef");
    assert_eq!(h.ep.peek(h.now, c, &mut buf), Err(synack_engine::RecvError::WouldBlock));
}

/// A partial write means the buffer is full: room freed by an ACK is announced as after a
/// refused write, so an application that waits for `Writable` after a short write goes on.
#[test]
fn a_partial_write_is_followed_by_writable_when_room_frees() {
    let (mut h, c) = H::established(plain_config().with(|c| c.tcp_wmem.min = 1));
    h.ep.conn_mut(h.now, c).unwrap().set_send_buffer_size(100);
    assert_eq!(h.ep.send(h.now, c, &data(150)), Ok(100));
    h.output();
    h.inject(Seg::new(ACK, PEER_ISN + 1, h.iss + 101));
    assert!(h.events().contains(&Event::Writable(c)));
}

#[test]
fn user_timeout_aborts_when_data_stays_unacknowledged() {
    let (mut h, c) = H::established(plain_config());
    h.ep.conn_mut(h.now, c).unwrap().set_user_timeout(Some(Duration::from_secs(5)));
    h.ep.send(h.now, c, b"x").unwrap();
    h.output();
    h.advance(Duration::from_secs(10));
    assert_eq!(h.state(c), State::Closed);
    assert!(h.events().contains(&Event::Error(c, ConnError::TimedOut)));
}

#[test]
fn keepalive_probes_an_idle_peer_and_gives_up_when_unanswered() {
    let config = plain_config().with(|c| {
        c.tcp_keepalive_time = Duration::from_secs(10);
        c.tcp_keepalive_intvl = Duration::from_secs(1);
        c.tcp_keepalive_probes = 3;
    });
    let (mut h, c) = H::established(config);
    h.ep.conn_mut(h.now, c).unwrap().set_keepalive(true);
    let sent = h.advance_collect(Duration::from_secs(20));
    assert_eq!(sent.len(), 4);
    assert!(sent[..3].iter().all(|(_, s)| s.key() == (ACK, h.iss, PEER_ISN + 1, 0)), "SEG.SEQ = SND.NXT - 1");
    // Given up: RST, as Linux and FreeBSD send it.
    assert_eq!(sent[3].1.key(), (RST | ACK, h.iss + 1, PEER_ISN + 1, 0));
    let at_secs: Vec<u64> = sent.iter().map(|(at, _)| at.as_micros() / 1_000_000).collect();
    assert_eq!(at_secs, vec![10, 11, 12, 13]);
    assert_eq!(h.state(c), State::Closed);
    assert!(h.events().contains(&Event::Error(c, ConnError::TimedOut)));
}

/// TCP_KEEPIDLE, TCP_KEEPINTVL and TCP_KEEPCNT: one connection's own timing, read back; the
/// config's stays every other connection's. Set while the timer runs, the new idle time
/// counts from when the peer was last heard.
#[test]
fn a_connections_own_keepalive_timing_replaces_the_configs() {
    use synack_engine::KeepaliveTiming;
    let config = plain_config().with(|c| c.tcp_keepalive_time = Duration::from_secs(100));
    let (mut h, c) = H::established(config);
    h.ep.conn_mut(h.now, c).unwrap().set_keepalive(true);
    h.advance(Duration::from_secs(1));
    let own = KeepaliveTiming { idle: Duration::from_secs(3), interval: Duration::from_secs(2), probes: 2 };
    h.ep.conn_mut(h.now, c).unwrap().set_keepalive_timing(own);
    assert_eq!(h.ep.keepalive_timing(c), Some(own));
    let sent = h.advance_collect(Duration::from_secs(20));
    let at_secs: Vec<u64> = sent.iter().map(|(at, _)| at.as_micros() / 1_000_000).collect();
    assert_eq!(at_secs, vec![3, 5, 7], "idle 3 s from the last segment heard, then every 2 s");
    assert_eq!(sent[2].1.flags, RST | ACK);
    let other = h.ep.connect(h.now, None, "10.0.0.3:80".parse().unwrap()).unwrap();
    assert_eq!(h.ep.keepalive_timing(other).map(|t| t.idle), Some(Duration::from_secs(100)));
}

#[test]
fn close_with_unread_data_sends_rst_rfc1122() {
    let (mut h, c) = H::established(plain_config());
    h.inject(Seg::new(ACK, PEER_ISN + 1, h.iss + 1).data(b"unread"));
    h.ep.close(h.now, c).unwrap();
    // RST with the ACK of what arrived, as Linux and FreeBSD send it.
    assert_eq!(h.keys(), vec![(RST | ACK, h.iss + 1, PEER_ISN + 7, 0)]);
    assert_eq!(h.table_state(), None);
}

#[test]
fn close_with_linger_zero_sends_rst() {
    let (mut h, c) = H::established(plain_config());
    h.ep.conn_mut(h.now, c).unwrap().set_linger(Some(Duration::ZERO));
    h.ep.close(h.now, c).unwrap();
    assert_eq!(h.keys(), vec![(RST | ACK, h.iss + 1, PEER_ISN + 1, 0)]);
}

#[test]
fn abort_sends_rst_and_frees_the_connection() {
    let (mut h, c) = H::established(plain_config());
    h.ep.abort(h.now, c).unwrap();
    assert_eq!(h.keys(), vec![(RST | ACK, h.iss + 1, PEER_ISN + 1, 0)]);
    assert_eq!(h.ep.state(c), None);
    h.inject(Seg::new(ACK, PEER_ISN + 1, h.iss + 1).data(b"late"));
    assert_eq!(h.keys(), vec![(RST, h.iss + 1, 0, 0)], "the port has no connection now");
}

#[test]
fn fin_moves_to_close_wait_is_acknowledged_at_once_and_reads_end() {
    let (mut h, c) = H::established(plain_config());
    h.inject(Seg::new(FIN | ACK, PEER_ISN + 1, h.iss + 1).data(b"bye"));
    assert_eq!(h.keys(), vec![(ACK, h.iss + 1, PEER_ISN + 5, 0)]);
    assert_eq!(h.state(c), State::CloseWait);
    assert!(h.events().contains(&Event::PeerClosed(c)));
    assert_eq!(h.read_all(c), b"bye");
    assert_eq!(h.ep.recv(h.now, c, &mut [0; 8]), Ok(0), "end of stream");
}

#[test]
fn fin_ahead_of_missing_data_waits_for_the_gap() {
    let (mut h, c) = H::established(plain_config());
    h.inject(Seg::new(FIN | ACK, PEER_ISN + 4, h.iss + 1).data(b"def"));
    assert_eq!(h.state(c), State::Established);
    h.inject(Seg::new(ACK, PEER_ISN + 1, h.iss + 1).data(b"abc"));
    assert_eq!(h.state(c), State::CloseWait);
    assert_eq!(h.read_all(c), b"abcdef");
    assert_eq!(h.keys().last().unwrap(), &(ACK, h.iss + 1, PEER_ISN + 8, 0));
}

#[test]
fn challenge_acks_are_rate_limited_to_one_per_half_second_rfc5961() {
    let (mut h, c) = H::established(plain_config());
    for _ in 0..5 {
        h.inject(Seg::new(RST, PEER_ISN + 100, 0));
    }
    assert_eq!(h.keys(), vec![(ACK, h.iss + 1, PEER_ISN + 1, 0)], "one answer for five");
    assert_eq!(h.ep.counters().acks_rate_limited, 4);
    h.advance(Duration::from_millis(500));
    h.inject(Seg::new(SYN, PEER_ISN + 1, 0));
    assert_eq!(h.keys().len(), 1, "allowed again after 500 ms");
    assert_eq!(h.state(c), State::Established);
}

#[test]
fn bare_out_of_window_acks_get_rate_limited_answers_but_data_always_gets_one() {
    let (mut h, _) = H::established(plain_config());
    // A peer stuck answering our ACKs with unacceptable ACKs cannot drive a loop.
    for _ in 0..10 {
        h.inject(Seg::new(ACK, PEER_ISN.wrapping_sub(5000), h.iss + 1));
        h.output();
    }
    assert_eq!(h.ep.counters().acks_rate_limited, 9);
    // Old data is still answered every time (it is no loop, and the ACK may be needed).
    h.inject(Seg::new(ACK, PEER_ISN.wrapping_sub(5000), h.iss + 1).data(b"old"));
    assert_eq!(h.keys().len(), 1);
}

/// RFC 9293 §3.8.6.2.1, sender SWS avoidance: with 1000 bytes queued, nothing in flight and
/// the peer offering 10 bytes of a window that was 2000, nothing goes at once; the override
/// timeout (the persist timer) sends the 10; a window that opens sends the rest.
#[test]
fn a_sliver_of_window_waits_for_the_override_timeout() {
    let (mut h, c) = established_after(Duration::from_millis(10));
    h.inject(Seg::new(ACK, PEER_ISN + 1, h.iss + 1).win(2000));
    h.ep.send(h.now, c, &data(1000)).unwrap();
    assert_eq!(h.keys(), vec![(ACK | PSH, h.iss + 1, PEER_ISN + 1, 1000)]);
    h.inject(Seg::new(ACK, PEER_ISN + 1, h.iss + 1001).win(10));
    h.ep.send(h.now, c, &data(1000)).unwrap();
    assert!(h.output().is_empty(), "10 bytes is less than an MSS and half the largest window");
    let sent = h.advance_collect(Duration::from_millis(300));
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].1.key(), (ACK, h.iss + 1001, PEER_ISN + 1, 10), "the override timeout");
    h.inject(Seg::new(ACK, PEER_ISN + 1, h.iss + 1011).win(2000));
    assert_eq!(h.keys(), vec![(ACK | PSH, h.iss + 1011, PEER_ISN + 1, 990)]);
}

/// A passive open whose SYN offers window scaling, with a 16 KiB receive buffer by default.
fn scaled_established(config: Config) -> (H, ConnHandle) {
    let (mut h, l) = H::listening(config.with(|c| {
        c.tcp_window_scaling = true;
        c.tcp_rmem.default = 16 * 1024;
    }));
    h.inject(Seg::new(SYN, PEER_ISN, 0).opts(TcpOptions { window_scale: Some(7), ..mss(1460) }));
    h.output();
    h.advance(Duration::from_millis(10)); // an RTT of 10 ms
    h.inject(Seg::new(ACK, PEER_ISN + 1, h.iss + 1));
    let c = h.ep.accept(l).expect("accepted");
    h.events();
    (h, c)
}

/// A window's worth of 1460-byte segments each round trip (a sender the window alone holds
/// back), read at once, for `rounds` round trips.
fn stream_in(h: &mut H, c: ConnHandle, rounds: u32) {
    let mut seq = PEER_ISN + 1;
    for _ in 0..rounds {
        for _ in 0..h.ep.buffer_sizes(c).unwrap().recv / 1460 {
            h.inject(Seg::new(ACK, seq, h.iss + 1).data(&data(1460)));
            seq += 1460;
        }
        h.read_all(c);
        h.output();
        h.advance(Duration::from_millis(10));
    }
}

/// Dynamic right-sizing (Linux's `tcp_moderate_rcvbuf`): the receive buffer follows what the
/// application reads per round trip, at most `tcp_rmem.max`; a buffer the application set
/// stays as set.
#[test]
fn the_receive_buffer_grows_with_what_is_read_per_round_trip_unless_set() {
    let (mut h, c) = scaled_established(plain_config());
    assert_eq!(h.ep.buffer_sizes(c).unwrap().recv, 16 * 1024);
    stream_in(&mut h, c, 6);
    let grown = h.ep.buffer_sizes(c).unwrap().recv;
    // 11 segments read in a round trip, more than the 10 of the first measurement's
    // baseline: twice that plus sixteen segments at least, and more each round after.
    assert!(grown >= 4 * (2 * 11 * 1460 + 16 * 1460), "grew to {grown}");
    assert!(grown <= plain_config().tcp_rmem.max);

    let (mut h, c) = scaled_established(plain_config().with(|c| c.tcp_moderate_rcvbuf = false));
    stream_in(&mut h, c, 6);
    assert_eq!(h.ep.buffer_sizes(c).unwrap().recv, 16 * 1024, "auto-tuning off");
}

/// The send buffer holds twice cwnd as cwnd grows (Linux's `tcp_sndbuf_expand`), unless the
/// application set it.
#[test]
fn the_send_buffer_grows_with_cwnd_unless_set() {
    for set in [false, true] {
        let (mut h, c) = H::established(plain_config().with(|c| c.tcp_wmem.default = 8 * 1024));
        if set {
            h.ep.conn_mut(h.now, c).unwrap().set_send_buffer_size(8 * 1024);
        }
        let mut acked = h.iss + 1;
        for _ in 0..6 {
            let _ = h.ep.send(h.now, c, &data(64 * 1024));
            let sent: u32 = h.output().iter().map(|s| s.data.len() as u32).sum();
            acked += sent;
            h.inject(Seg::new(ACK, PEER_ISN + 1, acked).win(65535));
        }
        let size = h.ep.buffer_sizes(c).unwrap().send;
        if set {
            assert_eq!(size, 8 * 1024);
        } else {
            assert!(size > 8 * 1024 && size as u32 >= 2 * h.ep.conn_info(c).unwrap().cwnd.min(65535), "{size}");
        }
    }
}

/// TCP_CORK holds partial segments until it is lifted; MSG_MORE holds one until the next
/// write or ACK, and its data goes without PSH.
#[test]
fn a_cork_holds_partial_segments_until_lifted_and_msg_more_until_the_next_ack() {
    let (mut h, c) = H::established(plain_config().with(|c| c.tcp_wmem.default = 65_536));
    h.ep.conn_mut(h.now, c).unwrap().set_cork(true);
    h.ep.send(h.now, c, &data(40)).unwrap();
    h.ep.send(h.now, c, &data(40)).unwrap();
    assert!(h.output().is_empty(), "corked");
    h.ep.conn_mut(h.now, c).unwrap().set_cork(false);
    assert_eq!(h.keys(), [(ACK | PSH, h.iss + 1, PEER_ISN + 1, 80)], "lifted: one segment");
    h.inject(Seg::new(ACK, PEER_ISN + 1, h.iss + 81));

    h.ep.conn_mut(h.now, c).unwrap().set_nodelay(true);
    h.ep.send_more(h.now, c, &data(100)).unwrap();
    assert!(h.output().is_empty(), "MSG_MORE holds a partial segment even with TCP_NODELAY");
    h.ep.send(h.now, c, &data(20)).unwrap();
    assert_eq!(h.keys(), [(ACK | PSH, h.iss + 81, PEER_ISN + 1, 120)], "the next write sends both");
    h.inject(Seg::new(ACK, PEER_ISN + 1, h.iss + 201));
    h.ep.send_more(h.now, c, &data(1500)).unwrap();
    assert_eq!(h.keys(), [(ACK, h.iss + 201, PEER_ISN + 1, 1460)], "full segments go, the rest waits");
    h.inject(Seg::new(ACK, PEER_ISN + 1, h.iss + 1661));
    assert_eq!(h.keys(), [(ACK, h.iss + 1661, PEER_ISN + 1, 40)], "an ACK lets it go, without PSH");
}
