//! Script packets on the wire: building the inbound ones byte for byte (options exactly as
//! written) and comparing synack's outbound ones with what a line expects, in script space.
//!
//! Script space (packetdrill's convention): the remote side's sequence numbers are used as
//! written; synack's are written relative to its ISN, which the runner learns from synack's
//! SYN or SYN-ACK. Inbound ACK numbers are shifted by that ISN, outbound sequence numbers
//! are shifted back.

use crate::ast::{IcmpSpec, OptSpec, PacketSpec, SeqSpec};
use std::fmt::Write;
use std::net::SocketAddr;
use synack_wire::{
    internet_checksum, pseudo_header_sum, Ecn, Ipv4Repr, Ipv6Repr, TcpFlags, TcpPacket, IP_PROTOCOL_TCP, TCP_HEADER_LEN,
};

/// The IP ECN codepoint a packet line names in brackets (packetdrill's `[noecn]`, `[ect0]`,
/// `[ect1]`, `[ce]`); `[ect01]` (either ECT) has no single codepoint.
pub fn ecn_codepoint(name: &str) -> Option<Ecn> {
    match name {
        "noecn" => Some(Ecn::NotEct),
        "ect0" => Some(Ecn::Ect0),
        "ect1" => Some(Ecn::Ect1),
        "ce" => Some(Ecn::Ce),
        _ => None,
    }
}

/// Whether an outbound packet's ECN codepoint is what the line names, if it names one.
pub fn ecn_mismatch(expected: Option<&str>, actual: Ecn) -> Option<String> {
    let name = expected?;
    let ok = match name {
        "ect01" => matches!(actual, Ecn::Ect0 | Ecn::Ect1),
        _ => match ecn_codepoint(name) {
            Some(e) => e == actual,
            None => return Some(format!("[{name}] is not an ECN codepoint (noecn, ect0, ect1, ect01, ce)")),
        },
    };
    (!ok).then(|| format!("IP ECN {actual:?} instead of [{name}]"))
}

/// Encodes an option list as written: every nop and eol is a byte.
pub fn encode_options(opts: &[OptSpec]) -> Vec<u8> {
    let mut out = Vec::new();
    for opt in opts {
        match *opt {
            OptSpec::Nop => out.push(1),
            OptSpec::Eol => out.push(0),
            OptSpec::Mss(mss) => out.extend_from_slice(&[2, 4, (mss >> 8) as u8, mss as u8]),
            OptSpec::WindowScale(s) => out.extend_from_slice(&[3, 3, s]),
            OptSpec::SackPermitted => out.extend_from_slice(&[4, 2]),
            OptSpec::Sack(blocks, n) => {
                out.extend_from_slice(&[5, 2 + 8 * n]);
                for &(l, r) in &blocks[..n as usize] {
                    out.extend_from_slice(&l.to_be_bytes());
                    out.extend_from_slice(&r.to_be_bytes());
                }
            }
            OptSpec::Timestamp { val, ecr } => {
                out.extend_from_slice(&[8, 10]);
                out.extend_from_slice(&val.to_be_bytes());
                out.extend_from_slice(&ecr.to_be_bytes());
            }
            // Kind 19, its digest filled in once the packet is built (`sign_tcp_md5`).
            OptSpec::Md5 { .. } => {
                out.extend_from_slice(&[19, 18]);
                out.extend_from_slice(&[0; 16]);
            }
        }
    }
    out
}

/// `opts` with every SACK block's edges moved up by `offset`.
pub(crate) fn shift_sack_blocks(opts: &[OptSpec], offset: u32) -> Vec<OptSpec> {
    opts.iter()
        .map(|opt| match *opt {
            OptSpec::Sack(mut blocks, n) => {
                for (l, r) in &mut blocks[..n as usize] {
                    (*l, *r) = (l.wrapping_add(offset), r.wrapping_add(offset));
                }
                OptSpec::Sack(blocks, n)
            }
            other => other,
        })
        .collect()
}

