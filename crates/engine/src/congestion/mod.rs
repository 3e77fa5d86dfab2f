//! Congestion control: how big the congestion window is, and how it answers ACKs, losses,
//! ECN echoes and timeouts. The connection's send side keeps the loss-recovery bookkeeping
//! (duplicate ACKs, the recovery point, RFC 6675's scoreboard) and tells the controller what
//! happened through `CongestionControl`; a controller is one implementation of it (`reno.rs`,
//! `cubic.rs`, `cubic_linux.rs`) and one variant of `Congestion`. Everything is in bytes at
//! this interface.

use crate::config::CongestionAlgorithm;
pub(crate) use cubic::Cubic;
pub(crate) use cubic_linux::LinuxCubic;
pub(crate) use hystart::{HyStart, SlowStart};
pub(crate) use reno::{NewReno, DUP_ACK_THRESHOLD};

/// What the send side asks of a congestion controller.
pub(crate) trait CongestionControl {
    /// The congestion window, bytes.
    fn cwnd(&self) -> u32;
    /// The slow-start threshold, bytes (`u32::MAX` until the first reduction).
    fn ssthresh(&self) -> u32;
    /// New data acknowledged outside recovery: grow. `now_ms` is the time in milliseconds
    /// (wrapping), `rtt_ms` the round trip to look ahead by (0 when unknown), for controllers whose
    /// growth follows the clock (CUBIC).
    fn on_ack(&mut self, acked: u32, mss: u32, now_ms: u32, rtt_ms: u32);
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
    /// An ECN echo (RFC 3168 §6.1.2): ssthresh as for a loss, without recovery; cwnd comes
    /// down to it ACK by ACK (the connection's PRR, as Linux's CWR state).
    fn on_ecn_echo(&mut self, flight: u32, mss: u32);
    /// A retransmission timeout (RFC 5681 §3.1 eq. 4).
    fn on_rto(&mut self, flight: u32, mss: u32);
    /// Proportional rate reduction (RFC 6937) sets cwnd on every ACK of a SACK recovery.
    fn set_cwnd(&mut self, cwnd: u32);
    /// HyStart++ (RFC 9406) ends slow start without a loss: ssthresh = cwnd.
    fn exit_slow_start(&mut self);
    /// An ACK arrived while the application, not cwnd, limited sending (RFC 7661): no growth,
    /// and a controller whose growth follows the clock stops its clock.
    fn on_app_limited(&mut self) {}
    /// Data goes out again after `idle_ms` with nothing in flight: a controller whose growth
    /// follows the clock does not count that time (RFC 9438 §5.8; Linux's CA_EVENT_TX_START).
    fn on_transmit_start(&mut self, _idle_ms: u32, _now_ms: u32) {}
    /// The state before a reduction that turned out spurious comes back (RFC 4015): cwnd no
    /// smaller than `cwnd`, ssthresh as it was.
    fn undo(&mut self, cwnd: u32, ssthresh: u32);
    /// Sending resumes after an idle spell longer than the RTO (RFC 5681 §4.1, RFC 2861):
    /// cwnd is `cwnd`, and ssthresh keeps the memory of the window before, at least three
    /// quarters of it (Linux's `tcp_cwnd_restart`).
    fn restart_after_idle(&mut self, cwnd: u32);
}

