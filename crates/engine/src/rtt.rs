//! Retransmission timeout per RFC 6298.

use crate::time::micros;
use std::time::Duration;

#[derive(Debug, Clone, Copy)]
pub struct RttEstimator {
    /// Smoothed RTT and RTT variance in microseconds; `srtt_us == 0` before the first sample.
    srtt_us: u32,
    rttvar_us: u32,
    rto_us: u32,
    /// Consecutive expirations: the RTO in force is `rto << backoff` (RFC 6298 §5.5).
    backoff: u8,
    /// `RtoBounds::slop_us` in milliseconds, as last given: added once after the doubling.
    slop_ms: u16,
}

/// RFC 6298 §2: G, the clock granularity. Engine time is in microseconds; 1 ms keeps RTO sane
/// for very short simulated RTTs, as real stacks' tick does.
const GRANULARITY_US: u32 = 1000;

/// What bounds a computed RTO: RFC 6298 §2.4–2.5's minimum and maximum, and a slop added
/// before clamping (FreeBSD's `net.inet.tcp.rexmit_slop`, 200 ms there; 0 for Linux), as
/// FreeBSD's `TCPT_RANGESET` adds it: to the computed RTO, and to a backed-off one after the
/// doubling (so SYNs go out 1, 2.2, 4.2 s apart), though not to the initial RTO. In
/// microseconds, as the estimator works: `Duration` arithmetic normalizes at every step.
#[derive(Debug, Clone, Copy)]
pub struct RtoBounds {
    pub min_us: u64,
    pub max_us: u64,
    pub slop_us: u64,
    /// The least the variance term adds (Linux: `min_us`; RFC 6298: the clock granularity).
    pub variance_floor_us: u64,
}

impl RtoBounds {
    pub fn new(min: Duration, max: Duration, slop: Duration) -> RtoBounds {
        RtoBounds { min_us: micros(min), max_us: micros(max), slop_us: micros(slop), variance_floor_us: 0 }
    }

    /// With `on`, the minimum bounds 4 RTTVAR instead of the RTO (Linux's `tcp_set_rto`).
    pub fn variance_floored(self, on: bool) -> RtoBounds {
        RtoBounds { variance_floor_us: if on { self.min_us } else { 0 }, ..self }
    }
}

impl RttEstimator {
    /// Before any sample the RTO is `initial_us` (RFC 6298 §2.1).
    pub fn new(initial_us: u64) -> RttEstimator {
        RttEstimator {
            srtt_us: 0,
            rttvar_us: 0,
            rto_us: initial_us.min(u32::MAX as u64) as u32,
            backoff: 0,
            slop_ms: 0,
        }
    }

    /// RFC 6298 §2.2–2.3: fold in a measurement of `rtt_us` microseconds.
    pub fn sample_us(&mut self, rtt_us: u64, bounds: RtoBounds) {
        let r = rtt_us.min(u32::MAX as u64) as u32;
        if self.srtt_us == 0 {
            self.srtt_us = r.max(1);
            self.rttvar_us = r / 2;
        } else {
            // RTTVAR <- 3/4 RTTVAR + 1/4 |SRTT - R'|; SRTT <- 7/8 SRTT + 1/8 R'
            let delta = self.srtt_us.abs_diff(r);
            self.rttvar_us = ((3 * self.rttvar_us as u64 + delta as u64) / 4) as u32;
            self.srtt_us = ((7 * self.srtt_us as u64 + r as u64) / 8).max(1) as u32;
        }
        let variance = (4 * self.rttvar_us as u64).max(GRANULARITY_US as u64).max(bounds.variance_floor_us);
        let rto = self.srtt_us as u64 + variance + bounds.slop_us;
        let (min, max) = (bounds.min_us, bounds.max_us);
        self.rto_us = rto.clamp(min, max.max(min)).min(u32::MAX as u64) as u32;
        self.backoff = 0;
        self.slop_ms = (bounds.slop_us / 1000).min(u16::MAX as u64) as u16;
    }

    /// The timeout to arm now in microseconds, backoff included, never above `max_us`.
    pub fn rto_us(&self, max_us: u64) -> u64 {
        if self.backoff == 0 {
            return (self.rto_us as u64).min(max_us);
        }
        let slop_us = self.slop_ms as u64 * 1000;
        // The slop is in a computed RTO, not in the initial one.
        let base = if self.srtt_us > 0 { (self.rto_us as u64).saturating_sub(slop_us) } else { self.rto_us as u64 };
        ((base << self.backoff.min(20)) + slop_us).min(max_us)
    }

