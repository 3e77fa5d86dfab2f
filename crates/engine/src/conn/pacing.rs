//! Pacing: with `Config::pacing`, data leaves spaced at the connection's rate instead of in
//! bursts of what cwnd allows, as Linux paces a socket whose device has the fq qdisc (its
//! early-departure-time model: each segment gets a departure time and the next one's is
//! pushed back by the time this one takes at the rate).
//!
//! The rate is `tcp_pacing_ss_ratio` (200 %) of cwnd per smoothed RTT while cwnd is below
//! half of ssthresh, `tcp_pacing_ca_ratio` (120 %) after: ahead of the ACK clock, so pacing
//! does not hold the connection back, only spreads its bursts. The first ten segments are
//! not paced, as fq lets an initial window go at once; a segment that leaves after a pause
//! may take back up to half of its own time from it (Linux's credit for timer jitter). The
//! schedule lives with the scoreboard (a connection that sends no data pays nothing), and
//! the wait for the next departure runs on the persist timer, which pacing takes only while
//! data waits with cwnd and window room, when no probe is due. New data and what a timeout
//! resends are paced; SACK recovery's retransmissions and the probes go at once.

use super::{ConnFlags, Connection, Ctx, Timer};
use crate::congestion::CongestionControl;
use crate::Instant;

/// Segments sent before pacing starts (fq's initial quantum of ten MSS; Linux's
/// `tcp_update_skb_after_send`).
const UNPACED_SEGMENTS: u32 = 10;

/// A connection's pacing schedule.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Pacing {
    /// When the next segment may leave.
    next_departure: Instant,
    /// Data segments sent so far (to the first `UNPACED_SEGMENTS`).
    segments_sent: u32,
}

impl Connection {
    /// With pacing on, whether the next segment must wait: then the persist timer is set for
    /// its departure and true is returned.
    pub(super) fn pacing_holds(&mut self, ctx: &Ctx) -> bool {
        let Some(pacing) = self.snd.scoreboard.pacing() else { return false };
        if pacing.next_departure <= ctx.now {
            return false;
        }
        // The departure comes first: a probe or override the timer waited for is re-armed by
        // the output rules if the segment still cannot go then.
        let armed = self.timers.get(Timer::Persist);
        if armed > pacing.next_departure || self.flag(ConnFlags::PACED) {
            self.timers.set(Timer::Persist, pacing.next_departure);
            self.set_flag(ConnFlags::PACED, true);
        }
        true
    }

    /// A data segment of `len` bytes (`segments` of them) leaves now: the next departure is
    /// its time at the pacing rate after this one's, less the credit of a late departure.
    pub(super) fn pacing_note_sent(&mut self, ctx: &Ctx, len: usize, segments: u32) {
        let rate = self.pacing_rate_bytes_per_s(ctx);
        let pacing = self.snd.scoreboard.pacing_mut();
        let prior = pacing.next_departure;
        let departure = prior.max(ctx.now);
        pacing.segments_sent = pacing.segments_sent.saturating_add(segments);
        pacing.next_departure = departure;
        let Some(rate) = rate.filter(|_| pacing.segments_sent >= UNPACED_SEGMENTS) else { return };
        let mut len_us = len as u64 * 1_000_000 / rate.max(1);
        let credit_us = departure.saturating_since(prior).as_micros() as u64;
        len_us -= (len_us / 2).min(credit_us);
        pacing.next_departure = departure.add_micros(len_us);
    }

    /// The pacing rate: the ratio of cwnd (or of the flight, if larger) per smoothed RTT, in
    /// bytes a second; none before an RTT sample (Linux then does not pace).
    fn pacing_rate_bytes_per_s(&self, ctx: &Ctx) -> Option<u64> {
        let srtt_us = self.snd.rtt.srtt_us()?.max(1);
        let (cwnd, ssthresh) = (self.snd.cc.cwnd() as u64, self.snd.cc.ssthresh() as u64);
        let ratio = if cwnd < ssthresh / 2 { ctx.config.tcp_pacing_ss_ratio } else { ctx.config.tcp_pacing_ca_ratio };
        let window = cwnd.max(self.snd.flight() as u64);
        Some(window * ratio as u64 * 10_000 / srtt_us)
    }
}
