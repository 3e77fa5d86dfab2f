//! IPv6 fixed header (RFC 8200 §3): a zero-copy view and a parse/emit representation.

use crate::{Ecn, WireError};
use std::net::Ipv6Addr;

/// The fixed IPv6 header, bytes.
pub const IPV6_HEADER_LEN: usize = 40;

mod field {
    use std::ops::Range;
    pub const VER_TC_FLOW: Range<usize> = 0..4;
    pub const PAYLOAD_LEN: Range<usize> = 4..6;
    pub const NEXT_HEADER: usize = 6;
    pub const HOP_LIMIT: usize = 7;
    pub const SRC: Range<usize> = 8..24;
    pub const DST: Range<usize> = 24..40;
}

/// A view over the bytes of an IPv6 packet.
#[derive(Debug, Clone)]
pub struct Ipv6Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv6Packet<T> {
    /// A view over `buffer` without checking its length (the accessors may panic on a short one).
    pub fn new_unchecked(buffer: T) -> Self {
        Ipv6Packet { buffer }
    }

    /// A view over `buffer`, checked to hold the header and the payload its length field says.
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// After this passes, no accessor panics.
    pub fn check_len(&self) -> Result<(), WireError> {
        let len = self.buffer.as_ref().len();
        if len < IPV6_HEADER_LEN {
            return Err(WireError::Truncated);
        }
        if self.version() != 6 {
            return Err(WireError::Malformed("IP version is not 6"));
        }
        if IPV6_HEADER_LEN + self.payload_len() as usize > len {
            return Err(WireError::Truncated);
        }
        Ok(())
    }

    fn b(&self) -> &[u8] {
        self.buffer.as_ref()
    }
    /// The version field (6).
    pub fn version(&self) -> u8 {
        self.b()[0] >> 4
    }
    /// The payload length field, bytes.
    pub fn payload_len(&self) -> u16 {
        u16::from_be_bytes([self.b()[field::PAYLOAD_LEN.start], self.b()[field::PAYLOAD_LEN.start + 1]])
    }
    /// The next header field (6 for TCP; extension headers are not supported).
    pub fn next_header(&self) -> u8 {
        self.b()[field::NEXT_HEADER]
    }
    /// The traffic class byte (DSCP and ECN).
    pub fn traffic_class(&self) -> u8 {
        let b = self.buffer.as_ref();
        (b[0] << 4) | (b[1] >> 4)
    }
    /// The hop limit.
    pub fn hop_limit(&self) -> u8 {
        self.b()[field::HOP_LIMIT]
    }
    /// The source address.
    pub fn src_addr(&self) -> Ipv6Addr {
        let mut o = [0u8; 16];
        o.copy_from_slice(&self.b()[field::SRC]);
        Ipv6Addr::from(o)
    }
    /// The destination address.
    pub fn dst_addr(&self) -> Ipv6Addr {
        let mut o = [0u8; 16];
        o.copy_from_slice(&self.b()[field::DST]);
        Ipv6Addr::from(o)
    }
    /// The payload, as long as the length field says.
    pub fn payload(&self) -> &[u8] {
        &self.b()[IPV6_HEADER_LEN..IPV6_HEADER_LEN + self.payload_len() as usize]
    }
}

/// The meaning of an IPv6 fixed header (no extension headers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv6Repr {
    /// Source address.
    pub src: Ipv6Addr,
    /// Destination address.
    pub dst: Ipv6Addr,
    /// The protocol of the payload (6 for TCP).
    pub next_header: u8,
    /// Bytes of payload after the header.
    pub payload_len: usize,
    /// Hop limit.
    pub hop_limit: u8,
    /// The DSCP bits of the traffic class (RFC 2474), in place: the class with its ECN bits
    /// clear, as `IPV6_TCLASS` writes it.
    pub dscp: u8,
    /// The ECN bits of the traffic class.
    pub ecn: Ecn,
}

impl Ipv6Repr {
    /// The fields of a checked packet.
    pub fn parse<T: AsRef<[u8]>>(packet: &Ipv6Packet<T>) -> Result<Ipv6Repr, WireError> {
        packet.check_len()?;
        Ok(Ipv6Repr {
            src: packet.src_addr(),
            dst: packet.dst_addr(),
            next_header: packet.next_header(),
            payload_len: packet.payload_len() as usize,
            hop_limit: packet.hop_limit(),
            dscp: packet.traffic_class() & !0b11,
            ecn: Ecn::from_bits(packet.traffic_class()),
        })
    }

    /// Bytes the packet takes: header and payload.
    pub fn buffer_len(&self) -> usize {
        IPV6_HEADER_LEN
    }

    /// Writes the 40-byte fixed header into `buf[..40]`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<(), WireError> {
        if buf.len() < IPV6_HEADER_LEN || self.payload_len > u16::MAX as usize {
            return Err(WireError::BufferTooSmall);
        }
        let h = &mut buf[..IPV6_HEADER_LEN];
        // Version 6, then the traffic class across the next byte boundary: its DSCP's top four
        // bits end the first byte, the rest and ECN (its low two bits) begin the second.
        let class = self.dscp & !0b11 | self.ecn.bits();
        h[field::VER_TC_FLOW].copy_from_slice(&[0x60 | class >> 4, class << 4, 0, 0]);
        h[field::PAYLOAD_LEN].copy_from_slice(&(self.payload_len as u16).to_be_bytes());
        h[field::NEXT_HEADER] = self.next_header;
        h[field::HOP_LIMIT] = self.hop_limit;
        h[field::SRC].copy_from_slice(&self.src.octets());
        h[field::DST].copy_from_slice(&self.dst.octets());
        Ok(())
    }
}
