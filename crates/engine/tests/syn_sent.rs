//! SYN-SENT (RFC 9293 §3.10.7.3) and the active side of a simultaneous open.

mod common;
use common::*;
use std::time::Duration;
use synack_engine::{ConnError, ConnectError, Event, RecvError, SendError, State};

#[test]
fn connect_sends_a_syn_with_our_mss_and_waits_in_syn_sent() {
    let mut h = H::new(plain_config());
    let c = h.ep.connect(h.now, Some(h.local), h.remote).unwrap();
    let out = h.output();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].flags, SYN);
    assert_eq!(out[0].opts.mss, Some(1460));
    assert_eq!(h.state(c), State::SynSent);
    assert_eq!(h.ep.send(h.now, c, b"x"), Err(SendError::NotConnected));
    assert_eq!(h.ep.recv(h.now, c, &mut [0; 4]), Err(RecvError::NotConnected));
}

#[test]
fn syn_ack_completes_the_open_and_is_acknowledged_with_seq_x_plus_1_ack_y_plus_1() {
    let (mut h, c) = H::syn_sent(plain_config());
    let x = h.iss;
    h.inject(Seg::new(SYN | ACK, PEER_ISN, x + 1));
    assert_eq!(h.keys(), vec![(ACK, x + 1, PEER_ISN + 1, 0)]);
    assert_eq!(h.state(c), State::Established);
    assert!(h.events().contains(&Event::Connected(c)));
}

#[test]
fn syn_ack_with_an_unacceptable_ack_gets_rst_and_the_connection_waits_on() {
    let (mut h, c) = H::syn_sent(plain_config());
    h.inject(Seg::new(SYN | ACK, PEER_ISN, h.iss + 7));
    assert_eq!(h.keys(), vec![(RST, h.iss + 7, 0, 0)]);
    assert_eq!(h.state(c), State::SynSent);
}

#[test]
fn rst_with_an_acceptable_ack_refuses_the_connection() {
    let (mut h, c) = H::syn_sent(plain_config());
    h.inject(Seg::new(RST | ACK, 0, h.iss + 1));
    assert!(h.output().is_empty());
    assert_eq!(h.state(c), State::Closed);
    assert!(h.events().contains(&Event::Error(c, ConnError::Refused)));
    assert_eq!(h.ep.recv(h.now, c, &mut [0; 4]), Err(RecvError::Failed(ConnError::Refused)));
}

#[test]
fn rst_without_ack_or_with_a_wrong_ack_is_ignored() {
    let (mut h, c) = H::syn_sent(plain_config());
    h.inject(Seg::new(RST, 0, 0));
    h.inject(Seg::new(RST | ACK, 0, h.iss + 9));
    assert!(h.output().is_empty());
    assert_eq!(h.state(c), State::SynSent);
}

#[test]
fn segment_without_syn_or_rst_is_dropped() {
    let (mut h, c) = H::syn_sent(plain_config());
    h.inject(Seg::new(TcpFlagsNone(), PEER_ISN, 0));
    assert!(h.output().is_empty());
    assert_eq!(h.state(c), State::SynSent);
}

#[allow(non_snake_case)]
fn TcpFlagsNone() -> synack_wire::TcpFlags {
    synack_wire::TcpFlags::NONE
}

#[test]
fn plain_syn_in_syn_sent_is_a_simultaneous_open_answered_with_syn_ack() {
    let (mut h, c) = H::syn_sent(plain_config());
    let x = h.iss;
    h.inject(Seg::new(SYN, PEER_ISN, 0));
    assert_eq!(h.keys(), vec![(SYN | ACK, x, PEER_ISN + 1, 0)]);
    assert_eq!(h.state(c), State::SynReceived);
    // The peer's SYN-ACK (crossing ours) completes it.
    h.inject(Seg::new(SYN | ACK, PEER_ISN, x + 1));
    assert_eq!(h.state(c), State::Established);
    assert_eq!(h.keys(), vec![(ACK, x + 1, PEER_ISN + 1, 0)]);
}

#[test]
fn simultaneous_open_also_completes_on_a_plain_ack() {
    let (mut h, c) = H::syn_sent(plain_config());
    let x = h.iss;
    h.inject(Seg::new(SYN, PEER_ISN, 0));
    h.output();
    h.inject(Seg::new(ACK, PEER_ISN + 1, x + 1));
    assert_eq!(h.state(c), State::Established);
}

#[test]
fn syn_is_retransmitted_with_doubling_waits_then_connect_times_out() {
    let (mut h, c) = H::syn_sent(plain_config());
    let sent = h.advance_collect(Duration::from_secs(200));
    let times: Vec<u64> = sent.iter().map(|(t, _)| t.as_millis() / 1000).collect();
    assert_eq!(times, [1, 3, 7, 15, 31, 63], "tcp_syn_retries = 6");
    assert!(sent.iter().all(|(_, s)| s.flags == SYN && s.seq == h.iss));
    assert_eq!(h.state(c), State::Closed);
    assert!(h.events().contains(&Event::Error(c, ConnError::TimedOut)));
    assert_eq!(h.ep.counters().failed_connects, 1);
}

#[test]
fn a_timer_setting_changed_at_run_time_applies_to_the_next_connection() {
    let mut h = H::new(plain_config());
    // The endpoint keeps the config's times in microseconds: a change through `config_mut`
    // must reach them, not only the `Config`.
    h.ep.config_mut().rto_initial = Duration::from_millis(300);
    assert_eq!(h.ep.config().rto_initial, Duration::from_millis(300));
    h.ep.connect(h.now, Some(h.local), h.remote).expect("connect");
    assert_eq!(h.keys().len(), 1, "the SYN");
    let sent = h.advance_collect(Duration::from_millis(2500));
    let times: Vec<u64> = sent.iter().map(|(t, _)| t.as_millis()).collect();
    assert_eq!(times, [300, 900, 2100], "waits of 300, 600 and 1200 ms");
}

