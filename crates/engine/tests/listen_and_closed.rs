//! LISTEN (RFC 9293 §3.10.7.2), CLOSED ports (§3.10.7.1) and the passive SYN-RECEIVED entry.

mod common;
use common::*;
use std::time::Duration;
use synack_engine::{Event, State};

// ---- CLOSED: no connection, no listener ----

#[test]
fn syn_to_a_closed_port_gets_rst_ack_acknowledging_seq_plus_one() {
    let mut h = H::new(plain_config());
    h.inject(Seg::new(SYN, 5000, 0));
    assert_eq!(h.keys(), vec![(RST | ACK, 0, 5001, 0)]);
    assert_eq!(h.ep.counters().resets_sent, 1);
}

#[test]
fn ack_to_a_closed_port_gets_rst_with_seq_equal_to_the_ack() {
    let mut h = H::new(plain_config());
    h.inject(Seg::new(ACK, 5000, 777));
    assert_eq!(h.keys(), vec![(RST, 777, 0, 0)]);
}

#[test]
fn data_without_ack_to_a_closed_port_is_acknowledged_in_the_rst() {
    let mut h = H::new(plain_config());
    h.inject(Seg::new(PSH, 5000, 0).data(b"hello"));
    assert_eq!(h.keys(), vec![(RST | ACK, 0, 5005, 0)]);
}

#[test]
fn rst_to_a_closed_port_is_never_answered() {
    let mut h = H::new(plain_config());
    h.inject(Seg::new(RST, 5000, 0));
    h.inject(Seg::new(RST | ACK, 5000, 9));
    assert!(h.output().is_empty());
    assert_eq!(h.ep.counters().dropped_closed_port_rst, 2);
}

#[test]
fn packets_for_other_addresses_bad_checksums_and_garbage_are_dropped_and_counted() {
    let mut h = H::new(plain_config());
    let other: std::net::SocketAddr = "10.9.9.9:80".parse().unwrap();
    let stray = h.packet(&Seg::new(SYN, 1, 0), h.remote, other);
    h.ep.handle_packet(h.now, &stray);
    let mut bad = h.packet(&Seg::new(SYN, 1, 0), h.remote, h.local);
    let last = bad.len() - 1;
    bad[last] ^= 0x40;
    h.ep.handle_packet(h.now, &bad);
    h.ep.handle_packet(h.now, &[0x45, 0, 0]);
    assert!(h.output().is_empty());
    let c = h.ep.counters();
    assert_eq!((c.dropped_not_our_address, c.dropped_bad_checksum, c.dropped_malformed), (1, 1, 1));
}

// ---- LISTEN ----

#[test]
fn syn_to_a_listener_gets_syn_ack_acknowledging_isn_plus_one() {
    let (mut h, l) = H::listening(plain_config());
    h.inject(Seg::new(SYN, PEER_ISN, 0));
    let out = h.output();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].flags, SYN | ACK);
    assert_eq!(out[0].ack, PEER_ISN + 1);
    assert_eq!(out[0].opts.mss, Some(1460));
    assert_eq!(h.ep.listener_queues(l), Some(queues(1, 0)), "one half-open entry, nothing to accept");
    assert_eq!(h.table_state(), Some(State::SynReceived));
}

#[test]
fn ack_to_a_listener_gets_rst_with_seq_equal_to_the_ack() {
    let (mut h, _) = H::listening(plain_config());
    h.inject(Seg::new(ACK, PEER_ISN, 4242));
    assert_eq!(h.keys(), vec![(RST, 4242, 0, 0)]);
}

#[test]
fn rst_to_a_listener_is_ignored() {
    let (mut h, l) = H::listening(plain_config());
    h.inject(Seg::new(RST, PEER_ISN, 0));
    assert!(h.output().is_empty());
    assert_eq!(h.ep.listener_queues(l), Some(queues(0, 0)));
}

#[test]
fn segment_without_syn_ack_or_rst_to_a_listener_is_dropped() {
    let (mut h, _) = H::listening(plain_config());
    h.inject(Seg::new(FIN, PEER_ISN, 0));
    assert!(h.output().is_empty());
    assert_eq!(h.ep.counters().dropped_listener_non_syn, 1);
}

