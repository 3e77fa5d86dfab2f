//! ICMP errors about our segments (RFC 1122 §4.2.3.9, RFC 5927, RFC 1191 / RFC 8201).

mod common;

use common::*;
use std::net::SocketAddr;
use std::time::Duration;
use synack_engine::{ConnError, Event, State};
use synack_wire::emit_icmp_error;

impl H {
    /// A router (or the peer) reports an ICMP error about our segment from `local` to `remote`
    /// whose sequence number is `seq`.
    fn icmp(&mut self, icmp_type: u8, code: u8, rest: [u8; 4], seq: u32) {
        let quoted = self.packet(&Seg::new(ACK, seq, 0), self.local, self.remote);
        let router = self.remote.ip();
        let mut buf = [0u8; 1500];
        let n = emit_icmp_error(router, self.local.ip(), icmp_type, code, rest, &quoted, &mut buf).unwrap();
        self.ep.handle_packet(self.now, &buf[..n]);
    }
}

/// Port unreachable in SYN-SENT: a hard error that ends the connect with ECONNREFUSED, but
/// only when it quotes the SYN (RFC 5927 §4.1: a blind attacker must guess the ISN).
#[test]
fn a_hard_error_quoting_our_syn_ends_the_connect() {
    let (mut h, c) = H::syn_sent(plain_config());
    for wrong in [h.iss.wrapping_sub(1), h.iss + 1, h.iss ^ 0x8000_0000] {
        h.icmp(3, 3, [0; 4], wrong);
        assert_eq!(h.state(c), State::SynSent, "seq {wrong} is not the SYN's");
    }
    assert_eq!(h.ep.counters().dropped_icmp, 3);
    h.icmp(3, 3, [0; 4], h.iss);
    assert_eq!(h.state(c), State::Closed);
    assert_eq!(h.ep.conn_error(c), Some(ConnError::Refused));
    assert!(h.events().contains(&Event::Error(c, ConnError::Refused)));
    assert_eq!(h.ep.counters().icmp_errors_in, 1);
}

/// TTL exceeded in transit is hard too (EHOSTUNREACH); with `icmp_may_rst` off every error is
/// soft, and a soft error is what the connect reports when it finally times out.
#[test]
fn soft_errors_are_reported_when_the_connect_times_out() {
    let (mut h, c) = H::syn_sent(plain_config());
    h.icmp(11, 0, [0; 4], h.iss);
    assert_eq!(h.ep.conn_error(c), Some(ConnError::HostUnreachable));

    let (mut h, c) = H::syn_sent(plain_config().with(|c| {
        c.icmp_may_rst = false;
        c.tcp_syn_retries = 1;
    }));
    h.icmp(3, 3, [0; 4], h.iss);
    h.icmp(3, 0, [0; 4], h.iss); // net unreachable: soft in any case
    assert_eq!(h.state(c), State::SynSent);
    assert_eq!(h.ep.conn_error(c), None, "nothing to report yet");
    h.advance(Duration::from_secs(10));
    assert_eq!(h.state(c), State::Closed);
    assert_eq!(h.ep.conn_error(c), Some(ConnError::NetUnreachable), "the last soft error, not ETIMEDOUT");
}

/// Established: errors are soft (RFC 1122 §4.2.3.9); the connection goes on.
#[test]
fn an_established_connection_survives_hard_errors() {
    let (mut h, c) = H::established(plain_config());
    h.ep.send(h.now, c, b"data").unwrap();
    h.output();
    h.icmp(3, 3, [0; 4], h.iss + 1);
    assert_eq!(h.state(c), State::Established);
    assert_eq!(h.ep.conn_error(c), None);
}

/// RFC 8201: a Packet Too Big lowers the segment size to the path's MTU (never below 1280),
/// and an IPv6 SYN sent again announces the smaller MSS.
#[test]
fn packet_too_big_lowers_the_mss_of_an_ipv6_syn() {
    let local: SocketAddr = "[fd00::1]:80".parse().unwrap();
    let remote: SocketAddr = "[fd00::2]:5000".parse().unwrap();
    let mut h = H::with_addrs(plain_config(), local, remote);
    let c = h.ep.connect(h.now, Some(local), remote).unwrap();
    let syn = h.output().remove(0);
    h.iss = syn.seq;
    assert_eq!(syn.opts.mss, Some(1440));
    h.icmp(2, 0, 1300u32.to_be_bytes(), h.iss);
    h.advance(Duration::from_millis(1100));
    let again = h.output();
    assert_eq!(again.last().unwrap().opts.mss, Some(1240));
    h.icmp(2, 0, 500u32.to_be_bytes(), h.iss);
    h.advance(Duration::from_millis(2100));
    assert_eq!(h.output().last().unwrap().opts.mss, Some(1220), "not below IPv6's 1280-byte minimum MTU");
    assert_eq!(h.state(c), State::SynSent);
}

/// Ping: an echo request to our address is answered (both families), one to another address
/// is not, and no more than `icmp_msgs_per_sec` replies go out in a second.
#[test]
fn echo_requests_are_answered_within_the_rate_limit() {
    for (local, remote) in [("10.0.0.1:80", "10.0.0.2:5000"), ("[fd00::1]:80", "[fd00::2]:5000")] {
        let (local, remote): (SocketAddr, SocketAddr) = (local.parse().unwrap(), remote.parse().unwrap());
        let mut h = H::with_addrs(plain_config().with(|c| c.icmp_msgs_per_sec = 2), local, remote);
        let request_type = if local.is_ipv4() { 8 } else { 128 };
        let ping = |to: std::net::IpAddr, seq: u8| {
            let mut buf = [0u8; 200];
            let n = emit_icmp_error(remote.ip(), to, request_type, 0, [0, 1, 0, seq], b"abcdefgh", &mut buf).unwrap();
            buf[..n].to_vec()
        };
        let mut out = [0u8; 1500];
        h.ep.handle_packet(h.now, &ping(local.ip(), 1));
        let t = h.ep.poll_transmit(h.now, &mut out).expect("the echo reply");
        assert_eq!((t.src, t.dst), (local.ip(), remote.ip()));
        let elsewhere = if local.is_ipv4() { "10.0.0.9".parse().unwrap() } else { "fd00::9".parse().unwrap() };
        h.ep.handle_packet(h.now, &ping(elsewhere, 2));
        assert!(h.ep.poll_transmit(h.now, &mut out).is_none(), "not our address");
        h.ep.handle_packet(h.now, &ping(local.ip(), 3));
        h.ep.handle_packet(h.now, &ping(local.ip(), 4));
        assert!(h.ep.poll_transmit(h.now, &mut out).is_some());
        assert!(h.ep.poll_transmit(h.now, &mut out).is_none(), "the third in a second is over the limit");
        assert_eq!(h.ep.counters().icmp_echo_replies, 2);
        h.advance(Duration::from_secs(1));
        h.ep.handle_packet(h.now, &ping(local.ip(), 5));
        assert!(h.ep.poll_transmit(h.now, &mut out).is_some(), "a new second");
    }
}