/// Decodes option bytes into the script's terms; `Err` holds a description of what is not
/// expressible (an unknown kind or a bad length).
pub fn decode_options(mut bytes: &[u8]) -> Result<Vec<OptSpec>, String> {
    let mut out = Vec::new();
    let be32 = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    while let Some(&kind) = bytes.first() {
        if kind == 0 || kind == 1 {
            out.push(if kind == 0 { OptSpec::Eol } else { OptSpec::Nop });
            bytes = &bytes[1..];
            continue;
        }
        let len = *bytes.get(1).ok_or("option without length")? as usize;
        if len < 2 || len > bytes.len() {
            return Err(format!("option {kind} with bad length {len}"));
        }
        let body = &bytes[2..len];
        out.push(match (kind, len) {
            (2, 4) => OptSpec::Mss(u16::from_be_bytes([body[0], body[1]])),
            (3, 3) => OptSpec::WindowScale(body[0]),
            (4, 2) => OptSpec::SackPermitted,
            (8, 10) => OptSpec::Timestamp { val: be32(&body[0..4]), ecr: be32(&body[4..8]) },
            // Whether the digest checks needs the key: the runner says (`match_outbound`).
            (19, 18) => OptSpec::Md5 { valid: false },
            (5, l) if (l - 2) % 8 == 0 && l <= 34 => {
                let mut blocks = [(0, 0); 4];
                for (i, chunk) in body.chunks(8).enumerate() {
                    blocks[i] = (be32(&chunk[0..4]), be32(&chunk[4..8]));
                }
                OptSpec::Sack(blocks, ((l - 2) / 8) as u8)
            }
            _ => return Err(format!("option kind {kind} length {len}")),
        });
        bytes = &bytes[len..];
    }
    Ok(out)
}

/// Builds the IP packet for an inbound line. `ack_offset` is synack's ISN (0 before it is known).
/// A line whose segment does not fit in one IP packet is an error (IPv4's total length and
/// IPv6's payload length are 16-bit fields).
pub fn build_inbound(spec: &PacketSpec, src: SocketAddr, dst: SocketAddr, ack_offset: u32) -> Result<Vec<u8>, String> {
    // SACK blocks name synack's sequence numbers, which the script writes relative to its
    // ISN as it writes the ACK field: both are shifted back (packetdrill does the same).
    let options = match &spec.options {
        Some(Some(list)) => encode_options(&shift_sack_blocks(list, ack_offset)),
        _ => Vec::new(),
    };
    let mut options = options;
    while options.len() % 4 != 0 {
        options.push(0);
    }
    let options = &options[..options.len().min(40)];
    let seq = match spec.seq {
        SeqSpec::Range { start, .. } => start,
        SeqSpec::Any { .. } => 0,
    };
    // The payload is zero bytes, as packetdrill sends.
    let payload_len = spec.seq.payload_len() as usize;
    let tcp_len = TCP_HEADER_LEN + options.len() + payload_len;
    let ip_len = if src.is_ipv4() { 20 } else { 40 };
    let carried = if src.is_ipv4() { ip_len + tcp_len } else { tcp_len };
    if carried > u16::MAX as usize {
        return Err(format!(
            "a segment of {payload_len} payload bytes does not fit in one {} packet (at most {} bytes of payload here)",
            if src.is_ipv4() { "IPv4" } else { "IPv6" },
            u16::MAX as usize - (carried - payload_len)
        ));
    }
    let mut buf = vec![0u8; ip_len + tcp_len];
    let ecn = spec.ecn.as_deref().and_then(ecn_codepoint).unwrap_or(Ecn::NotEct);
    match (src.ip(), dst.ip()) {
        (std::net::IpAddr::V4(s), std::net::IpAddr::V4(d)) => {
            let (protocol, payload_len) = (IP_PROTOCOL_TCP, tcp_len);
            let repr = Ipv4Repr { src: s, dst: d, protocol, payload_len, ttl: 64, dscp: 0, ecn };
            repr.emit(&mut buf, 0).expect("buffer sized for the header");
        }
        (std::net::IpAddr::V6(s), std::net::IpAddr::V6(d)) => {
            let (next_header, hop_limit) = (IP_PROTOCOL_TCP, 64);
            let repr = Ipv6Repr { src: s, dst: d, next_header, payload_len: tcp_len, hop_limit, dscp: 0, ecn };
            repr.emit(&mut buf).expect("buffer sized for the header");
        }
        _ => unreachable!("the runner uses one address family per script"),
    }
    let tcp = &mut buf[ip_len..];
    tcp[0..2].copy_from_slice(&src.port().to_be_bytes());
    tcp[2..4].copy_from_slice(&dst.port().to_be_bytes());
    tcp[4..8].copy_from_slice(&seq.to_be_bytes());
    let ack = spec.ack.map_or(0, |a| a.wrapping_add(ack_offset));
    tcp[8..12].copy_from_slice(&ack.to_be_bytes());
    tcp[12] = (((TCP_HEADER_LEN + options.len()) / 4) as u8) << 4;
    tcp[13] = spec.flags.bits();
    tcp[14..16].copy_from_slice(&spec.window.unwrap_or(0).to_be_bytes());
    tcp[18..20].copy_from_slice(&spec.urgent.unwrap_or(0).to_be_bytes());
    tcp[TCP_HEADER_LEN..TCP_HEADER_LEN + options.len()].copy_from_slice(options);
    let sum = internet_checksum(pseudo_header_sum(src.ip(), dst.ip(), IP_PROTOCOL_TCP, tcp_len), tcp);
    tcp[16..18].copy_from_slice(&sum.to_be_bytes());
    if let Some((name, value)) = &spec.ip_field {
        set_ip_field(&mut buf, name, *value as u8);
    }
    Ok(buf)
}

