//! Loss recovery before the timer: entering fast recovery (RFC 6582 §3.2, RFC 6675 §5) with
//! early retransmit (RFC 5827) and limited transmit (RFC 3042), the SACK scoreboard's choice
//! of what to resend (RFC 6675 §4 NextSeg) and of retransmissions lost again, the tail loss
//! probe (RFC 8985 §7), and undoing a fast retransmit that reordering made spurious (RFC 3522
//! Eifel detection, RFC 4015).

use super::output::{DataMarks, OutSegment};
use super::sender::RetransmitFor;
use super::{ConnFlags, Connection, Ctx, Owed, Timer};
use crate::congestion::{CongestionControl, DUP_ACK_THRESHOLD};
use crate::rack::AckFacts;
use crate::scoreboard::{first_block_is_dsack, LossRule, Prr, Undo};
use crate::Instant;
use crate::State;
use std::time::Duration;
use synack_wire::{SeqNum, TcpFlags, TcpRepr};

/// RFC 8985 §7.2: with more than one segment in flight no ACK waits for a delayed-ACK
/// timer, and the probe timeout adds only this allowance for timer granularity (Linux's
/// TCP_TIMEOUT_MIN, 2 ms).
const PTO_ALLOWANCE_US: u64 = 2_000;
/// RFC 8985 §7.2's WCDelAckT: the longest a receiver may delay an ACK.
const WORST_DELAYED_ACK_US: u64 = 200_000;

/// Fast recovery's bookkeeping (RFC 6582 §3.2, RFC 6675 §5): the congestion controller is told
/// what happens; this says whether recovery runs and where it ends.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FastRecovery {
    /// Duplicate ACKs in a row.
    pub dup_acks: u8,
    /// RFC 6582 §3.2: the highest sequence number sent when recovery began.
    pub recover: SeqNum,
    pub active: bool,
}

impl FastRecovery {
    /// No recovery; none may begin below `recover` (the ISS at first, RFC 6582 §3.2).
    pub fn idle(recover: SeqNum) -> FastRecovery {
        FastRecovery { dup_acks: 0, recover, active: false }
    }
}

impl Connection {
    /// What counts as lost: RACK's verdicts when it logs this connection's transmissions
    /// (`tcp_recovery`), else RFC 6675's count of SACKed segments.
    fn loss_rule(&self) -> LossRule {
        if self.snd.scoreboard.rack_enabled() {
            LossRule::Rack
        } else {
            LossRule::DupThresh { dup_thresh: DUP_ACK_THRESHOLD as u32, mss: self.neg.snd_mss as u32 }
        }
    }

    /// RACK logs transmissions (and so decides losses) when SACK is on and `tcp_recovery`
    /// asks for it.
    pub(super) fn rack_wanted(&self, ctx: &Ctx) -> bool {
        self.neg.sack_ok && ctx.config.tcp_recovery & 1 != 0
    }

    /// RFC 8985 §6.1: RACK keeps every transmission's time, from the first that leaves with
    /// data already in flight (one segment alone gives RACK nothing to compare; a connection
    /// that sends one at a time never allocates the log). What was in flight then left at the
    /// first transmission after the connection was last idle or acknowledged
    /// (`last_progress`), the earliest it can have left.
    #[inline(never)]
    pub(super) fn rack_note_sent(&mut self, ctx: &mut Ctx, seq: SeqNum, end: SeqNum, retransmitted: bool) {
        let pool = &mut ctx.shared.scoreboards;
        let srtt_us = self.snd.rtt.srtt_us();
        if !self.snd.scoreboard.rack_enabled() && seq > self.snd.una {
            let first = self.last_progress.instant(ctx.now);
            self.snd.scoreboard.note_sent(pool, self.snd.una, seq, first, false, srtt_us);
        }
        self.snd.scoreboard.note_sent(pool, seq, end, ctx.now, retransmitted, srtt_us);
    }

    /// What an ACK tells RACK.
    fn ack_facts(&self, now: Instant, seg: &TcpRepr) -> AckFacts {
        let echoed_ms = match seg.options.timestamps {
            Some((_, ecr)) if self.neg.ts_ok && ecr != 0 => Some(ecr.wrapping_sub(self.ts_offset)),
            _ => None,
        };
        AckFacts { now, echoed_ms, mss: self.data_mss() }
    }

