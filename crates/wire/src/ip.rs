//! A whole TCP/IP segment: parse from and emit to bytes, over IPv4 or IPv6.

use crate::checksum::{fold, pseudo_header_sum, sum_words};
use crate::{
    Ecn, Ipv4Packet, Ipv4Repr, Ipv6Packet, Ipv6Repr, TcpPacket, TcpRepr, WireError, IPV4_HEADER_LEN, IPV6_HEADER_LEN,
    IP_PROTOCOL_TCP, TCP_HEADER_LEN,
};
use std::net::IpAddr;

/// The IP-level facts of a segment that TCP needs: the two addresses, the TTL/hop limit and
/// the ECN codepoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpHeader {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// TTL (IPv4) or hop limit (IPv6).
    pub ttl: u8,
    /// The ECN codepoint.
    pub ecn: Ecn,
}

impl IpHeader {
    /// Bytes of the IP header (20 for IPv4, 40 for IPv6).
    pub fn header_len(&self) -> usize {
        ip_header_len(&self.src)
    }
}

/// The length of the IP header `emit_segment` writes for a packet from `src`: 20 bytes for
/// IPv4 (no options), 40 for IPv6 (no extension headers).
#[inline]
pub fn ip_header_len(src: &IpAddr) -> usize {
    match src {
        IpAddr::V4(_) => IPV4_HEADER_LEN,
        IpAddr::V6(_) => IPV6_HEADER_LEN,
    }
}

/// A parsed TCP/IP segment borrowing its payload from the packet bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment<'a> {
    /// The IP header's fields.
    pub ip: IpHeader,
    /// The TCP segment.
    pub tcp: TcpRepr<'a>,
}

/// Parses an IPv4 or IPv6 packet carrying TCP and verifies both checksums.
/// Never panics; any byte string gives `Ok` or `Err`.
pub fn parse_segment(bytes: &[u8]) -> Result<Segment<'_>, WireError> {
    parse_segment_with(bytes, true)
}

/// Like `parse_segment`; with `verify_tcp_checksum` false the TCP checksum is not checked,
/// for a packet whose device vouches for it or left it to be filled in (a TUN device with
/// offload hands over the kernel's super-packets with partial checksums, as a NIC would).
// The plain IPv4 packet in line (`parse_plain_ipv4`), every other out of line. A caller on
// a hot path may call `parse_plain_ipv4` itself and keep its `Ipv4Addr`s, as the engine does.
#[inline]
pub fn parse_segment_with(bytes: &[u8], verify_tcp_checksum: bool) -> Result<Segment<'_>, WireError> {
    match crate::parse_plain_ipv4(bytes, verify_tcp_checksum) {
        Ok(segment) => Ok(segment.into()),
        Err(_) => parse_segment_general(bytes, verify_tcp_checksum),
    }
}

/// `parse_segment_with` for every packet: IPv6, IPv4 with options, and whatever the plain
/// IPv4 path turned down (this one says why). Public so that tests and the fuzzer can hold
/// `parse_plain_ipv4` to it, and for a caller that has tried that path already.
// `TcpRepr::parse` and `TcpOptions::parse` inlined here, so that the segment is built where it
// is returned: returned by value through three calls, each copy loaded 16-byte words that the
// callee had just stored in smaller pieces, and such a load waits for the stores to reach the
// cache instead of being forwarded from them.
#[inline(never)]
pub fn parse_segment_general(bytes: &[u8], verify_tcp_checksum: bool) -> Result<Segment<'_>, WireError> {
    let (ip, tcp_bytes) = match bytes.first().map(|b| b >> 4) {
        Some(4) => {
            let packet = Ipv4Packet::new_checked(bytes)?;
            let repr = Ipv4Repr::parse(&packet)?;
            if repr.protocol != IP_PROTOCOL_TCP {
                return Err(WireError::Unsupported("IPv4 payload is not TCP"));
            }
            let header = IpHeader { src: repr.src.into(), dst: repr.dst.into(), ttl: repr.ttl, ecn: repr.ecn };
            let start = packet.header_len();
            (header, &bytes[start..start + repr.payload_len])
        }
        Some(6) => {
            let packet = Ipv6Packet::new_checked(bytes)?;
            let repr = Ipv6Repr::parse(&packet)?;
            if repr.next_header != IP_PROTOCOL_TCP {
                return Err(WireError::Unsupported("IPv6 next header is not TCP"));
            }
            let header = IpHeader { src: repr.src.into(), dst: repr.dst.into(), ttl: repr.hop_limit, ecn: repr.ecn };
            (header, &bytes[IPV6_HEADER_LEN..IPV6_HEADER_LEN + repr.payload_len])
        }
        Some(_) => return Err(WireError::Malformed("IP version is neither 4 nor 6")),
        None => return Err(WireError::Truncated),
    };
    let packet = TcpPacket::new_checked(tcp_bytes)?;
    if verify_tcp_checksum && !packet.verify_checksum(ip.src, ip.dst) {
        return Err(WireError::BadChecksum);
    }
    let tcp = TcpRepr::parse(&packet)?;
    Ok(Segment { ip, tcp })
}

