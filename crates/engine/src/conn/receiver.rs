//! The receive side of a connection (gVisor's `receiver`): the receive sequence variables of
//! RFC 9293 §3.3.1, the receive buffer, the reassembly of out-of-order data and the count
//! behind the delayed ACK. The connection's input and output code works on it through
//! `Connection::rcv`.

use crate::assembler::Assembler;
use std::collections::VecDeque;
use synack_wire::SeqNum;

#[derive(Debug)]
pub(crate) struct Receiver {
    /// IRS: the peer's initial sequence number.
    pub irs: SeqNum,
    /// RCV.NXT: the next sequence number expected.
    pub nxt: SeqNum,
    /// The right edge of the window we last advertised.
    pub adv: SeqNum,
    /// Bytes delivered in order so far: the stream offset of RCV.NXT (for the assembler).
    pub offset: u64,
    /// The acknowledgment number of the last segment sent (RFC 7323 §4.3).
    pub last_ack_sent: SeqNum,
    /// Data received in order and not yet read.
    pub buf: VecDeque<u8>,
    /// The receive buffer's size, bytes.
    pub cap: u32,
    /// Data that arrived beyond RCV.NXT, waiting for the gap to fill.
    pub ooo: Assembler,
    /// Stream offset of a FIN that arrived ahead of missing data (`NO_FIN`: none).
    pub ooo_fin: u64,
    /// Full-sized segments received since the last ACK (RFC 9293 §3.8.6.3: an ACK at least
    /// every second one).
    pub full_segments_unacked: u8,
    /// Data segments still to be ACKed at once, without the delayed-ACK wait (Linux's
    /// quick-ACK mode at connection start, `Compat::quick_acks`).
    pub quick_acks: u8,
    /// A duplicate range to report as the first SACK block of the next ACK (RFC 2883 D-SACK),
    /// then forgotten; empty (start = end) when there is none.
    pub dsack: (SeqNum, SeqNum),
    /// Dynamic right-sizing (`autotune.rs`): where the application's reads had reached
    /// (low 32 bits of the stream offset) and when (ms, wrapping) the round trip being
    /// measured began, and what it read in the last one (`RCV_SPACE_LOCKED`: the
    /// application set the buffer, which stays as set).
    pub space_read_mark: u32,
    pub space_ms: u32,
    pub space: u32,
    /// When data last arrived in order, or the connection was established: the engine's
    /// clock in milliseconds, wrapping (Linux's `icsk_ack.lrcvtime`, TCP_INFO's
    /// tcpi_last_data_recv).
    pub last_data_ms: u32,
}

/// `Receiver::ooo_fin` when no FIN waits.
pub(crate) const NO_FIN: u64 = u64::MAX;

impl Receiver {
    /// Before the peer's SYN.
    #[inline(always)]
    pub fn new(cap: u32) -> Receiver {
        Receiver {
            irs: SeqNum(0),
            nxt: SeqNum(0),
            adv: SeqNum(0),
            offset: 0,
            last_ack_sent: SeqNum(0),
            buf: VecDeque::new(),
            cap,
            ooo: Assembler::EMPTY,
            ooo_fin: NO_FIN,
            full_segments_unacked: 0,
            quick_acks: 0,
            dsack: (SeqNum(0), SeqNum(0)),
            space_read_mark: 0,
            space_ms: 0,
            space: 0,
            last_data_ms: 0,
        }
    }

    /// Data `start..end` arrived again (RFC 2883 §4: reported in the next ACK's first SACK
    /// block; when several arrive before it, the first one is).
    #[cold]
    pub fn duplicate(&mut self, start: SeqNum, end: SeqNum) {
        if !self.has_dsack() && start < end {
            self.dsack = (start, end);
        }
    }

    /// A D-SACK block waits for the next ACK.
    #[inline]
    pub fn has_dsack(&self) -> bool {
        self.dsack.0 != self.dsack.1
    }

    /// The space left in the receive buffer: the window we can offer.
    #[inline]
    pub fn window(&self) -> u32 {
        self.cap.saturating_sub(self.buf.len() as u32)
    }
}
