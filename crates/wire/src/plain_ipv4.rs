//! The packet nearly every connection receives and sends — IPv4 without options, not a
//! fragment, carrying TCP with the usual options — parsed in one pass, in line: the IPv4
//! header's words are loaded once for its checksum, its fields and the TCP pseudo-header, and
//! the checksums are summed here rather than in calls. Any other packet, and any this path
//! would reject, is left to the general parse, which says what is wrong with it. Its mirror,
//! `emit_plain_ipv4`, writes such a packet as `emit_segment_between` does, with less work.

use crate::checksum::{fold, sum_fixed, sum_native};
use crate::ip::{write_fixed_header, Sums, MAX_OPTIONS_LEN};
use crate::{emit_segment_between, EmitIp};
use crate::{Ecn, IpHeader, Ipv4Repr, Segment, SeqNum, TcpFlags, TcpOptions, TcpRepr, WireError};
use crate::{IPV4_HEADER_LEN, IP_PROTOCOL_TCP, TCP_HEADER_LEN};
use std::net::{IpAddr, Ipv4Addr};

/// What `parse_plain_ipv4` answers for every packet it leaves to the general parse.
const NOT_PLAIN: WireError = WireError::Unsupported("not a plain IPv4 packet");

/// Version 4, header length 5 words (RFC 791 §3.1).
const VERSION_4_IHL_5: u8 = 0x45;
/// The More Fragments bit and the fragment offset (RFC 791 §3.1).
const FRAGMENT_BITS: u16 = 0x3fff;

/// A segment that came in a plain IPv4 packet. The addresses are `Ipv4Addr`s, not `IpAddr`s:
/// a caller copies them as the 4 bytes they are (a copy of an `IpAddr` just stored by its
/// 4-byte payload loads 8-byte words across that store, and such a load waits for the store
/// to reach the cache).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Segment<'a> {
    /// Source address.
    pub src: Ipv4Addr,
    /// Destination address.
    pub dst: Ipv4Addr,
    /// Time to live.
    pub ttl: u8,
    /// The ECN codepoint.
    pub ecn: Ecn,
    /// The TCP segment.
    pub tcp: TcpRepr<'a>,
}

impl<'a> From<Ipv4Segment<'a>> for Segment<'a> {
    fn from(seg: Ipv4Segment<'a>) -> Segment<'a> {
        let ip = IpHeader { src: IpAddr::V4(seg.src), dst: IpAddr::V4(seg.dst), ttl: seg.ttl, ecn: seg.ecn };
        Segment { ip, tcp: seg.tcp }
    }
}