/// The ECN codepoint of an IPv4 or IPv6 packet; None for bytes that are not an IP packet.
pub fn ecn_of(packet: &[u8]) -> Option<Ecn> {
    match packet.first().map(|b| b >> 4) {
        Some(4) if packet.len() >= IPV4_HEADER_LEN => Some(Ecn::from_bits(packet[1] & 0b11)),
        Some(6) if packet.len() >= IPV6_HEADER_LEN => Some(Ecn::from_bits((packet[1] >> 4) & 0b11)),
        _ => None,
    }
}

/// Rewrites the ECN codepoint of an IPv4 or IPv6 packet in place (fixing the IPv4 header
/// checksum), as a router that marks Congestion Experienced does. Returns false for bytes that
/// are not an IP packet.
pub fn set_ecn(packet: &mut [u8], ecn: Ecn) -> bool {
    match packet.first().map(|b| b >> 4) {
        Some(4) if packet.len() >= IPV4_HEADER_LEN => {
            let header_len = ((packet[0] & 0x0f) as usize * 4).clamp(IPV4_HEADER_LEN, packet.len());
            packet[1] = (packet[1] & !0b11) | ecn.bits();
            crate::ipv4::fill_header_checksum(&mut packet[..header_len]);
            true
        }
        Some(6) if packet.len() >= IPV6_HEADER_LEN => {
            packet[1] = (packet[1] & !0b0011_0000) | (ecn.bits() << 4);
            true
        }
        _ => false,
    }
}

/// The number of bytes `emit_segment` writes for this segment with `payload_len` bytes of data.
pub fn segment_len(ip: &IpHeader, tcp: &TcpRepr, payload_len: usize) -> usize {
    ip.header_len() + tcp.header_len() + payload_len
}

/// Emits IP header, TCP header with options, `tcp.payload` and both checksums into `buf`.
/// `ident` is the IPv4 identification (ignored for IPv6). Returns the packet length.
pub fn emit_segment(ip: &IpHeader, tcp: &TcpRepr, ident: u16, buf: &mut [u8]) -> Result<usize, WireError> {
    emit_segment_chunks(ip, tcp, &[tcp.payload], ident, buf)
}

/// Like `emit_segment`, but the payload is the concatenation of `chunks` (`tcp.payload` is
/// ignored): a ring buffer hands over its data as two slices without a copy in between.
pub fn emit_segment_chunks(
    ip: &IpHeader,
    tcp: &TcpRepr,
    chunks: &[&[u8]],
    ident: u16,
    buf: &mut [u8],
) -> Result<usize, WireError> {
    emit_segment_chunks_with(ip, tcp, chunks, ident, buf, true)
}

/// Like `emit_segment_chunks`; with `full_checksum` false the TCP checksum field holds only
/// the pseudo-header's sum (Linux's CHECKSUM_PARTIAL), for a device that finishes it (TUN with
/// offload, where a super-packet is checksummed, if at all, after it is cut up).
#[inline]
pub fn emit_segment_chunks_with(
    ip: &IpHeader,
    tcp: &TcpRepr,
    chunks: &[&[u8]],
    ident: u16,
    buf: &mut [u8],
    full_checksum: bool,
) -> Result<usize, WireError> {
    let header = EmitIp { src: &ip.src, dst: &ip.dst, ttl: ip.ttl, dscp: 0, ecn: ip.ecn, ident, full_checksum };
    emit_segment_between(header, tcp, chunks, buf)
}

/// The IP-level facts `emit_segment_between` takes, the addresses by reference: a sender
/// that keeps them in a record of its own passes them where they lie (a copy of a 17-byte
/// `IpAddr` is a run of odd-sized moves).
#[derive(Debug, Clone, Copy)]
pub struct EmitIp<'a> {
    /// Source address.
    pub src: &'a IpAddr,
    /// Destination address.
    pub dst: &'a IpAddr,
    /// TTL (IPv4) or hop limit (IPv6).
    pub ttl: u8,
    /// The DSCP bits of the TOS byte or traffic class, in place (`Ipv4Repr::dscp`).
    pub dscp: u8,
    /// The ECN codepoint.
    pub ecn: Ecn,
    /// The IPv4 identification (ignored for IPv6).
    pub ident: u16,
    /// False for Linux's CHECKSUM_PARTIAL, as in `emit_segment_chunks_with`.
    pub full_checksum: bool,
}

