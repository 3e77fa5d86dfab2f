//! The wire contract: no byte string makes a parser panic, `parse(emit(x)) == x`, and malformed
//! input is an error.

use proptest::prelude::*;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use synack_wire::*;

fn arb_options() -> impl Strategy<Value = TcpOptions> {
    (
        proptest::option::of(any::<u16>()),
        proptest::option::of(0u8..=14),
        any::<bool>(),
        proptest::option::of((any::<u32>(), any::<u32>())),
        proptest::collection::vec((any::<u32>(), any::<u32>()), 0..=3),
        any::<bool>(),
    )
        .prop_map(|(mss, window_scale, sack_permitted, timestamps, blocks, md5)| {
            let mut sack = SackBlocks::new();
            for (l, r) in blocks {
                sack.push(SeqNum(l), SeqNum(r));
            }
            TcpOptions { mss, window_scale, sack_permitted, sack, timestamps, md5, layout: Default::default() }
        })
        // Everything must fit the 40 option bytes (SACK blocks that do not are left out).
        .prop_filter("options fit in 40 bytes", |o| {
            let sack = if o.sack.is_empty() { 0 } else { 4 + 8 * o.sack.len() };
            let sack_ok_and_ts = match (o.sack_permitted, o.timestamps.is_some()) {
                (_, true) => 12,
                (true, false) => 4,
                (false, false) => 0,
            };
            let untruncated = 20 * o.md5 as usize
                + 4 * o.mss.is_some() as usize
                + sack_ok_and_ts
                + 4 * o.window_scale.is_some() as usize
                + sack;
            untruncated <= 40
        })
}

