//! The segments a connection owes on its next poll, one bit each in a byte, so that
//! `wants_output` asks "is anything owed?" with one comparison instead of one per flag, and
//! `poll_synchronized` passes all the rare ones (retransmission, probes) with one test.

bitflags::bitflags! {
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    pub(crate) struct Owed: u8 {
        /// An ACK now, not delayed (RFC 9293 §3.10.7.4, RFC 5681 §4.2).
        const ACK = 1;
        /// One resend of the first unacknowledged segment: fast retransmit, a partial ACK in
        /// recovery (RFC 6582 §3.2), or a retransmission timeout (RFC 6298 §5.4).
        const REXMIT_ONE = 1 << 1;
        /// A tail loss probe (RFC 8985 §7.3).
        const LOSS_PROBE = 1 << 2;
        /// A zero-window probe (RFC 9293 §3.8.6.1).
        const WINDOW_PROBE = 1 << 3;
        /// A keep-alive probe (RFC 9293 §3.8.4).
        const KEEPALIVE_PROBE = 1 << 4;
        /// Everything but the ACK: the resends and probes.
        const REPAIR = Self::REXMIT_ONE.bits() | Self::LOSS_PROBE.bits() | Self::WINDOW_PROBE.bits()
            | Self::KEEPALIVE_PROBE.bits();
    }
}

impl Owed {
    pub const NOTHING: Owed = Owed::empty();

    #[inline]
    pub fn any(self) -> bool {
        !self.is_empty()
    }

    /// Whether any of the bits of `which` is owed.
    #[inline]
    pub fn has(self, which: Owed) -> bool {
        self.intersects(which)
    }

    /// Clears `which` and says whether any of it was owed.
    #[inline]
    pub fn take(&mut self, which: Owed) -> bool {
        let had = self.has(which);
        self.remove(which);
        had
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
            owed.insert(flag);
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
        owed.remove(Owed::ACK);
        assert!(!owed.has(Owed::ACK));
        assert!(owed.has(Owed::LOSS_PROBE));
        assert!(owed.any());
    }
}