/// The methods CUBIC shares with NewReno, for a controller with a `reno: NewReno` field and a
/// `reduce(mss) -> ssthresh` for its own reduction: a loss reduces to ssthresh (inflated by
/// the three duplicate ACKs in NewReno recovery), an ECN echo sets ssthresh alone, and the
/// recovery arithmetic and the window's getters and setter are NewReno's.
macro_rules! reductions_on_reno {
    () => {
        fn cwnd(&self) -> u32 {
            self.reno.cwnd()
        }

        fn ssthresh(&self) -> u32 {
            self.reno.ssthresh()
        }

        fn on_loss(&mut self, _flight: u32, mss: u32, inflate: bool) {
            let ssthresh = self.reduce(mss);
            let cwnd = if inflate { ssthresh + super::DUP_ACK_THRESHOLD as u32 * mss } else { ssthresh };
            self.reno.set(cwnd, ssthresh);
        }

        fn on_recovery_dup_ack(&mut self, mss: u32) {
            self.reno.on_recovery_dup_ack(mss);
        }

        fn on_partial_ack(&mut self, acked: u32, mss: u32) {
            self.reno.on_partial_ack(acked, mss);
        }

        fn on_recovery_exit(&mut self, flight: u32, mss: u32) {
            self.reno.on_recovery_exit(flight, mss);
        }

        fn on_ecn_echo(&mut self, _flight: u32, mss: u32) {
            let cwnd = self.reno.cwnd();
            let ssthresh = self.reduce(mss);
            self.reno.set(cwnd, ssthresh);
        }

        fn set_cwnd(&mut self, cwnd: u32) {
            self.reno.set_cwnd(cwnd);
        }
    };
}
pub(crate) use reductions_on_reno;

mod cubic;
mod cubic_linux;
mod hystart;
mod reno;

/// Slow start grows by every byte acknowledged, as Linux's `tcp_slow_start` does (RFC 3465
/// §2.2 byte counting with no per-ACK limit, so that a stretch ACK of ten segments counts ten),
/// up to ssthresh.
pub(crate) fn slow_start(cwnd: u32, ssthresh: u32, acked: u32) -> u32 {
    cwnd.saturating_add(acked).min(ssthresh.max(cwnd))
}

/// The congestion controllers a connection can run (`Config::tcp_congestion_control`).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Congestion {
    NewReno(NewReno),
    Cubic(Cubic),
    LinuxCubic(LinuxCubic),
}

impl Congestion {
    /// The controller `algorithm` with an initial window of `initial_window` bytes; CUBIC in
    /// Linux's segment arithmetic with `cubic_in_segments`.
    pub fn new(algorithm: CongestionAlgorithm, initial_window: u32, cubic_in_segments: bool) -> Congestion {
        match algorithm {
            CongestionAlgorithm::Reno => Congestion::NewReno(NewReno::new(initial_window)),
            CongestionAlgorithm::Cubic if cubic_in_segments => Congestion::LinuxCubic(LinuxCubic::new(initial_window)),
            CongestionAlgorithm::Cubic => Congestion::Cubic(Cubic::new(initial_window)),
        }
    }
}

/// Static dispatch to the variant: no allocation per connection, no indirect call.
macro_rules! dispatch {
    ($self:ident, $cc:ident => $e:expr) => {
        match $self {
            Congestion::NewReno($cc) => $e,
            Congestion::Cubic($cc) => $e,
            Congestion::LinuxCubic($cc) => $e,
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
    fn on_ack(&mut self, acked: u32, mss: u32, now_ms: u32, rtt_ms: u32) {
        dispatch!(self, cc => cc.on_ack(acked, mss, now_ms, rtt_ms))
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
    fn set_cwnd(&mut self, cwnd: u32) {
        dispatch!(self, cc => cc.set_cwnd(cwnd))
    }
    fn exit_slow_start(&mut self) {
        dispatch!(self, cc => cc.exit_slow_start())
    }
    fn on_app_limited(&mut self) {
        dispatch!(self, cc => cc.on_app_limited())
    }
    fn on_transmit_start(&mut self, idle_ms: u32, now_ms: u32) {
        dispatch!(self, cc => cc.on_transmit_start(idle_ms, now_ms))
    }
    fn undo(&mut self, cwnd: u32, ssthresh: u32) {
        dispatch!(self, cc => cc.undo(cwnd, ssthresh))
    }
    fn restart_after_idle(&mut self, cwnd: u32) {
        dispatch!(self, cc => cc.restart_after_idle(cwnd))
    }
}
