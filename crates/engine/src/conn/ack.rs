//! SEGMENT ARRIVES, fifth step (RFC 9293 §3.10.7.4): what an acceptable ACK does to the send
//! side. SND.UNA advances and the send buffer drains; RTT samples (RFC 6298, RFC 7323); cwnd
//! grows by what the ACK newly delivered (slow start with HyStart++, RFC 9406) or recovery
//! goes on (RFC 6582, RFC 6675 with PRR, RFC 6937); duplicate ACKs are counted (RFC 5681
//! §2); the send window is updated under SND.WL1/SND.WL2.

use super::{ConnFlags, Connection, Ctx, Owed, Timer};
use crate::congestion::{CongestionControl, HyStart, SlowStart};
use crate::time::MsStamp;
use crate::{cold, Event, Instant};
use synack_wire::{SeqNum, TcpRepr};

impl Connection {
    /// RFC 9293 §3.10.7.4, fifth, for the synchronized states. Returns false when the segment
    /// is to be dropped.
    pub(super) fn process_ack(&mut self, ctx: &mut Ctx, seg: &TcpRepr) -> bool {
        let ack = seg.ack;
        if ack > self.snd.max {
            // "If the ACK acks something not yet sent ... send an ACK, drop the segment."
            cold();
            ctx.counters.dropped_bad_ack += 1;
            if !ctx.config.compat.drop_ack_of_unsent_data {
                self.ack_unacceptable(ctx, seg);
            }
            return false;
        }
        // RFC 5961 §5.2: an ACK older than SND.UNA - MAX.SND.WND is answered with a challenge.
        if ack < self.snd.una - self.snd.max_wnd {
            cold();
            ctx.counters.dropped_bad_ack += 1;
            self.challenge_ack(ctx);
            return false;
        }
        let window = (seg.window as u32) << self.neg.snd_wscale;
        let mss = self.neg.snd_mss as u32;
        // What the peer held before this ACK, for PRR's count of what it delivered.
        let una_before = self.snd.una;
        let (sacked_before, first_resent) = if self.neg.sack_ok {
            (self.snd.scoreboard.sacked_above(una_before), self.snd.scoreboard.first_resent())
        } else {
            (0, None)
        };
        self.ecn_on_ack(ctx, seg);
        if !seg.options.sack.is_empty() && self.snd.scoreboard.undo().is_some() {
            self.undo_if_dsacked(ctx, seg, una_before);
        }
        if self.snd.scoreboard.frto().is_some() {
            self.frto_on_ack(ctx, seg, una_before);
        }
        if ack > self.snd.una {
            let acked = ack.since(self.snd.una);
            let data_acked = (acked as usize).min(self.snd.buf.len());
            self.snd.buf.drain(..data_acked);
            if self.flag(ConnFlags::FIN_QUEUED) && acked as usize > data_acked {
                self.set_flag(ConnFlags::OUR_FIN_ACKED, true);
            }
            self.sample_rtt(ctx, seg);
            // An ACK lets what MSG_MORE held go (Linux pushes on every ACK without it).
            self.set_flag(ConnFlags::MORE, false);
            self.snd.una = ack;
            self.snd.nxt = self.snd.nxt.max(ack);
            if self.mtu.probing() {
                self.mtu_probe_on_ack(ctx, ack);
            }
            let flight = self.snd.flight();
            if self.undo_if_spurious(ctx, seg) {
                // The window is back as it was; nothing more to do for this ACK.
            } else if self.snd.fast_recovery.active {
                if ack >= self.snd.fast_recovery.recover {
                    if self.neg.sack_ok {
                        // RFC 6937 §3: recovery ends with cwnd at ssthresh.
                        let ssthresh = self.snd.cc.ssthresh();
                        self.snd.cc.set_cwnd(ssthresh);
                    } else {
                        self.snd.cc.on_recovery_exit(flight, mss);
                    }
                    self.snd.fast_recovery.active = false;
                    self.snd.fast_recovery.dup_acks = 0;
                    self.snd.scoreboard.prr_mut().prior_cwnd = 0;
                    if let Some(rack) = self.snd.scoreboard.rack_mut() {
                        rack.on_recovery_end();
                    }
                } else if !self.neg.sack_ok {
                    // RFC 6582 §3.2 step 5: a partial ACK retransmits the next hole. With
                    // SACK the scoreboard says which holes to resend (RFC 6675 §5 step 5).
                    self.snd.cc.on_partial_ack(acked, mss);
                    self.owed.insert(Owed::REXMIT_ONE);
                }
            } else if self.in_cwr() {
                // Reducing for an ECN echo: PRR below sets cwnd, which does not grow.
                self.snd.fast_recovery.dup_acks = 0;
            } else {
                let delivered = self.newly_delivered(ctx, acked, sacked_before, mss);
                self.snd.fast_recovery.dup_acks = 0;
                self.end_cwr_if_done();
                self.grow_cwnd(ctx, ack, delivered, mss);
            }
            self.rto_count = 0;
            self.end_probe_spell(ctx);
            self.last_progress = MsStamp::at(ctx.now);
            if self.snd.una == self.snd.max && self.snd.buf.is_empty() {
                self.chrono_idle(ctx.now);
            }
            // RFC 6298 §5.2–5.3: stop the timer when all is acknowledged, else restart it.
            let deadline = if self.snd.una == self.snd.max { Instant::NEVER } else { self.retransmit_deadline(ctx) };
            self.timers.set(Timer::Retransmit, deadline);
            if self.flag(ConnFlags::WANT_WRITABLE) && data_acked > 0 {
                self.set_flag(ConnFlags::WANT_WRITABLE, false);
                ctx.events.push_back(Event::Writable(self.handle));
            }
        } else if ack == self.snd.una
            && self.snd.max > self.snd.una
            && seg.payload.is_empty()
            && !seg.flags.syn()
            && !seg.flags.fin()
            && (window == self.snd.wnd || (self.neg.sack_ok && !seg.options.sack.is_empty()))
        {
            // RFC 5681 §2: a duplicate ACK leaves the window unchanged. RFC 6675 §2 also counts
            // one that carries SACK information whatever its window: a receiver that grows
            // its window as it goes (Linux autotuning) would otherwise never send three.
            self.on_duplicate_ack(ctx, ack, mss);
        }
        self.on_sack_blocks(ctx, seg, una_before);
        if ack == una_before && self.grows_on_sacks(ctx) {
            let newly_sacked = self.snd.scoreboard.sacked_above(ack).saturating_sub(sacked_before);
            if newly_sacked > 0 {
                self.grow_cwnd(ctx, ack, newly_sacked, mss);
            }
        }
        if self.in_sack_recovery() || self.in_cwr() {
            // RFC 6937 §3's DeliveredData: what SND.UNA passed, plus the change in what is
            // SACKed above it (bytes SACKed before and now below SND.UNA counted once).
            let sacked_after = self.snd.scoreboard.sacked_above(self.snd.una) as i64;
            let delivered = self.snd.una.since(una_before) as i64 + sacked_after - sacked_before as i64;
            let delivered = delivered.clamp(0, u32::MAX as i64) as u32;
            let resent_acked = first_resent.is_some_and(|s| self.snd.una > s);
            self.proportional_rate_reduction(delivered, resent_acked);
        }
        // Window update, guarded by SND.WL1/SND.WL2 against old segments.
        if self.snd.wl1 < seg.seq || (self.snd.wl1 == seg.seq && self.snd.wl2 <= ack) {
            self.snd.wnd = window;
            self.snd.max_wnd = self.snd.max_wnd.max(window);
            self.snd.wl1 = seg.seq;
            self.snd.wl2 = ack;
        }
        // A window that takes a whole segment (or half the largest offered) ends persisting;
        // a sliver leaves the timer to send it (SWS override, RFC 9293 §3.8.6.2.1).
        if self.snd.wnd >= (self.neg.snd_mss as u32).min(self.snd.max_wnd / 2).max(1) {
            self.timers.stop(Timer::Persist);
            self.end_probe_spell(ctx);
        } else if self.probe_count != 0 {
            self.probe_answered(ctx);
        }
        true
    }

