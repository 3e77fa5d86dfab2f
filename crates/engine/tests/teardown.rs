//! The closing states: FIN-WAIT-1, FIN-WAIT-2, CLOSE-WAIT, CLOSING, LAST-ACK, TIME-WAIT
//! (RFC 9293 §3.10.7.4, with RFC 1337 for TIME-WAIT and RFC 1122 §4.2.2.13 for data after close).

mod common;
use common::*;
use std::time::Duration;
use synack_engine::{ConnError, Event, Instant, SendError, State};

// ---- FIN-WAIT-1 ----

#[test]
fn fin_wait_1_moves_to_fin_wait_2_on_the_ack_of_our_fin() {
    let (mut h, c) = H::fin_wait_1(plain_config());
    h.inject(Seg::new(ACK, PEER_ISN + 1, h.iss + 2));
    assert_eq!(h.state(c), State::FinWait2);
    let out = h.keys();
    assert!(out.is_empty(), "{out:?}");
}

#[test]
fn fin_wait_1_moves_to_closing_on_a_fin_that_does_not_ack_ours() {
    let (mut h, c) = H::fin_wait_1(plain_config());
    h.inject(Seg::new(FIN | ACK, PEER_ISN + 1, h.iss + 1));
    assert_eq!(h.state(c), State::Closing);
    assert_eq!(h.keys(), vec![(ACK, h.iss + 2, PEER_ISN + 2, 0)]);
}

#[test]
fn fin_wait_1_goes_straight_to_time_wait_on_fin_with_the_ack_of_ours() {
    let (mut h, _) = H::fin_wait_1(plain_config());
    h.inject(Seg::new(FIN | ACK, PEER_ISN + 1, h.iss + 2));
    assert_eq!(h.keys(), vec![(ACK, h.iss + 2, PEER_ISN + 2, 0)]);
    assert_eq!(h.table_state(), Some(State::TimeWait));
}

#[test]
fn fin_wait_1_retransmits_its_fin_after_the_rto() {
    // The handshake measured an RTT of 0: the RTO is its 200 ms floor.
    let (mut h, _) = H::fin_wait_1(plain_config());
    let start = h.now;
    let sent = h.advance_collect(Duration::from_millis(300));
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0.saturating_since(start), Duration::from_millis(200));
    assert_eq!(sent[0].1.key(), (FIN | ACK, h.iss + 1, PEER_ISN + 1, 0));
}

#[test]
fn fin_wait_1_exact_rst_resets_and_in_window_rst_or_syn_gets_a_challenge_ack() {
    let (mut h, c) = H::fin_wait_1(plain_config());
    h.inject(Seg::new(RST, PEER_ISN + 50, 0));
    assert_eq!(h.keys(), vec![(ACK, h.iss + 2, PEER_ISN + 1, 0)]);
    h.advance(Duration::from_millis(500)); // challenge ACKs are rate-limited (RFC 5961 §7)
    h.output();
    h.inject(Seg::new(SYN, PEER_ISN + 1, 0));
    assert_eq!(h.keys(), vec![(ACK, h.iss + 2, PEER_ISN + 1, 0)]);
    h.inject(Seg::new(RST, PEER_ISN + 1, 0));
    assert_eq!(h.ep.state(c), None, "reset, and freed (the user had closed)");
}

#[test]
fn data_after_close_is_answered_with_rst_rfc1122() {
    let (mut h, _) = H::fin_wait_1(plain_config());
    h.inject(Seg::new(ACK, PEER_ISN + 1, h.iss + 2).data(b"too late"));
    assert_eq!(h.keys(), vec![(RST | ACK, h.iss + 2, PEER_ISN + 1, 0)]);
    assert_eq!(h.table_state(), None);
}

// ---- FIN-WAIT-2 ----

#[test]
fn fin_wait_2_after_shutdown_still_receives_data_half_close() {
    let (mut h, c) = H::fin_wait_2(plain_config());
    assert_eq!(h.ep.send(h.now, c, b"x"), Err(SendError::Closed));
    h.inject(Seg::new(ACK | PSH, PEER_ISN + 1, h.iss + 2).data(b"still flowing"));
    assert_eq!(h.read_all(c), b"still flowing");
    assert_eq!(h.state(c), State::FinWait2);
}

#[test]
fn fin_wait_2_moves_to_time_wait_on_the_peers_fin() {
    let (mut h, c) = H::fin_wait_2(plain_config());
    h.inject(Seg::new(FIN | ACK, PEER_ISN + 1, h.iss + 2));
    assert_eq!(h.keys(), vec![(ACK, h.iss + 2, PEER_ISN + 2, 0)]);
    assert_eq!(h.table_state(), Some(State::TimeWait));
    assert_eq!(h.state(c), State::Closed, "the handle shows CLOSED; the record holds TIME-WAIT");
    assert_eq!(h.ep.recv(h.now, c, &mut [0; 4]), Ok(0));
}

