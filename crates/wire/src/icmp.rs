//! ICMP (RFC 792) and ICMPv6 (RFC 4443) error messages about a TCP segment: what went wrong,
//! and the quoted IP header and first eight bytes of TCP header (ports and sequence number)
//! that say which connection it concerns (RFC 5927 §4). Other ICMP messages are told apart
//! so that a caller can count them. And the echo reply to an echo request (ping).

use crate::checksum::{internet_checksum, pseudo_header_sum};
use crate::ipv4::{Ipv4Packet, Ipv4Repr, IPV4_HEADER_LEN};
use crate::ipv6::{Ipv6Packet, Ipv6Repr, IPV6_HEADER_LEN};
use crate::{Ecn, SeqNum, WireError};
use std::net::IpAddr;

/// IP protocol number of ICMP.
pub const IP_PROTOCOL_ICMP: u8 = 1;
/// IPv6 next-header number of ICMPv6.
pub const IP_PROTOCOL_ICMPV6: u8 = 58;
const IP_PROTOCOL_TCP: u8 = 6;

/// What an ICMP error reports, in both families' terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IcmpKind {
    /// Destination network unreachable, or unknown (ICMP 3/0, 3/6, 3/11; ICMPv6 1/0 no route).
    NetUnreachable,
    /// Destination host unreachable, or unknown (ICMP 3/1, 3/7, 3/12; ICMPv6 1/2 beyond scope,
    /// 1/3 address unreachable).
    HostUnreachable,
    /// The host has no such protocol (ICMP 3/2; ICMPv6 4/1 unrecognized next header).
    ProtocolUnreachable,
    /// No one listens on the port (ICMP 3/3; ICMPv6 1/4).
    PortUnreachable,
    /// The packet was too big for a link: ICMP 3/4 with the next hop's MTU (0 when the router
    /// did not say, RFC 1191 §4), ICMPv6 2 (RFC 8201).
    PacketTooBig {
        /// The largest packet the link takes, bytes.
        mtu: u32,
    },
    /// The source route failed (ICMP 3/5).
    SourceRouteFailed,
    /// Communication administratively prohibited (ICMP 3/9, 3/10, 3/13; ICMPv6 1/1, 1/5, 1/6).
    AdminProhibited,
    /// The TTL or hop limit reached 0 in transit (ICMP 11/0, ICMPv6 3/0).
    TimeExceeded,
    /// Any other error type or code (a parameter problem, a reassembly timeout, precedence
    /// cutoff, ...).
    Other {
        /// The message's type.
        icmp_type: u8,
        /// Its code.
        code: u8,
    },
}

/// The TCP segment an ICMP error quotes, seen from its sender: `src` is the host the error
/// went back to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotedTcp {
    /// The segment's source: the host the error went back to.
    pub src: IpAddr,
    /// Its destination.
    pub dst: IpAddr,
    /// Its source port.
    pub src_port: u16,
    /// Its destination port.
    pub dst_port: u16,
    /// Its sequence number.
    pub seq: SeqNum,
}

/// An ICMP or ICMPv6 error about a TCP segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IcmpError {
    /// Who sent the error (a router or the peer).
    pub from: IpAddr,
    /// What went wrong.
    pub kind: IcmpKind,
    /// The segment it concerns.
    pub quoted: QuotedTcp,
}

/// How a family's type and code (and the four bytes after the checksum) read as a kind.
type KindOf = fn(u8, u8, [u8; 4]) -> Option<IcmpKind>;

fn kind_v4(icmp_type: u8, code: u8, rest: [u8; 4]) -> Option<IcmpKind> {
    Some(match (icmp_type, code) {
        (3, 0 | 6 | 11) => IcmpKind::NetUnreachable,
        (3, 1 | 7 | 12) => IcmpKind::HostUnreachable,
        (3, 2) => IcmpKind::ProtocolUnreachable,
        (3, 3) => IcmpKind::PortUnreachable,
        (3, 4) => IcmpKind::PacketTooBig { mtu: u16::from_be_bytes([rest[2], rest[3]]) as u32 },
        (3, 5) => IcmpKind::SourceRouteFailed,
        (3, 9 | 10 | 13) => IcmpKind::AdminProhibited,
        (11, 0) => IcmpKind::TimeExceeded,
        (3 | 4 | 11 | 12, _) => IcmpKind::Other { icmp_type, code },
        _ => return None, // not an error message (echo, ...)
    })
}