    /// A duplicate ACK counted: in NewReno recovery it inflates the window; the third (or
    /// fewer, RFC 5827) starts fast retransmit. Out of line: rare beside new ACKs.
    #[inline(never)]
    fn on_duplicate_ack(&mut self, ctx: &mut Ctx, ack: SeqNum, mss: u32) {
        self.snd.fast_recovery.dup_acks = self.snd.fast_recovery.dup_acks.saturating_add(1);
        if self.snd.fast_recovery.active {
            if !self.neg.sack_ok {
                self.snd.cc.on_recovery_dup_ack(mss);
            }
        } else if self.snd.fast_recovery.dup_acks as u32 >= self.entry_dup_thresh()
            && ack > self.snd.fast_recovery.recover
            && !self.snd.scoreboard.rack_enabled()
        {
            // With RACK (RFC 8985 §6), time, not the count of duplicates, says what is lost.
            // RFC 6582 §3.2 steps 1–3: fast retransmit, enter fast recovery.
            self.enter_fast_recovery(ctx);
        }
    }

    /// An RTT sample, from the ACK of `ack`, for the estimator (RFC 6298), RACK's minimum RTT
    /// and HyStart.
    fn note_rtt_sample(&mut self, ctx: &mut Ctx, rtt_us: u64, ack: SeqNum) {
        self.snd.rtt.sample_us(rtt_us, ctx.timing.rto);
        self.snd.scoreboard.note_rtt_us(rtt_us);
        if !self.in_initial_slow_start(ctx) {
            return;
        }
        if !ctx.config.compat.hystart_without_css {
            self.snd.hystart.on_rtt_sample(rtt_us);
            return;
        }
        let cwnd_segments = self.snd.cc.cwnd() / self.neg.snd_mss.max(1) as u32;
        if self.snd.hystart.on_rtt_sample_linux(rtt_us, ack, self.snd.nxt, cwnd_segments) {
            self.snd.cc.exit_slow_start();
            ctx.counters.hystart_exits += 1;
        }
    }