/// Writes `(ttl N)`, `(hlim N)`, `(tos X)` or `(class X)` into a built packet's IP header
/// (the IPv4 header checksum computed again).
fn set_ip_field(packet: &mut [u8], name: &str, value: u8) {
    if packet[0] >> 4 == 4 {
        match name {
            "ttl" | "hlim" => packet[8] = value,
            _ => packet[1] = value,
        }
        packet[10..12].fill(0);
        let sum = internet_checksum(0, &packet[..20]);
        packet[10..12].copy_from_slice(&sum.to_be_bytes());
    } else {
        match name {
            "ttl" | "hlim" => packet[7] = value,
            _ => {
                packet[0] = 0x60 | value >> 4;
                packet[1] = (packet[1] & 0x0f) | value << 4;
            }
        }
    }
}

/// Reads `(ttl N)`, `(hlim N)`, `(tos X)` or `(class X)` from a packet's IP header.
pub(crate) fn ip_field(packet: &[u8], name: &str) -> u8 {
    match (packet[0] >> 4 == 4, name) {
        (true, "ttl" | "hlim") => packet[8],
        (true, _) => packet[1],
        (false, "ttl" | "hlim") => packet[7],
        (false, _) => packet[0] << 4 | packet[1] >> 4,
    }
}

/// An outbound segment in script space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub flags: TcpFlags,
    pub seq: u32,
    pub len: u32,
    pub ack: u32,
    pub window: u16,
    pub urgent: u16,
    pub options: Result<Vec<OptSpec>, String>,
}

impl Seen {
    /// Reads a TCP segment (header and payload) sent by synack; `iss` is synack's ISN.
    pub fn from_tcp(tcp: &TcpPacket<&[u8]>, iss: u32) -> Seen {
        let flags = tcp.flags();
        Seen {
            flags,
            seq: tcp.seq_number().0.wrapping_sub(iss),
            len: tcp.payload().len() as u32,
            ack: if flags.ack() { tcp.ack_number().0 } else { 0 },
            window: tcp.window_len(),
            urgent: tcp.urgent_at(),
            options: decode_options(tcp.options()),
        }
    }

    /// This segment as a script line would write it.
    pub fn to_script(&self) -> String {
        let mut s = format!("{} {}:{}({})", flag_text(self.flags), self.seq, self.seq.wrapping_add(self.len), self.len);
        if self.flags.ack() {
            let _ = write!(s, " ack {}", self.ack);
        }
        let _ = write!(s, " win {}", self.window);
        if self.flags.urg() {
            let _ = write!(s, " urg {}", self.urgent);
        }
        match &self.options {
            Ok(list) if list.is_empty() => {}
            Ok(list) => {
                let _ = write!(s, " <{}>", options_text(list));
            }
            Err(e) => {
                let _ = write!(s, " <{e}>");
            }
        }
        s
    }

