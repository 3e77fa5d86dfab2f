//! Explicit Congestion Notification (RFC 3168 §6.1): the handshake in each mode, ECT(0) on
//! new data only, the receiver's echo until CWR, and the sender's one reduction per window.

mod common;
use common::*;
use synack_engine::{Config, ConnHandle, EcnMode};
use synack_wire::{Ecn, TcpFlags};

const ECE: TcpFlags = TcpFlags::ECE;
const CWR: TcpFlags = TcpFlags::CWR;

fn config(mode: EcnMode) -> Config {
    plain_config().with(|c| c.tcp_ecn = mode)
}

/// An active open in `mode`, answered by a SYN-ACK with `synack_flags` added.
fn active(mode: EcnMode, synack_flags: TcpFlags) -> (H, ConnHandle, TcpFlags) {
    let mut h = H::new(config(mode));
    let c = h.ep.connect(h.now, Some(h.local), h.remote).unwrap();
    let syn = h.output().remove(0);
    h.inject(Seg::new(SYN | ACK | synack_flags, PEER_ISN, h.iss + 1).opts(mss(1460)));
    h.output();
    (h, c, syn.flags)
}

/// A passive open in `mode` from a SYN with `syn_flags` added; returns the SYN-ACK's flags.
fn passive(mode: EcnMode, syn_flags: TcpFlags) -> (H, ConnHandle, TcpFlags) {
    let (mut h, l) = H::listening(config(mode));
    h.inject(Seg::new(SYN | syn_flags, PEER_ISN, 0).opts(mss(1460)));
    let synack = h.output().remove(0);
    h.inject(Seg::new(ACK, PEER_ISN + 1, h.iss + 1));
    let c = h.ep.accept(l).unwrap();
    h.ep.conn_mut(h.now, c).unwrap().set_nodelay(true);
    (h, c, synack.flags)
}

#[test]
fn a_syn_asks_for_ecn_only_when_it_is_on() {
    assert_eq!(active(EcnMode::On, ECE).2, SYN | ECE | CWR);
    assert_eq!(active(EcnMode::Passive, ECE).2, SYN);
    assert_eq!(active(EcnMode::Off, ECE).2, SYN);
}

#[test]
fn a_listener_agrees_to_ecn_with_ece_alone_unless_it_is_off() {
    assert_eq!(passive(EcnMode::Passive, ECE | CWR).2, SYN | ACK | ECE);
    assert_eq!(passive(EcnMode::On, ECE | CWR).2, SYN | ACK | ECE);
    assert_eq!(passive(EcnMode::Off, ECE | CWR).2, SYN | ACK);
    assert_eq!(passive(EcnMode::Passive, ECE).2, SYN | ACK, "ECE alone is not a request");
}

#[test]
fn new_data_goes_out_ect0_on_an_ecn_connection_and_not_otherwise() {
    let (mut h, c, _) = passive(EcnMode::Passive, ECE | CWR);
    h.ep.send(h.now, c, b"hello").unwrap();
    let data = h.output().remove(0);
    assert_eq!(data.ecn, Ecn::Ect0);
    // A retransmission is Not-ECT (RFC 3168 §6.1.5).
    h.advance(std::time::Duration::from_millis(1100));
    let again = h.output();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].ecn, Ecn::NotEct);

    let (mut h, c, _) = passive(EcnMode::Passive, TcpFlags::NONE);
    h.ep.send(h.now, c, b"hello").unwrap();
    assert_eq!(h.output().remove(0).ecn, Ecn::NotEct);
    let (mut h, c, _) = active(EcnMode::On, TcpFlags::NONE);
    h.ep.send(h.now, c, b"hello").unwrap();
    assert_eq!(h.output().remove(0).ecn, Ecn::NotEct, "the peer did not agree");
}

#[test]
fn congestion_experienced_is_echoed_on_every_ack_until_the_peers_cwr() {
    let (mut h, c, _) = active(EcnMode::On, ECE);
    let s = h.iss + 1;
    h.inject(Seg::new(ACK, PEER_ISN + 1, s).data(b"marked").ecn(Ecn::Ce));
    assert_eq!(h.keys(), vec![(ACK | ECE, s, PEER_ISN + 7, 0)], "at once, with ECE");
    h.inject(Seg::new(ACK, PEER_ISN + 7, s).data(b"plain").ecn(Ecn::Ect0));
    h.advance(std::time::Duration::from_millis(50));
    assert_eq!(h.output()[0].flags, ACK | ECE, "still echoing");
    h.inject(Seg::new(ACK | CWR, PEER_ISN + 12, s).data(b"cwr").ecn(Ecn::Ect0));
    h.advance(std::time::Duration::from_millis(50));
    assert_eq!(h.output()[0].flags, ACK, "CWR ends the echo");
    assert_eq!(h.ep.counters().ce_marked_in, 1);
    assert_eq!(h.read_all(c), b"markedplaincwr");
}

#[test]
fn an_echo_halves_the_window_once_per_window_and_the_next_new_data_says_cwr() {
    let (mut h, c, _) = passive(EcnMode::Passive, ECE | CWR);
    let s = h.iss + 1;
    h.ep.send(h.now, c, &[7u8; 1460 * 4]).unwrap();
    assert_eq!(h.output().len(), 4);
    let before = h.ep.conn_info(c).unwrap().cwnd;
    h.inject(Seg::new(ACK | ECE, PEER_ISN + 1, s + 1460));
    h.inject(Seg::new(ACK | ECE, PEER_ISN + 1, s + 2920));
    let info = h.ep.conn_info(c).unwrap();
    assert_eq!(info.ssthresh, 1460 * 2, "half the flight of four segments");
    assert!(info.cwnd < before);
    assert_eq!(h.ep.counters().ecn_reductions, 1, "the second echo is in the same window");
    assert_eq!(h.ep.counters().retransmitted_segments, 0, "nothing is resent");
    h.output();
    // The reduced window is full (two segments in flight); the rest is acknowledged first.
    h.inject(Seg::new(ACK, PEER_ISN + 1, s + 1460 * 4));
    h.ep.send(h.now, c, b"next").unwrap();
    let next = h.output().remove(0);
    assert!(next.flags.contains(CWR) && next.ecn == Ecn::Ect0, "{next:?}");
}