fn kind_v6(icmp_type: u8, code: u8, rest: [u8; 4]) -> Option<IcmpKind> {
    Some(match (icmp_type, code) {
        (1, 0) => IcmpKind::NetUnreachable,
        (1, 2 | 3) => IcmpKind::HostUnreachable,
        (1, 4) => IcmpKind::PortUnreachable,
        (1, 1 | 5 | 6) => IcmpKind::AdminProhibited,
        (2, _) => IcmpKind::PacketTooBig { mtu: u32::from_be_bytes(rest) },
        (3, 0) => IcmpKind::TimeExceeded,
        (4, 1) => IcmpKind::ProtocolUnreachable,
        (1 | 3 | 4, _) => IcmpKind::Other { icmp_type, code },
        _ => return None, // informational (echo, neighbour discovery, ...)
    })
}

/// An ICMP or ICMPv6 error about TCP in `bytes` (a whole IP packet). `Ok(None)` for an ICMP
/// message that is not an error, or an error about another protocol.
pub fn parse_icmp_error(bytes: &[u8]) -> Result<Option<IcmpError>, WireError> {
    let (from, _, message) = icmp_message(bytes)?;
    let kind: KindOf = if from.is_ipv4() { kind_v4 } else { kind_v6 };
    let rest = [message[4], message[5], message[6], message[7]];
    let Some(kind) = kind(message[0], message[1], rest) else { return Ok(None) };
    Ok(quoted_tcp(&message[8..])?.map(|quoted| IcmpError { from, kind, quoted }))
}

/// The ICMP or ICMPv6 message an IP packet carries, with the packet's source and destination:
/// at least the 8-byte header, its checksum verified (over the pseudo-header for ICMPv6).
fn icmp_message(bytes: &[u8]) -> Result<(IpAddr, IpAddr, &[u8]), WireError> {
    let (src, dst, message): (IpAddr, IpAddr, &[u8]) = match bytes.first().map(|b| b >> 4) {
        Some(4) => {
            let packet = Ipv4Packet::new_checked(bytes)?;
            let repr = Ipv4Repr::parse(&packet)?;
            if repr.protocol != IP_PROTOCOL_ICMP {
                return Err(WireError::Unsupported("IPv4 payload is not ICMP"));
            }
            let start = packet.header_len();
            (repr.src.into(), repr.dst.into(), &bytes[start..start + repr.payload_len])
        }
        Some(6) => {
            let packet = Ipv6Packet::new_checked(bytes)?;
            let repr = Ipv6Repr::parse(&packet)?;
            if repr.next_header != IP_PROTOCOL_ICMPV6 {
                return Err(WireError::Unsupported("IPv6 next header is not ICMPv6"));
            }
            (repr.src.into(), repr.dst.into(), &bytes[IPV6_HEADER_LEN..IPV6_HEADER_LEN + repr.payload_len])
        }
        Some(_) => return Err(WireError::Malformed("IP version is neither 4 nor 6")),
        None => return Err(WireError::Truncated),
    };
    if internet_checksum(icmp_pseudo_header(src, dst, message.len()), message) != 0 {
        return Err(WireError::BadChecksum);
    }
    if message.len() < 8 {
        return Err(WireError::Truncated);
    }
    Ok((src, dst, message))
}

/// What ICMPv6's checksum covers beyond the message (RFC 4443 §2.3); nothing for ICMP.
fn icmp_pseudo_header(src: IpAddr, dst: IpAddr, len: usize) -> u32 {
    match src {
        IpAddr::V6(_) => pseudo_header_sum(src, dst, IP_PROTOCOL_ICMPV6, len),
        IpAddr::V4(_) => 0,
    }
}

/// Finishes an ICMP or ICMPv6 packet from `from` to `to` whose message of `message_len`
/// bytes is written after the room for the IP header in `buf`: its checksum, then the
/// header. Returns the packet's length.
fn finish_icmp(from: IpAddr, to: IpAddr, buf: &mut [u8], message_len: usize) -> Result<usize, WireError> {
    let header_len = if to.is_ipv4() { IPV4_HEADER_LEN } else { IPV6_HEADER_LEN };
    let total = header_len + message_len;
    let message = &mut buf[header_len..total];
    message[2..4].fill(0);
    let sum = internet_checksum(icmp_pseudo_header(from, to, message_len), message);
    message[2..4].copy_from_slice(&sum.to_be_bytes());
    match (from, to) {
        (IpAddr::V4(src), IpAddr::V4(dst)) => {
            let (protocol, payload_len) = (IP_PROTOCOL_ICMP, message_len);
            let ip = Ipv4Repr { src, dst, protocol, payload_len, ttl: 64, dscp: 0, ecn: Ecn::NotEct };
            ip.emit(buf, 0)?;
        }
        (IpAddr::V6(src), IpAddr::V6(dst)) => {
            let ip = Ipv6Repr {
                src,
                dst,
                next_header: IP_PROTOCOL_ICMPV6,
                payload_len: message_len,
                hop_limit: 64,
                dscp: 0,
                ecn: Ecn::NotEct,
            };
            ip.emit(buf)?;
        }
        _ => return Err(WireError::Malformed("ICMP between two IP versions")),
    }
    Ok(total)
}

