//! TCP over UDP in scripts (`--udp_encapsulation=tcp`, FreeBSD's tunneling): every segment
//! of the script travels in UDP, from and to the well-known port both sides use unless a
//! line names others (`/udp(1 > 9811)`).

use crate::ast::PacketSpec;
use crate::run::Runner;
use synack_wire::{decapsulate_udp, encapsulate_in_udp, fill_tcp_checksum, IP_PROTOCOL_UDP, UDP_HEADER_LEN};

/// The script side's UDP port when a line names none: the tunneling port FreeBSD's scripts
/// set (`net.inet.tcp.udp_tunneling_port=9811`), used by both ends as SCTP's well-known
/// encapsulation port is (RFC 6951).
pub(crate) const SCRIPT_UDP_PORT: u16 = 9811;

/// A packet synack sent in UDP: its (source, destination) ports and the TCP/IP packet inside,
/// its TCP checksum (sent as zero; the UDP checksum covered the segment) filled in so that it
/// reads as any segment. `None` for anything else (a datagram with a bad checksum included).
pub(crate) fn unwrap(packet: &[u8]) -> Option<((u16, u16), Vec<u8>)> {
    let (protocol, header) = match packet.first()? >> 4 {
        4 => (*packet.get(9)?, (packet[0] & 0x0f) as usize * 4),
        6 => (*packet.get(6)?, 40),
        _ => return None,
    };
    if protocol != IP_PROTOCOL_UDP {
        return None;
    }
    let udp = packet.get(header..header + UDP_HEADER_LEN)?;
    let dst = u16::from_be_bytes([udp[2], udp[3]]);
    let mut d = decapsulate_udp(packet, dst).ok()??;
    fill_tcp_checksum(&mut d.packet).then_some(((d.src_port, d.dst_port), d.packet))
}

/// How a trace line writes the ports: ` /udp(SRC > DST)`, or nothing.
pub(crate) fn suffix(ports: Option<(u16, u16)>) -> String {
    ports.map_or_else(String::new, |(src, dst)| format!("/udp({src} > {dst})"))
}

impl Runner {
    /// The (source, destination) ports an inbound line's segment travels with, if in UDP.
    pub(crate) fn inbound_udp_ports(&self, spec: &PacketSpec) -> Option<(u16, u16)> {
        let tunnel = self.ep.config().tcp_udp_tunneling_port;
        spec.udp_ports.or(self.udp_encapsulation.then_some((SCRIPT_UDP_PORT, tunnel)))
    }

    /// An inbound packet put in UDP as the line says.
    pub(crate) fn wrap_inbound(&self, spec: &PacketSpec, mut bytes: Vec<u8>) -> Result<Vec<u8>, String> {
        let Some((src, dst)) = self.inbound_udp_ports(spec) else { return Ok(bytes) };
        let len = bytes.len();
        bytes.resize(len + UDP_HEADER_LEN, 0);
        let n = encapsulate_in_udp(&mut bytes, len, src, dst).map_err(|e| format!("cannot put it in UDP: {e}"))?;
        bytes.truncate(n);
        Ok(bytes)
    }

    /// Whether synack's segment came as an outbound line expects: in UDP with the line's ports
    /// (or the default ones), or plain.
    pub(crate) fn check_udp_ports(&self, spec: &PacketSpec, got: Option<(u16, u16)>) -> Result<(), String> {
        let tunnel = self.ep.config().tcp_udp_tunneling_port;
        let want = spec.udp_ports.or(self.udp_encapsulation.then_some((tunnel, SCRIPT_UDP_PORT)));
        match (want, got) {
            (want, got) if want == got => Ok(()),
            (Some((s, d)), Some((gs, gd))) => Err(format!("in UDP {gs} > {gd} instead of {s} > {d}")),
            (Some(_), None) => Err("plain TCP where UDP was expected".into()),
            (None, Some(_)) => Err("in UDP where plain TCP was expected".into()),
            (None, None) => Ok(()),
        }
    }
}
