//! ICMP errors about our segments (RFC 1122 §4.2.3.9, RFC 5927, RFC 1191 / RFC 8201).

mod common;

use common::*;
use std::net::SocketAddr;
use std::time::Duration;
use synack_engine::{ConnError, ConnHandle, Event, State};
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

/// RFC 1191: Fragmentation Needed on an established connection. What was in flight goes
/// again at once, cut to the new size (MTU 1000: 960-byte segments), from SND.UNA, and the
/// congestion window stays as it was (the loss was the path's size, not congestion).
#[test]
fn fragmentation_needed_resends_what_was_in_flight_at_the_smaller_size() {
    let (mut h, c) = H::established(plain_config());
    h.ep.send(h.now, c, &[7u8; 4000]).unwrap();
    let first: Vec<usize> = h.output().iter().map(|s| s.data.len()).collect();
    assert_eq!(first, vec![1460, 1460, 1080]);
    let cwnd = h.ep.conn_info(c).unwrap().cwnd;
    h.icmp(3, 4, [0, 0, 0x03, 0xe8], h.iss + 1);
    let again: Vec<(u32, usize)> = h.output().iter().map(|s| (s.seq - (h.iss + 1), s.data.len())).collect();
    assert_eq!(again, vec![(0, 960), (960, 960), (1920, 960), (2880, 960), (3840, 160)]);
    let info = h.ep.conn_info(c).unwrap();
    assert_eq!((info.snd_mss, info.cwnd), (960, cwnd));
    assert_eq!(h.ep.counters().pmtu_resends, 1);
    // The same report again (for the next big segment in flight) changes nothing more.
    h.icmp(3, 4, [0, 0, 0x03, 0xe8], h.iss + 1);
    assert!(h.output().is_empty());
}

/// IP_MTU_DISCOVER: with IP_PMTUDISC_DONT the packets go without DF and a Fragmentation
/// Needed changes nothing (the router may fragment them); IP_PMTUDISC_PROBE keeps DF and
/// ignores the report too; the default learns the path's MTU.
#[test]
fn path_mtu_discovery_modes_set_df_and_whether_reports_count() {
    use synack_engine::PmtuDiscovery;
    for (mode, df, learns) in
        [(PmtuDiscovery::Want, true, true), (PmtuDiscovery::Dont, false, false), (PmtuDiscovery::Probe, true, false)]
    {
        let (mut h, c) = H::established(plain_config());
        h.ep.conn_mut(h.now, c).unwrap().set_path_mtu_discovery(mode);
        assert_eq!(h.ep.path_mtu_discovery(c), Some(mode));
        h.ep.send(h.now, c, &[7u8; 100]).unwrap();
        let mut buf = [0u8; 1500];
        let t = h.ep.poll_transmit(h.now, &mut buf).unwrap();
        let packet = synack_wire::Ipv4Packet::new_checked(&buf[..t.len]).unwrap();
        assert_eq!(packet.dont_fragment(), df, "{mode:?}");
        assert!(packet.verify_checksum(), "{mode:?}: the header checksum mended");
        h.icmp(3, 4, [0, 0, 0x03, 0xe8], h.iss + 1);
        let mss = h.ep.conn_info(c).unwrap().snd_mss;
        assert_eq!(mss == 960, learns, "{mode:?}: MSS {mss}");
    }
}

/// Writes `total` bytes on `c` and carries its data segments over a path that silently drops any with more than
/// `max_payload` bytes (a black hole: no ICMP); the peer ACKs each arrival cumulatively and
/// keeps nothing out of order. Returns the data segments sent as (offset in the stream,
/// length), in order, once `total` bytes have arrived (or after 2,000 steps of 50 ms).
fn over_black_hole(h: &mut H, c: ConnHandle, total: usize, max_payload: usize) -> Vec<(u32, usize)> {
    let start = h.iss.wrapping_add(1);
    let mut rcv_nxt = start;
    let mut sizes = Vec::new();
    let mut written = 0;
    for _ in 0..2000 {
        if written < total {
            written += h.ep.send(h.now, c, &vec![7u8; total - written]).unwrap_or(0);
        }
        let out = h.output();
        for s in out.iter().filter(|s| !s.data.is_empty()) {
            sizes.push((s.seq.wrapping_sub(start), s.data.len()));
            if s.data.len() > max_payload {
                continue;
            }
            if s.seq == rcv_nxt {
                rcv_nxt = rcv_nxt.wrapping_add(s.data.len() as u32);
            }
            h.inject(Seg::new(ACK, PEER_ISN + 1, rcv_nxt));
        }
        if rcv_nxt.wrapping_sub(start) as usize == total {
            break;
        }
        if out.is_empty() {
            h.advance(Duration::from_millis(50));
        }
    }
    assert_eq!(rcv_nxt.wrapping_sub(start) as usize, total, "all data arrived; sizes sent {sizes:?}");
    sizes
}