    /// Fast recovery with the SACK scoreboard (RFC 6675), when both ends agreed to SACK;
    /// otherwise NewReno's (RFC 6582).
    pub(super) fn in_sack_recovery(&self) -> bool {
        self.neg.sack_ok && self.snd.fast_recovery.active
    }

    /// Third duplicate ACK, or IsLost(SND.UNA): halve, resend SND.UNA's segment at once.
    #[cold]
    pub(super) fn enter_fast_recovery(&mut self, ctx: &mut Ctx) {
        let mss = self.neg.snd_mss as u32;
        let flight = self.snd.flight();
        *self.snd.scoreboard.prr_mut() = Prr { delivered: 0, out: 0, prior_cwnd: self.snd.cc.cwnd() };
        self.snd.scoreboard.set_undo(Some(Undo {
            cwnd: self.snd.cc.cwnd(),
            ssthresh: self.snd.cc.ssthresh(),
            rexmit_tsval: None,
        }));
        // RFC 6675 §5 step 4: with SACK, cwnd = ssthresh, no inflation; the pipe does that job.
        self.snd.cc.on_loss(flight, mss, !self.neg.sack_ok);
        self.snd.fast_recovery.recover = self.snd.max;
        self.snd.fast_recovery.active = true;
        // Recovery takes over any ECN reduction under way.
        self.set_flag(ConnFlags::CWR, false);
        self.snd.scoreboard.clear_resent();
        if self.neg.sack_ok {
            self.snd.scoreboard.start_undo_count(self.snd.una);
        }
        self.owed.insert(Owed::REXMIT_ONE);
        self.snd.rtt_probe.clear();
        ctx.counters.fast_retransmits += 1;
        if self.mtu.probing() {
            self.mtu_probe_on_loss(ctx, false);
        }
        if self.snd.retransmit_for != RetransmitFor::Rto {
            // Recovery runs on the RTO, not on a probe or reordering timer armed before it.
            self.snd.retransmit_for = RetransmitFor::Rto;
            self.timers.set(Timer::Retransmit, self.rto_deadline(ctx));
        }
    }

    /// Folds the ACK's SACK blocks into the scoreboard (after SND.UNA has moved) and enters
    /// recovery when SND.UNA's segment is lost by RFC 6675 §4's count. Checked on every ACK:
    /// one carried by data never counts as a duplicate (RFC 5681 §2), so on a connection busy
    /// both ways SACK is the only sign of a loss before the timer.
    ///
    /// With RACK, what the ACK delivered is told to it first (`una_before`: SND.UNA before
    /// the ACK), and RACK, not the count, says what is lost.
    #[inline]
    pub(super) fn on_sack_blocks(&mut self, ctx: &mut Ctx, seg: &TcpRepr, una_before: SeqNum) {
        if self.snd.scoreboard.rack_enabled() {
            let facts = self.ack_facts(ctx.now, seg);
            let blocks = seg.options.sack.as_slice();
            self.snd.scoreboard.deliver(una_before, self.snd.una, blocks, self.snd.max, &facts);
            // Nothing SACKed, lost or in recovery: nothing for RACK to find.
            if !(blocks.is_empty() && self.snd.scoreboard.is_empty() && !self.snd.fast_recovery.active) {
                self.rack_on_ack(ctx, seg);
            }
        } else if self.neg.sack_ok && !(seg.options.sack.is_empty() && self.snd.scoreboard.is_empty()) {
            // Nothing SACKed before and nothing now: the common case, tested in line; the
            // work is out of line, away from the path of every ACK.
            self.fold_sack_blocks(ctx, seg);
        }
    }

    /// RFC 8985 §6.2 steps 4–5 on an ACK: the reordering window (widened by a D-SACK), then
    /// RACK's losses, recovery for them, and the reordering timer for what may yet be lost.
    #[inline(never)]
    fn rack_on_ack(&mut self, ctx: &mut Ctx, seg: &TcpRepr) {
        let dsack = first_block_is_dsack(seg.options.sack.as_slice(), seg.ack).is_some();
        let (una, max) = (self.snd.una, self.snd.max);
        if let Some(rack) = self.snd.scoreboard.rack_mut() {
            rack.on_dsack(una, max, dsack);
        }
        self.rack_detect_loss(ctx);
    }

