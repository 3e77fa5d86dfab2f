//! A captured IP packet read as a TCP segment, leniently: checksums are not checked (a capture
//! on the sending host sees them before the NIC fills them in), and a payload cut short by the
//! snaplen still counts at the length the IP header gives.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;
use synack_wire::{SackBlocks, SeqNum, TcpFlags, TcpOptions, TcpPacket};

/// One TCP segment of a capture.
#[derive(Debug, Clone)]
pub struct Segment {
    /// The frame's number in the file, from 1.
    pub number: usize,
    /// When it was captured, since the Unix epoch.
    pub time: Duration,
    /// Sender and receiver.
    pub src: SocketAddr,
    /// The receiver.
    pub dst: SocketAddr,
    /// Sequence and acknowledgment numbers, absolute.
    pub seq: SeqNum,
    /// The acknowledgment number (meaningful with ACK set).
    pub ack: SeqNum,
    /// The control bits.
    pub flags: TcpFlags,
    /// The window field as sent (unscaled).
    pub window: u16,
    /// The options that matter here: MSS, window scale, SACK permitted, SACK blocks and
    /// timestamps.
    pub mss: Option<u16>,
    /// The window-scale shift (SYNs).
    pub window_scale: Option<u8>,
    /// SACK permitted (SYNs).
    pub sack_permitted: bool,
    /// SACK blocks.
    pub sack: SackBlocks,
    /// (TSval, TSecr).
    pub timestamps: Option<(u32, u32)>,
    /// Payload bytes, from the IP header's lengths.
    pub len: u32,
}

impl Segment {
    /// Sequence space the segment takes: its payload, plus one each for SYN and FIN.
    pub fn seq_len(&self) -> u32 {
        self.len + self.flags.syn() as u32 + self.flags.fin() as u32
    }
}

/// The TCP segment in `ip` (IPv4 or IPv6, extension headers skipped), or None for anything
/// else: other protocols, fragments after the first, headers cut short.
pub fn decode(number: usize, time: Duration, ip: &[u8]) -> Option<Segment> {
    let (src, dst, tcp, tcp_total) = match ip.first()? >> 4 {
        4 => {
            let header_len = ((ip[0] & 0x0f) as usize) * 4;
            let total = u16::from_be_bytes([*ip.get(2)?, *ip.get(3)?]) as usize;
            let fragment_offset = u16::from_be_bytes([*ip.get(6)?, *ip.get(7)?]) & 0x1fff;
            if *ip.get(9)? != 6 || header_len < 20 || fragment_offset != 0 || total < header_len {
                return None;
            }
            let src = Ipv4Addr::from(<[u8; 4]>::try_from(ip.get(12..16)?).ok()?);
            let dst = Ipv4Addr::from(<[u8; 4]>::try_from(ip.get(16..20)?).ok()?);
            (IpAddr::V4(src), IpAddr::V4(dst), ip.get(header_len..)?, total - header_len)
        }
        6 => {
            let payload_len = u16::from_be_bytes([*ip.get(4)?, *ip.get(5)?]) as usize;
            let src = Ipv6Addr::from(<[u8; 16]>::try_from(ip.get(8..24)?).ok()?);
            let dst = Ipv6Addr::from(<[u8; 16]>::try_from(ip.get(24..40)?).ok()?);
            let (mut next, mut at) = (*ip.get(6)?, 40);
            // Hop-by-hop, routing and destination options: skip by their length.
            while matches!(next, 0 | 43 | 60) {
                next = *ip.get(at)?;
                at += (*ip.get(at + 1)? as usize + 1) * 8;
            }
            if next != 6 {
                return None;
            }
            (IpAddr::V6(src), IpAddr::V6(dst), ip.get(at..)?, (40 + payload_len).checked_sub(at)?)
        }
        _ => return None,
    };
    let packet = TcpPacket::new_checked(tcp).ok()?;
    let options = TcpOptions::parse(packet.options()).unwrap_or_default();
    Some(Segment {
        number,
        time,
        src: SocketAddr::new(src, packet.src_port()),
        dst: SocketAddr::new(dst, packet.dst_port()),
        seq: packet.seq_number(),
        ack: packet.ack_number(),
        flags: packet.flags(),
        window: packet.window_len(),
        mss: options.mss,
        window_scale: options.window_scale,
        sack_permitted: options.sack_permitted,
        sack: options.sack,
        timestamps: options.timestamps,
        len: tcp_total.saturating_sub(packet.header_len()) as u32,
    })
}