#[test]
fn a_connection_retired_into_time_wait_leaves_no_timer_behind() {
    // Data arms the delayed-ACK timer; the FIN in the same segment ends in TIME-WAIT while
    // the user still holds the handle. The fuzzer found `handle_timeout` looping forever on
    // such a CLOSED connection's leftover timer (fuzz/regressions/endpoint-hang-handle-timeout.bin),
    // so the scenario runs on a thread and a hang fails the test after 10 s.
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let (mut h, c) = H::fin_wait_2(plain_config());
        h.inject(Seg::new(FIN | ACK | PSH, PEER_ISN + 1, h.iss + 2).data(b"tail"));
        let acks = h.keys();
        let state = h.state(c);
        h.now = h.now + Duration::from_secs(1);
        h.ep.handle_timeout(h.now);
        let next = h.ep.poll_timeout();
        done_tx.send((acks, state, next, h.iss, h.read_all(c))).unwrap();
    });
    let (acks, state, next, iss, read) =
        done_rx.recv_timeout(Duration::from_secs(10)).expect("handle_timeout did not return within 10 s");
    assert_eq!(acks, vec![(ACK, iss + 2, PEER_ISN + 6, 0)]);
    assert_eq!(state, State::Closed);
    assert_eq!(next, Some(Instant::ZERO + Duration::from_secs(60)), "only the 2MSL timer is left");
    assert_eq!(read, b"tail");
}

#[test]
fn half_closed_fin_wait_2_waits_for_the_peer_without_a_timeout() {
    let (mut h, c) = H::fin_wait_2(plain_config());
    h.advance(Duration::from_secs(3600));
    assert_eq!(h.state(c), State::FinWait2);
}

#[test]
fn orphaned_fin_wait_2_gives_up_after_tcp_fin_timeout() {
    let (mut h, c) = H::fin_wait_1(plain_config());
    h.inject(Seg::new(ACK, PEER_ISN + 1, h.iss + 2));
    assert_eq!(h.table_state(), Some(State::FinWait2));
    let sent = h.advance_collect(Duration::from_secs(61));
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0.as_millis(), 60_000);
    assert_eq!(sent[0].1.key(), (RST | ACK, h.iss + 2, PEER_ISN + 1, 0));
    assert_eq!(h.ep.state(c), None);
}

// ---- CLOSE-WAIT ----

#[test]
fn close_wait_still_sends_data() {
    let (mut h, c) = H::close_wait(plain_config());
    h.ep.send(h.now, c, b"reply").unwrap();
    assert_eq!(h.keys(), vec![(ACK | PSH, h.iss + 1, PEER_ISN + 2, 5)]);
}

#[test]
fn close_wait_acknowledges_a_retransmitted_fin_again() {
    let (mut h, c) = H::close_wait(plain_config());
    h.inject(Seg::new(FIN | ACK, PEER_ISN + 1, h.iss + 1));
    assert_eq!(h.keys(), vec![(ACK, h.iss + 1, PEER_ISN + 2, 0)]);
    assert_eq!(h.state(c), State::CloseWait);
}

#[test]
fn close_wait_ignores_new_text() {
    let (mut h, c) = H::close_wait(plain_config());
    h.inject(Seg::new(ACK, PEER_ISN + 2, h.iss + 1).data(b"after fin"));
    assert!(h.read_all(c).is_empty());
}

#[test]
fn close_in_close_wait_sends_fin_and_moves_to_last_ack() {
    let (h, c) = H::last_ack(plain_config());
    assert_eq!(h.state(c), State::LastAck);
}

#[test]
fn close_wait_exact_rst_reports_a_reset() {
    let (mut h, c) = H::close_wait(plain_config());
    h.inject(Seg::new(RST, PEER_ISN + 2, 0));
    assert_eq!(h.state(c), State::Closed);
    assert!(h.events().contains(&Event::Error(c, ConnError::Reset)));
}

// ---- CLOSING ----

#[test]
fn closing_moves_to_time_wait_on_the_ack_of_our_fin() {
    let (mut h, _) = H::closing(plain_config());
    h.inject(Seg::new(ACK, PEER_ISN + 2, h.iss + 2));
    assert_eq!(h.table_state(), Some(State::TimeWait));
    assert!(h.output().is_empty());
}

#[test]
fn closing_exact_rst_closes_and_syn_gets_a_challenge_ack() {
    let (mut h, _) = H::closing(plain_config());
    h.inject(Seg::new(SYN, PEER_ISN + 2, 0));
    assert_eq!(h.keys(), vec![(ACK, h.iss + 2, PEER_ISN + 2, 0)]);
    h.inject(Seg::new(RST, PEER_ISN + 2, 0));
    assert_eq!(h.table_state(), None);
}

