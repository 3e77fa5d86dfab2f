//! Whole IP packets read and changed in place by offset, for the functions that work on a
//! packet as written (signatures, UDP encapsulation, a checksum filled in afterwards).

use crate::checksum::pseudo_header_sum;
use crate::{internet_checksum, IP_PROTOCOL_TCP, TCP_HEADER_LEN};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Where an IP packet's payload starts and ends, its addresses, and its protocol field.
pub(crate) struct IpView {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub payload_at: usize,
    pub end: usize,
    pub protocol: u8,
}

/// The view of an IPv4 or IPv6 packet whose header and stated length fit in `packet`.
pub(crate) fn ip_view(packet: &[u8]) -> Option<IpView> {
    match packet.first()? >> 4 {
        4 => {
            let ihl = (packet[0] & 0x0f) as usize * 4;
            let end = u16::from_be_bytes([*packet.get(2)?, *packet.get(3)?]) as usize;
            let src: [u8; 4] = packet.get(12..16)?.try_into().ok()?;
            let dst: [u8; 4] = packet.get(16..20)?.try_into().ok()?;
            (ihl >= 20 && ihl <= end && end <= packet.len()).then(|| IpView {
                src: Ipv4Addr::from(src).into(),
                dst: Ipv4Addr::from(dst).into(),
                payload_at: ihl,
                end,
                protocol: packet[9],
            })
        }
        6 => {
            let end = 40 + u16::from_be_bytes([*packet.get(4)?, *packet.get(5)?]) as usize;
            let src: [u8; 16] = packet.get(8..24)?.try_into().ok()?;
            let dst: [u8; 16] = packet.get(24..40)?.try_into().ok()?;
            (end <= packet.len()).then(|| IpView {
                src: Ipv6Addr::from(src).into(),
                dst: Ipv6Addr::from(dst).into(),
                payload_at: 40,
                end,
                protocol: packet[6],
            })
        }
        _ => None,
    }
}

/// Writes the full TCP checksum of the TCP/IP packet `packet` (its segment ending where the
/// IP header says), for a packet changed after it was written or sent without one. False,
/// and nothing written, for a packet too short for its headers.
pub fn fill_tcp_checksum(packet: &mut [u8]) -> bool {
    let Some(view) = ip_view(packet) else { return false };
    let tcp = &mut packet[view.payload_at..view.end];
    if tcp.len() < TCP_HEADER_LEN {
        return false;
    }
    tcp[16..18].fill(0);
    let sum = internet_checksum(pseudo_header_sum(view.src, view.dst, IP_PROTOCOL_TCP, tcp.len()), tcp);
    tcp[16..18].copy_from_slice(&sum.to_be_bytes());
    true
}

/// Clears the Don't Fragment flag of the IPv4 packet `packet` and mends its header checksum
/// (for a socket that lets routers fragment what it sends, IP_PMTUDISC_DONT). False, and
/// nothing changed, for anything but an IPv4 header that fits.
pub fn clear_dont_fragment(packet: &mut [u8]) -> bool {
    let ihl = match packet.first() {
        Some(&b) if b >> 4 == 4 => (b & 0x0f) as usize * 4,
        _ => return false,
    };
    let Some(header) = packet.get_mut(..ihl).filter(|h| h.len() >= 20) else { return false };
    header[6] &= !0x40;
    header[10..12].fill(0);
    let sum = internet_checksum(0, header);
    header[10..12].copy_from_slice(&sum.to_be_bytes());
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{emit_segment, parse_segment, Ecn, IpHeader, SeqNum, TcpFlags, TcpOptions, TcpRepr};

    /// A checksum spoiled after writing is written again, both families; a packet cut short
    /// of its headers is left alone.
    #[test]
    fn a_tcp_checksum_is_filled_in_after_the_fact() {
        for (src, dst) in [("10.0.0.1", "10.0.0.2"), ("fd00::1", "fd00::2")] {
            let ip = IpHeader { src: src.parse().unwrap(), dst: dst.parse().unwrap(), ttl: 64, ecn: Ecn::NotEct };
            let (seq, ack, flags) = (SeqNum(1), SeqNum(2), TcpFlags::ACK);
            let options = TcpOptions::default();
            let tcp =
                TcpRepr { src_port: 1, dst_port: 2, seq, ack, flags, window: 9, urgent: 0, options, payload: b"abc" };
            let mut buf = vec![0u8; 200];
            let n = emit_segment(&ip, &tcp, 0, &mut buf).unwrap();
            buf.truncate(n);
            let at = if src.contains(':') { 40 } else { 20 };
            buf[at + 16] ^= 0xff;
            assert!(parse_segment(&buf).is_err());
            assert!(fill_tcp_checksum(&mut buf));
            assert_eq!(parse_segment(&buf).unwrap().tcp, tcp);
            let mut short = buf[..at + 10].to_vec();
            assert!(!fill_tcp_checksum(&mut short));
        }
    }
}