fn arb_ip(v6: bool) -> impl Strategy<Value = (IpAddr, IpAddr)> {
    (any::<[u8; 16]>(), any::<[u8; 16]>()).prop_map(move |(a, b)| {
        if v6 {
            (IpAddr::V6(Ipv6Addr::from(a)), IpAddr::V6(Ipv6Addr::from(b)))
        } else {
            let v4 = |x: [u8; 16]| IpAddr::V4(Ipv4Addr::new(x[0], x[1], x[2], x[3]));
            (v4(a), v4(b))
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 5000, ..ProptestConfig::default() })]

    #[test]
    fn no_byte_string_makes_any_parser_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = parse_segment(&bytes);
        let _ = TcpOptions::parse(&bytes);
        if let Ok(p) = Ipv4Packet::new_checked(&bytes[..]) {
            let _ = (p.payload(), Ipv4Repr::parse(&p), p.src_addr(), p.verify_checksum());
        }
        if let Ok(p) = Ipv6Packet::new_checked(&bytes[..]) {
            let _ = (p.payload(), Ipv6Repr::parse(&p));
        }
        if let Ok(p) = TcpPacket::new_checked(&bytes[..]) {
            let _ = (p.payload(), p.options(), TcpRepr::parse(&p));
        }
        let _ = tcpdump::Formatter::new(false).format(&bytes);
        let _ = check_tcp_md5(&bytes, b"key");
        let _ = sign_tcp_md5(&mut bytes.clone(), b"key");
        let _ = decapsulate_udp(&bytes, 9811);
        let mut room = bytes.clone();
        room.resize(bytes.len() + UDP_HEADER_LEN, 0);
        let _ = encapsulate_in_udp(&mut room, bytes.len(), 9811, 1);
    }

    #[test]
    fn mutated_valid_packets_never_panic(flip in any::<(usize, u8)>(), v6 in any::<bool>()) {
        let ip = IpHeader {
            src: if v6 { "fd00::1".parse().unwrap() } else { "10.0.0.1".parse().unwrap() },
            dst: if v6 { "fd00::2".parse().unwrap() } else { "10.0.0.2".parse().unwrap() },
            ttl: 64,
            ecn: Ecn::Ect0,
        };
        let tcp = TcpRepr {
            src_port: 1, dst_port: 2, seq: SeqNum(3), ack: SeqNum(4), flags: TcpFlags::ACK, window: 5, urgent: 0,
            options: TcpOptions { timestamps: Some((1, 2)), ..Default::default() }, payload: b"data",
        };
        let mut buf = vec![0u8; 256];
        let n = emit_segment(&ip, &tcp, 7, &mut buf).unwrap();
        buf.truncate(n);
        let at = flip.0 % n;
        buf[at] ^= flip.1.max(1);
        // A changed byte is caught by a checksum or a length check, except in the IPv6 fields
        // no checksum covers (traffic class, flow label, hop limit), where the parse still holds.
        let uncovered_v6 = v6 && (at == 7 || (1..4).contains(&at) || (at == 0 && buf[0] >> 4 == 6));
        if let Ok(seg) = parse_segment(&buf) {
            prop_assert!(uncovered_v6, "byte {} changed and still parsed: {:?}", at, seg);
        }
        let _ = check_tcp_md5(&buf, b"key");
        let _ = tcpdump::Formatter::new(false).format(&buf);
    }

    #[test]
    fn parse_of_emit_is_the_identity(
        v6 in any::<bool>(),
        addrs in any::<bool>().prop_flat_map(arb_ip),
        ports in any::<(u16, u16)>(),
        seq in any::<u32>(), ack in any::<u32>(), flags in any::<u8>(), window in any::<u16>(), urgent in any::<u16>(),
        options in arb_options(),
        payload in proptest::collection::vec(any::<u8>(), 0..300),
        ttl in any::<u8>(),
        ecn in 0u8..4,
    ) {
        let _ = v6;
        let ip = IpHeader { src: addrs.0, dst: addrs.1, ttl, ecn: Ecn::from_bits(ecn) };
        let tcp = TcpRepr {
            src_port: ports.0, dst_port: ports.1, seq: SeqNum(seq), ack: SeqNum(ack), flags: TcpFlags::from_bits_retain(flags),
            window, urgent, options, payload: &payload,
        };
        let mut buf = vec![0u8; 1024];
        let n = emit_segment(&ip, &tcp, 1, &mut buf).unwrap();
        prop_assert_eq!(n, segment_len(&ip, &tcp, payload.len()));
        let parsed = parse_segment(&buf[..n]).unwrap();
        prop_assert_eq!(parsed.ip, ip);
        prop_assert_eq!(parsed.tcp, tcp);
    }

    /// A payload handed over in pieces (a ring buffer's two slices, of any lengths, odd ones
    /// included) makes the same packet as in one piece; a partial checksum, finished the way
    /// a device does (the sum over the segment with the partial value in place), is the full one.
    #[test]
    fn chunked_and_partially_checksummed_emission_match_the_plain_one(
        addrs in any::<bool>().prop_flat_map(arb_ip),
        seq in any::<u32>(), flags in any::<u8>(),
        options in arb_options(),
        payload in proptest::collection::vec(any::<u8>(), 0..300),
        cuts in any::<(usize, usize)>(),
    ) {
        let ip = IpHeader { src: addrs.0, dst: addrs.1, ttl: 64, ecn: Ecn::NotEct };
        let tcp = TcpRepr {
            src_port: 7788, dst_port: 3337, seq: SeqNum(seq), ack: SeqNum(1), flags: TcpFlags::from_bits_retain(flags),
            window: 512, urgent: 0, options, payload: &payload,
        };
        let mut plain = vec![0u8; 1024];
        let n = emit_segment(&ip, &tcp, 1, &mut plain).unwrap();
        let (a, b) = (cuts.0 % (payload.len() + 1), cuts.1 % (payload.len() + 1));
        let (first, last) = (a.min(b), a.max(b));
        let chunks = [&payload[..first], &payload[first..last], &payload[last..]];
        let mut chunked = vec![0u8; 1024];
        prop_assert_eq!(emit_segment_chunks(&ip, &tcp, &chunks, 1, &mut chunked), Ok(n));
        prop_assert_eq!(&chunked[..n], &plain[..n]);
        let mut partial = vec![0u8; 1024];
        prop_assert_eq!(emit_segment_chunks_with(&ip, &tcp, &chunks, 1, &mut partial, false), Ok(n));
        let tcp_start = n - tcp.buffer_len();
        let finished = internet_checksum(0, &partial[tcp_start..n]);
        partial[tcp_start + 16..tcp_start + 18].copy_from_slice(&finished.to_be_bytes());
        prop_assert_eq!(&partial[..n], &plain[..n]);
    }
}

