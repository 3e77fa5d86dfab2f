//! TCP encapsulated in UDP, as FreeBSD tunnels it (`net.inet.tcp.udp_tunneling_port`, the
//! socket option TCP_REMOTE_UDP_ENCAPS_PORT): an 8-byte UDP header between the IP header and
//! the TCP segment. The UDP checksum covers the segment (UDP's pseudo-header, RFC 768), and
//! the TCP checksum field is sent as zero, as FreeBSD's `tcp_output` leaves it; on input the
//! UDP checksum is what is checked.

use crate::checksum::pseudo_header_sum;
use crate::raw_ip::{ip_view, IpView};
use crate::{internet_checksum, WireError, IP_PROTOCOL_TCP};

/// The IP protocol number of UDP.
pub const IP_PROTOCOL_UDP: u8 = 17;
/// The UDP header's length.
pub const UDP_HEADER_LEN: usize = 8;

/// Writes a new payload length (and protocol) into an IP header, with IPv4's checksum again.
fn set_ip_payload(packet: &mut [u8], view: &IpView, payload_len: usize, protocol: u8) {
    if view.src.is_ipv4() {
        let total = (view.payload_at + payload_len) as u16;
        packet[2..4].copy_from_slice(&total.to_be_bytes());
        packet[9] = protocol;
        packet[10..12].fill(0);
        let sum = internet_checksum(0, &packet[..view.payload_at]);
        packet[10..12].copy_from_slice(&sum.to_be_bytes());
    } else {
        packet[4..6].copy_from_slice(&(payload_len as u16).to_be_bytes());
        packet[6] = protocol;
    }
}

/// Puts the TCP/IP packet `buf[..len]` into UDP from port `src_port` to `dst_port`, in place
/// (`buf` needs 8 bytes beyond `len`). Returns the new length.
pub fn encapsulate_in_udp(buf: &mut [u8], len: usize, src_port: u16, dst_port: u16) -> Result<usize, WireError> {
    let view =
        ip_view(buf.get(..len).ok_or(WireError::BufferTooSmall)?).ok_or(WireError::Malformed("not an IP packet"))?;
    if view.protocol != IP_PROTOCOL_TCP || view.end != len {
        return Err(WireError::Malformed("not a TCP/IP packet"));
    }
    let udp_len = len - view.payload_at + UDP_HEADER_LEN;
    if buf.len() < len + UDP_HEADER_LEN || udp_len > u16::MAX as usize {
        return Err(WireError::BufferTooSmall);
    }
    let at = view.payload_at;
    buf.copy_within(at..len, at + UDP_HEADER_LEN);
    // The TCP checksum is not sent: the UDP checksum covers the segment.
    buf[at + UDP_HEADER_LEN + 16..at + UDP_HEADER_LEN + 18].fill(0);
    buf[at..at + 2].copy_from_slice(&src_port.to_be_bytes());
    buf[at + 2..at + 4].copy_from_slice(&dst_port.to_be_bytes());
    buf[at + 4..at + 6].copy_from_slice(&(udp_len as u16).to_be_bytes());
    buf[at + 6..at + 8].fill(0);
    set_ip_payload(buf, &view, udp_len, IP_PROTOCOL_UDP);
    let sum =
        internet_checksum(pseudo_header_sum(view.src, view.dst, IP_PROTOCOL_UDP, udp_len), &buf[at..at + udp_len]);
    // RFC 768: a computed zero is sent as all ones (zero means "no checksum").
    let sum = if sum == 0 { 0xffff } else { sum };
    buf[at + 6..at + 8].copy_from_slice(&sum.to_be_bytes());
    Ok(len + UDP_HEADER_LEN)
}

/// A TCP segment that came in UDP: the ports of the UDP header and the packet as plain TCP/IP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decapsulated {
    /// The UDP header's source port (the peer's encapsulation port).
    pub src_port: u16,
    /// Its destination port.
    pub dst_port: u16,
    /// The IP packet with the UDP header taken out. Its TCP checksum is whatever the sender
    /// wrote (FreeBSD writes zero); the UDP checksum has been checked instead.
    pub packet: Vec<u8>,
}

