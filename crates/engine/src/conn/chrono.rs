//! The time chronograph (Linux's `tcp_chrono`, reported by TCP_INFO as tcpi_busy_time and
//! tcpi_rwnd_limited): how long the connection had data to deliver, and of that how long
//! the peer's receive window held it back. One spell runs at a time; a window-limited spell
//! outranks a busy one, and when it ends the busy one resumes while data remains.

use super::{ConnFlags, Connection};
use crate::time::MsStamp;
use crate::Instant;
use std::time::Duration;

impl Connection {
    /// Data was queued: the busy spell starts if none runs.
    pub(super) fn chrono_busy(&mut self, now: Instant) {
        if !self.chrono_running() {
            self.chrono_switch(now, ConnFlags::CHRONO_BUSY);
        }
    }

    /// Whether the peer's window is what holds queued data back, at a transmission decision:
    /// a window-limited spell starts, or one that ran ends (busy again).
    pub(super) fn chrono_window(&mut self, now: Instant, limited: bool) {
        let running = self.flag(ConnFlags::CHRONO_RWND);
        if limited && !running {
            self.chrono_switch(now, ConnFlags::CHRONO_RWND);
        } else if !limited && running {
            self.chrono_switch(now, ConnFlags::CHRONO_BUSY);
        }
    }

    /// Everything sent is acknowledged and nothing waits: the chronograph stops.
    pub(super) fn chrono_idle(&mut self, now: Instant) {
        if self.chrono_running() {
            self.chrono_switch(now, ConnFlags::empty());
        }
    }

    /// Ends the running spell (adding it to its counters) and starts `next`.
    fn chrono_switch(&mut self, now: Instant, next: ConnFlags) {
        let spell = self.chrono_spell_ms(now);
        self.busy_ms = self.busy_ms.saturating_add(spell);
        if self.flag(ConnFlags::CHRONO_RWND) {
            self.rwnd_limited_ms = self.rwnd_limited_ms.saturating_add(spell);
        }
        self.flags.remove(ConnFlags::CHRONO_BUSY | ConnFlags::CHRONO_RWND);
        self.flags.insert(next);
        self.chrono_start = MsStamp::at(now);
    }

    /// A spell runs (busy or window-limited).
    fn chrono_running(&self) -> bool {
        self.flags.intersects(ConnFlags::CHRONO_BUSY | ConnFlags::CHRONO_RWND)
    }

    /// The running spell so far, milliseconds (0 when none runs).
    fn chrono_spell_ms(&self, now: Instant) -> u32 {
        if self.chrono_running() {
            self.chrono_start.elapsed_ms(now)
        } else {
            0
        }
    }

    /// Busy time and window-limited time up to `now`, the running spell included.
    pub(super) fn chrono_read(&self, now: Instant) -> (Duration, Duration) {
        let spell = self.chrono_spell_ms(now);
        let busy = self.busy_ms.saturating_add(spell);
        let rwnd = self.rwnd_limited_ms.saturating_add(if self.flag(ConnFlags::CHRONO_RWND) { spell } else { 0 });
        (Duration::from_millis(busy as u64), Duration::from_millis(rwnd as u64))
    }
}