/// The quoted IP header and first eight bytes of TCP (RFC 792: at least that much is quoted;
/// the quoted packet's own lengths and checksums are not checked, as it may be cut short).
fn quoted_tcp(q: &[u8]) -> Result<Option<QuotedTcp>, WireError> {
    let (src, dst, protocol, header_len): (IpAddr, IpAddr, u8, usize) = match q.first().map(|b| b >> 4) {
        Some(4) if q.len() >= IPV4_HEADER_LEN => {
            let p = Ipv4Packet::new_unchecked(q);
            (p.src_addr().into(), p.dst_addr().into(), p.protocol(), p.header_len().max(IPV4_HEADER_LEN))
        }
        Some(6) if q.len() >= IPV6_HEADER_LEN => {
            let p = Ipv6Packet::new_unchecked(q);
            (p.src_addr().into(), p.dst_addr().into(), p.next_header(), IPV6_HEADER_LEN)
        }
        _ => return Err(WireError::Malformed("the ICMP error quotes no IP header")),
    };
    if protocol != IP_PROTOCOL_TCP {
        return Ok(None);
    }
    let Some(tcp) = q.get(header_len..header_len + 8) else {
        return Err(WireError::Malformed("the ICMP error quotes less than 8 bytes of TCP"));
    };
    Ok(Some(QuotedTcp {
        src,
        dst,
        src_port: u16::from_be_bytes([tcp[0], tcp[1]]),
        dst_port: u16::from_be_bytes([tcp[2], tcp[3]]),
        seq: SeqNum(u32::from_be_bytes([tcp[4], tcp[5], tcp[6], tcp[7]])),
    }))
}

/// Writes an ICMP (to an IPv4 `to`) or ICMPv6 error from `from` to `to` with `icmp_type`,
/// `code` and the four bytes after the checksum (`rest`: the MTU of a Packet Too Big), that
/// quotes `quoted` (an IP packet, cut to what RFC 792 and RFC 4443 quote). Returns the length.
pub fn emit_icmp_error(
    from: IpAddr,
    to: IpAddr,
    icmp_type: u8,
    code: u8,
    rest: [u8; 4],
    quoted: &[u8],
    buf: &mut [u8],
) -> Result<usize, WireError> {
    let (header_len, keep) = match to {
        IpAddr::V4(_) => (IPV4_HEADER_LEN, quoted.len().min(IPV4_HEADER_LEN + 8)),
        IpAddr::V6(_) => (IPV6_HEADER_LEN, quoted.len().min(1280 - IPV6_HEADER_LEN - 8)),
    };
    let message_len = 8 + keep;
    let total = header_len + message_len;
    if buf.len() < total {
        return Err(WireError::BufferTooSmall);
    }
    let message = &mut buf[header_len..total];
    message[..8].copy_from_slice(&[icmp_type, code, 0, 0, rest[0], rest[1], rest[2], rest[3]]);
    message[8..].copy_from_slice(&quoted[..keep]);
    finish_icmp(from, to, buf, message_len)
}

