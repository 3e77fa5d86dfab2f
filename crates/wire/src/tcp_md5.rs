//! TCP MD5 signatures (RFC 2385), on whole packets: the digest covers the pseudo-header, the
//! TCP header without its options (checksum taken as zero), the data and the key (§2.0), so
//! it is computed on the packet as written and checked on the packet as received. For IPv6
//! the pseudo-header is IPv6's (RFC 8200 §8.1), as Linux and FreeBSD sign it.

use crate::raw_ip::{fill_tcp_checksum, ip_view, IpView};
use crate::{IP_PROTOCOL_TCP, TCP_HEADER_LEN};
use md5::{Digest, Md5};
use std::net::IpAddr;

/// What the signature option of a received packet says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Md5Check {
    /// The packet carries no signature option.
    Missing,
    /// Its digest is the packet's under the key.
    Valid,
    /// Its digest is not (or the packet is not a well-formed TCP/IP packet).
    Invalid,
}

/// Where a packet's TCP segment and the signature's digest lie, and its addresses.
struct Layout {
    src: IpAddr,
    dst: IpAddr,
    /// Where the TCP segment starts and ends in the packet.
    tcp: std::ops::Range<usize>,
    /// Offset of the 16-byte digest, if the options hold a signature.
    digest_at: Option<usize>,
}

fn layout(packet: &[u8]) -> Option<Layout> {
    let IpView { src, dst, payload_at: tcp_at, end, .. } = ip_view(packet)?;
    if tcp_at + TCP_HEADER_LEN > end {
        return None;
    }
    let header_len = (packet[tcp_at + 12] >> 4) as usize * 4;
    if header_len < TCP_HEADER_LEN || tcp_at + header_len > end {
        return None;
    }
    // Walk the options for kind 19.
    let mut at = tcp_at + TCP_HEADER_LEN;
    let options_end = tcp_at + header_len;
    let mut digest_at = None;
    while at < options_end {
        match packet[at] {
            0 => break,
            1 => at += 1,
            kind => {
                let len = *packet.get(at + 1)? as usize;
                if len < 2 || at + len > options_end {
                    return None;
                }
                if kind == 19 && len == 18 {
                    digest_at = Some(at + 2);
                }
                at += len;
            }
        }
    }
    Some(Layout { src, dst, tcp: tcp_at..end, digest_at })
}

/// RFC 2385 §2.0's digest of the TCP/IP packet `packet[..]` (its TCP segment ending where the
/// IP header says) under `key`.
fn digest(packet: &[u8], l: &Layout, key: &[u8]) -> [u8; 16] {
    let tcp = &packet[l.tcp.clone()];
    let mut md5 = Md5::new();
    // 1. The pseudo-header.
    match (l.src, l.dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            md5.update(s.octets());
            md5.update(d.octets());
            md5.update([0, IP_PROTOCOL_TCP]);
            md5.update((tcp.len() as u16).to_be_bytes());
        }
        (s, d) => {
            let octets = |a: IpAddr| match a {
                IpAddr::V6(a) => a.octets(),
                IpAddr::V4(a) => a.to_ipv6_mapped().octets(),
            };
            md5.update(octets(s));
            md5.update(octets(d));
            md5.update((tcp.len() as u32).to_be_bytes());
            md5.update([0, 0, 0, IP_PROTOCOL_TCP]);
        }
    }
    // 2. The TCP header without options, its checksum zero.
    let mut fixed = [0u8; TCP_HEADER_LEN];
    fixed.copy_from_slice(&tcp[..TCP_HEADER_LEN]);
    fixed[16..18].fill(0);
    md5.update(fixed);
    // 3. The data; 4. the key.
    let header_len = (tcp[12] >> 4) as usize * 4;
    md5.update(&tcp[header_len..]);
    md5.update(key);
    md5.finalize().into()
}

/// Fills in the digest of the signature option a packet was written with (`TcpOptions::md5`)
/// and then its TCP checksum, which covers the digest. False when the packet has no such
/// option or is not a TCP/IP packet.
pub fn sign_tcp_md5(packet: &mut [u8], key: &[u8]) -> bool {
    let Some(l) = layout(packet) else { return false };
    let Some(at) = l.digest_at else { return false };
    let digest = digest(packet, &l, key);
    packet[at..at + 16].copy_from_slice(&digest);
    fill_tcp_checksum(packet)
}