    /// RFC 8985 §6.2 step 5 and §6.3: marks RACK's losses, starts recovery for them, and
    /// arms the reordering timer when a segment may yet turn out lost.
    fn rack_detect_loss(&mut self, ctx: &mut Ctx) {
        let Some(rack) = self.snd.scoreboard.rack() else { return };
        let mss = self.data_mss();
        let sacked_segments = self.snd.scoreboard.sacked_above(self.snd.una).div_ceil(mss);
        let srtt_us = self.snd.rtt.srtt_us().unwrap_or(0);
        let reo_wnd_us = rack.reo_wnd_us(self.snd.fast_recovery.active, sacked_segments, srtt_us);
        let (wait_us, lost_again) = self.snd.scoreboard.rack_detect_loss(ctx.now, reo_wnd_us);
        ctx.counters.lost_retransmits += lost_again;
        if self.snd.scoreboard.any_rack_lost()
            && !self.snd.fast_recovery.active
            && self.snd.max > self.snd.una
            && self.snd.una >= self.snd.fast_recovery.recover
        {
            self.enter_fast_recovery(ctx);
        }
        if let Some(wait_us) = wait_us {
            let at = ctx.now.add_micros(wait_us);
            if at < self.timers.get(Timer::Retransmit) {
                self.timers.set(Timer::Retransmit, at);
                self.snd.retransmit_for = RetransmitFor::Reorder;
            }
        }
    }

    /// RACK's reordering timer fired (RFC 8985 §6.3): what has waited out its window is
    /// lost; the RTO takes the timer back unless more is still waiting.
    #[cold]
    pub(super) fn on_reorder_timeout(&mut self, ctx: &mut Ctx) {
        self.snd.retransmit_for = RetransmitFor::Rto;
        self.timers.set(Timer::Retransmit, self.rto_deadline(ctx));
        let in_recovery = self.snd.fast_recovery.active;
        self.rack_detect_loss(ctx);
        if !in_recovery && self.in_sack_recovery() {
            // As Linux's reordering timeout: PRR starts as if one segment were delivered, so
            // that the retransmission goes out and no burst with it.
            self.proportional_rate_reduction(self.data_mss(), false);
        }
    }

    /// RFC 2883 and Linux's D-SACK undo: when D-SACKs have shown every retransmission of the
    /// last recovery needless (during it or after, as the duplicates arrive), the losses were
    /// reordering and the window comes back as it was (RFC 4015 §3). Returns true then.
    #[cold]
    pub(super) fn undo_if_dsacked(&mut self, ctx: &mut Ctx, seg: &TcpRepr, una_before: SeqNum) -> bool {
        let Some(block) = first_block_is_dsack(seg.options.sack.as_slice(), seg.ack) else { return false };
        let Some(Undo { cwnd, ssthresh, .. }) = self.snd.scoreboard.undo() else { return false };
        if !self.snd.scoreboard.dsack_shows_all_needless(block, una_before) {
            return false;
        }
        self.snd.scoreboard.set_undo(None);
        self.snd.cc.undo(cwnd, ssthresh);
        if self.snd.fast_recovery.active {
            self.snd.fast_recovery = FastRecovery::idle(self.snd.una - 1);
            self.owed.remove(Owed::REXMIT_ONE);
            self.snd.scoreboard.clear_resent();
            if let Some(rack) = self.snd.scoreboard.rack_mut() {
                rack.on_recovery_end();
            }
        }
        ctx.counters.spurious_retransmits_undone += 1;
        true
    }

    #[inline(never)]
    fn fold_sack_blocks(&mut self, ctx: &mut Ctx, seg: &TcpRepr) {
        self.snd.scoreboard.advance(self.snd.una);
        self.snd.scoreboard.add(seg.options.sack.as_slice(), self.snd.una, self.snd.max);
        if self.snd.fast_recovery.active {
            let lost = self.snd.scoreboard.expire_resent(self.snd.una, ctx.now, self.resend_timeout());
            ctx.counters.lost_retransmits += lost;
        } else {
            self.snd.scoreboard.clear_resent();
        }
        let mss = self.neg.snd_mss as u32;
        if !self.snd.fast_recovery.active
            && self.snd.max > self.snd.una
            && self.snd.una >= self.snd.fast_recovery.recover
            && self.snd.scoreboard.is_lost(self.snd.una, self.entry_dup_thresh(), mss)
        {
            self.enter_fast_recovery(ctx);
        }
    }