    /// HyStart++ runs in the initial slow start only (RFC 9406 §4.3): before any reduction
    /// has set ssthresh.
    fn in_initial_slow_start(&self, ctx: &Ctx) -> bool {
        ctx.config.tcp_hystart && self.snd.cc.ssthresh() == u32::MAX
    }

    /// cwnd grows by `delivered` bytes (slow start or congestion avoidance) if the flight
    /// has been limited by it (RFC 7661), else the controller learns it was not.
    fn grow_cwnd(&mut self, ctx: &mut Ctx, ack: SeqNum, delivered: u32, mss: u32) {
        let grow = self.slow_start_growth(ctx, ack, delivered);
        if self.cwnd_may_grow() {
            // The round trip CUBIC looks ahead by: the path's minimum where RACK has kept
            // one (as Linux's delay_min), so that a queue building up does not make the
            // curve run ahead; else the smoothed RTT.
            let rtt_us = self.snd.scoreboard.rack().and_then(|r| r.min_rtt_us()).or(self.snd.rtt.srtt_us());
            let rtt_ms = rtt_us.map_or(0, |us| (us / 1000) as u32);
            self.snd.cc.on_ack(grow, mss, ctx.now.as_millis() as u32, rtt_ms);
            self.snd_buf_expand(ctx);
        } else {
            self.snd.cc.on_app_limited();
        }
    }

    /// Whether data newly SACKed, with SND.UNA where it was, grows cwnd: RFC 5681 §3.1 grows
    /// it on ACKs of new data only, and Linux keeps to that until it has seen the path
    /// reorder more than the duplicate-ACK threshold (tcp_may_raise_cwnd): out-of-order
    /// delivery is then no sign of loss, and a SACK is as much progress as a cumulative ACK.
    fn grows_on_sacks(&self, ctx: &Ctx) -> bool {
        ctx.config.compat.cwnd_grows_by_delivered
            && !self.snd.fast_recovery.active
            && !self.in_cwr()
            && self.snd.scoreboard.rack().is_some_and(|r| r.reordering > crate::rack::DUP_THRESH)
    }

