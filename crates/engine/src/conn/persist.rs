//! The persist timer's probes (RFC 9293 §3.8.6.1): data waits with nothing in flight, for a
//! zero window, for the sender's SWS override, or because the device refuses packets (a
//! full queue, Linux's local congestion). A spell of probes gives up after the user timeout
//! (RFC 5482), counted from its first probe, or after `tcp_retries2` probes in a row go
//! unanswered.

use super::{ConnFlags, Connection, Ctx, Owed, Timer, UNSET_MS};
use crate::{Cause, Instant};
use std::time::Duration;

/// How soon a probe the device refused is tried again: not backed off, so that the senders
/// sharing the device take turns at it (Linux's TCP_RESOURCE_PROBE_INTERVAL).
pub(crate) const RESOURCE_PROBE_INTERVAL: Duration = Duration::from_millis(500);

/// A spell of persist probes: when it began, for the user timeout (Linux's
/// icsk_probes_tstamp, which answers do not move), and the probe count when the peer last
/// answered one, for the probes that went unanswered since (Linux's icsk_probes_out).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ProbeSpell {
    started: Instant,
    answered_at: u8,
}

impl Connection {
    /// The persist timer, backed off per probe: for a zero window it sends a probe, for a
    /// small one the data it allows (the SWS override timeout).
    #[cold]
    pub(super) fn arm_persist(&mut self, ctx: &Ctx) {
        let rto = self.snd.rtt.rto(ctx.config.rto_max);
        let backoff = rto.saturating_mul(1 << self.probe_count.min(10)).min(ctx.config.rto_max);
        self.timers.set(Timer::Persist, ctx.now + backoff);
        self.set_flag(ConnFlags::PACED, false);
    }

    /// The persist timer expired: a probe is owed, unless the spell has outlasted the user
    /// timeout (RFC 5482; Linux's tcp_probe_timer), or `tcp_retries2` probes in a row have
    /// gone unanswered (a peer gone, or a device that never takes them, as Linux gives up),
    /// which end the connection. A peer that answers the probes of a zero window is probed
    /// for as long as it keeps the window shut (RFC 9293 §3.8.6.1).
    #[cold]
    pub(super) fn on_persist_timeout(&mut self, ctx: &mut Ctx) {
        let now = ctx.now;
        let spell = *ctx.probe_spells.entry(self.handle.index).or_insert(ProbeSpell { started: now, answered_at: 0 });
        if self.user_timeout_ms != UNSET_MS
            && ctx.now.saturating_since(spell.started) >= Duration::from_millis(self.user_timeout_ms as u64)
        {
            self.close_with(ctx, Some(self.timed_out_error()), Cause::UserTimeout);
            return;
        }
        if self.probe_count.saturating_sub(spell.answered_at) >= ctx.config.tcp_retries2 {
            self.close_with(ctx, Some(self.timed_out_error()), Cause::RetransmissionsExhausted);
            return;
        }
        self.owed.insert(Owed::WINDOW_PROBE);
        self.probe_count = self.probe_count.saturating_add(1);
    }

    /// An acceptable ACK came while probing, the window still shut: the probes so far were
    /// answered.
    #[cold]
    pub(super) fn probe_answered(&mut self, ctx: &mut Ctx) {
        if let Some(spell) = ctx.probe_spells.get_mut(&self.handle.index) {
            spell.answered_at = self.probe_count;
        }
    }

    /// The peer answered with progress or an open window: a spell of probes is over.
    #[inline]
    pub(super) fn end_probe_spell(&mut self, ctx: &mut Ctx) {
        if self.probe_count != 0 {
            self.probe_count = 0;
            ctx.probe_spells.remove(&self.handle.index);
        }
    }

    /// What this connection would send now was refused by the device. An ACK owed is lost
    /// (the peer's retransmission recovers from it); data stays to be sent (new data
    /// unsent, a retransmission not counted as one). With
    /// nothing in flight the persist timer probes for the device to take it (at the RTO
    /// first, as Linux's tcp_check_probe_timer), and a refused probe comes again after
    /// `RESOURCE_PROBE_INTERVAL` (within the user timeout). A SYN not sent waits for its
    /// retransmission timer, as a lost one would.
    #[cold]
    pub(crate) fn on_transmit_refused(&mut self, ctx: &mut Ctx) {
        self.owed.remove(Owed::ACK);
        if !self.state.is_synchronized() {
            if self.wants_output() && !self.timers.is_armed(Timer::Retransmit) {
                self.timers.set(Timer::Retransmit, self.rto_deadline(ctx));
            }
            return;
        }
        if self.owed.has(Owed::WINDOW_PROBE) {
            self.owed.remove(Owed::WINDOW_PROBE);
            let mut wait = RESOURCE_PROBE_INTERVAL;
            if self.user_timeout_ms != UNSET_MS {
                let started = ctx.probe_spells.get(&self.handle.index).map_or(ctx.now, |s| s.started);
                let limit = Duration::from_millis(self.user_timeout_ms as u64);
                wait = wait.min(limit.saturating_sub(ctx.now.saturating_since(started)));
            }
            self.timers.set(Timer::Persist, ctx.now + wait);
            self.set_flag(ConnFlags::PACED, false);
        } else if self.snd.max == self.snd.una && self.wants_output() && !self.timers.is_armed(Timer::Persist) {
            self.arm_persist(ctx);
        }
    }
}