#[test]
fn full_syn_queue_drops_new_syns_and_counts_them_without_cookies() {
    let config = plain_config().with(|c| {
        c.tcp_max_syn_backlog = 2;
        c.tcp_syncookies = 0;
    });
    let (mut h, l) = H::listening(config);
    for port in 0..4u16 {
        let from = std::net::SocketAddr::new(h.remote.ip(), 6000 + port);
        let bytes = h.packet(&Seg::new(SYN, PEER_ISN, 0), from, h.local);
        h.ep.handle_packet(h.now, &bytes);
    }
    assert_eq!(h.output().len(), 2, "two SYN-ACKs");
    assert_eq!(h.ep.listener_queues(l), Some(queues(2, 0)));
    assert_eq!(h.ep.counters().syn_queue_overflows, 2);
}

#[test]
fn wildcard_listener_takes_connections_to_any_local_address_and_specific_wins() {
    let mut h = H::new(plain_config());
    let any = h.ep.listen("0.0.0.0:80".parse().unwrap(), 8).unwrap();
    h.inject(Seg::new(SYN, PEER_ISN, 0));
    assert_eq!(h.output()[0].flags, SYN | ACK);
    assert_eq!(h.ep.listener_queues(any), Some(queues(1, 0)));
    let specific = h.ep.listen(h.local, 8).unwrap();
    let from = std::net::SocketAddr::new(h.remote.ip(), 7000);
    let bytes = h.packet(&Seg::new(SYN, PEER_ISN, 0), from, h.local);
    h.ep.handle_packet(h.now, &bytes);
    assert_eq!(h.ep.listener_queues(specific), Some(queues(1, 0)));
}

#[test]
fn listen_rejects_a_taken_address_port_zero_and_backlog_zero() {
    let (mut h, _) = H::listening(plain_config());
    use synack_engine::ListenError::*;
    assert_eq!(h.ep.listen(h.local, 8), Err(AddrInUse));
    assert_eq!(h.ep.listen("10.0.0.1:0".parse().unwrap(), 8), Err(InvalidAddress));
    assert_eq!(h.ep.listen("10.0.0.1:81".parse().unwrap(), 0), Err(InvalidBacklog));
    assert_eq!(h.ep.listen("10.7.7.7:81".parse().unwrap(), 8), Err(InvalidAddress));
}

// ---- SYN-RECEIVED (passive: a half-open entry) ----

#[test]
fn final_ack_completes_the_handshake_and_queues_the_connection_for_accept() {
    let (mut h, l) = H::syn_received(plain_config());
    h.inject(Seg::new(ACK, PEER_ISN + 1, h.iss + 1));
    assert!(h.output().is_empty(), "nothing to answer");
    assert_eq!(h.ep.listener_queues(l), Some(queues(0, 1)));
    assert!(h.events().contains(&Event::Incoming(l)));
    let c = h.ep.accept(l).expect("accept");
    assert_eq!(h.state(c), State::Established);
    assert_eq!(h.ep.peer_addr(c), Some(h.remote));
    assert_eq!(h.ep.local_addr(c), Some(h.local));
}

#[test]
fn final_ack_with_a_wrong_ack_number_gets_rst_and_the_entry_stays() {
    let (mut h, l) = H::syn_received(plain_config());
    h.inject(Seg::new(ACK, PEER_ISN + 1, h.iss + 5));
    assert_eq!(h.keys(), vec![(RST, h.iss + 5, 0, 0)]);
    assert_eq!(h.ep.listener_queues(l), Some(queues(1, 0)));
}

#[test]
fn final_ack_carrying_data_delivers_the_data() {
    let (mut h, l) = H::syn_received(plain_config());
    h.inject(Seg::new(ACK | PSH, PEER_ISN + 1, h.iss + 1).data(b"early"));
    let c = h.ep.accept(l).expect("accept");
    assert_eq!(h.read_all(c), b"early");
}

#[test]
fn exact_rst_removes_the_half_open_entry_and_the_listener_stays() {
    let (mut h, l) = H::syn_received(plain_config());
    h.inject(Seg::new(RST, PEER_ISN + 1, 0));
    assert!(h.output().is_empty());
    assert_eq!(h.ep.listener_queues(l), Some(queues(0, 0)));
    assert_eq!(h.table_state(), None);
    // The listener still answers.
    h.inject(Seg::new(SYN, PEER_ISN + 100, 0));
    assert_eq!(h.output()[0].flags, SYN | ACK);
}

#[test]
fn in_window_rst_that_is_not_exact_gets_a_challenge_ack() {
    let (mut h, l) = H::syn_received(plain_config());
    h.inject(Seg::new(RST, PEER_ISN + 10, 0));
    assert_eq!(h.keys(), vec![(ACK, h.iss + 1, PEER_ISN + 1, 0)]);
    assert_eq!(h.ep.listener_queues(l), Some(queues(1, 0)));
    assert_eq!(h.ep.counters().challenge_acks_sent, 1);
}