#[test]
fn connect_checks_its_addresses_and_refuses_a_tuple_in_use() {
    let (mut h, _) = H::syn_sent(plain_config());
    h.events();
    let (population, sockets) = (h.ep.population(), h.ep.sockets());
    assert_eq!(h.ep.connect(h.now, Some(h.local), h.remote), Err(ConnectError::AddrInUse));
    assert_eq!(h.events(), [], "a refused connect records no transition");
    assert_eq!(h.ep.population(), population, "and keeps no connection");
    assert_eq!(h.ep.sockets(), sockets, "not even one that was built before the check");
    assert_eq!(h.ep.connect(h.now, None, "10.0.0.2:0".parse().unwrap()), Err(ConnectError::InvalidRemoteAddress));
    assert_eq!(h.ep.connect(h.now, None, "[fd00::2]:80".parse().unwrap()), Err(ConnectError::NoLocalAddress));
    assert_eq!(
        h.ep.connect(h.now, Some("10.5.5.5:1".parse().unwrap()), h.remote),
        Err(ConnectError::InvalidLocalAddress)
    );
}

#[test]
fn connect_without_a_port_picks_distinct_ephemeral_ports() {
    let mut h = H::new(plain_config());
    let a = h.ep.connect(h.now, None, h.remote).unwrap();
    let b = h.ep.connect(h.now, None, h.remote).unwrap();
    let (pa, pb) = (h.ep.local_addr(a).unwrap().port(), h.ep.local_addr(b).unwrap().port());
    assert_ne!(pa, pb);
    assert!((32768..=60999).contains(&pa) && (32768..=60999).contains(&pb));
}

#[test]
fn a_half_open_entry_and_the_connection_it_becomes_hold_their_tuple_against_connect() {
    // The endpoint counts which of its ports records hold, and `connect` looks in the table
    // only for a held port: every kind of record must count.
    let (mut h, l) = H::syn_received(plain_config());
    assert_eq!(h.ep.connect(h.now, Some(h.local), h.remote), Err(ConnectError::AddrInUse), "half-open");
    let iss = h.iss;
    h.inject(Seg::new(ACK, PEER_ISN + 1, iss + 1));
    let c = h.ep.accept(l).expect("accepted");
    assert_eq!(h.ep.connect(h.now, Some(h.local), h.remote), Err(ConnectError::AddrInUse), "established");
    h.ep.abort(h.now, c).unwrap();
    h.ep.connect(h.now, Some(h.local), h.remote).expect("the tuple is free once the connection is gone");
}

#[test]
fn a_local_port_is_free_for_connect_again_once_its_last_record_is_gone() {
    let mut h = H::new(plain_config());
    let other: std::net::SocketAddr = "10.0.0.3:5000".parse().unwrap();
    let a = h.ep.connect(h.now, Some(h.local), h.remote).unwrap();
    let b = h.ep.connect(h.now, Some(h.local), other).expect("same port, another peer");
    h.ep.abort(h.now, a).unwrap();
    assert_eq!(h.ep.connect(h.now, Some(h.local), other), Err(ConnectError::AddrInUse), "b still holds it");
    let a = h.ep.connect(h.now, Some(h.local), h.remote).expect("a's tuple is free");
    h.ep.abort(h.now, a).unwrap();
    h.ep.abort(h.now, b).unwrap();
    for peer in [h.remote, other] {
        let c = h.ep.connect(h.now, Some(h.local), peer).expect("both free");
        h.ep.abort(h.now, c).unwrap();
    }
}

#[test]
fn time_wait_releases_its_port_when_it_expires() {
    let (mut h, _) = H::time_wait(plain_config());
    h.advance(Duration::from_secs(121));
    assert_eq!(h.table_state(), None, "2MSL passed");
    h.ep.connect(h.now, Some(h.local), h.remote).expect("the tuple is free");
    assert_eq!(h.ep.connect(h.now, Some(h.local), h.remote), Err(ConnectError::AddrInUse));
}

#[test]
fn ephemeral_ports_run_out_per_peer_not_per_endpoint() {
    let config = plain_config().with(|c| c.ip_local_port_range = (40000, 40003));
    let mut h = H::new(config);
    let mut ports = vec![];
    for _ in 0..4 {
        let c = h.ep.connect(h.now, None, h.remote).unwrap();
        ports.push(h.ep.local_addr(c).unwrap().port());
    }
    ports.sort();
    assert_eq!(ports, [40000, 40001, 40002, 40003]);
    assert_eq!(h.ep.connect(h.now, None, h.remote), Err(ConnectError::AddrInUse), "every port to this peer is taken");
    let other: std::net::SocketAddr = "10.0.0.3:5000".parse().unwrap();
    let c = h.ep.connect(h.now, None, other).expect("the same ports make free tuples with another peer");
    assert!((40000..=40003).contains(&h.ep.local_addr(c).unwrap().port()));
}

#[test]
fn closing_in_syn_sent_deletes_the_connection_without_a_segment() {
    let (mut h, c) = H::syn_sent(plain_config());
    h.ep.close(h.now, c).unwrap();
    assert!(h.output().is_empty());
    assert_eq!(h.ep.state(c), None, "freed");
}