    /// The duplicate ACKs (or SACKed segments) that start fast recovery: 3, or with fewer than
    /// four segments in flight and nothing new that may be sent, one less than the segments in
    /// flight (RFC 5827 early retransmit), so that a small window still recovers without the
    /// timer.
    pub(super) fn entry_dup_thresh(&self) -> u32 {
        let mss = self.neg.snd_mss as u32;
        let flight = self.snd.flight();
        let segments = flight.div_ceil(mss.max(1));
        let unsent = self.snd.buf.len() as u32 > flight;
        let room =
            self.snd.wnd.min(self.snd.cc.cwnd().saturating_add(self.limited_transmit_bytes())).saturating_sub(flight)
                >= mss;
        if segments < 4 && !(unsent && room) {
            segments.saturating_sub(1).max(1)
        } else {
            DUP_ACK_THRESHOLD as u32
        }
    }

    /// RFC 3042 limited transmit: before recovery, each of the first two duplicate ACKs (or
    /// SACKed segments) lets one new segment out beyond cwnd, so a small window still makes
    /// enough duplicate ACKs for a fast retransmit.
    pub(super) fn limited_transmit_bytes(&self) -> u32 {
        // Only new data, before any recovery: not while resending after a timeout.
        if self.snd.fast_recovery.active || self.rto_count > 0 || self.snd.nxt < self.snd.max {
            return 0;
        }
        let mss = self.neg.snd_mss as u32;
        let signals = if self.neg.sack_ok {
            self.snd.scoreboard.sacked_above(self.snd.una)
        } else {
            self.snd.fast_recovery.dup_acks as u32 * mss
        };
        signals.min(2 * mss)
    }

    /// How long a retransmission may go unanswered before it counts as lost again: one
    /// smoothed RTT and a quarter for reordering (RFC 8985 §6.2's reordering window), at least
    /// 2 ms.
    fn resend_timeout(&self) -> Duration {
        let srtt = self.snd.rtt.srtt().unwrap_or(Duration::from_millis(200));
        (srtt + srtt / 4).max(Duration::from_millis(2))
    }

    /// The fast retransmit of SND.UNA's first `len` bytes has gone out now.
    pub(super) fn note_fast_retransmit_sent(&mut self, now: Instant, len: usize) {
        if self.neg.sack_ok {
            self.snd.scoreboard.note_resent(self.snd.una, self.snd.una + len as u32, now);
        }
        let tsval = self.ts_now(now);
        if let Some(undo @ Undo { rexmit_tsval: None, .. }) = self.snd.scoreboard.undo() {
            self.snd.scoreboard.set_undo(Some(Undo { rexmit_tsval: Some(tsval), ..undo }));
        }
    }

    /// RFC 3522: the first ACK of new data after a fast retransmit. If it echoes a timestamp
    /// older than the retransmission's, the original got there: the loss was reordering, and
    /// the window comes back (RFC 4015 §3 restores cwnd and ssthresh). Returns true then.
    pub(super) fn undo_if_spurious(&mut self, ctx: &mut Ctx, seg: &TcpRepr) -> bool {
        let Some(undo @ Undo { cwnd, ssthresh, rexmit_tsval: Some(tsval) }) = self.snd.scoreboard.undo() else {
            return false;
        };
        // Decided once, on this ACK; without an echo a D-SACK may still decide it.
        self.snd.scoreboard.set_undo(Some(Undo { rexmit_tsval: None, ..undo }));
        let echoed = if self.neg.ts_ok { seg.options.timestamps.map(|(_, ecr)| ecr) } else { None };
        match echoed {
            Some(ecr) if ecr != 0 && SeqNum(ecr) < SeqNum(tsval) && self.rto_count > 0 => {
                // RFC 3522 for a timeout: the original arrived, the timeout was spurious.
                self.undo_timeout(ctx);
                true
            }
            Some(ecr) if ecr != 0 && SeqNum(ecr) < SeqNum(tsval) => {
                self.snd.scoreboard.set_undo(None);
                self.snd.cc.undo(cwnd, ssthresh);
                // A new loss may start recovery again at once.
                self.snd.fast_recovery = FastRecovery::idle(self.snd.una - 1);
                self.owed.remove(Owed::REXMIT_ONE);
                ctx.counters.spurious_retransmits_undone += 1;
                true
            }
            _ => false,
        }
    }