fn valid_v4() -> Vec<u8> {
    let ip = IpHeader { src: "10.0.0.1".parse().unwrap(), dst: "10.0.0.2".parse().unwrap(), ttl: 64, ecn: Ecn::NotEct };
    let tcp = TcpRepr {
        src_port: 1,
        dst_port: 2,
        seq: SeqNum(3),
        ack: SeqNum(4),
        flags: TcpFlags::SYN,
        window: 5,
        urgent: 0,
        options: TcpOptions { mss: Some(1460), ..Default::default() },
        payload: &[],
    };
    let mut buf = vec![0u8; 128];
    let n = emit_segment(&ip, &tcp, 1, &mut buf).unwrap();
    buf.truncate(n);
    buf
}

#[test]
fn truncated_packets_are_errors() {
    let p = valid_v4();
    for len in 0..p.len() {
        assert!(parse_segment(&p[..len]).is_err(), "length {len}");
    }
}

#[test]
fn an_ipv4_total_length_that_lies_is_an_error() {
    let mut p = valid_v4();
    p[2..4].copy_from_slice(&200u16.to_be_bytes());
    assert_eq!(parse_segment(&p).unwrap_err(), WireError::Truncated);
}

#[test]
fn a_tcp_data_offset_out_of_range_is_an_error() {
    for offset in [0u8, 4, 15] {
        let mut p = valid_v4();
        p[20 + 12] = offset << 4;
        assert!(parse_segment(&p).is_err(), "offset {offset}");
        assert!(TcpPacket::new_checked(&p[20..]).is_err() || offset == 15 && p.len() >= 80);
    }
}

#[test]
fn a_bad_tcp_checksum_is_reported_as_such() {
    let mut p = valid_v4();
    let last = p.len() - 1;
    p[last] ^= 1;
    assert_eq!(parse_segment(&p).unwrap_err(), WireError::BadChecksum);
}

#[test]
fn trailing_link_padding_after_the_ipv4_total_length_is_ignored() {
    let mut p = valid_v4();
    p.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    assert!(parse_segment(&p).is_ok());
}

#[test]
fn fragments_and_non_tcp_are_unsupported() {
    let mut p = valid_v4();
    p[6] = 0x20; // more fragments
    p[10..12].copy_from_slice(&[0, 0]);
    let sum = internet_checksum(0, &p[..20]);
    p[10..12].copy_from_slice(&sum.to_be_bytes());
    assert!(matches!(parse_segment(&p), Err(WireError::Unsupported(_))));
}