    /// The first difference from what `spec` expects, if any. TS values are not compared
    /// (as packetdrill without a timestamp tick): synack's clock is its own.
    pub fn mismatch(&self, spec: &PacketSpec) -> Option<String> {
        if self.flags != spec.flags {
            return Some(format!("flags {} instead of {}", flag_text(self.flags), flag_text(spec.flags)));
        }
        match spec.seq {
            SeqSpec::Range { start, len, .. } if (start, len) != (self.seq, self.len) => {
                return Some(format!(
                    "sequence {}:{}({}) instead of {}:{}({})",
                    self.seq,
                    self.seq.wrapping_add(self.len),
                    self.len,
                    start,
                    start.wrapping_add(len),
                    len
                ));
            }
            SeqSpec::Any { len } if len != self.len => {
                return Some(format!("length {} instead of {len}", self.len));
            }
            _ => {}
        }
        if let Some(ack) = spec.ack {
            if ack != self.ack {
                return Some(format!("ack {} instead of {ack}", self.ack));
            }
        }
        if let Some(win) = spec.window {
            if win != self.window {
                return Some(format!("win {} instead of {win}", self.window));
            }
        }
        if let Some(urg) = spec.urgent {
            if urg != self.urgent {
                return Some(format!("urg {} instead of {urg}", self.urgent));
            }
        }
        let expected: &[OptSpec] = match &spec.options {
            Some(None) => return None,
            Some(Some(list)) => list,
            None => &[],
        };
        let same = match &self.options {
            Ok(actual) => {
                actual.len() == expected.len()
                    && actual.iter().zip(expected).all(|(a, e)| match (a, e) {
                        (OptSpec::Timestamp { .. }, OptSpec::Timestamp { .. }) => true,
                        _ => a == e,
                    })
            }
            Err(_) => false,
        };
        if !same {
            let actual = match &self.options {
                Ok(list) => options_text(list),
                Err(e) => e.clone(),
            };
            return Some(format!("options <{actual}> instead of <{}>", options_text(expected)));
        }
        None
    }
}

pub fn flag_text(flags: TcpFlags) -> String {
    let mut s = String::new();
    for (bit, c) in [
        (TcpFlags::SYN, 'S'),
        (TcpFlags::FIN, 'F'),
        (TcpFlags::RST, 'R'),
        (TcpFlags::PSH, 'P'),
        (TcpFlags::URG, 'U'),
        (TcpFlags::ECE, 'E'),
        (TcpFlags::CWR, 'W'),
        (TcpFlags::ACK, '.'),
    ] {
        if flags.contains(bit) {
            s.push(c);
        }
    }
    s
}

pub fn options_text(list: &[OptSpec]) -> String {
    let items: Vec<String> = list
        .iter()
        .map(|o| match *o {
            OptSpec::Nop => "nop".to_string(),
            OptSpec::Eol => "eol".to_string(),
            OptSpec::Mss(m) => format!("mss {m}"),
            OptSpec::WindowScale(s) => format!("wscale {s}"),
            OptSpec::SackPermitted => "sackOK".to_string(),
            OptSpec::Sack(blocks, n) => {
                let b: Vec<String> = blocks[..n as usize].iter().map(|(l, r)| format!("{l}:{r}")).collect();
                format!("sack {}", b.join(" "))
            }
            OptSpec::Timestamp { val, ecr } => format!("TS val {val} ecr {ecr}"),
            OptSpec::Md5 { valid } => format!("md5 {}", if valid { "valid" } else { "invalid" }),
        })
        .collect();
    items.join(",")
}

/// packetdrill's names of ICMP (IPv4) and ICMPv6 types and codes, as (type, code).
fn icmp_numbers(ipv6: bool, type_name: &str, code_name: &str) -> Option<(u8, u8)> {
    let t = match (ipv6, type_name) {
        (false, "unreachable") => 3,
        (false, "time_exceeded") => 11,
        (false, "parameter_problem") => 12,
        (false, "source_quench") => 4,
        (false, "redirect") => 5,
        (true, "unreachable") => 1,
        (true, "packet_too_big") => 2,
        (true, "time_exceeded") => 3,
        (true, "parameter_problem") => 4,
        _ => return None,
    };
    let codes: &[&str] = match (ipv6, t) {
        (false, 3) => &[
            "net_unreachable",
            "host_unreachable",
            "protocol_unreachable",
            "port_unreachable",
            "frag_needed",
            "source_route_failed",
            "net_unknown",
            "host_unknown",
            "source_host_isolated",
            "net_prohibited",
            "host_prohibited",
            "net_unreachable_for_tos",
            "host_unreachable_for_tos",
            "packet_filtered",
            "precedence_violation",
            "precedence_cutoff",
        ],
        (false, 11) => &["ttl_exceeded_in_transit", "frag_reass_exceeded"],
        (true, 1) => &["no_route", "admin_prohibited", "not_neighbour", "address_unreachable", "port_unreachable"],
        (true, 3) => &["exceeded_hop_limit", "exceeded_frag_time"],
        (true, 4) => &["header_field", "unknown_next_header", "unknown_option"],
        _ => &[],
    };
    let code = match codes.iter().position(|c| *c == code_name) {
        Some(i) => i as u8,
        None => code_name.strip_prefix("code_").unwrap_or(code_name).parse().ok()?,
    };
    Some((t, code))
}

