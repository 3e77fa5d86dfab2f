//! A socket's own TTL (hop limit) and TOS (traffic class): IP_TTL, IPV6_UNICAST_HOPS, IP_TOS
//! and IPV6_TCLASS. Every segment sent on the socket's behalf carries them: data, ACKs, RSTs,
//! SYN-ACKs of its half-open entries, ACKs of its TIME-WAIT record, and the RST of a socket
//! that is bound and not yet listening.

mod common;
use common::*;
use std::time::Duration;
use synack_engine::{Config, EcnMode, IpFields, ListenError, State};
use synack_wire::Ecn;

const DEFAULT: IpFields = IpFields { ttl: 64, tos: 0 };
const TTL4_CS1: IpFields = IpFields { ttl: 4, tos: 0x20 };
const TTL6_CS7: IpFields = IpFields { ttl: 6, tos: 0xe0 };

fn config() -> Config {
    Config::default().with(|c| c.rng_seed = 7)
}

/// The passive side on both families, as FreeBSD's setsockopt scripts run it: a SYN to the
/// bound socket is answered with RST from its fields, the listener's SYN-ACK and the accepted
/// connection carry them, a change on the connection reaches its data, FIN and TIME-WAIT ACK.
#[test]
fn a_bound_socket_its_listener_and_their_connection_send_with_the_sockets_fields() {
    for (local, remote) in [("10.0.0.1:80", "10.0.0.2:5000"), ("[fd00::1]:80", "[fd00::2]:5000")] {
        let mut h = H::with_addrs(config(), local.parse().unwrap(), remote.parse().unwrap());
        let b = h.ep.bind(h.local).unwrap();
        h.ep.set_listener_ip(b, TTL4_CS1).unwrap();
        h.inject(Seg::new(SYN, PEER_ISN, 0).opts(mss(1460)));
        let out = h.output_with_ip();
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!((out[0].0.key(), out[0].1), ((RST | ACK, 0, PEER_ISN + 1, 0), TTL4_CS1), "CLOSED's RST");
        assert!(h.ep.sockets().is_empty(), "a bound socket is not listed as listening");

        h.ep.listen_bound(b, 8).unwrap();
        h.inject(Seg::new(SYN, PEER_ISN, 0).opts(mss(1460)));
        let out = h.output_with_ip();
        assert_eq!((out[0].0.flags, out[0].1), (SYN | ACK, TTL4_CS1));
        h.inject(Seg::new(ACK, PEER_ISN + 1, h.iss + 1));
        let c = h.ep.accept(b).expect("accepted");
        assert_eq!(h.ep.ip_fields(c), Some(TTL4_CS1), "inherited");

        h.ep.send(h.now, c, b"one").unwrap();
        assert_eq!(h.output_with_ip()[0].1, TTL4_CS1);
        h.inject(Seg::new(ACK, PEER_ISN + 1, h.iss + 4));
        h.ep.conn_mut(h.now, c).unwrap().set_ip_fields(TTL6_CS7);
        h.ep.send(h.now, c, b"two").unwrap();
        assert_eq!(h.output_with_ip()[0].1, TTL6_CS7);
        h.inject(Seg::new(ACK, PEER_ISN + 1, h.iss + 7));
        h.ep.close(h.now, c).unwrap();
        let out = h.output_with_ip();
        assert_eq!((out[0].0.flags, out[0].1), (FIN | ACK, TTL6_CS7));
        h.inject(Seg::new(FIN | ACK, PEER_ISN + 1, h.iss + 8));
        assert_eq!(h.table_state(), Some(State::TimeWait));
        let out = h.output_with_ip();
        assert_eq!((out[0].0.key(), out[0].1), ((ACK, h.iss + 8, PEER_ISN + 2, 0), TTL6_CS7));
        // A retransmitted FIN: the TIME-WAIT record answers with the connection's fields.
        h.inject(Seg::new(FIN | ACK, PEER_ISN + 1, h.iss + 8));
        assert_eq!(h.output_with_ip()[0].1, TTL6_CS7, "TIME-WAIT's ACK");
    }
}

/// The active side: fields set before the SYN goes are on it, on the RST for an unacceptable
/// SYN-ACK, on the challenge ACK, and, with ECN, the DSCP bits sit beside ECT(0).
#[test]
fn a_connections_fields_reach_its_syn_rst_and_challenge_ack_and_leave_ecn_alone() {
    let mut h = H::new(config().with(|c| c.tcp_ecn = EcnMode::On));
    let c = h.ep.connect(h.now, Some(h.local), h.remote).unwrap();
    // IP_TOS with ECN bits set: TCP owns those (RFC 3168 §6.1), they are dropped.
    h.ep.conn_mut(h.now, c).unwrap().set_ip_fields(IpFields { ttl: 4, tos: 0x20 }.with_tos(0x23));
    assert_eq!(h.ep.ip_fields(c), Some(TTL4_CS1));
    let out = h.output_with_ip();
    assert_eq!((out[0].0.flags.syn(), out[0].1), (true, TTL4_CS1));
    // SYN-SENT, an ACK of something never sent: <SEQ=SEG.ACK><CTL=RST>.
    h.inject(Seg::new(SYN | ACK, PEER_ISN, h.iss + 5));
    let out = h.output_with_ip();
    assert_eq!((out[0].0.key(), out[0].1), ((RST, h.iss + 5, 0, 0), TTL4_CS1));
    // ECN-setup SYN-ACK: established.
    h.inject(Seg::new(SYN | ACK | synack_wire::TcpFlags::ECE, PEER_ISN, h.iss + 1).opts(mss(1460)));
    assert_eq!(h.state(c), State::Established);
    h.output();
    // A SYN in ESTABLISHED: the challenge ACK (RFC 5961 §4.2).
    h.advance(Duration::from_secs(1));
    h.inject(Seg::new(SYN, PEER_ISN + 50, 0));
    let out = h.output_with_ip();
    assert_eq!((out[0].0.key(), out[0].1), ((ACK, h.iss + 1, PEER_ISN + 1, 0), TTL4_CS1));
    h.ep.send(h.now, c, b"marked").unwrap();
    let out = h.output_with_ip();
    assert_eq!((out[0].0.ecn, out[0].1), (Ecn::Ect0, TTL4_CS1), "ECT(0) and CS1 in one byte");
}

/// A bound socket holds its address: a second bind or listen there fails until it is closed;
/// a port nobody holds answers from the defaults.
#[test]
fn a_bound_socket_holds_its_address_until_closed() {
    let mut h = H::new(config());
    let b = h.ep.bind(h.local).unwrap();
    assert_eq!(h.ep.bind(h.local), Err(ListenError::AddrInUse));
    assert_eq!(h.ep.listen(h.local, 8), Err(ListenError::AddrInUse));
    h.ep.close_listener(h.now, b).unwrap();
    assert_eq!(h.ep.listen_bound(b, 8), Err(ListenError::InvalidHandle));
    h.inject(Seg::new(SYN, PEER_ISN, 0));
    let out = h.output_with_ip();
    assert_eq!((out[0].0.flags, out[0].1), (RST | ACK, DEFAULT));
    let l = h.ep.listen(h.local, 8).unwrap();
    assert_eq!(h.ep.listener_ip_fields(l), Some(DEFAULT));
}
