//! IPv4 header (RFC 791): a zero-copy view and a parse/emit representation.

use crate::checksum::{fold, header_checksum, internet_checksum};
use crate::{Ecn, WireError};
use std::net::Ipv4Addr;

/// An IPv4 header without options, bytes.
pub const IPV4_HEADER_LEN: usize = 20;

mod field {
    use std::ops::Range;
    pub const VER_IHL: usize = 0;
    pub const TOS: usize = 1;
    pub const TOTAL_LEN: Range<usize> = 2..4;
    pub const IDENT: Range<usize> = 4..6;
    pub const FLAGS_FRAG: Range<usize> = 6..8;
    pub const TTL: usize = 8;
    pub const PROTOCOL: usize = 9;
    pub const CHECKSUM: Range<usize> = 10..12;
    pub const SRC: Range<usize> = 12..16;
    pub const DST: Range<usize> = 16..20;
}

const FLAG_DONT_FRAGMENT: u16 = 0x4000;
const FLAG_MORE_FRAGMENTS: u16 = 0x2000;
const FRAG_OFFSET_MASK: u16 = 0x1fff;

/// A view over the bytes of an IPv4 packet.
#[derive(Debug, Clone)]
pub struct Ipv4Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv4Packet<T> {
    /// A view over `buffer` without checking its length (the accessors may panic on a short one).
    pub fn new_unchecked(buffer: T) -> Self {
        Ipv4Packet { buffer }
    }

    /// Wraps `buffer` after checking that the header and the lengths it claims fit.
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// After this passes, no accessor panics.
    pub fn check_len(&self) -> Result<(), WireError> {
        let len = self.buffer.as_ref().len();
        if len < IPV4_HEADER_LEN {
            return Err(WireError::Truncated);
        }
        if self.version() != 4 {
            return Err(WireError::Malformed("IP version is not 4"));
        }
        let header_len = self.header_len();
        if header_len < IPV4_HEADER_LEN {
            return Err(WireError::Malformed("IPv4 header length below 20"));
        }
        if header_len > len {
            return Err(WireError::Truncated);
        }
        let total = self.total_len() as usize;
        if total < header_len {
            return Err(WireError::Malformed("IPv4 total length below header length"));
        }
        if total > len {
            return Err(WireError::Truncated);
        }
        Ok(())
    }

    fn b(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    /// The version field (4).
    pub fn version(&self) -> u8 {
        self.b()[field::VER_IHL] >> 4
    }
    /// The header's length, bytes.
    pub fn header_len(&self) -> usize {
        (self.b()[field::VER_IHL] & 0x0f) as usize * 4
    }
    /// The total length field, bytes.
    pub fn total_len(&self) -> u16 {
        u16::from_be_bytes([self.b()[field::TOTAL_LEN.start], self.b()[field::TOTAL_LEN.start + 1]])
    }
    /// The identification field.
    pub fn ident(&self) -> u16 {
        u16::from_be_bytes([self.b()[field::IDENT.start], self.b()[field::IDENT.start + 1]])
    }
    fn flags_frag(&self) -> u16 {
        u16::from_be_bytes([self.b()[field::FLAGS_FRAG.start], self.b()[field::FLAGS_FRAG.start + 1]])
    }
    /// The Don't Fragment flag.
    pub fn dont_fragment(&self) -> bool {
        self.flags_frag() & FLAG_DONT_FRAGMENT != 0
    }
    /// Whether this is a fragment (MF set or a fragment offset).
    pub fn is_fragment(&self) -> bool {
        self.flags_frag() & (FLAG_MORE_FRAGMENTS | FRAG_OFFSET_MASK) != 0
    }
    /// The type-of-service byte (DSCP and ECN).
    pub fn tos(&self) -> u8 {
        self.buffer.as_ref()[field::TOS]
    }
    /// Time to live.
    pub fn ttl(&self) -> u8 {
        self.b()[field::TTL]
    }
    /// The protocol field (6 for TCP).
    pub fn protocol(&self) -> u8 {
        self.b()[field::PROTOCOL]
    }
    /// The header checksum field.
    pub fn checksum(&self) -> u16 {
        u16::from_be_bytes([self.b()[field::CHECKSUM.start], self.b()[field::CHECKSUM.start + 1]])
    }
    /// The source address.
    pub fn src_addr(&self) -> Ipv4Addr {
        let s = &self.b()[field::SRC];
        Ipv4Addr::new(s[0], s[1], s[2], s[3])
    }
    /// The destination address.
    pub fn dst_addr(&self) -> Ipv4Addr {
        let d = &self.b()[field::DST];
        Ipv4Addr::new(d[0], d[1], d[2], d[3])
    }
    /// Whether the header checksum is right.
    pub fn verify_checksum(&self) -> bool {
        header_checksum(&self.b()[..self.header_len()]) == 0
    }
    /// The payload as the total-length field bounds it (trailing link padding excluded).
    pub fn payload(&self) -> &[u8] {
        &self.b()[self.header_len()..self.total_len() as usize]
    }
}

/// The meaning of an IPv4 header as synack uses it (no options, never fragmented).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Repr {
    /// Source address.
    pub src: Ipv4Addr,
    /// Destination address.
    pub dst: Ipv4Addr,
    /// The protocol of the payload (6 for TCP).
    pub protocol: u8,
    /// Bytes of payload after the header.
    pub payload_len: usize,
    /// Time to live.
    pub ttl: u8,
    /// The DSCP bits of the TOS byte (RFC 2474), in place: the byte with its ECN bits clear,
    /// as `IP_TOS` writes it (0x20 for CS1).
    pub dscp: u8,
    /// The ECN bits of the TOS byte.
    pub ecn: Ecn,
}

