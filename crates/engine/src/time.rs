//! Engine time: microseconds since an arbitrary epoch chosen by the caller. The engine never
//! reads a clock; every call that may depend on time takes `now`.

use std::fmt;
use std::ops::{Add, Sub};
use std::time::Duration;

/// A point in engine time, in microseconds.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Instant(u64);

impl Instant {
    /// Time zero of the endpoint's clock.
    pub const ZERO: Instant = Instant(0);
    /// Later than any time a run reaches: "no deadline".
    pub const NEVER: Instant = Instant(u64::MAX);

    /// `us` microseconds after zero.
    pub const fn from_micros(us: u64) -> Instant {
        Instant(us)
    }
    /// `ms` milliseconds after zero.
    pub const fn from_millis(ms: u64) -> Instant {
        Instant(ms.saturating_mul(1000))
    }
    /// `s` seconds after zero.
    pub const fn from_secs(s: u64) -> Instant {
        Instant(s.saturating_mul(1_000_000))
    }
    /// Microseconds since zero.
    pub const fn as_micros(self) -> u64 {
        self.0
    }
    /// Milliseconds since zero.
    pub const fn as_millis(self) -> u64 {
        self.0 / 1000
    }
    /// `us` microseconds later (saturating at `NEVER`): adding a `Duration` converts it first.
    pub const fn add_micros(self, us: u64) -> Instant {
        Instant(self.0.saturating_add(us))
    }
    /// The time since `earlier`, zero when `earlier` is later.
    pub fn saturating_since(self, earlier: Instant) -> Duration {
        Duration::from_micros(self.0.saturating_sub(earlier.0))
    }
}

/// A point in engine time to the millisecond, in 32 bits that wrap every 49.7 days (as
/// Linux's jiffies stamps): for the records a connection keeps of when something last
/// happened, half the size of an `Instant`. Read back, it errs early: the moment it names is
/// never after the one it was taken at.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct MsStamp(u32);

impl MsStamp {
    /// Not yet (a stamp that reads as long ago).
    pub const NEVER: MsStamp = MsStamp(u32::MAX);

    /// The millisecond `now` falls in.
    pub fn at(now: Instant) -> MsStamp {
        MsStamp(now.as_millis() as u32)
    }

    /// The time from the stamp's millisecond to `now` (at least the time since the moment
    /// stamped; `MAX` for `NEVER`).
    pub fn elapsed(self, now: Instant) -> Duration {
        match self.elapsed_ms(now) {
            _ if self == MsStamp::NEVER => Duration::MAX,
            ms => Duration::from_micros(ms as u64 * 1000 + now.as_micros() % 1000),
        }
    }

    /// Whole milliseconds from the stamp's millisecond to `now`'s (`u32::MAX` for `NEVER`):
    /// the cheap reading, for counters kept in milliseconds.
    #[inline]
    pub fn elapsed_ms(self, now: Instant) -> u32 {
        if self == MsStamp::NEVER {
            return u32::MAX;
        }
        (now.as_millis() as u32).wrapping_sub(self.0)
    }

    /// The stamp as an `Instant`, `now` being later than it.
    pub fn instant(self, now: Instant) -> Instant {
        Instant::from_micros(now.as_micros().saturating_sub(micros(self.elapsed(now))))
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, d: Duration) -> Instant {
        Instant(self.0.saturating_add(micros(d)))
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;
    fn sub(self, earlier: Instant) -> Duration {
        self.saturating_since(earlier)
    }
}

/// A `Duration` in whole microseconds, saturating. In 64-bit arithmetic: `as_micros` works
/// in 128 bits, and every timer armed from the config pays for it.
pub(crate) fn micros(d: Duration) -> u64 {
    d.as_secs().saturating_mul(1_000_000).saturating_add(d.subsec_micros() as u64)
}

impl fmt::Debug for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Instant {
    /// Seconds with six decimals, as tcpdump prints relative times.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == Instant::NEVER {
            return write!(f, "never");
        }
        write!(f, "{}.{:06}", self.0 / 1_000_000, self.0 % 1_000_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn micros_is_exact_below_the_limit_and_saturates_above() {
        assert_eq!(micros(Duration::new(1, 500_999)), 1_000_500);
        assert_eq!(micros(Duration::from_micros(u64::MAX)), u64::MAX);
        assert_eq!(micros(Duration::MAX), u64::MAX);
        assert_eq!(micros(Duration::ZERO), 0);
    }

    /// A millisecond stamp reads back no later than the moment stamped (so a spell measured
    /// from it is never short), across the wrap of its 32 bits too.
    #[test]
    fn a_millisecond_stamp_errs_early_and_wraps() {
        let t = Instant::from_micros(5_000_999);
        let stamp = MsStamp::at(t);
        let now = Instant::from_micros(5_010_001);
        assert_eq!(stamp.elapsed(now), Duration::from_micros(10_001));
        assert!(stamp.instant(now) <= t);
        let wrap = (u32::MAX as u64 + 1) * 1000;
        let before = MsStamp::at(Instant::from_micros(wrap - 2000));
        assert_eq!(before.elapsed(Instant::from_micros(wrap + 3000)), Duration::from_millis(5));
        assert_eq!(MsStamp::NEVER.elapsed(now), Duration::MAX);
    }
}