/// RFC 4821 §7.7 with `tcp_mtu_probing` 1: over a path that drops segments above 1100 bytes
/// without a word, the first three timeouts resend at the peer's MSS; then the connection
/// suspects a black hole and falls to `tcp_base_mss` (1024), which gets through.
#[test]
fn a_black_hole_is_detected_after_tcp_retries1_timeouts() {
    let (mut h, c) = H::established(plain_config().with(|c| c.tcp_mtu_probing = 1));
    let sent = over_black_hole(&mut h, c, 6000, 1100);
    let first: Vec<usize> = sent.iter().filter(|&&(seq, _)| seq == 0).map(|&(_, len)| len).collect();
    assert_eq!(first[..4], [1460, 1460, 1460, 1024], "sent, resent twice, then cut at the third timeout");
    assert!(sent[sent.len() - first.len()..].iter().all(|&(_, len)| len <= 1024), "{sent:?}");
    assert_eq!(h.ep.conn_info(c).unwrap().snd_mss, 1024);
    assert_eq!(h.ep.counters().mtu_black_hole_steps, 1);
    // Without probing the connection times out at the peer's MSS forever.
    let (mut h, c) = H::established(plain_config().with(|c| c.tcp_retries2 = 5));
    h.ep.send(h.now, c, &[7u8; 3000]).unwrap();
    h.advance_collect(Duration::from_secs(60));
    assert_eq!(h.state(c), State::Closed);
}

/// RFC 4821 §7.5–7.6 with `tcp_mtu_probing` 2: the connection starts at 1024 and probes up
/// with single larger segments, halfway between what is known to pass and the peer's MSS.
/// On a clean path each probe is acknowledged and its size adopted, until the range is
/// narrower than 8 bytes; on a path that drops segments above 1300 bytes, the lost probes
/// lower the top of the range, and the size settles between 1300 - 8 and 1300.
#[test]
fn mtu_probes_search_up_to_what_the_path_carries() {
    // F-RTO off: this harness's receiver drops data that arrives out of order, so the new
    // data F-RTO sends after a timeout (RFC 5682 step 2b, which assumes a receiver that
    // queues it, RFC 9293 §3.10.7.4) would be lost each time and the search would crawl.
    let probing = plain_config().with(|c| {
        c.tcp_mtu_probing = 2;
        c.tcp_frto = 0;
    });
    let (mut h, c) = H::established(probing.clone());
    let sizes: Vec<usize> = over_black_hole(&mut h, c, 400_000, 1460).iter().map(|&(_, len)| len).collect();
    // Each probe is the largest segment so far.
    let mut probes = Vec::new();
    for &n in &sizes {
        if n > probes.last().copied().unwrap_or(0) {
            probes.push(n);
        }
    }
    assert_eq!(probes, [1242, 1351, 1406, 1433, 1447, 1454], "each halfway up from the last; sent {sizes:?}");
    assert_eq!(h.ep.conn_info(c).unwrap().snd_mss, 1454);
    assert_eq!(h.ep.counters().mtu_probes_acked, 6);
    assert_eq!(h.ep.counters().mtu_probes_lost, 0);

    let (mut h, c) = H::established(probing);
    over_black_hole(&mut h, c, 400_000, 1300);
    let mss = h.ep.conn_info(c).unwrap().snd_mss;
    assert!((1292..=1300).contains(&mss), "settled at {mss}");
    assert!(h.ep.counters().mtu_probes_lost >= 1);
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

/// A UDP datagram to our address: counted and dropped by default; kept whole for the
/// application once it asks (`keep_other_packets`, as a tun2socks-style user does), up to
/// 256 waiting, the rest dropped and counted.
#[test]
fn other_protocols_are_kept_for_the_application_when_asked() {
    use synack_wire::{Ecn, Ipv4Repr};
    let mut h = H::new(plain_config());
    let udp = |n: u8| {
        let payload = [0, 53, 0, 53, 0, 9, 0, 0, n];
        let (std::net::IpAddr::V4(src), std::net::IpAddr::V4(dst)) = (h.remote.ip(), h.local.ip()) else { panic!() };
        let ip = Ipv4Repr { src, dst, protocol: 17, payload_len: payload.len(), ttl: 64, dscp: 0, ecn: Ecn::NotEct };
        let mut packet = vec![0u8; 20 + payload.len()];
        ip.emit(&mut packet, 1).unwrap();
        packet[20..].copy_from_slice(&payload);
        packet
    };
    let first = udp(0);
    h.ep.handle_packet(h.now, &first);
    assert_eq!(h.ep.counters().dropped_unsupported, 1);
    assert_eq!(h.ep.poll_other_packet(), None);
    h.ep.keep_other_packets(true);
    for n in 0..=255u8 {
        h.ep.handle_packet(h.now, &udp(n));
    }
    h.ep.handle_packet(h.now, &first);
    assert_eq!(h.ep.counters().other_packets_kept, 256);
    assert_eq!(h.ep.counters().dropped_unsupported, 2, "the 257th waiting is dropped");
    assert_eq!(h.ep.poll_other_packet().as_deref(), Some(&first[..]), "as it arrived, oldest first");
    assert_eq!(std::iter::from_fn(|| h.ep.poll_other_packet()).count(), 255);
    assert!(h.output().is_empty(), "nothing is answered");
}
