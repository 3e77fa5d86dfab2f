//! NewReno: RFC 5681 slow start and congestion avoidance, RFC 6582 fast recovery.

use super::{slow_start, CongestionControl};

/// NewReno: RFC 5681 slow start and congestion avoidance, RFC 6582 fast recovery.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NewReno {
    cwnd: u32,
    ssthresh: u32,
}

/// RFC 5681 §3.2: the duplicate-ACK threshold.
pub const DUP_ACK_THRESHOLD: u8 = 3;

impl NewReno {
    pub fn new(initial_window: u32) -> NewReno {
        NewReno { cwnd: initial_window, ssthresh: u32::MAX }
    }

    /// Both at once (for a controller built on NewReno's arithmetic).
    pub(super) fn set(&mut self, cwnd: u32, ssthresh: u32) {
        (self.cwnd, self.ssthresh) = (cwnd, ssthresh);
    }

    /// RFC 5681 §3.1 eq. 4 (and §3.2 step 2): half the flight, at least two segments.
    pub(super) fn reduced_ssthresh(flight: u32, mss: u32) -> u32 {
        (flight / 2).max(2 * mss)
    }
}

impl CongestionControl for NewReno {
    fn cwnd(&self) -> u32 {
        self.cwnd
    }

    fn ssthresh(&self) -> u32 {
        self.ssthresh
    }

    /// Slow start (`slow_start`) up to ssthresh; avoidance by about one MSS per RTT (RFC 5681
    /// §3.1).
    fn on_ack(&mut self, acked: u32, mss: u32, _now_ms: u32, _rtt_ms: u32) {
        if self.cwnd < self.ssthresh {
            self.cwnd = slow_start(self.cwnd, self.ssthresh, acked);
        } else {
            let inc = ((mss as u64 * mss as u64) / self.cwnd.max(1) as u64).max(1) as u32;
            self.cwnd = self.cwnd.saturating_add(inc);
        }
    }

    /// RFC 6582 §3.2 step 2; RFC 6675 §5 step 4 without inflation.
    fn on_loss(&mut self, flight: u32, mss: u32, inflate: bool) {
        self.ssthresh = NewReno::reduced_ssthresh(flight, mss);
        self.cwnd = if inflate { self.ssthresh + DUP_ACK_THRESHOLD as u32 * mss } else { self.ssthresh };
    }

    /// RFC 6582 §3.2 step 4: each further duplicate ACK inflates the window by one MSS.
    fn on_recovery_dup_ack(&mut self, mss: u32) {
        self.cwnd = self.cwnd.saturating_add(mss);
    }

    /// RFC 6582 §3.2 step 5, partial ACK: deflate by the amount acknowledged, add back one MSS.
    fn on_partial_ack(&mut self, acked: u32, mss: u32) {
        self.cwnd = self.cwnd.saturating_sub(acked).saturating_add(mss).max(mss);
    }

    /// RFC 6582 §3.2 step 5, full ACK: cwnd = min(ssthresh, flight + MSS).
    fn on_recovery_exit(&mut self, flight: u32, mss: u32) {
        self.cwnd = self.ssthresh.min(flight.saturating_add(mss)).max(mss);
    }

    /// RFC 3168 §6.1.2: as for a loss, with cwnd no larger than it was.
    fn on_ecn_echo(&mut self, flight: u32, mss: u32) {
        self.ssthresh = NewReno::reduced_ssthresh(flight, mss);
    }

    /// RFC 5681 §3.1 eq. 4: one segment after a timeout.
    fn on_rto(&mut self, flight: u32, mss: u32) {
        self.ssthresh = NewReno::reduced_ssthresh(flight, mss);
        self.cwnd = mss;
    }

    fn set_cwnd(&mut self, cwnd: u32) {
        self.cwnd = cwnd;
    }

    fn exit_slow_start(&mut self) {
        self.ssthresh = self.cwnd;
    }

    fn undo(&mut self, cwnd: u32, ssthresh: u32) {
        self.cwnd = self.cwnd.max(cwnd);
        self.ssthresh = ssthresh;
    }

    fn restart_after_idle(&mut self, cwnd: u32) {
        if self.ssthresh != u32::MAX {
            self.ssthresh = self.ssthresh.max(self.cwnd / 2 + self.cwnd / 4);
        }
        self.cwnd = cwnd;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stretch ACK of five segments grows the window by five (Linux), not one; slow start
    /// stops at ssthresh.
    #[test]
    fn slow_start_grows_by_every_byte_acknowledged_up_to_ssthresh() {
        let mut c = NewReno::new(10_000);
        c.on_ack(5000, 1000, 0, 0);
        assert_eq!(c.cwnd, 15_000);
        c.ssthresh = 17_000;
        c.on_ack(5000, 1000, 0, 0);
        assert_eq!(c.cwnd, 17_000);
    }

    #[test]
    fn avoidance_grows_by_about_one_mss_per_window() {
        let mut c = NewReno::new(10_000);
        c.ssthresh = 10_000;
        for _ in 0..10 {
            c.on_ack(1000, 1000, 0, 0);
        }
        assert!((10_900..=11_000).contains(&c.cwnd), "cwnd {}", c.cwnd);
    }

    #[test]
    fn recovery_halves_then_exits_at_ssthresh() {
        let mut c = NewReno::new(20_000);
        c.on_loss(20_000, 1000, true);
        assert_eq!(c.ssthresh, 10_000);
        assert_eq!(c.cwnd, 13_000);
        c.on_recovery_dup_ack(1000);
        assert_eq!(c.cwnd, 14_000);
        c.on_recovery_exit(9_000, 1000);
        assert_eq!(c.cwnd, 10_000);
        let mut sack = NewReno::new(20_000);
        sack.on_loss(20_000, 1000, false);
        assert_eq!((sack.cwnd, sack.ssthresh), (10_000, 10_000), "RFC 6675: no inflation");
    }

    #[test]
    fn timeout_collapses_to_one_segment() {
        let mut c = NewReno::new(20_000);
        c.on_rto(8000, 1000);
        assert_eq!((c.cwnd, c.ssthresh), (1000, 4000));
    }

    #[test]
    fn an_ecn_echo_halves_ssthresh_leaving_cwnd_to_prr_and_undo_restores() {
        let mut c = NewReno::new(20_000);
        c.on_ecn_echo(20_000, 1000);
        assert_eq!((c.cwnd, c.ssthresh), (20_000, 10_000), "cwnd comes down ACK by ACK");
        c.undo(20_000, u32::MAX);
        assert_eq!((c.cwnd, c.ssthresh), (20_000, u32::MAX));
    }
}