    /// The retransmission timer fired: recovery and its undo end. The scoreboard survives the
    /// first expiry (what the peer holds is not sent again) but not a second in a row, in
    /// case the peer dropped what it had SACKed (RFC 2018 §8 allows it).
    #[cold]
    pub(super) fn recovery_on_timeout(&mut self) {
        self.snd.scoreboard.set_undo(None);
        self.snd.scoreboard.clear_resent();
        if self.rto_count >= 2 {
            self.snd.scoreboard.clear();
        }
    }

    /// RFC 6675 §4 NextSeg rule 1: the lowest lost bytes not being retransmitted, at most
    /// one MSS, as (sequence number, length).
    #[cold]
    pub(super) fn next_lost_segment(&self, mss: usize) -> Option<(SeqNum, usize)> {
        self.snd.scoreboard.next_lost(self.snd.una, self.loss_rule(), mss)
    }

    /// RFC 6675 §4 SetPipe: the bytes the network still holds.
    pub(super) fn pipe(&self) -> u32 {
        self.snd.scoreboard.pipe(self.snd.una, self.snd.max, self.loss_rule())
    }

    /// Segments counted lost now (TCP_INFO's tcpi_lost).
    pub(super) fn lost_segments(&self) -> u32 {
        self.snd.scoreboard.lost_segments(self.snd.una, self.loss_rule(), self.data_mss())
    }

    /// When the retransmission timer should fire next: the RTO, or sooner a tail loss probe
    /// (RFC 8985 §7.2): PTO = 2 × SRTT, plus the worst-case delayed ACK (200 ms) when a single
    /// segment is in flight, at least 10 ms and at most the RTO (as Linux: the probe then takes
    /// the timeout's place, without its backoff). Armed when tail loss probes are on
    /// (`tcp_early_retrans`), SACK is on, data or a FIN is outstanding in any state that sends
    /// them (FIN-WAIT-1, CLOSING and LAST-ACK too), and no recovery, timeout or probe is under
    /// way.
    pub(super) fn retransmit_deadline(&mut self, ctx: &Ctx) -> Instant {
        let rto_us = self.rto_us(ctx);
        if self.snd.loss_probe_high.is_some_and(|high| self.snd.una >= high) {
            self.snd.loss_probe_high = None;
        }
        self.snd.retransmit_for = RetransmitFor::Rto;
        if let Some(srtt_us) = self.snd.rtt.srtt_us() {
            if ctx.config.tcp_early_retrans >= 3
                && self.neg.sack_ok
                && matches!(
                    self.state,
                    State::Established | State::CloseWait | State::FinWait1 | State::Closing | State::LastAck
                )
                && !self.snd.fast_recovery.active
                && self.rto_count == 0
                && self.snd.nxt == self.snd.max
                && self.snd.loss_probe_high.is_none()
                && self.snd.flight() > 0
            {
                let full = self.data_mss();
                let wait_us = if self.snd.flight() <= full { WORST_DELAYED_ACK_US } else { PTO_ALLOWANCE_US };
                let pto_us = (2 * srtt_us + wait_us).min(rto_us);
                self.snd.retransmit_for = RetransmitFor::LossProbe;
                return ctx.now.add_micros(pto_us);
            }
        }
        ctx.now.add_micros(rto_us)
    }

    /// The RTO in force (backoff included) in microseconds.
    fn rto_us(&self, ctx: &Ctx) -> u64 {
        self.snd.rtt.rto_us(ctx.timing.rto.max_us)
    }

    /// When a retransmission timer armed now with the RTO would fire.
    pub(super) fn rto_deadline(&self, ctx: &Ctx) -> Instant {
        ctx.now.add_micros(self.rto_us(ctx))
    }