/// The segment when `bytes` is a well-formed plain IPv4/TCP packet whose checksums (the TCP
/// one only when `verify_tcp_checksum`) are right and whose options are of the usual layouts.
/// An `Err` says only that it is not such a packet: `parse_segment_with` parses every packet
/// and says what is wrong with one.
#[inline(always)]
pub fn parse_plain_ipv4(bytes: &[u8], verify_tcp_checksum: bool) -> Result<Ipv4Segment<'_>, WireError> {
    let Some(header) = bytes.first_chunk::<IPV4_HEADER_LEN>() else { return Err(NOT_PLAIN) };
    let word = |i: usize| u32::from_ne_bytes([header[4 * i], header[4 * i + 1], header[4 * i + 2], header[4 * i + 3]]);
    let total = u16::from_be_bytes([header[2], header[3]]) as usize;
    let fragment = u16::from_be_bytes([header[6], header[7]]) & FRAGMENT_BITS;
    if header[0] != VERSION_4_IHL_5 || header[9] != IP_PROTOCOL_TCP || fragment != 0 {
        return Err(NOT_PLAIN);
    }
    if total > bytes.len() || total < IPV4_HEADER_LEN + TCP_HEADER_LEN {
        return Err(NOT_PLAIN);
    }
    // RFC 1071: a header with a right checksum sums to all ones. The words are added in the
    // machine's order; all ones reads the same in either.
    let (src, dst) = (word(3), word(4));
    let ip_sum = word(0) as u64 + word(1) as u64 + word(2) as u64 + src as u64 + dst as u64;
    if fold(ip_sum) != 0xffff {
        return Err(NOT_PLAIN);
    }
    let tcp = &bytes[IPV4_HEADER_LEN..total];
    let Some(fixed) = tcp.first_chunk::<TCP_HEADER_LEN>() else { return Err(NOT_PLAIN) };
    let header_len = (fixed[12] >> 4) as usize * 4;
    if header_len < TCP_HEADER_LEN || header_len > tcp.len() {
        return Err(NOT_PLAIN);
    }
    if verify_tcp_checksum {
        // RFC 9293 §3.1: the pseudo-header is source, destination, zero, protocol and TCP
        // length, here in the machine's order as the addresses are.
        let len = tcp.len() as u16;
        let rest = u32::from_ne_bytes([0, IP_PROTOCOL_TCP, (len >> 8) as u8, len as u8]);
        let pseudo = src as u64 + dst as u64 + rest as u64;
        // The fixed header and the usual option lengths summed in full, the payload in a loop
        // when there is one; all in the machine's order, as the pseudo-header.
        let options = &tcp[TCP_HEADER_LEN..header_len];
        let options_sum = if let Ok(timestamps) = <&[u8; 12]>::try_from(options) {
            sum_fixed(timestamps)
        } else if let Ok(syn) = <&[u8; 20]>::try_from(options) {
            sum_fixed(syn)
        } else {
            sum_native(options)
        };
        let payload = &tcp[header_len..];
        let payload_sum = if payload.is_empty() { 0 } else { sum_native(payload) };
        if fold(pseudo + sum_fixed(fixed) + options_sum + payload_sum) != 0xffff {
            return Err(NOT_PLAIN);
        }
    }
    // The options after the checksum, so that they are built where the segment keeps them
    // (before it, they were held across the sum and copied); a packet with others (SACK
    // blocks, another stack's SYN layout) is summed again by the general parse.
    let Some(options) = TcpOptions::parse_common(&tcp[TCP_HEADER_LEN..header_len]) else { return Err(NOT_PLAIN) };
    let ports = u32::from_be_bytes([fixed[0], fixed[1], fixed[2], fixed[3]]);
    let be32 = |at: usize| u32::from_be_bytes([fixed[at], fixed[at + 1], fixed[at + 2], fixed[at + 3]]);
    let tcp = TcpRepr {
        src_port: (ports >> 16) as u16,
        dst_port: ports as u16,
        seq: SeqNum(be32(4)),
        ack: SeqNum(be32(8)),
        flags: TcpFlags::from_bits_retain(fixed[13]),
        window: u16::from_be_bytes([fixed[14], fixed[15]]),
        urgent: u16::from_be_bytes([fixed[18], fixed[19]]),
        options,
        payload: &tcp[header_len..],
    };
    Ok(Ipv4Segment {
        src: Ipv4Addr::from(u32::from_be(src)),
        dst: Ipv4Addr::from(u32::from_be(dst)),
        ttl: header[8],
        ecn: Ecn::from_bits(header[1]),
        tcp,
    })
}

/// The IP-level facts `emit_plain_ipv4` takes.
#[derive(Debug, Clone, Copy)]
pub struct EmitIpv4 {
    /// Source address.
    pub src: Ipv4Addr,
    /// Destination address.
    pub dst: Ipv4Addr,
    /// Time to live.
    pub ttl: u8,
    /// The DSCP bits of the TOS byte, in place (`Ipv4Repr::dscp`).
    pub dscp: u8,
    /// The ECN codepoint.
    pub ecn: Ecn,
    /// The identification field.
    pub ident: u16,
    /// False for Linux's CHECKSUM_PARTIAL, as in `emit_segment_chunks_with`.
    pub full_checksum: bool,
}

