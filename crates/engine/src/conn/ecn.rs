//! Explicit Congestion Notification (RFC 3168 §6.1): the handshake agrees on it; data goes
//! out ECT(0); a receiver that sees Congestion Experienced echoes ECE until the sender's CWR;
//! a sender that gets ECE reduces its window once per window of data, as for a loss but
//! without resending anything, and says so with CWR. The reduction comes ACK by ACK by
//! proportional rate reduction (RFC 6937), as Linux's CWR state does.

use super::output::DataMarks;
use super::{ConnFlags, Connection, Ctx, Owed};
use crate::congestion::CongestionControl;
use crate::scoreboard::Prr;
use crate::EcnMode;
use synack_wire::{Ecn, TcpFlags, TcpRepr};

impl Connection {
    /// The flags our SYN carries: ECE and CWR when we ask for ECN (§6.1.1).
    pub(super) fn ecn_syn_flags(&self, ctx: &Ctx, with_ack: bool) -> TcpFlags {
        match (with_ack, self.neg.ecn_ok) {
            (true, true) => TcpFlags::ECE,
            (false, _) if self.asks_for_ecn(ctx) => TcpFlags::ECE | TcpFlags::CWR,
            _ => TcpFlags::NONE,
        }
    }

    /// Our SYN asks for ECN: `tcp_ecn` says so, and it has not been retransmitted more than
    /// `tcp_ecn_fallback_retries` times (§6.1.1.1: a SYN that timed out is sent again without
    /// ECN, in case ECN is what a middlebox drops).
    fn asks_for_ecn(&self, ctx: &Ctx) -> bool {
        ctx.config.tcp_ecn == EcnMode::On && self.rto_count <= ctx.config.tcp_ecn_fallback_retries
    }

    /// The peer's SYN (simultaneous open) or SYN-ACK: is ECN on? A SYN asks with ECE and
    /// CWR; a SYN-ACK agrees with ECE alone, and only to a SYN that asked.
    pub(super) fn ecn_negotiate(&mut self, ctx: &Ctx, seg: &TcpRepr) {
        let f = seg.flags;
        self.neg.ecn_ok = if f.ack() {
            self.asks_for_ecn(ctx) && f.ece() && !f.cwr()
        } else {
            ctx.config.tcp_ecn != EcnMode::Off && f.ece() && f.cwr()
        };
    }

    /// An acceptable segment of an ECN connection arrived with this codepoint.
    pub(super) fn ecn_on_segment(&mut self, ctx: &mut Ctx, seg: &TcpRepr, ecn: Ecn) {
        if !self.neg.ecn_ok {
            return;
        }
        // §6.1.3: CWR ends the echo; a CE on that same segment starts it again.
        if seg.flags.cwr() {
            self.set_flag(ConnFlags::ECE_PENDING, false);
        }
        if ecn == Ecn::Ce {
            ctx.counters.ce_marked_in += 1;
            self.set_flag(ConnFlags::ECE_PENDING, true);
            self.owed.insert(Owed::ACK);
        }
    }

    /// §6.1.2: an ACK with ECE. Halve once per window, the way a loss would (without a
    /// retransmission), and mark the next new segment CWR. Called before SND.UNA moves.
    pub(super) fn ecn_on_ack(&mut self, ctx: &mut Ctx, seg: &TcpRepr) {
        if !self.neg.ecn_ok || !seg.flags.ece() || seg.flags.syn() {
            return;
        }
        // Once per window (§6.1.2: not again within a round trip): an echo counts only on an
        // ACK of data sent after the last reduction, which the receiver sent after our CWR.
        if self.snd.fast_recovery.active || seg.ack <= self.ecn_recover {
            return;
        }
        let mss = self.neg.snd_mss as u32;
        let flight = self.snd.flight();
        let prior_cwnd = self.snd.cc.cwnd();
        self.snd.cc.on_ecn_echo(flight, mss);
        *self.snd.scoreboard.prr_mut() = Prr { delivered: 0, out: 0, prior_cwnd };
        self.set_flag(ConnFlags::CWR, true);
        self.ecn_recover = self.snd.max;
        self.set_flag(ConnFlags::CWR_PENDING, true);
        ctx.counters.ecn_reductions += 1;
    }

    /// A reduction for an ECN echo is bringing cwnd down (Linux's CWR state): from the echo
    /// until SND.UNA passes what was sent then, unless a recovery or timeout takes over.
    #[inline]
    pub(super) fn in_cwr(&self) -> bool {
        self.flag(ConnFlags::CWR) && self.snd.una < self.ecn_recover && !self.snd.fast_recovery.active
    }

    /// The reduction's end: cwnd settles at ssthresh (Linux's `tcp_end_cwnd_reduction`).
    pub(super) fn end_cwr_if_done(&mut self) {
        if self.flag(ConnFlags::CWR) && (self.snd.una >= self.ecn_recover || self.snd.fast_recovery.active) {
            self.set_flag(ConnFlags::CWR, false);
            let ssthresh = self.snd.cc.ssthresh();
            if !self.snd.fast_recovery.active && ssthresh != u32::MAX {
                self.snd.cc.set_cwnd(ssthresh);
            }
        }
    }

    /// How a segment of new data goes out: ECT(0) on an ECN connection (never on
    /// retransmissions or pure ACKs, §6.1.5 and §6.1.4), and CWR once after a reduction.
    pub(super) fn new_data_marks(&mut self) -> DataMarks {
        if !self.neg.ecn_ok {
            return DataMarks { new_data: true, ..DataMarks::default() };
        }
        let cwr = if self.take_flag(ConnFlags::CWR_PENDING) { TcpFlags::CWR } else { TcpFlags::NONE };
        DataMarks { ecn: Ecn::Ect0, cwr, gso_size: None, new_data: true }
    }

    /// ECE on every segment while a CE waits to be acknowledged.
    pub(super) fn ecn_echo_flag(&self) -> TcpFlags {
        if self.neg.ecn_ok && self.flag(ConnFlags::ECE_PENDING) {
            TcpFlags::ECE
        } else {
            TcpFlags::NONE
        }
    }
}