/// An ICMP error from the script's host about synack's segment from `local` to `remote`
/// whose sequence number is `seq` (absolute).
pub fn build_icmp(spec: &IcmpSpec, local: SocketAddr, remote: SocketAddr, seq: u32) -> Result<Vec<u8>, String> {
    let ipv6 = local.is_ipv6();
    let Some((icmp_type, code)) = icmp_numbers(ipv6, &spec.icmp_type, &spec.code) else {
        return Err(format!(
            "`icmp {} {}` is not an ICMP{} error packetdrill names",
            spec.icmp_type,
            spec.code,
            if ipv6 { "v6" } else { "" }
        ));
    };
    let quoted_spec = PacketSpec {
        inbound: true,
        ecn: None,
        flags: TcpFlags::ACK,
        seq: SeqSpec::Range { start: seq, end: seq, len: 0 },
        ack: Some(0),
        window: Some(0),
        urgent: None,
        options: None,
        ip_field: None,
        udp_ports: None,
        absolute_seq: false,
    };
    let quoted = build_inbound(&quoted_spec, local, remote, 0)?;
    let rest = match spec.mtu {
        Some(mtu) if ipv6 => mtu.to_be_bytes(),
        Some(mtu) => [0, 0, (mtu >> 8) as u8, mtu as u8],
        None => [0; 4],
    };
    let mut buf = vec![0u8; 1280];
    let n = synack_wire::emit_icmp_error(remote.ip(), local.ip(), icmp_type, code, rest, &quoted, &mut buf)
        .map_err(|e| format!("cannot build the ICMP error: {e}"))?;
    buf.truncate(n);
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_round_trip_byte_for_byte() {
        let list = vec![
            OptSpec::Mss(1460),
            OptSpec::Nop,
            OptSpec::WindowScale(6),
            OptSpec::SackPermitted,
            OptSpec::Timestamp { val: 100, ecr: 0 },
        ];
        let bytes = encode_options(&list);
        assert_eq!(bytes.len(), 20);
        assert_eq!(decode_options(&bytes).unwrap(), list);
        assert_eq!(options_text(&list), "mss 1460,nop,wscale 6,sackOK,TS val 100 ecr 0");
        assert!(decode_options(&[2, 9, 0]).is_err());
    }

    /// An inbound SACK block names synack's sequence numbers relative to its ISN, as the ACK
    /// field does: both are shifted by the ISN on the wire.
    #[test]
    fn inbound_sack_blocks_are_shifted_by_synacks_isn_like_the_ack() {
        use crate::ast::{PacketSpec, SeqSpec};
        let mut blocks = [(0, 0); 4];
        blocks[0] = (1001, 2001);
        let spec = PacketSpec {
            inbound: true,
            ecn: None,
            flags: TcpFlags::ACK,
            seq: SeqSpec::Range { start: 1, end: 1, len: 0 },
            ack: Some(1),
            window: Some(1000),
            urgent: None,
            options: Some(Some(vec![OptSpec::Nop, OptSpec::Nop, OptSpec::Sack(blocks, 1)])),
            ip_field: None,
            udp_ports: None,
            absolute_seq: false,
        };
        let (src, dst) = ("192.0.2.1:40000".parse().unwrap(), "192.168.0.1:8080".parse().unwrap());
        let bytes = build_inbound(&spec, src, dst, 5000).unwrap();
        let seg = synack_wire::parse_segment(&bytes).unwrap();
        assert_eq!(seg.tcp.ack.0, 5001);
        assert_eq!(seg.tcp.options.sack.as_slice(), &[(synack_wire::SeqNum(6001), synack_wire::SeqNum(7001))]);
    }
}