/// RFC 5961 §7: a half-open entry's challenge ACKs go through the same per-record limit as a
/// connection's, so a flood of forged RSTs or SYNs draws one answer per half second.
#[test]
fn a_half_open_entrys_challenge_acks_are_rate_limited_like_a_connections() {
    let (mut h, l) = H::syn_received(plain_config());
    for i in 0..5 {
        h.inject(Seg::new(RST, PEER_ISN + 10 + i, 0));
        h.inject(Seg::new(SYN, PEER_ISN + 500 + i, 0));
    }
    assert_eq!(h.keys(), vec![(ACK, h.iss + 1, PEER_ISN + 1, 0)], "one answer for ten");
    assert_eq!(h.ep.counters().challenge_acks_sent, 1);
    assert_eq!(h.ep.counters().acks_rate_limited, 9);
    assert_eq!(h.ep.listener_queues(l), Some(queues(1, 0)), "the entry stays");
    h.advance(Duration::from_millis(500));
    h.output();
    h.inject(Seg::new(RST, PEER_ISN + 20, 0));
    assert_eq!(h.keys(), vec![(ACK, h.iss + 1, PEER_ISN + 1, 0)], "allowed again after 500 ms");
}

/// `tcp_challenge_ack_limit`: the endpoint's own limit, over all its records, on top of each
/// record's.
#[test]
fn the_endpoint_limits_challenge_acks_per_second_over_all_records() {
    let config = plain_config().with(|c| c.tcp_challenge_ack_limit = 1);
    let (mut h, _) = H::syn_received(config);
    h.inject(Seg::new(RST, PEER_ISN + 10, 0));
    assert_eq!(h.keys().len(), 1);
    // A second half-open entry, from another port: its own limit allows, the endpoint's not.
    let other: std::net::SocketAddr = "10.0.0.2:5001".parse().unwrap();
    let syn = h.packet(&Seg::new(SYN, PEER_ISN, 0), other, h.local);
    h.ep.handle_packet(h.now, &syn);
    assert_eq!(h.output().len(), 1, "its SYN-ACK");
    let rst = h.packet(&Seg::new(RST, PEER_ISN + 10, 0), other, h.local);
    h.ep.handle_packet(h.now, &rst);
    assert!(h.output().is_empty(), "over the endpoint's one a second");
    assert_eq!(h.ep.counters().challenge_acks_sent, 1);
}

#[test]
fn retransmitted_syn_gets_the_same_syn_ack_again() {
    let (mut h, _) = H::syn_received(plain_config());
    let iss = h.iss;
    h.inject(Seg::new(SYN, PEER_ISN, 0));
    assert_eq!(h.keys(), vec![(SYN | ACK, iss, PEER_ISN + 1, 0)]);
}

#[test]
fn syn_ack_is_retransmitted_at_doubling_intervals_then_the_entry_is_dropped() {
    let (mut h, l) = H::syn_received(plain_config());
    let sent = h.advance_collect(Duration::from_secs(100));
    let times: Vec<u64> = sent.iter().map(|(t, _)| t.as_millis()).collect();
    assert_eq!(times, [1_000, 3_000, 7_000, 15_000, 31_000], "tcp_synack_retries = 5");
    assert!(sent.iter().all(|(_, s)| s.flags == SYN | ACK));
    assert_eq!(h.ep.listener_queues(l), Some(queues(0, 0)), "dropped after 63 s");
    assert_eq!(h.ep.counters().half_open_expired, 1);
    assert_eq!(h.ep.config().half_open_lifetime(), Duration::from_secs(63));
}

