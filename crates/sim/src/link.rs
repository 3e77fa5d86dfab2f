//! A one-way link: its rate, and what its path's faults do to each packet, decided by the
//! simulation's seeded generator.

use std::time::Duration;
use synack_engine::{Instant, SplitMix64};

pub use synack_faults::{Faults, PPM};

/// A one-way link: the faults of its path (`synack_faults`, the model the runtime's tap uses
/// too) and its rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkConfig {
    pub faults: Faults,
    /// Serialization rate in bits per second; 0 is unlimited.
    pub bandwidth_bps: u64,
}

impl Default for LinkConfig {
    /// 5 ms each way, unlimited rate, no faults.
    fn default() -> LinkConfig {
        LinkConfig { faults: Faults { delay: Duration::from_millis(5), ..Faults::default() }, bandwidth_bps: 0 }
    }
}

impl LinkConfig {
    /// A perfect link with this one-way delay.
    pub fn with_delay(delay: Duration) -> LinkConfig {
        LinkConfig { faults: Faults { delay, ..Faults::default() }, bandwidth_bps: 0 }
    }
}

/// What the links did, summed over all links.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkStats {
    pub sent: u64,
    pub delivered: u64,
    pub dropped: u64,
    pub duplicated: u64,
    pub reordered: u64,
    pub corrupted: u64,
    /// ECT packets marked Congestion Experienced.
    pub ce_marked: u64,
    /// Dropped by a scripted fault rather than at random.
    pub dropped_by_script: u64,
}

#[derive(Debug, Clone)]
pub(crate) struct LinkState {
    pub config: LinkConfig,
    busy_until: Instant,
    last_arrival: Instant,
}

/// The arrivals one transmission produces (none if lost, two if duplicated).
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    pub arrivals: Vec<(Instant, bool)>, // (time, corrupted)
    pub lost: bool,
    pub duplicated: bool,
    pub reordered: bool,
}

impl LinkState {
    pub fn new(config: LinkConfig) -> LinkState {
        LinkState { config, busy_until: Instant::ZERO, last_arrival: Instant::ZERO }
    }

    pub fn transmit(&mut self, now: Instant, len: usize, rng: &mut SplitMix64, stats: &mut LinkStats) -> Outcome {
        let c = self.config;
        stats.sent += 1;
        let mut out = Outcome::default();
        // Serialization: the link sends one packet at a time at its rate.
        let start = now.max(self.busy_until);
        let bits_ns = (len as u64 * 8).saturating_mul(1_000_000_000);
        let serialize = Duration::from_nanos(bits_ns.checked_div(c.bandwidth_bps).unwrap_or(0));
        self.busy_until = start + serialize;
        let fate = c.faults.decide(rng);
        if fate.lost() {
            stats.dropped += 1;
            out.lost = true;
            return out;
        }
        for (i, copy) in fate.copies().iter().enumerate() {
            let mut arrival = self.busy_until + c.faults.delay + copy.jitter;
            if let Some(extra) = copy.reordered {
                arrival = arrival + extra;
                out.reordered = true;
                stats.reordered += 1;
            } else {
                // A link without reordering delivers in order, whatever the jitter.
                arrival = arrival.max(self.last_arrival);
                self.last_arrival = arrival;
            }
            if copy.corrupted {
                stats.corrupted += 1;
            }
            if i == 1 {
                out.duplicated = true;
                stats.duplicated += 1;
            }
            out.arrivals.push((arrival, copy.corrupted));
        }
        out
    }
}