/// The echo reply (RFC 792 type 0, RFC 4443 type 129) to `request` when it is an echo
/// request (type 8 or 128) with a good checksum, written into `buf`: addresses swapped, the
/// identifier, sequence number and data returned as they came. `Ok(None)` for any other
/// ICMP message and for a packet that is not ICMP; `BufferTooSmall` when `buf` cannot hold
/// the reply.
pub fn icmp_echo_reply(request: &[u8], buf: &mut [u8]) -> Result<Option<usize>, WireError> {
    let (src, dst, message) = match icmp_message(request) {
        Ok(parts) => parts,
        Err(WireError::Unsupported(_)) => return Ok(None),
        Err(e) => return Err(e),
    };
    let (request_type, reply_type) = if src.is_ipv4() { (8, 0) } else { (128, 129) };
    if message[0] != request_type || message[1] != 0 {
        return Ok(None);
    }
    let header_len = if src.is_ipv4() { IPV4_HEADER_LEN } else { IPV6_HEADER_LEN };
    let total = header_len + message.len();
    if buf.len() < total || total > u16::MAX as usize {
        return Err(WireError::BufferTooSmall);
    }
    buf[header_len..total].copy_from_slice(message);
    buf[header_len] = reply_type;
    finish_icmp(dst, src, buf, message.len()).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{emit_segment, IpHeader, TcpFlags, TcpRepr};

    fn syn(src: IpAddr, dst: IpAddr) -> Vec<u8> {
        let ip = IpHeader { src, dst, ttl: 64, ecn: Ecn::NotEct };
        let tcp = TcpRepr {
            src_port: 40000,
            dst_port: 80,
            seq: SeqNum(1234),
            ack: SeqNum(0),
            flags: TcpFlags::SYN,
            window: 1000,
            urgent: 0,
            options: crate::TcpOptions::default(),
            payload: &[],
        };
        let mut buf = vec![0u8; 128];
        let n = emit_segment(&ip, &tcp, 0, &mut buf).unwrap();
        buf.truncate(n);
        buf
    }

    #[test]
    fn an_error_round_trips_in_both_families() {
        for (us, router) in [("10.0.0.1", "10.9.9.9"), ("fd00::1", "fd00::99")] {
            let (us, router): (IpAddr, IpAddr) = (us.parse().unwrap(), router.parse().unwrap());
            let peer: IpAddr = if us.is_ipv4() { "10.0.0.2".parse().unwrap() } else { "fd00::2".parse().unwrap() };
            let quoted = syn(us, peer);
            let (t, c) = if us.is_ipv4() { (3, 3) } else { (1, 4) };
            let mut buf = [0u8; 1500];
            let n = emit_icmp_error(router, us, t, c, [0; 4], &quoted, &mut buf).unwrap();
            let e = parse_icmp_error(&buf[..n]).unwrap().unwrap();
            assert_eq!(e.kind, IcmpKind::PortUnreachable);
            assert_eq!(e.from, router);
            assert_eq!(e.quoted, QuotedTcp { src: us, dst: peer, src_port: 40000, dst_port: 80, seq: SeqNum(1234) });
            buf[n - 1] ^= 1;
            assert_eq!(parse_icmp_error(&buf[..n]), Err(WireError::BadChecksum));
        }
    }

    /// A ping in both families: the reply swaps the addresses and returns the rest; a reply
    /// or a bad checksum is not answered.
    #[test]
    fn an_echo_request_is_answered_in_both_families() {
        for (us, them) in [("10.0.0.1", "10.0.0.2"), ("fd00::1", "fd00::2")] {
            let (us, them): (IpAddr, IpAddr) = (us.parse().unwrap(), them.parse().unwrap());
            let request_type = if us.is_ipv4() { 8 } else { 128 };
            let mut ping = [0u8; 200];
            // An "error" with the echo's type and its id/seq in `rest` builds the request.
            let n = emit_icmp_error(them, us, request_type, 0, [0x12, 0x34, 0, 7], b"payload!", &mut ping).unwrap();
            let mut reply = [0u8; 200];
            let m = icmp_echo_reply(&ping[..n], &mut reply).unwrap().expect("answered");
            assert_eq!(m, n);
            let again = icmp_echo_reply(&reply[..m], &mut [0u8; 200]).unwrap();
            assert_eq!(again, None, "a reply is not answered");
            let header = if us.is_ipv4() { IPV4_HEADER_LEN } else { IPV6_HEADER_LEN };
            assert_eq!(&reply[header + 4..m], &ping[header + 4..n], "id, sequence and data returned");
            assert_eq!(reply[header], if us.is_ipv4() { 0 } else { 129 });
            let (src, dst) = if us.is_ipv4() { (12, 16) } else { (8, 24) };
            let w = if us.is_ipv4() { 4 } else { 16 };
            assert_eq!(&reply[src..src + w], &ping[dst..dst + w], "from the pinged address");
            ping[n - 1] ^= 1;
            assert_eq!(icmp_echo_reply(&ping[..n], &mut reply), Err(WireError::BadChecksum));
        }
    }

    #[test]
    fn mtu_of_packet_too_big_and_what_is_not_an_error() {
        let (us, router): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.9.9.9".parse().unwrap());
        let quoted = syn(us, "10.0.0.2".parse().unwrap());
        let mut buf = [0u8; 1500];
        let n = emit_icmp_error(router, us, 3, 4, [0, 0, 0x05, 0xdc], &quoted, &mut buf).unwrap();
        assert_eq!(parse_icmp_error(&buf[..n]).unwrap().unwrap().kind, IcmpKind::PacketTooBig { mtu: 1500 });
        let n = emit_icmp_error(router, us, 8, 0, [0; 4], &quoted, &mut buf).unwrap();
        assert_eq!(parse_icmp_error(&buf[..n]), Ok(None), "an echo request is not an error");
        let n = emit_icmp_error(router, us, 3, 3, [0; 4], &quoted[..IPV4_HEADER_LEN + 4], &mut buf).unwrap();
        assert!(parse_icmp_error(&buf[..n]).is_err(), "fewer than 8 bytes of TCP quoted");
        assert!(parse_icmp_error(&quoted).is_err(), "TCP is not ICMP");
    }
}
