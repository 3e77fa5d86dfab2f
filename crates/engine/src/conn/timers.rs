//! The connection's timers: a fixed table of deadlines (quinn-proto's shape), the earliest
//! of which the endpoint keeps in its heap.

use super::recovery::FastRecovery;
use super::sender::RetransmitFor;
use super::{ConnFlags, Connection, Ctx, Owed};
use crate::congestion::CongestionControl;
use crate::{Cause, Instant, State};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Timer {
    /// RFC 6298 retransmission timer (also SYN and SYN-ACK retransmission).
    Retransmit = 0,
    /// RFC 9293 §3.8.6.3 delayed ACK.
    DelayedAck = 1,
    /// RFC 9293 §3.8.6.1 zero-window probe.
    Persist = 2,
    /// RFC 1122 §4.2.3.6 keepalive.
    Keepalive = 3,
    /// Orphaned FIN-WAIT-2 (Linux `tcp_fin_timeout`).
    FinWait2 = 4,
}

const TIMER_COUNT: usize = 5;
const ALL: [Timer; TIMER_COUNT] =
    [Timer::Retransmit, Timer::DelayedAck, Timer::Persist, Timer::Keepalive, Timer::FinWait2];

/// One deadline per timer; `Instant::NEVER` is a stopped timer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TimerTable([Instant; TIMER_COUNT]);

impl TimerTable {
    pub const fn new() -> TimerTable {
        TimerTable([Instant::NEVER; TIMER_COUNT])
    }
    #[inline]
    pub fn set(&mut self, timer: Timer, at: Instant) {
        self.0[timer as usize] = at;
    }
    #[inline]
    pub fn stop(&mut self, timer: Timer) {
        self.0[timer as usize] = Instant::NEVER;
    }
    #[inline]
    pub fn get(&self, timer: Timer) -> Instant {
        self.0[timer as usize]
    }
    #[inline]
    pub fn is_armed(&self, timer: Timer) -> bool {
        self.0[timer as usize] != Instant::NEVER
    }
    /// Stops every timer.
    pub fn clear(&mut self) {
        *self = TimerTable::new();
    }
    /// The earliest deadline, `Instant::NEVER` when all are stopped.
    #[inline]
    pub fn next(&self) -> Instant {
        self.0.iter().copied().min().unwrap_or(Instant::NEVER)
    }
    /// Stops `timer` and returns true if its deadline is at or before `now`.
    #[inline]
    fn take_expired(&mut self, timer: Timer, now: Instant) -> bool {
        let due = self.0[timer as usize] <= now;
        if due {
            self.stop(timer);
        }
        due
    }
}

impl Connection {
    pub fn next_deadline(&self) -> Instant {
        // A CLOSED connection runs no timers (`on_timeout` skips it): one left armed would
        // be rescheduled at a past instant and `handle_timeout` would never finish (found
        // by the endpoint fuzzer: `retire` left them armed; kept as a second guard).
        if self.state == State::Closed {
            return Instant::NEVER;
        }
        self.timers.next()
    }

    /// Runs every timer whose deadline has passed.
    pub fn on_timeout(&mut self, ctx: &mut Ctx) {
        for timer in ALL {
            if self.state == State::Closed || !self.timers.take_expired(timer, ctx.now) {
                continue;
            }
            match timer {
                Timer::Retransmit => self.on_retransmit_timeout(ctx),
                Timer::DelayedAck => self.owed.insert(Owed::ACK),
                Timer::Persist if self.flag(ConnFlags::PACED) => self.set_flag(ConnFlags::PACED, false),
                Timer::Persist => self.on_persist_timeout(ctx),
                Timer::Keepalive => self.on_keepalive_timeout(ctx),
                Timer::FinWait2 => {
                    if self.state == State::FinWait2 {
                        self.send_rst(ctx);
                        self.close_with(ctx, None, Cause::FinWait2Timeout);
                    }
                }
            }
        }
    }

    fn on_retransmit_timeout(&mut self, ctx: &mut Ctx) {
        let cfg = &ctx.config;
        match self.state {
            State::SynSent | State::SynReceived => {
                self.rto_count += 1;
                let (limit, cause) = if self.state == State::SynSent {
                    (cfg.tcp_syn_retries, Cause::SynRetriesExhausted)
                } else {
                    (cfg.tcp_synack_retries, Cause::SynAckRetriesExhausted)
                };
                if self.rto_count > limit {
                    ctx.counters.failed_connects += 1;
                    self.close_with(ctx, Some(self.timed_out_error()), cause);
                    return;
                }
                ctx.counters.rto_expirations += 1;
                self.snd.rtt.back_off(ctx.timing.rto);
                self.snd.rtt_probe.clear();
                self.snd.nxt = self.snd.iss; // the SYN (or SYN-ACK) goes out again on the next poll
            }
            _ => {
                if self.snd.una == self.snd.max {
                    return;
                }
                match self.snd.retransmit_for {
                    RetransmitFor::Reorder => {
                        self.on_reorder_timeout(ctx);
                        return;
                    }
                    RetransmitFor::LossProbe => {
                        // RFC 8985 §7: the probe timeout, not the RTO: probe, then arm the RTO.
                        self.fire_loss_probe(ctx);
                        self.timers.set(Timer::Retransmit, self.rto_deadline(ctx));
                        return;
                    }
                    RetransmitFor::Rto => {}
                }
                if self.user_timeout_ms != super::UNSET_MS {
                    let limit = std::time::Duration::from_millis(self.user_timeout_ms as u64);
                    if self.last_progress.elapsed(ctx.now) >= limit {
                        self.close_with(ctx, Some(self.timed_out_error()), Cause::UserTimeout);
                        return;
                    }
                }
                self.rto_count += 1;
                if self.rto_count > cfg.tcp_retries2 {
                    self.close_with(ctx, Some(self.timed_out_error()), Cause::RetransmissionsExhausted);
                    return;
                }
                ctx.counters.rto_expirations += 1;
                // As Linux: no F-RTO for a timeout in a recovery, or one an MTU probe's loss
                // caused (the probe is lost for sure, and resent smaller).
                let frto_allowed = !self.snd.fast_recovery.active && !self.mtu.probing();
                if self.mtu.probing() {
                    self.mtu_probe_on_loss(ctx, true);
                }
                if ctx.config.tcp_mtu_probing != 0 {
                    self.suspect_black_hole(ctx);
                }
                self.recovery_on_timeout();
                // RFC 5681 §3.1 and RFC 6298 §5.5–5.6: collapse the window, back off, resend
                // from SND.UNA (what the peer has SACKed is skipped).
                let flight = self.snd.flight();
                let (cwnd, ssthresh) = (self.snd.cc.cwnd(), self.snd.cc.ssthresh());
                self.snd.cc.on_rto(flight, self.neg.snd_mss as u32);
                self.frto_on_timeout(ctx, cwnd, ssthresh, frto_allowed);
                self.set_flag(ConnFlags::CWR, false);
                self.snd.fast_recovery = FastRecovery::idle(self.snd.max);
                self.snd.rtt.back_off(ctx.timing.rto);
                self.snd.rtt_probe.clear();
                self.owed.remove(Owed::REXMIT_ONE);
                self.snd.nxt = self.snd.una;
            }
        }
        self.timers.set(Timer::Retransmit, self.rto_deadline(ctx));
    }
}