/// `emit_segment_between` for IPv4, the packet nearly every connection sends, written in one
/// pass: the options first, where they go (their length then needs no pass of its own), the
/// payload's two parts (a ring buffer's) without a loop over chunks, the pseudo-header from
/// the addresses' words. The same bytes and the same errors as the general emitter.
///
/// The parts come by reference: an array of two slices passed by value is copied for the
/// call, in 16-byte loads over the 8-byte stores that had just built it, and such a load
/// waits for those stores to reach the cache.
pub fn emit_plain_ipv4(ip: EmitIpv4, tcp: &TcpRepr, payload: &[&[u8]; 2], buf: &mut [u8]) -> Result<usize, WireError> {
    const OPTIONS_AT: usize = IPV4_HEADER_LEN + TCP_HEADER_LEN;
    let [first, second] = *payload;
    let payload_len = first.len() + second.len();
    // A buffer that may not hold the longest header (never the case for a packet buffer) goes
    // to the general emitter, which says what is wrong; here the options have their 40 bytes,
    // and options that do not fit them are too long for any header.
    let Some(options_room) = buf.get_mut(OPTIONS_AT..OPTIONS_AT + MAX_OPTIONS_LEN) else {
        return emit_short(ip, tcp, payload, buf);
    };
    let Ok((options_len, options_sum)) = tcp.options.emit_summed(options_room) else {
        return Err(WireError::Malformed("TCP options exceed 40 bytes"));
    };
    let header_len = TCP_HEADER_LEN + options_len;
    let tcp_len = header_len + payload_len;
    let total = IPV4_HEADER_LEN + tcp_len;
    if buf.len() < total {
        return Err(WireError::BufferTooSmall);
    }
    let repr = Ipv4Repr {
        src: ip.src,
        dst: ip.dst,
        protocol: IP_PROTOCOL_TCP,
        payload_len: tcp_len,
        ttl: ip.ttl,
        dscp: ip.dscp,
        ecn: ip.ecn,
    };
    repr.emit(buf, ip.ident)?;
    // RFC 9293 §3.1: source, destination, zero and protocol, TCP length; each address's value
    // is congruent to the sum of its 16-bit halves modulo 2^16 - 1.
    let pseudo = u32::from(ip.src) as u64 + u32::from(ip.dst) as u64 + IP_PROTOCOL_TCP as u64 + tcp_len as u64;
    let sums = Sums { pseudo, options: options_sum, payload_len, full_checksum: ip.full_checksum };
    write_fixed_header(&mut buf[IPV4_HEADER_LEN..OPTIONS_AT], tcp, header_len, sums, payload);
    // Most segments carry no data, and most data is in one part: no copy call for an empty one.
    if payload_len > 0 {
        let data = &mut buf[IPV4_HEADER_LEN + header_len..total];
        let (to_first, to_second) = data.split_at_mut(first.len());
        if !first.is_empty() {
            to_first.copy_from_slice(first);
        }
        if !second.is_empty() {
            to_second.copy_from_slice(second);
        }
    }
    Ok(total)
}

