//! TCP header (RFC 9293 §3.1): a zero-copy view and a parse/emit representation.

use crate::checksum::{internet_checksum, pseudo_header_sum};
use crate::{SeqNum, TcpOptions, WireError, IP_PROTOCOL_TCP};
use std::fmt;
use std::net::IpAddr;

/// A TCP header without options, bytes.
pub const TCP_HEADER_LEN: usize = 20;

mod field {
    use std::ops::Range;
    pub const SRC_PORT: Range<usize> = 0..2;
    pub const DST_PORT: Range<usize> = 2..4;
    pub const SEQ: Range<usize> = 4..8;
    pub const ACK: Range<usize> = 8..12;
    pub const OFFSET_FLAGS: Range<usize> = 12..14;
    pub const WINDOW: Range<usize> = 14..16;
    pub const CHECKSUM: Range<usize> = 16..18;
    pub const URGENT: Range<usize> = 18..20;
}

bitflags::bitflags! {
    /// The control bits of a TCP header (RFC 9293 §3.1, RFC 3168 ECE/CWR).
    #[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct TcpFlags: u8 {
        /// No more data from the sender.
        const FIN = 0x01;
        /// Synchronize sequence numbers.
        const SYN = 0x02;
        /// Reset the connection.
        const RST = 0x04;
        /// Push the data to the application.
        const PSH = 0x08;
        /// The acknowledgment field is significant.
        const ACK = 0x10;
        /// The urgent pointer is significant.
        const URG = 0x20;
        /// ECN echo (RFC 3168).
        const ECE = 0x40;
        /// Congestion window reduced (RFC 3168).
        const CWR = 0x80;
    }
}

impl TcpFlags {
    /// No flag set.
    pub const NONE: TcpFlags = TcpFlags::empty();

    /// FIN: the sender has finished sending.
    pub fn fin(self) -> bool {
        self.contains(Self::FIN)
    }
    /// SYN: synchronize sequence numbers.
    pub fn syn(self) -> bool {
        self.contains(Self::SYN)
    }
    /// RST: reset the connection.
    pub fn rst(self) -> bool {
        self.contains(Self::RST)
    }
    /// PSH: push the data to the application.
    pub fn psh(self) -> bool {
        self.contains(Self::PSH)
    }
    /// ACK: the acknowledgment field is significant.
    pub fn ack(self) -> bool {
        self.contains(Self::ACK)
    }
    /// URG: the urgent pointer is significant.
    pub fn urg(self) -> bool {
        self.contains(Self::URG)
    }
    /// ECE: ECN echo (RFC 3168).
    pub fn ece(self) -> bool {
        self.contains(Self::ECE)
    }
    /// CWR: congestion window reduced (RFC 3168).
    pub fn cwr(self) -> bool {
        self.contains(Self::CWR)
    }
}

impl fmt::Debug for TcpFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The same letters as tcpdump, in its order.
        write!(f, "[{}]", crate::tcpdump::flag_letters(*self))
    }
}

/// A view over the bytes of a TCP segment (header and payload).
#[derive(Debug, Clone)]
pub struct TcpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> TcpPacket<T> {
    /// A view over `buffer` without checking its length (the accessors may panic on a short one).
    pub fn new_unchecked(buffer: T) -> Self {
        TcpPacket { buffer }
    }

    /// A view over `buffer`, checked to hold the header its data offset says.
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// After this passes, no accessor panics.
    pub fn check_len(&self) -> Result<(), WireError> {
        let len = self.buffer.as_ref().len();
        if len < TCP_HEADER_LEN {
            return Err(WireError::Truncated);
        }
        let header_len = self.header_len();
        if header_len < TCP_HEADER_LEN {
            return Err(WireError::Malformed("TCP data offset below 5"));
        }
        if header_len > len {
            return Err(WireError::Malformed("TCP data offset past the segment"));
        }
        Ok(())
    }

    // Always inlined: a caller that inlines `TcpRepr::parse` is large, and the compiler's
    // budget then left these one-load accessors as calls.
    #[inline(always)]
    fn b(&self) -> &[u8] {
        self.buffer.as_ref()
    }
    #[inline(always)]
    fn u16_at(&self, at: usize) -> u16 {
        u16::from_be_bytes([self.b()[at], self.b()[at + 1]])
    }
    #[inline(always)]
    fn u32_at(&self, at: usize) -> u32 {
        let b = self.b();
        u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
    }

