//! Keep-alives (RFC 1122 §4.2.3.6): after a connection has been idle `idle`, probe the peer
//! every `interval`; after `probes` unanswered probes, give up. The config's timing
//! (`tcp_keepalive_time`, `_intvl`, `_probes`) is every connection's until the socket sets
//! its own (TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT). Few sockets do, so their timings live
//! in a table beside the connections (keyed by slot, emptied when the slot is freed) rather
//! than in every 512-byte record; `ConnFlags::OWN_KEEPALIVE` says one is there.

use super::{ConnFlags, Connection, Ctx, Owed, Shared, Timer};
use crate::{Cause, Instant, State};
use std::time::Duration;

/// A connection's keep-alive timing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeepaliveTiming {
    /// Idle time before the first probe (TCP_KEEPIDLE).
    pub idle: Duration,
    /// Time between probes (TCP_KEEPINTVL).
    pub interval: Duration,
    /// Unanswered probes before the connection is dropped (TCP_KEEPCNT).
    pub probes: u8,
}

impl Connection {
    /// The keep-alive timing in force: the socket's own, else the config's.
    pub fn keepalive_timing(&self, shared: &Shared) -> KeepaliveTiming {
        if self.flag(ConnFlags::OWN_KEEPALIVE) {
            if let Some(own) = shared.keepalive_timings.get(&self.handle.index) {
                return *own;
            }
        }
        let cfg = &shared.config;
        KeepaliveTiming {
            idle: cfg.tcp_keepalive_time,
            interval: cfg.tcp_keepalive_intvl,
            probes: cfg.tcp_keepalive_probes,
        }
    }

    /// The socket's own timing from now on; a keep-alive timer running is set again from when
    /// the peer was last heard, as Linux does on TCP_KEEPIDLE.
    pub fn set_keepalive_timing(&mut self, ctx: &mut Ctx, timing: KeepaliveTiming) {
        self.set_flag(ConnFlags::OWN_KEEPALIVE, true);
        ctx.keepalive_timings.insert(self.handle.index, timing);
        if self.keepalive_on(ctx) && self.state.is_synchronized() && self.keepalive_probes_sent == 0 {
            self.timers.set(Timer::Keepalive, self.last_heard.instant(ctx.now) + timing.idle);
        }
    }

    /// Whether keep-alives run: SO_KEEPALIVE, or the config's `tcp_always_keepalive`.
    fn keepalive_on(&self, shared: &Shared) -> bool {
        self.flag(ConnFlags::KEEPALIVE) || shared.config.tcp_always_keepalive
    }

    /// Forgets the socket's own timing as its slot is freed.
    pub(super) fn drop_keepalive_timing(&self, shared: &mut Shared) {
        if self.flag(ConnFlags::OWN_KEEPALIVE) {
            shared.keepalive_timings.remove(&self.handle.index);
        }
    }

    /// Before the handshake completes the flag only waits for it (`finish_handshake` arms
    /// the timer), as the timer counts the connection-establishment limit then.
    pub fn set_keepalive(&mut self, ctx: &mut Ctx, on: bool) {
        self.set_flag(ConnFlags::KEEPALIVE, on);
        if self.state.is_synchronized() {
            self.arm_keepalive(ctx);
        }
    }

    /// The keep-alive timer from now: the idle time, or never with keep-alives off.
    pub(super) fn arm_keepalive(&mut self, ctx: &Ctx) {
        let at = match self.keepalive_on(ctx) {
            true => ctx.now + self.keepalive_timing(ctx).idle,
            false => Instant::NEVER,
        };
        self.timers.set(Timer::Keepalive, at);
    }

    #[cold]
    pub(super) fn on_keepalive_timeout(&mut self, ctx: &mut Ctx) {
        if self.state == State::SynSent {
            // In SYN-SENT the timer is the connection-establishment limit (`tcp_keepinit`).
            ctx.counters.failed_connects += 1;
            self.close_with(ctx, Some(self.timed_out_error()), Cause::ConnectTimeout);
            return;
        }
        if !self.keepalive_on(ctx) || !self.state.is_synchronized() {
            return;
        }
        let timing = self.keepalive_timing(ctx);
        let idle = self.last_heard.elapsed(ctx.now);
        if idle < timing.idle && self.keepalive_probes_sent == 0 {
            self.timers.set(Timer::Keepalive, self.last_heard.instant(ctx.now) + timing.idle);
            return;
        }
        if self.keepalive_probes_sent >= timing.probes {
            // The peer is gone or unreachable; a RST tells any middlebox (and a peer that
            // comes back) that the connection is over, as Linux (`tcp_keepalive_timer`) and
            // FreeBSD (`tcp_drop`) send one.
            self.send_rst(ctx);
            self.close_with(ctx, Some(self.timed_out_error()), Cause::KeepaliveTimeout);
            return;
        }
        self.keepalive_probes_sent += 1;
        self.owed.insert(Owed::KEEPALIVE_PROBE);
        self.timers.set(Timer::Keepalive, ctx.now + timing.interval);
    }
}
