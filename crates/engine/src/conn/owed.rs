//! The segments a connection owes on its next poll, one bit each in a byte, so that
//! `wants_output` asks "is anything owed?" with one comparison instead of one per flag, and
//! `poll_synchronized` passes all the rare ones (retransmission, probes) with one test.

use std::ops::BitOr;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Owed(u8);

impl Owed {
    pub const NOTHING: Owed = Owed(0);
    /// An ACK now, not delayed (RFC 9293 §3.10.7.4, RFC 5681 §4.2).
    pub const ACK: Owed = Owed(1);
    /// One resend of the first unacknowledged segment: fast retransmit, a partial ACK in
    /// recovery (RFC 6582 §3.2), or a retransmission timeout (RFC 6298 §5.4).
    pub const REXMIT_ONE: Owed = Owed(1 << 1);
    /// A tail loss probe (RFC 8985 §7.3).
    pub const LOSS_PROBE: Owed = Owed(1 << 2);
    /// A zero-window probe (RFC 9293 §3.8.6.1).
    pub const WINDOW_PROBE: Owed = Owed(1 << 3);
    /// A keep-alive probe (RFC 9293 §3.8.4).
    pub const KEEPALIVE_PROBE: Owed = Owed(1 << 4);
    /// Everything but the ACK: the resends and probes.
    pub const REPAIR: Owed = Owed(0b1_1110);

    pub fn any(self) -> bool {
        self != Owed::NOTHING
    }

    /// Whether any of the bits of `which` is owed.
    pub fn has(self, which: Owed) -> bool {
        self.0 & which.0 != 0
    }

    pub fn set(&mut self, which: Owed) {
        self.0 |= which.0;
    }

    pub fn clear(&mut self, which: Owed) {
        self.0 &= !which.0;
    }

    /// Clears `which` and says whether any of it was owed.
    pub fn take(&mut self, which: Owed) -> bool {
        let had = self.has(which);
        self.clear(which);
        had
    }
}

impl BitOr for Owed {
    type Output = Owed;

    fn bitor(self, other: Owed) -> Owed {
        Owed(self.0 | other.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_flag_is_set_seen_and_taken_alone() {
        let all = [Owed::ACK, Owed::REXMIT_ONE, Owed::LOSS_PROBE, Owed::WINDOW_PROBE, Owed::KEEPALIVE_PROBE];
        for (i, &flag) in all.iter().enumerate() {
            let mut owed = Owed::NOTHING;
            assert!(!owed.any());
            owed.set(flag);
            assert!(owed.any());
            for (j, &other) in all.iter().enumerate() {
                assert_eq!(owed.has(other), i == j, "flag {i} against {j}");
            }
            assert!(owed.has(Owed::WINDOW_PROBE | flag));
            assert!(owed.take(flag));
            assert!(!owed.take(flag));
            assert!(!owed.any());
        }
    }

    #[test]
    fn repair_is_every_flag_but_the_ack() {
        let repair = Owed::REXMIT_ONE | Owed::LOSS_PROBE | Owed::WINDOW_PROBE | Owed::KEEPALIVE_PROBE;
        assert_eq!(Owed::REPAIR, repair);
        assert!(!Owed::REPAIR.has(Owed::ACK));
    }

    #[test]
    fn clearing_one_flag_keeps_the_others() {
        let mut owed = Owed::ACK | Owed::LOSS_PROBE;
        owed.clear(Owed::ACK);
        assert!(!owed.has(Owed::ACK));
        assert!(owed.has(Owed::LOSS_PROBE));
        assert!(owed.any());
    }
}