    /// The source port.
    pub fn src_port(&self) -> u16 {
        self.u16_at(field::SRC_PORT.start)
    }
    /// The destination port.
    pub fn dst_port(&self) -> u16 {
        self.u16_at(field::DST_PORT.start)
    }
    /// The sequence number.
    pub fn seq_number(&self) -> SeqNum {
        SeqNum(self.u32_at(field::SEQ.start))
    }
    /// The acknowledgment number.
    pub fn ack_number(&self) -> SeqNum {
        SeqNum(self.u32_at(field::ACK.start))
    }
    /// The header's length (data offset), bytes.
    pub fn header_len(&self) -> usize {
        (self.b()[field::OFFSET_FLAGS.start] >> 4) as usize * 4
    }
    /// The control bits.
    pub fn flags(&self) -> TcpFlags {
        TcpFlags::from_bits_retain(self.b()[field::OFFSET_FLAGS.start + 1])
    }
    /// The window field (unscaled).
    pub fn window_len(&self) -> u16 {
        self.u16_at(field::WINDOW.start)
    }
    /// The checksum field.
    pub fn checksum(&self) -> u16 {
        self.u16_at(field::CHECKSUM.start)
    }
    /// The urgent pointer.
    pub fn urgent_at(&self) -> u16 {
        self.u16_at(field::URGENT.start)
    }
    /// The option bytes.
    pub fn options(&self) -> &[u8] {
        &self.b()[TCP_HEADER_LEN..self.header_len()]
    }
    /// The payload.
    pub fn payload(&self) -> &[u8] {
        &self.b()[self.header_len()..]
    }
    /// Checks the checksum over the pseudo-header and the whole segment.
    pub fn verify_checksum(&self, src: IpAddr, dst: IpAddr) -> bool {
        let pseudo = pseudo_header_sum(src, dst, IP_PROTOCOL_TCP, self.b().len());
        internet_checksum(pseudo, self.b()) == 0
    }
}

/// The meaning of a TCP segment. `ack` holds the acknowledgment field as it is on the wire;
/// it means something only when `flags.ack()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpRepr<'a> {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number.
    pub seq: SeqNum,
    /// Acknowledgment number.
    pub ack: SeqNum,
    /// Control bits.
    pub flags: TcpFlags,
    /// Window field (unscaled).
    pub window: u16,
    /// Urgent pointer.
    pub urgent: u16,
    /// Options.
    pub options: TcpOptions,
    /// Payload.
    pub payload: &'a [u8],
}

impl<'a> TcpRepr<'a> {
    /// Parses a segment whose checksum `verify_checksum` has already accepted (or that the
    /// caller chooses not to verify).
    #[inline(always)]
    pub fn parse(packet: &TcpPacket<&'a [u8]>) -> Result<TcpRepr<'a>, WireError> {
        packet.check_len()?;
        let bytes: &'a [u8] = packet.buffer;
        let header_len = packet.header_len();
        // Both ports from one 32-bit load: a caller that stores them side by side (as the
        // engine's 4-tuple does, destination first) then stores them as one word, and a load
        // of that word soon after is forwarded from the store rather than waiting for two.
        let ports = packet.u32_at(field::SRC_PORT.start);
        Ok(TcpRepr {
            src_port: (ports >> 16) as u16,
            dst_port: ports as u16,
            seq: packet.seq_number(),
            ack: packet.ack_number(),
            flags: packet.flags(),
            window: packet.window_len(),
            urgent: packet.urgent_at(),
            options: TcpOptions::parse(&bytes[TCP_HEADER_LEN..header_len])?,
            payload: &bytes[header_len..],
        })
    }

    /// Sequence space the segment occupies: payload plus one for SYN and one for FIN.
    pub fn segment_len(&self) -> u32 {
        self.payload.len() as u32 + self.flags.syn() as u32 + self.flags.fin() as u32
    }

    /// The header's length with its options, bytes.
    pub fn header_len(&self) -> usize {
        TCP_HEADER_LEN + self.options.buffer_len()
    }

    /// Bytes the segment takes: header, options and payload.
    pub fn buffer_len(&self) -> usize {
        self.header_len() + self.payload.len()
    }

    /// The fixed 20 bytes as five big-endian words, the checksum zero (the high half of the
    /// last word), for a header of `header_len` bytes with options.
    #[inline(always)]
    pub(crate) fn fixed_words(&self, header_len: usize) -> [u32; 5] {
        [
            (self.src_port as u32) << 16 | self.dst_port as u32,
            self.seq.0,
            self.ack.0,
            ((header_len / 4) as u32) << 28 | (self.flags.bits() as u32) << 16 | self.window as u32,
            self.urgent as u32,
        ]
    }
}
