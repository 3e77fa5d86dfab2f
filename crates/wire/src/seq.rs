//! TCP sequence numbers: 32-bit values compared modulo 2^32 (RFC 9293 §3.4, RFC 1982 style).

use std::cmp::Ordering;
use std::fmt;
use std::ops::{Add, AddAssign, Sub};

/// A TCP sequence number. Ordering is circular: `a < b` when `b - a` (mod 2^32) is in
/// `1..2^31`. Two numbers exactly 2^31 apart compare with the later one below, as RFC 1982
/// leaves that case undefined; TCP windows never come near it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SeqNum(pub u32);

impl SeqNum {
    /// `self - other` as a signed distance (positive when `self` is after `other`).
    pub fn diff(self, other: SeqNum) -> i32 {
        self.0.wrapping_sub(other.0) as i32
    }

    /// The forward distance from `other` to `self`, for `self >= other`.
    pub fn since(self, other: SeqNum) -> u32 {
        self.0.wrapping_sub(other.0)
    }

    /// The later of two sequence numbers (in modular order).
    pub fn max(self, other: SeqNum) -> SeqNum {
        if self >= other {
            self
        } else {
            other
        }
    }

    /// The earlier of two sequence numbers (in modular order).
    pub fn min(self, other: SeqNum) -> SeqNum {
        if self <= other {
            self
        } else {
            other
        }
    }

    /// `low <= self < high` in sequence space.
    pub fn in_range(self, low: SeqNum, high: SeqNum) -> bool {
        low <= self && self < high
    }
}

impl PartialOrd for SeqNum {
    fn partial_cmp(&self, other: &SeqNum) -> Option<Ordering> {
        Some(self.diff(*other).cmp(&0))
    }
}

impl Add<u32> for SeqNum {
    type Output = SeqNum;
    fn add(self, rhs: u32) -> SeqNum {
        SeqNum(self.0.wrapping_add(rhs))
    }
}

impl AddAssign<u32> for SeqNum {
    fn add_assign(&mut self, rhs: u32) {
        self.0 = self.0.wrapping_add(rhs);
    }
}

impl Sub<u32> for SeqNum {
    type Output = SeqNum;
    fn sub(self, rhs: u32) -> SeqNum {
        SeqNum(self.0.wrapping_sub(rhs))
    }
}

impl fmt::Debug for SeqNum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Display for SeqNum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordering_holds_across_the_wrap() {
        let before = SeqNum(u32::MAX - 10);
        let after = SeqNum(5);
        assert!(before < after);
        assert!(after > before);
        assert_eq!(after.diff(before), 16);
        assert_eq!(before.diff(after), -16);
        assert_eq!(after.since(before), 16);
        assert_eq!(before + 16, after);
        assert_eq!(after - 16, before);
    }

    #[test]
    fn max_and_min_follow_circular_order() {
        let a = SeqNum(u32::MAX);
        let b = SeqNum(0);
        assert_eq!(a.max(b), b);
        assert_eq!(a.min(b), a);
    }

    #[test]
    fn in_range_spans_the_wrap() {
        let low = SeqNum(u32::MAX - 1);
        let high = low + 4;
        assert!(SeqNum(u32::MAX).in_range(low, high));
        assert!(SeqNum(1).in_range(low, high));
        assert!(!SeqNum(2).in_range(low, high));
        assert!(!SeqNum(u32::MAX - 2).in_range(low, high));
    }

    #[test]
    fn half_the_space_apart_is_consistent() {
        // RFC 1982 leaves this undefined; ours is deterministic and antisymmetric but for i32::MIN.
        let a = SeqNum(0);
        let b = SeqNum(1 << 31);
        assert!(b < a);
        assert!(a < b);
    }
}
