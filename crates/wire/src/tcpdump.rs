//! One line per segment in the form `tcpdump -nn` prints it (without the leading timestamp),
//! relative sequence numbers by default and absolute ones as with `-S`.
//!
//! The formatter works from the raw bytes, as tcpdump does, so options appear in wire order
//! and a segment with a bad checksum still prints. Relative numbering follows tcpdump's rule:
//! numbers are made relative only on segments with ACK set; a segment with SYN and ACK (or the
//! first ACK segment of a conversation) records the base and prints absolute numbers.

use crate::{Ipv4Packet, Ipv6Packet, SeqNum, TcpFlags, TcpPacket, IP_PROTOCOL_TCP};
use std::collections::HashMap;
use std::fmt::Write;
use std::net::IpAddr;

/// tcpdump's flag letters in its order: F S R P . U E W; `none` when no bit is set.
pub fn flag_letters(flags: TcpFlags) -> String {
    const LETTERS: [(TcpFlags, char); 8] = [
        (TcpFlags::FIN, 'F'),
        (TcpFlags::SYN, 'S'),
        (TcpFlags::RST, 'R'),
        (TcpFlags::PSH, 'P'),
        (TcpFlags::ACK, '.'),
        (TcpFlags::URG, 'U'),
        (TcpFlags::ECE, 'E'),
        (TcpFlags::CWR, 'W'),
    ];
    let s: String = LETTERS.iter().filter(|(f, _)| flags.contains(*f)).map(|(_, c)| *c).collect();
    if s.is_empty() {
        "none".to_string()
    } else {
        s
    }
}

/// A conversation key in tcpdump's collating order: one entry serves both directions.
#[derive(Hash, PartialEq, Eq, Clone, Copy)]
struct Conversation {
    low: IpAddr,
    high: IpAddr,
    ports: u32,
}

/// Formats segments as `tcpdump -nn` would; keeps the per-conversation base sequence numbers.
#[derive(Default)]
pub struct Formatter {
    absolute: bool,
    /// (base of the `low` side's seq, base of the `high` side's seq), per conversation.
    bases: HashMap<Conversation, (u32, u32)>,
}

impl Formatter {
    /// `absolute` = tcpdump's `-S`.
    pub fn new(absolute: bool) -> Formatter {
        Formatter { absolute, bases: HashMap::new() }
    }

    /// One line for one IP packet. Anything that is not TCP over IP still gives a line.
    pub fn format(&mut self, packet: &[u8]) -> String {
        let (family, src, dst, tcp) = match packet.first().map(|b| b >> 4) {
            Some(4) => match Ipv4Packet::new_checked(packet) {
                Ok(p) if p.protocol() == IP_PROTOCOL_TCP => {
                    let body = &packet[p.header_len()..p.total_len() as usize];
                    ("IP", p.src_addr().into(), p.dst_addr().into(), body)
                }
                Ok(p) => return format!("IP {} > {}: ip-proto-{}", p.src_addr(), p.dst_addr(), p.protocol()),
                Err(e) => return format!("IP [{e}]"),
            },
            Some(6) => match Ipv6Packet::new_checked(packet) {
                Ok(p) if p.next_header() == IP_PROTOCOL_TCP => {
                    let body = &packet[crate::IPV6_HEADER_LEN..crate::IPV6_HEADER_LEN + p.payload_len() as usize];
                    ("IP6", p.src_addr().into(), p.dst_addr().into(), body)
                }
                Ok(p) => return format!("IP6 {} > {}: ip-proto-{}", p.src_addr(), p.dst_addr(), p.next_header()),
                Err(e) => return format!("IP6 [{e}]"),
            },
            _ => return format!("[not IP, {} bytes]", packet.len()),
        };
        self.format_tcp(family, src, dst, tcp)
    }