/// `emit_segment_chunks_with` with the IP-level facts borrowed.
pub fn emit_segment_between(ip: EmitIp, tcp: &TcpRepr, chunks: &[&[u8]], buf: &mut [u8]) -> Result<usize, WireError> {
    let EmitIp { ident, full_checksum, .. } = ip;
    let payload_len: usize = chunks.iter().map(|c| c.len()).sum();
    let options_len = tcp.options.buffer_len();
    if options_len > MAX_OPTIONS_LEN {
        return Err(WireError::Malformed("TCP options exceed 40 bytes"));
    }
    let header_len = TCP_HEADER_LEN + options_len;
    let ip_len = ip_header_len(ip.src);
    let tcp_len = header_len + payload_len;
    let total = ip_len + tcp_len;
    if buf.len() < total {
        return Err(WireError::BufferTooSmall);
    }
    // The TCP checksum is summed from the header words as they are built and from the payload
    // where it lies, not read back from the buffer (loads of bytes just stored wait for the
    // stores to reach the cache).
    let pseudo = match (ip.src, ip.dst) {
        (&IpAddr::V4(src), &IpAddr::V4(dst)) => {
            let (protocol, payload_len) = (IP_PROTOCOL_TCP, tcp_len);
            let repr = Ipv4Repr { src, dst, protocol, payload_len, ttl: ip.ttl, dscp: ip.dscp, ecn: ip.ecn };
            repr.emit(buf, ident)?;
            pseudo_header_sum(src.into(), dst.into(), IP_PROTOCOL_TCP, tcp_len)
        }
        (&IpAddr::V6(src), &IpAddr::V6(dst)) => {
            let (next_header, hop_limit) = (IP_PROTOCOL_TCP, ip.ttl);
            let (dscp, ecn) = (ip.dscp, ip.ecn);
            Ipv6Repr { src, dst, next_header, payload_len: tcp_len, hop_limit, dscp, ecn }.emit(buf)?;
            pseudo_header_sum(src.into(), dst.into(), IP_PROTOCOL_TCP, tcp_len)
        }
        _ => return Err(WireError::Malformed("source and destination of different IP versions")),
    } as u64;
    let (header, payload) = buf[ip_len..total].split_at_mut(header_len);
    let (_, options_sum) = tcp.options.emit_summed(&mut header[TCP_HEADER_LEN..])?;
    let sums = Sums { pseudo, options: options_sum, payload_len, full_checksum };
    write_fixed_header(&mut header[..TCP_HEADER_LEN], tcp, header_len, sums, chunks);
    let mut at = 0;
    for chunk in chunks.iter().filter(|c| !c.is_empty()) {
        payload[at..at + chunk.len()].copy_from_slice(chunk);
        at += chunk.len();
    }
    Ok(total)
}

/// What the TCP checksum is made of besides the fixed header: the pseudo-header's sum and the
/// options' (unfolded, big-endian word values), and whether to finish it at all.
pub(crate) struct Sums {
    pub pseudo: u64,
    pub options: u64,
    pub payload_len: usize,
    /// False for Linux's CHECKSUM_PARTIAL: the pseudo-header's sum, not complemented.
    pub full_checksum: bool,
}

/// Writes the fixed 20 bytes of the TCP header with its checksum, summed from the header
/// words as they are built and from the payload `chunks` where they lie, not read back from
/// the buffer (loads of bytes just stored wait for the stores to reach the cache). Shared by
/// both emitters.
#[inline(always)]
pub(crate) fn write_fixed_header(header: &mut [u8], tcp: &TcpRepr, header_len: usize, sums: Sums, chunks: &[&[u8]]) {
    let mut fixed = tcp.fixed_words(header_len);
    let checksum = if sums.full_checksum {
        let fixed_sum: u64 = fixed.iter().map(|&w| w as u64).sum();
        let payload = if sums.payload_len == 0 { 0 } else { payload_sum(chunks) };
        !fold(sums.pseudo + fixed_sum + sums.options + payload)
    } else {
        fold(sums.pseudo)
    };
    // Each word one 32-bit store, so that the checksum a receiver computes right after reads
    // each word from one store (a load that spans two waits for them to reach the cache).
    fixed[4] |= (checksum as u32) << 16;
    for (chunk, word) in header.chunks_exact_mut(4).zip(fixed) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
}

/// The most option bytes a TCP header holds (data offset 15 words).
pub(crate) const MAX_OPTIONS_LEN: usize = 40;

/// The one's-complement sum of the concatenated `chunks`, read where they are. A chunk that
/// starts at an odd offset has its bytes in the other halves of the 16-bit words, so its sum
/// is taken byte-swapped (RFC 1071 §2 (B)).
fn payload_sum(chunks: &[&[u8]]) -> u64 {
    let mut sum = 0u64;
    let mut odd = false;
    for chunk in chunks.iter().filter(|c| !c.is_empty()) {
        let s = sum_words(chunk) as u16;
        sum += if odd { s.swap_bytes() } else { s } as u64;
        odd ^= chunk.len() % 2 == 1;
    }
    sum
}
