//! A one-way link: what it does to each packet, decided by the simulation's seeded generator.
//! Probabilities are integer parts per million, so runs are identical on every machine.

use std::time::Duration;
use synack_engine::{Instant, SplitMix64};

/// One million: probabilities are `n / PPM`.
pub const PPM: u32 = 1_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkConfig {
    /// One-way propagation delay.
    pub delay: Duration,
    /// Extra delay drawn uniformly from `0..=jitter` per packet (order is kept unless reordered).
    pub jitter: Duration,
    /// Serialization rate in bits per second; 0 is unlimited.
    pub bandwidth_bps: u64,
    pub loss_ppm: u32,
    pub duplicate_ppm: u32,
    /// A reordered packet is held back by up to two extra delays, so later ones overtake it.
    pub reorder_ppm: u32,
    /// A corrupted packet has one bit flipped (the checksum must catch it).
    pub corrupt_ppm: u32,
    /// An ECN-capable (ECT) packet is marked Congestion Experienced instead, as an AQM router
    /// does where it would otherwise drop (RFC 3168 §5). Not-ECT packets are not touched.
    pub ce_mark_ppm: u32,
}

impl Default for LinkConfig {
    fn default() -> LinkConfig {
        LinkConfig {
            delay: Duration::from_millis(5),
            jitter: Duration::ZERO,
            bandwidth_bps: 0,
            loss_ppm: 0,
            duplicate_ppm: 0,
            reorder_ppm: 0,
            corrupt_ppm: 0,
            ce_mark_ppm: 0,
        }
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
        if rng.chance(c.loss_ppm, PPM) {
            stats.dropped += 1;
            out.lost = true;
            return out;
        }
        let copies = if rng.chance(c.duplicate_ppm, PPM) { 2 } else { 1 };
        for copy in 0..copies {
            let jitter = if c.jitter.is_zero() { 0 } else { rng.below(c.jitter.as_micros() as u64 + 1) };
            let mut arrival = self.busy_until + c.delay + Duration::from_micros(jitter);
            if rng.chance(c.reorder_ppm, PPM) {
                let extra = rng.below(2 * c.delay.as_micros() as u64 + 1000) + 1;
                arrival = arrival + Duration::from_micros(extra);
                out.reordered = true;
                stats.reordered += 1;
            } else {
                // A link without reordering delivers in order, whatever the jitter.
                arrival = arrival.max(self.last_arrival);
                self.last_arrival = arrival;
            }
            let corrupted = rng.chance(c.corrupt_ppm, PPM);
            if corrupted {
                stats.corrupted += 1;
            }
            if copy == 1 {
                out.duplicated = true;
                stats.duplicated += 1;
            }
            out.arrivals.push((arrival, corrupted));
        }
        out
    }
}