    fn format_tcp(&mut self, family: &str, src: IpAddr, dst: IpAddr, bytes: &[u8]) -> String {
        let mut line = String::with_capacity(128);
        let tcp = match TcpPacket::new_checked(bytes) {
            Ok(tcp) => tcp,
            Err(e) => {
                let _ = write!(line, "{family} {src} > {dst}: tcp [{e}]");
                return line;
            }
        };
        let flags = tcp.flags();
        let (sport, dport) = (tcp.src_port(), tcp.dst_port());
        let mut seq = tcp.seq_number().0;
        let mut ack = tcp.ack_number().0;
        let mut base_ack = 0u32;
        if !self.absolute && flags.ack() {
            let swap = octets(dst) < octets(src) || (dst == src && dport < sport);
            let key = if swap {
                Conversation { low: dst, high: src, ports: (dport as u32) << 16 | sport as u32 }
            } else {
                Conversation { low: src, high: dst, ports: (sport as u32) << 16 | dport as u32 }
            };
            match self.bases.get(&key) {
                Some(&(low_base, high_base)) if !flags.syn() => {
                    let base_seq;
                    (base_seq, base_ack) = if swap { (high_base, low_base) } else { (low_base, high_base) };
                    seq = seq.wrapping_sub(base_seq);
                    ack = ack.wrapping_sub(base_ack);
                }
                _ => {
                    let entry = if swap { (ack.wrapping_sub(1), seq) } else { (seq, ack.wrapping_sub(1)) };
                    self.bases.insert(key, entry);
                    base_ack = if swap { entry.0 } else { entry.1 };
                }
            }
        }
        let payload_len = tcp.payload().len();
        let _ = write!(line, "{family} {src}.{sport} > {dst}.{dport}: Flags [{}]", flag_letters(flags));
        if payload_len > 0 || flags.syn() || flags.fin() || flags.rst() {
            let _ = write!(line, ", seq {seq}");
            if payload_len > 0 {
                let _ = write!(line, ":{}", seq.wrapping_add(payload_len as u32));
            }
        }
        if flags.ack() {
            let _ = write!(line, ", ack {ack}");
        }
        let _ = write!(line, ", win {}", tcp.window_len());
        if flags.urg() {
            let _ = write!(line, ", urg {}", tcp.urgent_at());
        }
        // SACK edges are acknowledgment numbers: relative to the same base as `ack`.
        let sack_base = base_ack;
        if !tcp.options().is_empty() {
            line.push_str(", options [");
            format_options(&mut line, tcp.options(), sack_base);
            line.push(']');
        }
        let _ = write!(line, ", length {payload_len}");
        line
    }
}

fn octets(ip: IpAddr) -> Vec<u8> {
    match ip {
        IpAddr::V4(v4) => v4.octets().to_vec(),
        IpAddr::V6(v6) => v6.octets().to_vec(),
    }
}

fn format_options(line: &mut String, mut bytes: &[u8], sack_base: u32) {
    let mut first = true;
    while let Some((&kind, rest)) = bytes.split_first() {
        if !first {
            line.push(',');
        }
        first = false;
        match kind {
            0 => {
                line.push_str("eol");
                return;
            }
            1 => {
                line.push_str("nop");
                bytes = rest;
                continue;
            }
            _ => {}
        }
        let Some(&len) = rest.first() else {
            line.push_str("[bad opt]");
            return;
        };
        let len = len as usize;
        if len < 2 || len > bytes.len() {
            line.push_str("[bad opt]");
            return;
        }
        let body = &bytes[2..len];
        let be32 = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        match (kind, body.len()) {
            (2, 2) => {
                let _ = write!(line, "mss {}", u16::from_be_bytes([body[0], body[1]]));
            }
            (3, 1) => {
                let _ = write!(line, "wscale {}", body[0]);
            }
            (4, 0) => line.push_str("sackOK"),
            (5, n) if n % 8 == 0 => {
                let _ = write!(line, "sack {} ", n / 8);
                for block in body.chunks_exact(8) {
                    let left = SeqNum(be32(&block[..4])) - sack_base;
                    let right = SeqNum(be32(&block[4..])) - sack_base;
                    let _ = write!(line, "{{{}:{}}}", left.0, right.0);
                }
            }
            (8, 8) => {
                let _ = write!(line, "TS val {} ecr {}", be32(&body[..4]), be32(&body[4..]));
            }
            _ => {
                let _ = write!(line, "unknown-{kind} 0x");
                for b in body {
                    let _ = write!(line, "{b:02x}");
                }
            }
        }
        bytes = &bytes[len..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_use_tcpdump_letters_and_order() {
        assert_eq!(flag_letters(TcpFlags::SYN | TcpFlags::ACK), "S.");
        assert_eq!(flag_letters(TcpFlags::FIN | TcpFlags::PSH | TcpFlags::ACK), "FP.");
        assert_eq!(flag_letters(TcpFlags::RST | TcpFlags::ACK), "R.");
        assert_eq!(flag_letters(TcpFlags::ACK), ".");
        assert_eq!(flag_letters(TcpFlags::NONE), "none");
    }
}