    /// The bytes slow start grows by for an ACK of `acked` new bytes up to `ack`: all of them,
    /// a quarter in HyStart++'s conservative slow start; when HyStart++ ends slow start,
    /// avoidance takes over (RFC 9406 §4.2).
    fn slow_start_growth(&mut self, ctx: &mut Ctx, ack: SeqNum, acked: u32) -> u32 {
        if !self.in_initial_slow_start(ctx) || ctx.config.compat.hystart_without_css {
            return acked;
        }
        match self.snd.hystart.on_ack(ack, self.snd.nxt) {
            SlowStart::Standard => acked,
            SlowStart::Conservative => HyStart::css_growth(acked),
            SlowStart::Exit => {
                self.snd.cc.exit_slow_start();
                ctx.counters.hystart_exits += 1;
                acked
            }
        }
    }

    /// What a cumulative ACK of `acked` bytes delivered for cwnd growth. With
    /// `Compat::cwnd_grows_by_delivered`, data the peer had already reported (SACKed, or
    /// counted by a duplicate ACK without SACK) was delivered then and is not counted again
    /// (Linux counts newly delivered segments, tcp_cong_control; RFC 6937's DeliveredData);
    /// otherwise every byte the ACK covers (RFC 5681 §3.1, FreeBSD).
    fn newly_delivered(&self, ctx: &Ctx, acked: u32, sacked_before: u32, mss: u32) -> u32 {
        if sacked_before == 0 && self.snd.fast_recovery.dup_acks == 0 || !ctx.config.compat.cwnd_grows_by_delivered {
            return acked;
        }
        let reported = if self.neg.sack_ok {
            sacked_before.saturating_sub(self.snd.scoreboard.sacked_above(self.snd.una))
        } else {
            self.snd.fast_recovery.dup_acks as u32 * mss
        };
        // At least a segment's worth (Linux's tcp_remove_reno_sacks), never more than acked.
        acked.saturating_sub(reported).max(mss.min(acked))
    }

    /// An RTT sample from the echoed timestamp (RFC 7323 §4.1), or from the one timed segment
    /// (RFC 6298 §3, Karn's rule: never from a retransmitted one), or, with
    /// `Compat::rtt_from_every_ack`, from the logged send time of the first byte the ACK
    /// covers (RFC 6298 §3 allows more than one measurement a round trip; Linux takes one
    /// from every ACK).
    pub(super) fn sample_rtt(&mut self, ctx: &mut Ctx, seg: &TcpRepr) {
        if self.neg.ts_ok {
            if let Some((_, ecr)) = seg.options.timestamps {
                let rtt_ms = self.ts_now(ctx.now).wrapping_sub(ecr);
                if ecr != 0 && rtt_ms < 1 << 31 {
                    self.note_rtt_sample(ctx, rtt_ms as u64 * 1000, seg.ack);
                    return;
                }
            }
        }
        if let Some((seq, sent)) = self.snd.rtt_probe.get() {
            if seg.ack > seq {
                let rtt_us = (ctx.now.as_micros() as u32).wrapping_sub(sent) as u64;
                self.note_rtt_sample(ctx, rtt_us, seg.ack);
                self.snd.rtt_probe.clear();
                return;
            }
        }
        if ctx.config.compat.rtt_from_every_ack {
            let sent = self.snd.scoreboard.rack().and_then(|rack| rack.sent_at(self.snd.una));
            if let Some(sent) = sent.filter(|s| !s.retransmitted) {
                let rtt_us = ctx.now.as_micros().saturating_sub(sent.at.as_micros());
                self.note_rtt_sample(ctx, rtt_us, seg.ack);
            }
        }
    }
}