impl Ipv4Repr {
    /// Parses a checked packet; rejects bad header checksums and fragments.
    pub fn parse<T: AsRef<[u8]>>(packet: &Ipv4Packet<T>) -> Result<Ipv4Repr, WireError> {
        packet.check_len()?;
        if !packet.verify_checksum() {
            return Err(WireError::BadChecksum);
        }
        if packet.is_fragment() {
            return Err(WireError::Unsupported("IPv4 fragment"));
        }
        Ok(Ipv4Repr {
            src: packet.src_addr(),
            dst: packet.dst_addr(),
            protocol: packet.protocol(),
            payload_len: packet.total_len() as usize - packet.header_len(),
            ttl: packet.ttl(),
            dscp: packet.tos() & !0b11,
            ecn: Ecn::from_bits(packet.tos()),
        })
    }

    /// Bytes the packet takes: header and payload.
    pub fn buffer_len(&self) -> usize {
        IPV4_HEADER_LEN
    }

    /// Writes a 20-byte header with DF set and its checksum into `buf[..20]`.
    pub fn emit(&self, buf: &mut [u8], ident: u16) -> Result<(), WireError> {
        let total = IPV4_HEADER_LEN + self.payload_len;
        if buf.len() < IPV4_HEADER_LEN || total > u16::MAX as usize {
            return Err(WireError::BufferTooSmall);
        }
        // The header as five big-endian words, its checksum summed from them rather than read
        // back: the checksum of bytes just stored would wait on the stores to reach the cache
        // (store-to-load forwarding fails on loads that span several stores).
        let (src, dst) = (u32::from(self.src), u32::from(self.dst));
        let mut words = [
            0x45 << 24 | ((self.dscp & !0b11 | self.ecn.bits()) as u32) << 16 | total as u32,
            (ident as u32) << 16 | FLAG_DONT_FRAGMENT as u32,
            (self.ttl as u32) << 24 | (self.protocol as u32) << 16,
            src,
            dst,
        ];
        words[2] |= !fold(words.iter().map(|&w| w as u64).sum()) as u32;
        for (chunk, word) in buf[..IPV4_HEADER_LEN].chunks_exact_mut(4).zip(words) {
            chunk.copy_from_slice(&word.to_be_bytes());
        }
        Ok(())
    }
}

/// Computes and writes the checksum of an IPv4 header (`header`: all of it, options included).
pub(crate) fn fill_header_checksum(header: &mut [u8]) {
    header[field::CHECKSUM].copy_from_slice(&[0, 0]);
    let sum = internet_checksum(0, header);
    header[field::CHECKSUM].copy_from_slice(&sum.to_be_bytes());
}
