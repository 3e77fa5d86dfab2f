//! The engine's only source of randomness: SplitMix64 seeded from the config, so that one seed
//! gives one run. (Secrets such as the ISN key are drawn from it once, at construction.)

/// SplitMix64: a small, fast, seedable generator; every random choice of the engine and the
/// simulator comes from one, so a seed replays a run.
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A value in `0..bound` (bound > 0), by multiply-shift (bias below 2^-32 for our bounds).
    pub fn below(&mut self, bound: u64) -> u64 {
        ((self.next_u64() >> 32) * bound) >> 32
    }

    /// True with probability `numerator / denominator`, using integers only.
    pub fn chance(&mut self, numerator: u32, denominator: u32) -> bool {
        numerator > 0 && self.below(denominator as u64) < numerator as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_gives_same_sequence() {
        let mut a = SplitMix64::new(7);
        let mut b = SplitMix64::new(7);
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
    }

    #[test]
    fn below_stays_in_bounds_and_chance_extremes_hold() {
        let mut r = SplitMix64::new(1);
        for _ in 0..1000 {
            assert!(r.below(10) < 10);
            assert!(!r.chance(0, 100));
            assert!(r.chance(100, 100));
        }
    }
}
