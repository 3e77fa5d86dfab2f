//! Congestion control: how big the congestion window is, and how it answers ACKs, losses,
//! ECN echoes and timeouts. The connection's send side keeps the loss-recovery bookkeeping
//! (duplicate ACKs, the recovery point, RFC 6675's scoreboard) and tells the controller what
//! happened through `CongestionControl`; a new controller is one more implementation of it
//! and one more variant of `Congestion`. Everything is in bytes.

/// What the send side asks of a congestion controller.
pub(crate) trait CongestionControl {
    /// The congestion window, bytes.
    fn cwnd(&self) -> u32;
    /// The slow-start threshold, bytes (`u32::MAX` until the first reduction).
    fn ssthresh(&self) -> u32;
    /// New data acknowledged outside recovery: grow.
    fn on_ack(&mut self, acked: u32, mss: u32);
    /// A loss detected by duplicate ACKs or SACK: reduce, entering fast recovery. With
    /// `inflate`, NewReno's window inflation by the three duplicate ACKs (RFC 6582 §3.2 step
    /// 2); without it, cwnd = ssthresh (RFC 6675 §5 step 4: the pipe does that job).
    fn on_loss(&mut self, flight: u32, mss: u32, inflate: bool);
    /// Another duplicate ACK in NewReno recovery (RFC 6582 §3.2 step 4).
    fn on_recovery_dup_ack(&mut self, mss: u32);
    /// A partial ACK in NewReno recovery (RFC 6582 §3.2 step 5).
    fn on_partial_ack(&mut self, acked: u32, mss: u32);
    /// Recovery ends with everything up to the recovery point acknowledged.
    fn on_recovery_exit(&mut self, flight: u32, mss: u32);
    /// An ECN echo (RFC 3168 §6.1.2): reduce as for a loss, without recovery.
    fn on_ecn_echo(&mut self, flight: u32, mss: u32);
    /// A retransmission timeout (RFC 5681 §3.1 eq. 4).
    fn on_rto(&mut self, flight: u32, mss: u32);
    /// The state before a reduction that turned out spurious comes back (RFC 4015): cwnd no
    /// smaller than `cwnd`, ssthresh as it was.
    fn undo(&mut self, cwnd: u32, ssthresh: u32);
}

/// The congestion controllers a connection can run (`Config::tcp_congestion_control` will pick
/// one when there is more than NewReno).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Congestion {
    NewReno(NewReno),
}

impl Congestion {
    /// The configured controller with an initial window of `initial_window` bytes.
    pub fn new(initial_window: u32) -> Congestion {
        Congestion::NewReno(NewReno::new(initial_window))
    }
}

/// Static dispatch to the variant: no allocation per connection, no indirect call.
macro_rules! dispatch {
    ($self:ident, $cc:ident => $e:expr) => {
        match $self {
            Congestion::NewReno($cc) => $e,
        }
    };
}

impl CongestionControl for Congestion {
    #[inline]
    fn cwnd(&self) -> u32 {
        dispatch!(self, cc => cc.cwnd())
    }
    #[inline]
    fn ssthresh(&self) -> u32 {
        dispatch!(self, cc => cc.ssthresh())
    }
    #[inline]
    fn on_ack(&mut self, acked: u32, mss: u32) {
        dispatch!(self, cc => cc.on_ack(acked, mss))
    }
    fn on_loss(&mut self, flight: u32, mss: u32, inflate: bool) {
        dispatch!(self, cc => cc.on_loss(flight, mss, inflate))
    }
    fn on_recovery_dup_ack(&mut self, mss: u32) {
        dispatch!(self, cc => cc.on_recovery_dup_ack(mss))
    }
    fn on_partial_ack(&mut self, acked: u32, mss: u32) {
        dispatch!(self, cc => cc.on_partial_ack(acked, mss))
    }
    fn on_recovery_exit(&mut self, flight: u32, mss: u32) {
        dispatch!(self, cc => cc.on_recovery_exit(flight, mss))
    }
    fn on_ecn_echo(&mut self, flight: u32, mss: u32) {
        dispatch!(self, cc => cc.on_ecn_echo(flight, mss))
    }
    fn on_rto(&mut self, flight: u32, mss: u32) {
        dispatch!(self, cc => cc.on_rto(flight, mss))
    }
    fn undo(&mut self, cwnd: u32, ssthresh: u32) {
        dispatch!(self, cc => cc.undo(cwnd, ssthresh))
    }
}

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

    /// RFC 5681 §3.1 eq. 4 (and §3.2 step 2): half the flight, at least two segments.
    fn reduced_ssthresh(flight: u32, mss: u32) -> u32 {
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

    /// Slow start grows by every byte acknowledged, as Linux's `tcp_slow_start` does (RFC 3465
    /// §2.2 byte counting with no per-ACK limit, so that a stretch ACK of ten segments counts
    /// ten), up to ssthresh; avoidance by about one MSS per RTT (RFC 5681 §3.1).
    fn on_ack(&mut self, acked: u32, mss: u32) {
        if self.cwnd < self.ssthresh {
            self.cwnd = self.cwnd.saturating_add(acked).min(self.ssthresh.max(self.cwnd));
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
        self.cwnd = self.cwnd.min(self.ssthresh);
    }

    /// RFC 5681 §3.1 eq. 4: one segment after a timeout.
    fn on_rto(&mut self, flight: u32, mss: u32) {
        self.ssthresh = NewReno::reduced_ssthresh(flight, mss);
        self.cwnd = mss;
    }

    fn undo(&mut self, cwnd: u32, ssthresh: u32) {
        self.cwnd = self.cwnd.max(cwnd);
        self.ssthresh = ssthresh;
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
        c.on_ack(5000, 1000);
        assert_eq!(c.cwnd, 15_000);
        c.ssthresh = 17_000;
        c.on_ack(5000, 1000);
        assert_eq!(c.cwnd, 17_000);
    }

    #[test]
    fn avoidance_grows_by_about_one_mss_per_window() {
        let mut c = NewReno::new(10_000);
        c.ssthresh = 10_000;
        for _ in 0..10 {
            c.on_ack(1000, 1000);
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
    fn an_ecn_echo_halves_without_inflation_and_undo_restores() {
        let mut c = NewReno::new(20_000);
        c.on_ecn_echo(20_000, 1000);
        assert_eq!((c.cwnd, c.ssthresh), (10_000, 10_000));
        c.undo(20_000, u32::MAX);
        assert_eq!((c.cwnd, c.ssthresh), (20_000, u32::MAX));
    }
}
