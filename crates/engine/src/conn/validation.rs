//! Congestion window validation (RFC 7661, as Linux's `tcp_cwnd_validate` and
//! `tcp_is_cwnd_limited`): cwnd grows only while it is what limits sending. An application
//! that writes less than cwnd allows would otherwise see its window grow on every ACK to a
//! size never tested by the network, and then send a burst that large.

use super::{ConnFlags, Connection};
use crate::congestion::CongestionControl;

impl Connection {
    /// New data went out (or waits on cwnd): `held_by_cwnd` says whether cwnd is what stops
    /// the next segment. The window of segments ending at `cwnd_usage_seq` remembers whether
    /// cwnd ever held sending back, and the most segments it had in flight.
    pub(super) fn note_cwnd_use(&mut self, held_by_cwnd: bool) {
        let mss = self.neg.snd_mss.max(1) as u32;
        let out = self.snd.flight().div_ceil(mss).min(u16::MAX as u32) as u16;
        if self.snd.una >= self.cwnd_usage_seq
            || held_by_cwnd
            || (!self.flag(ConnFlags::CWND_LIMITED) && out > self.max_out_segments)
        {
            self.set_flag(ConnFlags::CWND_LIMITED, held_by_cwnd);
            self.max_out_segments = out;
            self.cwnd_usage_seq = self.snd.max;
        }
    }

    /// Whether an ACK may grow cwnd: when cwnd limited sending in the current window, or in
    /// slow start while cwnd is below twice the most segments in flight (so that slow start
    /// still doubles what the application did send, as Linux's `tcp_is_cwnd_limited`).
    pub(super) fn cwnd_may_grow(&self) -> bool {
        if self.flag(ConnFlags::CWND_LIMITED) {
            return true;
        }
        let (cwnd, ssthresh) = (self.snd.cc.cwnd(), self.snd.cc.ssthresh());
        cwnd < ssthresh && cwnd < 2 * self.max_out_segments as u32 * self.neg.snd_mss as u32
    }
}