/// Checks a received packet's signature under `key` (RFC 2385 §3.0).
pub fn check_tcp_md5(packet: &[u8], key: &[u8]) -> Md5Check {
    let Some(l) = layout(packet) else { return Md5Check::Invalid };
    let Some(at) = l.digest_at else { return Md5Check::Missing };
    // Constant time is not needed for a MAC checked once per packet against a peer who
    // sees only whether the segment was taken; the comparison is plain.
    if packet[at..at + 16] == digest(packet, &l, key) {
        Md5Check::Valid
    } else {
        Md5Check::Invalid
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{emit_segment, parse_segment, Ecn, IpHeader, OptionLayout, SeqNum, TcpFlags, TcpOptions, TcpRepr};

    /// A packet from `src` to `dst` with these options and four bytes of data.
    fn packet(src: &str, dst: &str, options: TcpOptions) -> Vec<u8> {
        let ip = IpHeader { src: src.parse().unwrap(), dst: dst.parse().unwrap(), ttl: 64, ecn: Ecn::NotEct };
        let flags = TcpFlags::ACK | TcpFlags::PSH;
        let (seq, ack, window) = (SeqNum(1), SeqNum(2), 1000);
        let tcp =
            TcpRepr { src_port: 179, dst_port: 40000, seq, ack, flags, window, urgent: 0, options, payload: b"open" };
        let mut buf = vec![0u8; 200];
        let n = emit_segment(&ip, &tcp, 0, &mut buf).unwrap();
        buf.truncate(n);
        buf
    }

    fn signed(src: &str, dst: &str, layout: OptionLayout, key: &[u8]) -> Vec<u8> {
        let options = TcpOptions { md5: true, timestamps: Some((1, 2)), layout, ..TcpOptions::default() };
        let mut buf = packet(src, dst, options);
        assert!(sign_tcp_md5(&mut buf, key));
        buf
    }

    /// A signed packet checks under its key and not under another, keeps a valid TCP
    /// checksum, and any change to what the digest covers makes it fail; both families,
    /// both option layouts.
    #[test]
    fn a_signed_packet_checks_under_its_key_only() {
        for (src, dst) in [("10.0.0.1", "10.0.0.2"), ("fd00::1", "fd00::2")] {
            for layout in [OptionLayout::Linux, OptionLayout::Bsd] {
                let packet = signed(src, dst, layout, b"secret");
                let seg = parse_segment(&packet).expect("the checksum covers the digest");
                assert!(seg.tcp.options.md5);
                assert_eq!(seg.tcp.options.timestamps, Some((1, 2)));
                assert_eq!(check_tcp_md5(&packet, b"secret"), Md5Check::Valid);
                assert_eq!(check_tcp_md5(&packet, b"Secret"), Md5Check::Invalid);
                let mut changed = packet.clone();
                *changed.last_mut().unwrap() ^= 1;
                assert_eq!(check_tcp_md5(&changed, b"secret"), Md5Check::Invalid, "data");
                let mut unsigned = packet.clone();
                let tcp_at = if src.contains(':') { 40 } else { 20 };
                unsigned[tcp_at + 14] ^= 1; // the window
                assert_eq!(check_tcp_md5(&unsigned, b"secret"), Md5Check::Invalid, "header");
            }
        }
    }

    #[test]
    fn a_packet_without_the_option_is_missing_and_garbage_is_invalid() {
        let mut buf = packet("10.0.0.1", "10.0.0.2", TcpOptions::default());
        assert_eq!(check_tcp_md5(&buf, b"k"), Md5Check::Missing);
        assert!(!sign_tcp_md5(&mut buf, b"k"));
        for junk in [&[][..], &[0x45][..], &[0x60, 0, 0][..], &buf[..30]] {
            assert_eq!(check_tcp_md5(junk, b"k"), Md5Check::Invalid);
        }
    }
}