// ---- LAST-ACK ----

#[test]
fn last_ack_closes_on_the_ack_of_our_fin() {
    let (mut h, c) = H::last_ack(plain_config());
    h.inject(Seg::new(ACK, PEER_ISN + 2, h.iss + 2));
    assert_eq!(h.ep.state(c), None, "closed and freed");
    assert_eq!(h.table_state(), None);
}

#[test]
fn last_ack_retransmits_its_fin_until_acknowledged() {
    let (mut h, _) = H::last_ack(plain_config());
    let sent = h.advance_collect(Duration::from_millis(700));
    assert_eq!(sent.len(), 2, "at 200 and 600 ms (the RTO's floor, doubled)");
    assert!(sent.iter().all(|(_, s)| s.key() == (FIN | ACK, h.iss + 1, PEER_ISN + 2, 0)));
}

#[test]
fn last_ack_exact_rst_closes_without_error_and_old_rst_is_dropped() {
    let (mut h, _) = H::last_ack(plain_config());
    h.inject(Seg::new(RST, PEER_ISN + 1, 0));
    assert_eq!(h.table_state(), Some(State::LastAck), "out of window: dropped");
    h.inject(Seg::new(RST, PEER_ISN + 2, 0));
    assert_eq!(h.table_state(), None);
}

// ---- TIME-WAIT ----

#[test]
fn time_wait_ends_after_two_msl() {
    let (mut h, _) = H::time_wait(plain_config());
    h.advance(Duration::from_secs(59));
    assert_eq!(h.table_state(), Some(State::TimeWait));
    h.advance(Duration::from_secs(2));
    assert_eq!(h.table_state(), None);
    assert_eq!(h.ep.counters().time_wait_expired, 1);
}

#[test]
fn time_wait_acknowledges_a_retransmitted_fin_and_restarts_two_msl() {
    let (mut h, _) = H::time_wait(plain_config());
    h.advance(Duration::from_secs(50));
    h.inject(Seg::new(FIN | ACK, PEER_ISN + 1, h.iss + 2));
    assert_eq!(h.keys(), vec![(ACK, h.iss + 2, PEER_ISN + 2, 0)]);
    h.advance(Duration::from_secs(30));
    assert_eq!(h.table_state(), Some(State::TimeWait), "the 2MSL timer restarted at 50 s");
    h.advance(Duration::from_secs(31));
    assert_eq!(h.table_state(), None);
}

#[test]
fn time_wait_ignores_rst_rfc1337() {
    let (mut h, _) = H::time_wait(plain_config());
    h.inject(Seg::new(RST, PEER_ISN + 2, 0));
    h.inject(Seg::new(RST | ACK, PEER_ISN + 2, h.iss + 2));
    assert!(h.output().is_empty());
    assert_eq!(h.table_state(), Some(State::TimeWait));
}

#[test]
fn time_wait_drops_a_bare_ack_and_answers_an_old_segment() {
    let (mut h, _) = H::time_wait(plain_config());
    h.inject(Seg::new(ACK, PEER_ISN + 2, h.iss + 2));
    assert!(h.output().is_empty());
    h.inject(Seg::new(ACK, PEER_ISN - 100, h.iss + 2).data(b"old"));
    assert_eq!(h.keys(), vec![(ACK, h.iss + 2, PEER_ISN + 2, 0)]);
}

#[test]
fn time_wait_lets_a_new_syn_with_a_higher_sequence_number_reopen_through_the_listener() {
    let (mut h, _) = H::time_wait(plain_config());
    h.inject(Seg::new(SYN, PEER_ISN + 100_000, 0).opts(mss(1460)));
    let out = h.output();
    assert_eq!(out.len(), 1);
    assert_eq!((out[0].flags, out[0].ack), (SYN | ACK, PEER_ISN + 100_001));
    assert_eq!(h.table_state(), Some(State::SynReceived));
}

#[test]
fn time_wait_answers_an_old_syn_with_an_ack() {
    let (mut h, _) = H::time_wait(plain_config());
    h.inject(Seg::new(SYN, PEER_ISN - 5, 0));
    assert_eq!(h.keys(), vec![(ACK, h.iss + 2, PEER_ISN + 2, 0)]);
    assert_eq!(h.table_state(), Some(State::TimeWait));
}

#[test]
fn time_wait_blocks_reuse_of_its_four_tuple_by_connect() {
    let (mut h, _) = H::time_wait(plain_config());
    assert_eq!(h.ep.connect(h.now, Some(h.local), h.remote), Err(synack_engine::ConnectError::AddrInUse));
}