    /// The probe timer fired: a probe goes out on the next poll.
    #[cold]
    pub(super) fn fire_loss_probe(&mut self, ctx: &mut Ctx) {
        self.snd.retransmit_for = RetransmitFor::Rto;
        self.owed.insert(Owed::LOSS_PROBE);
        self.snd.loss_probe_high = Some(self.snd.max);
        ctx.counters.loss_probes_sent += 1;
    }

    /// RFC 8985 §7.3: one new segment if the peer's window allows, else the last segment sent
    /// again, so that the ACK it draws shows what was lost (and recovery can start).
    #[cold]
    pub(super) fn loss_probe_segment(&mut self, ctx: &mut Ctx, mss: usize) -> Option<OutSegment> {
        let buf_len = self.snd.buf.len();
        let in_flight = self.snd.nxt.since(self.snd.una) as usize;
        let unsent = buf_len.saturating_sub(in_flight);
        let window_room = (self.snd.wnd as usize).saturating_sub(in_flight);
        if unsent > 0 && window_room > 0 {
            let len = unsent.min(mss).min(window_room);
            let seq = self.snd.nxt;
            self.snd.nxt = seq + len as u32;
            self.snd.max = self.snd.max.max(self.snd.nxt);
            self.snd.loss_probe_high = Some(self.snd.max);
            ctx.counters.data_segments_out += 1;
            let marks = self.new_data_marks();
            return Some(self.data_segment(ctx, seq, in_flight..in_flight + len, false, marks));
        }
        // The last segment again: its data, with our FIN if that is outstanding too (a bare
        // FIN when all data is acknowledged).
        let fin = self.fin_sent(self.snd.una + buf_len as u32);
        let outstanding = (self.snd.flight() as usize).min(buf_len);
        if outstanding == 0 && !fin {
            return None;
        }
        let len = outstanding.min(mss);
        ctx.counters.retransmitted_segments += 1;
        self.snd.rtt_probe.clear();
        let start = outstanding - len;
        if len == 0 || (fin && self.flag(ConnFlags::FIN_ALONE)) {
            let fin_seq = self.snd.una + buf_len as u32;
            return Some(self.segment(ctx, fin_seq, TcpFlags::FIN | TcpFlags::ACK, 0..0));
        }
        Some(self.data_segment(ctx, self.snd.una + start as u32, start..outstanding, fin, DataMarks::default()))
    }
}

impl Connection {
    /// RFC 6937 §3, on every ACK of a SACK recovery (as Linux's `tcp_cwnd_reduction`): cwnd
    /// becomes the pipe plus what may go out now. While the pipe is above ssthresh, sending
    /// follows the deliveries in proportion ssthresh / prior cwnd (PRR). At or below, when the
    /// ACK covers retransmitted data (the repair is working), the slow-start reduction bound
    /// lets the pipe climb back to ssthresh no faster than slow start (PRR-SSRB: what was
    /// delivered and not yet matched, at least this ACK's deliveries, plus one segment);
    /// otherwise the conservative bound sends no more than was delivered (PRR-CRB). The first
    /// ACK of a recovery lets at least the fast retransmit out.
    #[cold]
    pub(super) fn proportional_rate_reduction(&mut self, delivered: u32, resent_acked: bool) {
        let prr = self.snd.scoreboard.prr();
        if delivered == 0 || prr.prior_cwnd == 0 {
            return;
        }
        let mss = self.neg.snd_mss as u32;
        let prr_delivered = prr.delivered.saturating_add(delivered);
        self.snd.scoreboard.prr_mut().delivered = prr_delivered;
        let pipe = self.pipe();
        let ssthresh = self.snd.cc.ssthresh();
        let send = if pipe > ssthresh {
            // Rounded up to whole segments, as Linux counts them: a share of half a segment
            // lets the segment out.
            let share = (ssthresh as u64 * prr_delivered as u64).div_ceil(prr.prior_cwnd as u64);
            let share = share.next_multiple_of(mss.max(1) as u64).min(u32::MAX as u64) as u32;
            share.saturating_sub(prr.out)
        } else if resent_acked {
            let bound = prr_delivered.saturating_sub(prr.out).max(delivered) + mss;
            (ssthresh - pipe).min(bound)
        } else {
            (ssthresh - pipe).min(delivered)
        };
        let send = send.max(if prr.out == 0 { mss } else { 0 });
        self.snd.cc.set_cwnd(pipe.saturating_add(send));
    }
}
