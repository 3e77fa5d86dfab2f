//! NewReno congestion control: RFC 5681 slow start and congestion avoidance, RFC 6582 fast
//! retransmit and fast recovery. Works in bytes; the connection tells it what happened.

use synack_wire::SeqNum;

#[derive(Debug, Clone, Copy)]
pub struct NewReno {
    pub cwnd: u32,
    pub ssthresh: u32,
    pub dup_acks: u8,
    /// RFC 6582 §3.2: the highest sequence number sent when recovery began.
    pub recover: SeqNum,
    pub in_recovery: bool,
}

/// RFC 5681 §3.2: the duplicate-ACK threshold.
pub const DUP_ACK_THRESHOLD: u8 = 3;

impl NewReno {
    pub fn new(initial_window: u32, recover: SeqNum) -> NewReno {
        NewReno { cwnd: initial_window, ssthresh: u32::MAX, dup_acks: 0, recover, in_recovery: false }
    }

    /// RFC 5681 §3.1: growth on an ACK of new data outside recovery. Slow start grows by the
    /// bytes acknowledged, at most one MSS (RFC 3465 L=1); avoidance by about one MSS per RTT.
    pub fn on_new_ack(&mut self, acked: u32, mss: u32) {
        self.dup_acks = 0;
        if self.cwnd < self.ssthresh {
            self.cwnd = self.cwnd.saturating_add(acked.min(mss));
        } else {
            let inc = ((mss as u64 * mss as u64) / self.cwnd.max(1) as u64).max(1) as u32;
            self.cwnd = self.cwnd.saturating_add(inc);
        }
    }

    /// RFC 6582 §3.2 step 2: third duplicate ACK, enter fast recovery.
    pub fn enter_recovery(&mut self, flight: u32, mss: u32, snd_max: SeqNum) {
        self.ssthresh = (flight / 2).max(2 * mss);
        self.cwnd = self.ssthresh + DUP_ACK_THRESHOLD as u32 * mss;
        self.recover = snd_max;
        self.in_recovery = true;
    }

    /// RFC 6582 §3.2 step 4: each further duplicate ACK inflates the window by one MSS.
    pub fn inflate(&mut self, mss: u32) {
        self.cwnd = self.cwnd.saturating_add(mss);
    }

    /// RFC 6582 §3.2 step 5, partial ACK: deflate by the amount acknowledged, add back one MSS.
    pub fn on_partial_ack(&mut self, acked: u32, mss: u32) {
        self.cwnd = self.cwnd.saturating_sub(acked).saturating_add(mss).max(mss);
    }

    /// RFC 6582 §3.2 step 5, full ACK: leave recovery with cwnd = min(ssthresh, flight + MSS).
    pub fn on_full_ack(&mut self, flight: u32, mss: u32) {
        self.cwnd = self.ssthresh.min(flight.saturating_add(mss)).max(mss);
        self.in_recovery = false;
        self.dup_acks = 0;
    }

    /// RFC 5681 §3.1 eq. 4 and RFC 6582 §4: after a retransmission timeout.
    pub fn on_timeout(&mut self, flight: u32, mss: u32, snd_max: SeqNum) {
        self.ssthresh = (flight / 2).max(2 * mss);
        self.cwnd = mss;
        self.dup_acks = 0;
        self.in_recovery = false;
        self.recover = snd_max;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slow_start_grows_by_at_most_one_mss_per_ack() {
        let mut c = NewReno::new(10_000, SeqNum(0));
        c.on_new_ack(5000, 1000);
        assert_eq!(c.cwnd, 11_000);
    }

    #[test]
    fn avoidance_grows_by_about_one_mss_per_window() {
        let mut c = NewReno::new(10_000, SeqNum(0));
        c.ssthresh = 10_000;
        for _ in 0..10 {
            c.on_new_ack(1000, 1000);
        }
        assert!((10_900..=11_000).contains(&c.cwnd), "cwnd {}", c.cwnd);
    }

    #[test]
    fn recovery_halves_then_exits_at_ssthresh() {
        let mut c = NewReno::new(20_000, SeqNum(0));
        c.enter_recovery(20_000, 1000, SeqNum(20_000));
        assert_eq!(c.ssthresh, 10_000);
        assert_eq!(c.cwnd, 13_000);
        c.inflate(1000);
        assert_eq!(c.cwnd, 14_000);
        c.on_full_ack(9_000, 1000);
        assert_eq!(c.cwnd, 10_000);
        assert!(!c.in_recovery);
    }

    #[test]
    fn timeout_collapses_to_one_segment() {
        let mut c = NewReno::new(20_000, SeqNum(0));
        c.on_timeout(8000, 1000, SeqNum(5));
        assert_eq!((c.cwnd, c.ssthresh), (1000, 4000));
    }
}