#[test]
fn set_ecn_rewrites_the_codepoint_and_keeps_the_packet_valid() {
    for (src, dst) in [("10.0.0.1", "10.0.0.2"), ("fd00::1", "fd00::2")] {
        let ip = IpHeader { src: src.parse().unwrap(), dst: dst.parse().unwrap(), ttl: 64, ecn: Ecn::Ect0 };
        let tcp = TcpRepr {
            src_port: 1,
            dst_port: 2,
            seq: SeqNum(3),
            ack: SeqNum(4),
            flags: TcpFlags::ACK,
            window: 5,
            urgent: 0,
            options: TcpOptions::default(),
            payload: b"data",
        };
        let mut buf = vec![0u8; 256];
        let n = emit_segment(&ip, &tcp, 7, &mut buf).unwrap();
        buf.truncate(n);
        assert!(set_ecn(&mut buf, Ecn::Ce));
        let parsed = parse_segment(&buf).expect("checksums still valid");
        assert_eq!(parsed.ip, IpHeader { ecn: Ecn::Ce, ..ip });
        assert_eq!(parsed.tcp, tcp);
    }
    assert!(!set_ecn(&mut [0x45, 0, 0], Ecn::Ce), "too short");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 5000, ..ProptestConfig::default() })]

    /// The IPv4 emitter writes the same bytes as the general one and fails where it fails:
    /// any options (too many for the header included, either layout), a payload in two parts
    /// of any lengths, full and partial checksums, buffers of any size.
    #[test]
    fn the_ipv4_emitter_matches_the_general_one(
        addrs in arb_ip(false),
        (seq, ack, flags, window) in any::<(u32, u32, u8, u16)>(),
        (ttl, ecn, ident, full_checksum) in (any::<u8>(), 0u8..4, any::<u16>(), any::<bool>()),
        (mss, window_scale, sack_permitted, timestamps) in (
            proptest::option::of(any::<u16>()),
            proptest::option::of(0u8..=14),
            any::<bool>(),
            proptest::option::of((any::<u32>(), any::<u32>())),
        ),
        blocks in proptest::collection::vec((any::<u32>(), any::<u32>()), 0..=4),
        bsd in any::<bool>(),
        dscp in any::<u8>(),
        payload in proptest::collection::vec(any::<u8>(), 0..200),
        cut in any::<usize>(),
        buf_len in 0usize..300,
    ) {
        let (IpAddr::V4(src), IpAddr::V4(dst)) = addrs else { unreachable!() };
        let mut sack = SackBlocks::new();
        for (l, r) in blocks {
            sack.push(SeqNum(l), SeqNum(r));
        }
        let layout = if bsd { OptionLayout::Bsd } else { OptionLayout::Linux };
        let options = TcpOptions { mss, window_scale, sack_permitted, sack, timestamps, md5: false, layout };
        let tcp = TcpRepr {
            src_port: 7788, dst_port: 3337, seq: SeqNum(seq), ack: SeqNum(ack), flags: TcpFlags::from_bits_retain(flags),
            window, urgent: 0, options, payload: &[],
        };
        let ecn = Ecn::from_bits(ecn);
        let cut = cut % (payload.len() + 1);
        let parts = [&payload[..cut], &payload[cut..]];
        let mut general = vec![0u8; buf_len];
        let between = EmitIp { src: &addrs.0, dst: &addrs.1, ttl, dscp, ecn, ident, full_checksum };
        let expected = emit_segment_between(between, &tcp, &parts, &mut general);
        let mut plain = vec![0u8; buf_len];
        let ip = EmitIpv4 { src, dst, ttl, dscp, ecn, ident, full_checksum };
        let got = emit_plain_ipv4(ip, &tcp, &parts, &mut plain);
        prop_assert_eq!(got, expected);
        if let Ok(n) = got {
            prop_assert_eq!(&plain[..n], &general[..n]);
        }
    }
}

/// The DSCP bits go where IP_TOS and IPV6_TCLASS put them, beside the ECN field, and read back
/// as written; ECN bits given as DSCP are not written (the ECN field is TCP's).
#[test]
fn dscp_and_ecn_share_the_tos_byte_and_the_traffic_class() {
    let v4 = Ipv4Repr {
        src: Ipv4Addr::new(10, 0, 0, 1),
        dst: Ipv4Addr::new(10, 0, 0, 2),
        protocol: 6,
        payload_len: 0,
        ttl: 4,
        dscp: 0xb8 | 0b11,
        ecn: Ecn::Ect0,
    };
    let mut buf = [0u8; 20];
    v4.emit(&mut buf, 0).unwrap();
    assert_eq!(buf[1], 0xb8 | Ecn::Ect0.bits());
    let parsed = Ipv4Repr::parse(&Ipv4Packet::new_unchecked(&buf[..])).unwrap();
    assert_eq!((parsed.dscp, parsed.ecn, parsed.ttl), (0xb8, Ecn::Ect0, 4));

    let v6 = Ipv6Repr {
        src: "fd00::1".parse().unwrap(),
        dst: "fd00::2".parse().unwrap(),
        next_header: 6,
        payload_len: 0,
        hop_limit: 4,
        dscp: 0xe0,
        ecn: Ecn::Ect1,
    };
    let mut buf = [0u8; 40];
    v6.emit(&mut buf).unwrap();
    let packet = Ipv6Packet::new_unchecked(&buf[..]);
    assert_eq!((buf[0] >> 4, packet.traffic_class()), (6, 0xe0 | Ecn::Ect1.bits()));
    let parsed = Ipv6Repr::parse(&packet).unwrap();
    assert_eq!((parsed.dscp, parsed.ecn), (0xe0, Ecn::Ect1));
}