#[test]
fn full_accept_queue_drops_the_final_ack_and_a_later_ack_gets_in() {
    let mut h = H::new(plain_config());
    let l = h.ep.listen(h.local, 1).unwrap();
    // One connection fills the accept queue.
    let first = std::net::SocketAddr::new(h.remote.ip(), 6001);
    let syn = h.packet(&Seg::new(SYN, 1, 0), first, h.local);
    h.ep.handle_packet(h.now, &syn);
    let iss_first = h.output()[0].seq;
    let ack = h.packet(&Seg::new(ACK, 2, iss_first + 1), first, h.local);
    h.ep.handle_packet(h.now, &ack);
    assert_eq!(h.ep.listener_queues(l), Some(queues(0, 1)));
    // Ours: the SYN is dropped (accept queue full), as Linux does.
    h.inject(Seg::new(SYN, PEER_ISN, 0));
    assert!(h.output().is_empty());
    assert_eq!(h.ep.counters().listen_overflows, 1);
    // Make room, get a half-open entry, fill the queue again, then send our final ACK.
    let c = h.ep.accept(l).unwrap();
    h.inject(Seg::new(SYN, PEER_ISN, 0));
    h.output();
    let ours = h.iss;
    let second = std::net::SocketAddr::new(h.remote.ip(), 6002);
    let syn2 = h.packet(&Seg::new(SYN, 1, 0), second, h.local);
    h.ep.handle_packet(h.now, &syn2);
    let iss2 = h.output()[0].seq;
    let ack2 = h.packet(&Seg::new(ACK, 2, iss2 + 1), second, h.local);
    h.ep.handle_packet(h.now, &ack2);
    h.inject(Seg::new(ACK, PEER_ISN + 1, ours + 1));
    assert!(h.output().is_empty(), "the final ACK is dropped, not answered");
    assert_eq!(h.ep.counters().accept_queue_overflows, 1);
    assert_eq!(h.table_state(), Some(State::SynReceived));
    // The application accepts; the client's next ACK (after our SYN-ACK retransmission) fits.
    h.ep.accept(l).unwrap();
    h.inject(Seg::new(ACK, PEER_ISN + 1, ours + 1));
    assert_eq!(h.ep.listener_queues(l), Some(queues(0, 1)));
    assert_eq!(h.table_state(), Some(State::Established));
    let _ = c;
}

#[test]
fn full_accept_queue_with_abort_on_overflow_answers_the_final_ack_with_rst() {
    let config = plain_config().with(|c| c.tcp_abort_on_overflow = true);
    let mut h = H::new(config);
    let l = h.ep.listen(h.local, 1).unwrap();
    h.inject(Seg::new(SYN, PEER_ISN, 0));
    h.output();
    let other = std::net::SocketAddr::new(h.remote.ip(), 6001);
    let syn = h.packet(&Seg::new(SYN, 1, 0), other, h.local);
    h.ep.handle_packet(h.now, &syn);
    let iss_other = h.output()[0].seq;
    let ack = h.packet(&Seg::new(ACK, 2, iss_other + 1), other, h.local);
    h.ep.handle_packet(h.now, &ack);
    assert_eq!(h.ep.listener_queues(l), Some(queues(1, 1)));
    h.output();
    // Our own final ACK meets a full queue.
    let ours_iss = {
        // learn our ISN by asking the entry to repeat its SYN-ACK
        h.inject(Seg::new(SYN, PEER_ISN, 0));
        h.output()[0].seq
    };
    h.inject(Seg::new(ACK, PEER_ISN + 1, ours_iss + 1));
    assert_eq!(h.keys(), vec![(RST, ours_iss + 1, 0, 0)]);
    assert_eq!(h.table_state(), None);
}

#[test]
fn closing_a_listener_resets_connections_not_yet_accepted() {
    let (mut h, l) = H::syn_received(plain_config());
    h.inject(Seg::new(ACK, PEER_ISN + 1, h.iss + 1));
    h.ep.close_listener(h.now, l).unwrap();
    assert_eq!(h.keys(), vec![(RST | ACK, h.iss + 1, PEER_ISN + 1, 0)]);
    h.inject(Seg::new(SYN, PEER_ISN + 50, 0));
    assert_eq!(h.output()[0].flags, RST | ACK, "the port is closed now");
}

#[test]
fn an_any_ip_listener_takes_connections_to_every_address_and_reports_the_original_destination() {
    let mut h = H::new(plain_config());
    let specific = h.ep.listen(h.local, 8).unwrap();
    let any = h.ep.listen_any(8).unwrap();
    let foreign: std::net::SocketAddr = "93.184.216.34:443".parse().unwrap();
    let syn = h.packet(&Seg::new(SYN, PEER_ISN, 0).opts(mss(1460)), h.remote, foreign);
    h.ep.handle_packet(h.now, &syn);
    let synack = h.output().remove(0);
    assert_eq!(synack.flags, SYN | ACK, "answered from the foreign address");
    let ack = h.packet(&Seg::new(ACK, PEER_ISN + 1, synack.seq + 1), h.remote, foreign);
    h.ep.handle_packet(h.now, &ack);
    let c = h.ep.accept(any).expect("accepted by the any-IP listener");
    assert_eq!(h.ep.local_addr(c), Some(foreign));
    // The endpoint's own address and port still go to the specific listener.
    h.inject(Seg::new(SYN, PEER_ISN, 0));
    h.output();
    assert_eq!(h.ep.listener_queues(specific), Some(queues(1, 0)));
    assert_eq!(h.ep.listen_any(8), Err(synack_engine::ListenError::AddrInUse), "one per endpoint");
}