/// `emit_plain_ipv4` into a buffer shorter than 80 bytes, by the general emitter.
#[cold]
#[inline(never)]
fn emit_short(ip: EmitIpv4, tcp: &TcpRepr, payload: &[&[u8]; 2], buf: &mut [u8]) -> Result<usize, WireError> {
    let (src, dst) = (IpAddr::V4(ip.src), IpAddr::V4(ip.dst));
    let EmitIpv4 { ttl, dscp, ecn, ident, full_checksum, .. } = ip;
    emit_segment_between(EmitIp { src: &src, dst: &dst, ttl, dscp, ecn, ident, full_checksum }, tcp, payload, buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{emit_segment, parse_segment_general as parse_general};
    use proptest::prelude::*;

    fn packet(options: TcpOptions, payload: &[u8]) -> Vec<u8> {
        let ip =
            IpHeader { src: "10.0.0.1".parse().unwrap(), dst: "10.0.0.2".parse().unwrap(), ttl: 64, ecn: Ecn::Ect0 };
        let tcp = TcpRepr {
            src_port: 3337,
            dst_port: 7788,
            seq: SeqNum(1),
            ack: SeqNum(2),
            flags: TcpFlags::ACK | TcpFlags::PSH,
            window: 512,
            urgent: 0,
            options,
            payload,
        };
        let mut buf = vec![0u8; 256];
        let n = emit_segment(&ip, &tcp, 9, &mut buf).unwrap();
        buf.truncate(n);
        buf
    }

    #[test]
    fn segments_with_the_usual_options_take_this_path_and_parse_as_the_general_parse_does() {
        let syn = TcpOptions {
            mss: Some(1460),
            window_scale: Some(7),
            sack_permitted: true,
            timestamps: Some((5, 6)),
            ..TcpOptions::default()
        };
        let ts = TcpOptions { timestamps: Some((7, 8)), ..TcpOptions::default() };
        for (options, payload) in [(syn, &b""[..]), (ts, b"odd length data"), (TcpOptions::default(), b"even")] {
            let bytes = packet(options, payload);
            let fast = parse_plain_ipv4(&bytes, true).expect("a plain packet");
            assert_eq!(Segment::from(fast), parse_general(&bytes, true).unwrap());
            assert_eq!(fast.tcp.options, options);
        }
    }

    #[test]
    fn other_option_layouts_and_bad_checksums_are_left_to_the_general_parse() {
        let mut sack = crate::SackBlocks::new();
        sack.push(SeqNum(10), SeqNum(20));
        let bytes = packet(TcpOptions { timestamps: Some((1, 2)), sack, ..TcpOptions::default() }, b"x");
        assert_eq!(parse_plain_ipv4(&bytes, true), Err(NOT_PLAIN));
        assert!(parse_general(&bytes, true).is_ok());
        let mut bad = packet(TcpOptions::default(), b"data");
        *bad.last_mut().unwrap() ^= 1;
        assert_eq!(parse_plain_ipv4(&bad, true), Err(NOT_PLAIN));
        assert_eq!(parse_general(&bad, true), Err(WireError::BadChecksum));
        // Unverified, as from a device with checksum offload: both take it.
        assert_eq!(parse_plain_ipv4(&bad, false).map(Segment::from), parse_general(&bad, false));
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 5000, ..ProptestConfig::default() })]

        /// Whatever this path accepts, the general parse accepts as the same segment; and
        /// every plain packet that the general parse accepts with options of the usual
        /// layouts, this path accepts too.
        #[test]
        fn agrees_with_the_general_parse(
            layout in 0..3usize,
            payload in proptest::collection::vec(any::<u8>(), 0..80),
            flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..3),
            padding in proptest::collection::vec(any::<u8>(), 0..4),
            verify in any::<bool>(),
        ) {
            let options = match layout {
                0 => TcpOptions::default(),
                1 => TcpOptions { timestamps: Some((1, 2)), ..TcpOptions::default() },
                _ => TcpOptions {
                    mss: Some(1400), window_scale: Some(3), sack_permitted: true, timestamps: Some((3, 4)),
                    ..TcpOptions::default()
                },
            };
            let mut bytes = packet(options, &payload);
            bytes.extend(padding);
            for (at, bits) in flips {
                let at = at % bytes.len();
                bytes[at] ^= bits;
            }
            let general = parse_general(&bytes, verify);
            match parse_plain_ipv4(&bytes, verify) {
                Ok(fast) => prop_assert_eq!(Ok(Segment::from(fast)), general),
                Err(_) => {
                    // Taken by the general parse, a packet has its TCP header in the bytes.
                    let usual_options = || {
                        let header_len = (bytes[IPV4_HEADER_LEN + 12] >> 4) as usize * 4;
                        TcpOptions::parse_common(&bytes[IPV4_HEADER_LEN + TCP_HEADER_LEN..IPV4_HEADER_LEN + header_len])
                            .is_some()
                    };
                    let plain = bytes[0] == VERSION_4_IHL_5 && general.is_ok() && usual_options();
                    prop_assert!(!plain, "a plain packet left to the general parse: {:?}", general);
                }
            }
        }
    }
}