    /// `rto_us` as a `Duration`.
    pub fn rto(&self, max: Duration) -> Duration {
        Duration::from_micros(self.rto_us(micros(max)))
    }

    /// RFC 6298 §5.5: double the RTO after an expiration (`bounds`' slop added after).
    pub fn back_off(&mut self, bounds: RtoBounds) {
        self.backoff = self.backoff.saturating_add(1);
        self.slop_ms = (bounds.slop_us / 1000).min(u16::MAX as u64) as u16;
    }

    /// The smoothed RTT in microseconds, once there is a sample.
    pub fn srtt_us(&self) -> Option<u64> {
        (self.srtt_us > 0).then_some(self.srtt_us as u64)
    }
    pub fn srtt(&self) -> Option<Duration> {
        self.srtt_us().map(Duration::from_micros)
    }
    pub fn rttvar(&self) -> Duration {
        Duration::from_micros(self.rttvar_us as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Duration = Duration::from_millis(200);
    const MAX: Duration = Duration::from_secs(120);
    const LINUX: RtoBounds = RtoBounds { min_us: 200_000, max_us: 120_000_000, slop_us: 0, variance_floor_us: 0 };

    #[test]
    fn first_sample_sets_srtt_and_half_variance() {
        let mut e = RttEstimator::new(1_000_000);
        e.sample_us(100000, LINUX);
        assert_eq!(e.srtt(), Some(Duration::from_millis(100)));
        assert_eq!(e.rttvar(), Duration::from_millis(50));
        assert_eq!(e.rto(MAX), Duration::from_millis(300));
    }

    #[test]
    fn rto_is_clamped_to_the_minimum() {
        let mut e = RttEstimator::new(1_000_000);
        e.sample_us(1000, LINUX);
        assert_eq!(e.rto(MAX), MIN);
    }

    #[test]
    fn backoff_doubles_up_to_the_maximum_and_a_sample_resets_it() {
        let mut e = RttEstimator::new(1_000_000);
        e.back_off(LINUX);
        e.back_off(LINUX);
        assert_eq!(e.rto(MAX), Duration::from_secs(4));
        for _ in 0..10 {
            e.back_off(LINUX);
        }
        assert_eq!(e.rto(MAX), MAX);
        e.sample_us(100000, LINUX);
        assert_eq!(e.rto(MAX), Duration::from_millis(300));
    }

    #[test]
    fn slop_is_added_before_the_minimum_applies() {
        let bsd = RtoBounds::new(Duration::from_millis(30), MAX, Duration::from_millis(200));
        let mut e = RttEstimator::new(1_000_000);
        e.sample_us(100000, bsd);
        assert_eq!(e.rto(MAX), Duration::from_millis(500));
        let mut e = RttEstimator::new(1_000_000);
        e.sample_us(100, bsd);
        assert_eq!(e.rto(MAX), Duration::from_micros(100 + 1000 + 200_000));
    }

    /// FreeBSD's backoff: the initial RTO doubled, plus the slop (1, 2.2, 4.2 s); a computed
    /// RTO doubled without its slop, plus the slop.
    #[test]
    fn slop_is_added_once_after_the_doubling() {
        let bsd = RtoBounds::new(Duration::from_millis(30), MAX, Duration::from_millis(200));
        let mut e = RttEstimator::new(1_000_000);
        assert_eq!(e.rto(MAX), Duration::from_secs(1), "no slop in the initial RTO");
        e.back_off(bsd);
        assert_eq!(e.rto(MAX), Duration::from_millis(2200));
        e.back_off(bsd);
        assert_eq!(e.rto(MAX), Duration::from_millis(4200));
        e.sample_us(100_000, bsd);
        e.back_off(bsd);
        assert_eq!(e.rto(MAX), Duration::from_millis(2 * 300 + 200));
    }

    /// Linux's form: the minimum bounds the variance term, so a 10 ms path's RTO is 210 ms,
    /// where RFC 6298's floor gives 200 ms; a 100 ms path's first RTO is 300 ms either way.
    #[test]
    fn the_minimum_can_bound_the_variance_instead() {
        let linux = LINUX.variance_floored(true);
        let mut e = RttEstimator::new(1_000_000);
        e.sample_us(10_000, linux);
        assert_eq!(e.rto(MAX), Duration::from_millis(210));
        let mut e = RttEstimator::new(1_000_000);
        e.sample_us(100_000, linux);
        assert_eq!(e.rto(MAX), Duration::from_millis(300));
        e.sample_us(100_000, linux);
        assert_eq!(e.rto(MAX), Duration::from_millis(300), "RFC 6298 would give 250 ms");
    }
}