/// The UDP datagram `packet` to port `port`, if it is one, as the TCP/IP packet it carries.
/// `Ok(None)`: not UDP to that port. A bad UDP checksum (a zero one over IPv4 is none, RFC
/// 768) or a payload too short for a TCP header is an error.
pub fn decapsulate_udp(packet: &[u8], port: u16) -> Result<Option<Decapsulated>, WireError> {
    let Some(view) = ip_view(packet) else { return Ok(None) };
    if view.protocol != IP_PROTOCOL_UDP {
        return Ok(None);
    }
    let at = view.payload_at;
    let udp = &packet[at..view.end];
    if udp.len() < UDP_HEADER_LEN {
        return Err(WireError::Malformed("UDP header cut short"));
    }
    let dst_port = u16::from_be_bytes([udp[2], udp[3]]);
    if dst_port != port {
        return Ok(None);
    }
    let udp_len = u16::from_be_bytes([udp[4], udp[5]]) as usize;
    if udp_len != udp.len() || udp_len < UDP_HEADER_LEN + crate::TCP_HEADER_LEN {
        return Err(WireError::Malformed("UDP length"));
    }
    let sent_sum = u16::from_be_bytes([udp[6], udp[7]]);
    if (sent_sum != 0 || view.src.is_ipv6())
        && internet_checksum(pseudo_header_sum(view.src, view.dst, IP_PROTOCOL_UDP, udp_len), udp) != 0
    {
        return Err(WireError::BadChecksum);
    }
    let mut plain = Vec::with_capacity(packet.len() - UDP_HEADER_LEN);
    plain.extend_from_slice(&packet[..at]);
    plain.extend_from_slice(&udp[UDP_HEADER_LEN..]);
    set_ip_payload(&mut plain, &view, udp_len - UDP_HEADER_LEN, IP_PROTOCOL_TCP);
    Ok(Some(Decapsulated { src_port: u16::from_be_bytes([udp[0], udp[1]]), dst_port, packet: plain }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{emit_segment, parse_segment_with, Ecn, IpHeader, SeqNum, TcpFlags, TcpOptions, TcpRepr};

    fn tcp_packet(src: &str, dst: &str) -> Vec<u8> {
        let ip = IpHeader { src: src.parse().unwrap(), dst: dst.parse().unwrap(), ttl: 9, ecn: Ecn::NotEct };
        let options = TcpOptions { timestamps: Some((5, 6)), ..TcpOptions::default() };
        let (seq, ack, flags) = (SeqNum(10), SeqNum(20), TcpFlags::ACK | TcpFlags::PSH);
        let tcp =
            TcpRepr { src_port: 80, dst_port: 5000, seq, ack, flags, window: 700, urgent: 0, options, payload: b"hi" };
        let mut buf = vec![0u8; 300];
        let n = emit_segment(&ip, &tcp, 1, &mut buf).unwrap();
        buf.truncate(n);
        buf
    }

    /// Encapsulated and taken out again, a segment is the same but for its TCP checksum
    /// (zero, as FreeBSD sends it); both families; a flipped bit fails the UDP checksum.
    #[test]
    fn a_segment_survives_encapsulation_both_ways() {
        for (src, dst) in [("10.0.0.1", "10.0.0.2"), ("fd00::1", "fd00::2")] {
            let plain = tcp_packet(src, dst);
            let mut buf = plain.clone();
            buf.resize(plain.len() + 8, 0);
            let n = encapsulate_in_udp(&mut buf, plain.len(), 9811, 1).unwrap();
            assert_eq!(n, plain.len() + 8);
            let out = decapsulate_udp(&buf[..n], 1).unwrap().expect("UDP to port 1");
            assert_eq!((out.src_port, out.dst_port), (9811, 1));
            let seg = parse_segment_with(&out.packet, false).unwrap();
            let orig = parse_segment_with(&plain, true).unwrap();
            assert_eq!((seg.ip, seg.tcp), (orig.ip, orig.tcp));
            assert_eq!(decapsulate_udp(&buf[..n], 2), Ok(None), "another port");
            assert_eq!(decapsulate_udp(&plain, 1), Ok(None), "not UDP");
            let mut bad = buf[..n].to_vec();
            *bad.last_mut().unwrap() ^= 1;
            assert_eq!(decapsulate_udp(&bad, 1), Err(WireError::BadChecksum));
        }
    }
}
