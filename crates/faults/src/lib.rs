//! The fault model of a packet path: what happens to each packet (lost, duplicated, held back
//! so that later ones overtake it, corrupted, delayed by a random jitter, marked Congestion
//! Experienced), decided by a seeded generator so that a run replays from its seed. The
//! simulator's links and the runtime's tap both draw their faults here; each adds what only it
//! knows (a link's rate and order of arrival, a tap's real clock).
//!
//! Probabilities are integer parts per million, so that runs are the same on every machine.

#![deny(missing_docs)]

use std::time::Duration;
use synack_engine::SplitMix64;

/// One million: probabilities are `n / PPM`.
pub const PPM: u32 = 1_000_000;

/// The faults of one direction of a path. `Default` does nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Faults {
    /// Every packet takes this long (one-way propagation delay).
    pub delay: Duration,
    /// Extra delay drawn uniformly from `0..=jitter` per packet.
    pub jitter: Duration,
    /// Lost packets, parts per million.
    pub loss_ppm: u32,
    /// Duplicated packets, parts per million.
    pub duplicate_ppm: u32,
    /// A reordered packet is held back by up to two delays and a millisecond more, so that
    /// later ones overtake it.
    pub reorder_ppm: u32,
    /// A corrupted packet has one bit flipped (the checksum must catch it).
    pub corrupt_ppm: u32,
    /// An ECN-capable (ECT) packet is marked Congestion Experienced instead, as an AQM router
    /// does where it would otherwise drop (RFC 3168 §5). Not-ECT packets are not touched.
    pub ce_mark_ppm: u32,
}

/// One copy of a packet that goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Copy {
    /// The jitter drawn for it (added to `Faults::delay`).
    pub jitter: Duration,
    /// Held back this much more, so that later packets overtake it.
    pub reordered: Option<Duration>,
    /// Flip one bit of it.
    pub corrupted: bool,
}

/// What the path does to one packet: nothing goes on when it is lost, two copies when it is
/// duplicated (the second is the duplicate).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fate {
    copies: [Copy; 2],
    count: u8,
}

impl Fate {
    /// Whether the packet is lost (no copy goes on).
    pub fn lost(&self) -> bool {
        self.count == 0
    }
    /// Whether it goes on twice.
    pub fn duplicated(&self) -> bool {
        self.count == 2
    }
    /// The copies that go on, in order (the second is the duplicate).
    pub fn copies(&self) -> &[Copy] {
        &self.copies[..self.count as usize]
    }
}

impl Faults {
    /// Whether any packet could be lost, duplicated, reordered, corrupted, marked or held.
    pub fn is_active(&self) -> bool {
        self.loss_ppm > 0
            || self.duplicate_ppm > 0
            || self.reorder_ppm > 0
            || self.corrupt_ppm > 0
            || self.ce_mark_ppm > 0
            || !self.delay.is_zero()
            || !self.jitter.is_zero()
    }

    /// Draws the fate of one packet. The draws come in a fixed order (loss; duplication; then
    /// for each copy its jitter, reordering and corruption), so that a seed replays exactly.
    pub fn decide(&self, rng: &mut SplitMix64) -> Fate {
        let none = Copy { jitter: Duration::ZERO, reordered: None, corrupted: false };
        let mut fate = Fate { copies: [none; 2], count: 0 };
        if rng.chance(self.loss_ppm, PPM) {
            return fate;
        }
        fate.count = if rng.chance(self.duplicate_ppm, PPM) { 2 } else { 1 };
        for copy in &mut fate.copies[..fate.count as usize] {
            let jitter_us = if self.jitter.is_zero() { 0 } else { rng.below(self.jitter.as_micros() as u64 + 1) };
            copy.jitter = Duration::from_micros(jitter_us);
            if rng.chance(self.reorder_ppm, PPM) {
                let extra_us = rng.below(2 * self.delay.as_micros() as u64 + 1000) + 1;
                copy.reordered = Some(Duration::from_micros(extra_us));
            }
            copy.corrupted = rng.chance(self.corrupt_ppm, PPM);
        }
        fate
    }

    /// Whether an ECN-capable packet that went on is marked Congestion Experienced (drawn
    /// only for such packets, and only when marking is on).
    pub fn mark_ce(&self, rng: &mut SplitMix64) -> bool {
        self.ce_mark_ppm > 0 && rng.chance(self.ce_mark_ppm, PPM)
    }

    /// Flips the bit a corrupted copy loses (drawn from `rng`).
    pub fn corrupt(packet: &mut [u8], rng: &mut SplitMix64) {
        if packet.is_empty() {
            return;
        }
        let bit = rng.below(packet.len() as u64 * 8);
        packet[(bit / 8) as usize] ^= 1 << (bit % 8);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_happens_by_default() {
        let mut rng = SplitMix64::new(1);
        for _ in 0..1000 {
            let fate = Faults::default().decide(&mut rng);
            assert_eq!(fate.copies(), &[Copy { jitter: Duration::ZERO, reordered: None, corrupted: false }]);
        }
        assert!(!Faults::default().is_active());
    }

    #[test]
    fn each_fault_happens_at_about_its_rate() {
        let faults = Faults {
            loss_ppm: PPM / 10,
            duplicate_ppm: PPM / 10,
            reorder_ppm: PPM / 10,
            corrupt_ppm: PPM / 10,
            jitter: Duration::from_millis(2),
            ..Faults::default()
        };
        let mut rng = SplitMix64::new(7);
        let (mut lost, mut dup, mut reordered, mut corrupted) = (0, 0, 0, 0);
        for _ in 0..100_000 {
            let fate = faults.decide(&mut rng);
            lost += fate.lost() as u32;
            dup += fate.duplicated() as u32;
            for c in fate.copies() {
                reordered += c.reordered.is_some() as u32;
                corrupted += c.corrupted as u32;
                assert!(c.jitter <= faults.jitter);
                assert!(c.reordered.is_none_or(|d| d <= Duration::from_micros(1001)));
            }
        }
        for (name, n, expected) in [
            ("lost", lost, 10_000),
            ("duplicated", dup, 9_000),
            ("reordered", reordered, 9_900),
            ("corrupted", corrupted, 9_900),
        ] {
            assert!((n as i32 - expected).abs() < expected / 10, "{name}: {n}, expected about {expected}");
        }
    }

    #[test]
    fn the_same_seed_decides_the_same() {
        let faults = Faults { loss_ppm: PPM / 3, reorder_ppm: PPM / 3, ..Faults::default() };
        let (mut a, mut b) = (SplitMix64::new(3), SplitMix64::new(3));
        for _ in 0..1000 {
            assert_eq!(faults.decide(&mut a), faults.decide(&mut b));
        }
    }
}
