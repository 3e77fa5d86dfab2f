//! CUBIC (RFC 9438), Linux's and FreeBSD's default: after a reduction the window grows along
//! a cubic function of the time since it, back to the window where the loss came (W_max) and
//! flat around it, then faster beyond; never slower than Reno would (the Reno-friendly
//! region). Slow start, fast recovery's bookkeeping and the timeout's collapse are NewReno's,
//! which CUBIC keeps (RFC 9438 §4.8 and §4.9), with β = 0.7 for every reduction.

use super::{slow_start, CongestionControl, NewReno};

/// RFC 9438 §4.6: the multiplicative decrease factor.
const BETA: f64 = 0.7;
/// RFC 9438 §5.1: the cubic function's scaling constant, in segments per second cubed.
const C: f64 = 0.4;
/// RFC 9438 §4.3: the Reno-friendly additive increase, 3(1 - β)/(1 + β) segments per RTT.
const ALPHA: f64 = 3.0 * (1.0 - BETA) / (1.0 + BETA);

#[derive(Debug, Clone, Copy)]
pub(crate) struct Cubic {
    /// cwnd and ssthresh, and the recovery arithmetic they share with NewReno.
    reno: NewReno,
    /// W_max: the window just before the last reduction (after fast convergence), bytes.
    w_max: u32,
    /// cwnd_prior: the window just before the last reduction, bytes.
    prior: u32,
    /// The window the curve passes at K: W_max, or cwnd when the epoch began above it.
    origin: u32,
    /// W_est (§4.3): the window Reno would have, bytes.
    w_est: u32,
    /// When the current congestion-avoidance epoch began, ms (wrapping); none while
    /// `in_epoch` is false.
    epoch_ms: u32,
    /// K (§4.2): the time the curve takes to climb back to `origin`, ms (at most 65.5 s, a
    /// W_max of 270,000 segments).
    k_ms: u16,
    in_epoch: bool,
}

impl Cubic {
    pub fn new(initial_window: u32) -> Cubic {
        Cubic {
            reno: NewReno::new(initial_window),
            w_max: 0,
            prior: 0,
            origin: 0,
            w_est: 0,
            epoch_ms: 0,
            k_ms: 0,
            in_epoch: false,
        }
    }

    /// A congestion event (§4.6, §4.7): W_max remembers the window (less, by fast convergence,
    /// when it is below the last W_max: the path's capacity is falling); ssthresh is β of it,
    /// at least two segments; a new epoch starts with the next ACK in avoidance.
    fn reduce(&mut self, mss: u32) -> u32 {
        let cwnd = self.reno.cwnd();
        self.prior = cwnd;
        self.w_max = if cwnd < self.w_max { (cwnd as f64 * (1.0 + BETA) / 2.0) as u32 } else { cwnd };
        self.in_epoch = false;
        let ssthresh = ((cwnd as f64 * BETA) as u32).max(2 * mss);
        self.reno.set(cwnd, ssthresh);
        ssthresh
    }

    /// The window the cubic function asks for `t_ms` into the epoch (§4.2), bytes.
    pub(crate) fn w_cubic(&self, t_ms: u32, mss: u32) -> f64 {
        let t = (t_ms as f64 - self.k_ms as f64) / 1000.0;
        self.origin as f64 + C * t * t * t * mss as f64
    }
}

impl CongestionControl for Cubic {
    super::reductions_on_reno!();

    /// §4.4 and §4.3: per ACK in avoidance, cwnd moves a share of the way (acked / cwnd) to the
    /// curve's value one RTT ahead, W_cubic(t + RTT), held within [cwnd, 1.5 cwnd]; and never
    /// below W_est, which grows by α segments per window acknowledged (α becomes 1 once W_est
    /// is back at cwnd_prior, the window before the reduction: Reno's own growth). Before any
    /// reduction, at least 5 % a round trip (Linux).
    fn on_ack(&mut self, acked: u32, mss: u32, now_ms: u32, rtt_ms: u32) {
        let (cwnd, ssthresh) = (self.reno.cwnd(), self.reno.ssthresh());
        if cwnd < ssthresh {
            self.reno.set(slow_start(cwnd, ssthresh, acked), ssthresh);
            return;
        }
        if !self.in_epoch {
            self.in_epoch = true;
            self.epoch_ms = now_ms;
            self.w_est = cwnd;
            if cwnd < self.w_max {
                let segments = (self.w_max - cwnd) as f64 / mss.max(1) as f64;
                self.k_ms = ((segments / C).cbrt() * 1000.0).min(u16::MAX as f64) as u16;
                self.origin = self.w_max;
            } else {
                self.k_ms = 0;
                self.origin = cwnd;
            }
        }
        let t_ms = now_ms.wrapping_sub(self.epoch_ms).saturating_add(rtt_ms);
        let target = self.w_cubic(t_ms, mss).clamp(cwnd as f64, cwnd as f64 * 1.5);
        let mut grown = cwnd as f64 + (target - cwnd as f64) * acked as f64 / cwnd as f64;
        if self.w_max == 0 {
            // No reduction yet, so no W_max to climb back to: the curve starts flat at an
            // unknown capacity, and cwnd grows at least 5 % a round trip meanwhile (a twentieth
            // of what is acknowledged, as Linux's bictcp_update caps its count at 20).
            grown = grown.max(cwnd as f64 + acked as f64 / 20.0);
        }
        let alpha = if self.w_est >= self.prior { 1.0 } else { ALPHA };
        self.w_est = self.w_est.saturating_add((alpha * mss as f64 * acked as f64 / cwnd as f64) as u32);
        let next = (grown as u32).max(self.w_est).max(cwnd);
        self.reno.set(next, ssthresh);
    }

    /// §4.8: a timeout reduces as a loss does, then restarts from one segment.
    fn on_rto(&mut self, _flight: u32, mss: u32) {
        let ssthresh = self.reduce(mss);
        self.reno.set(mss, ssthresh);
    }

    /// Avoidance starts from cwnd; with no reduction behind it, the curve starts flat there
    /// (W_max is none: the epoch begins with K = 0).
    fn exit_slow_start(&mut self) {
        self.reno.exit_slow_start();
    }

    /// RFC 9438 §5.8: the curve's clock must not run while the application holds sending
    /// back, or cwnd would jump when it resumes; the next cwnd-limited ACK starts a new epoch
    /// from the window in force (its K from W_max).
    fn on_app_limited(&mut self) {
        self.in_epoch = false;
    }

    /// The epoch moves on by the idle time: the curve resumes where it stood (never ahead of
    /// now).
    fn on_transmit_start(&mut self, idle_ms: u32, now_ms: u32) {
        if self.in_epoch {
            let elapsed = now_ms.wrapping_sub(self.epoch_ms);
            self.epoch_ms = self.epoch_ms.wrapping_add(idle_ms.min(elapsed));
        }
    }

    fn undo(&mut self, cwnd: u32, ssthresh: u32) {
        self.reno.undo(cwnd, ssthresh);
        self.in_epoch = false;
    }

    /// The curve starts a new epoch from the restarted window.
    fn restart_after_idle(&mut self, cwnd: u32) {
        self.reno.restart_after_idle(cwnd);
        self.in_epoch = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSS: u32 = 1000;

    /// RFC 9438 §4.6: a loss takes cwnd and ssthresh to 0.7 of the window (Linux's script:
    /// 10 segments in flight, ssthresh 7).
    #[test]
    fn a_loss_reduces_to_beta_of_the_window() {
        let mut c = Cubic::new(10 * MSS);
        c.reno.set(10 * MSS, 5 * MSS);
        c.on_loss(10 * MSS, MSS, false);
        assert_eq!((c.cwnd(), c.ssthresh()), (7 * MSS, 7 * MSS));
        assert_eq!(c.w_max, 10 * MSS);
        // Fast convergence (§4.7): a loss below the last W_max remembers less.
        c.on_loss(7 * MSS, MSS, false);
        assert_eq!(c.w_max, (7.0 * MSS as f64 * 0.85) as u32);
    }

    /// After a loss at W_max = 100 segments, cwnd follows W_cubic(t) = C (t - K)³ + W_max with
    /// K = ∛(W_max (1 - β) / C) = ∛75 s ≈ 4.217 s: below W_max before K, near it at K, above
    /// after; checked against the formula at several times with ACKs every 10 ms and an RTT of
    /// 100 ms, within the growth per RTT the ±50 % clamp allows.
    #[test]
    fn the_window_follows_the_cubic_function_after_a_loss() {
        let mut c = Cubic::new(100 * MSS);
        c.reno.set(100 * MSS, 50 * MSS);
        c.on_loss(100 * MSS, MSS, false);
        assert_eq!(c.cwnd(), 70 * MSS);
        let k = (100.0f64 * 0.3 / 0.4).cbrt();
        let formula = |t: f64| 0.4 * (t - k).powi(3) + 100.0;
        let mut samples = Vec::new();
        for tick in 0..=800u32 {
            let now_ms = tick * 10;
            // Each tick acknowledges a tenth of the window (a window per RTT of 100 ms).
            let acked = (c.cwnd() / 10).max(1);
            c.on_ack(acked, MSS, now_ms, 100);
            if [100, 200, 300, 422, 500, 600, 800].contains(&tick) {
                samples.push((now_ms as f64 / 1000.0, c.cwnd() as f64 / MSS as f64));
            }
        }
        assert!((c.k_ms as f64 / 1000.0 - k).abs() < 0.01, "K {} s", c.k_ms);
        for (t, cwnd) in samples {
            // The curve one RTT ahead is the target: cwnd lies between W_cubic(t) and
            // W_cubic(t + RTT) (or the Reno-friendly estimate, which is lower here).
            let (lo, hi) = (formula(t).min(formula(t + 0.1)), formula(t).max(formula(t + 0.1)));
            assert!(cwnd >= lo - 1.5 && cwnd <= hi + 1.5, "t {t} s: cwnd {cwnd:.1} segments, formula {lo:.1}..{hi:.1}");
        }
    }

    /// §4.3: with a tiny RTT the cubic curve barely moves in a round trip, and the window grows
    /// as Reno's would (the Reno-friendly region): α segments per window.
    #[test]
    fn the_reno_friendly_estimate_keeps_the_window_growing() {
        let mut c = Cubic::new(100 * MSS);
        c.reno.set(100 * MSS, 50 * MSS);
        c.on_loss(100 * MSS, MSS, false);
        let start = c.cwnd();
        // Ten windows' worth of ACKs in 10 ms: W_cubic stays near where it starts.
        for i in 0..700 {
            c.on_ack(MSS, MSS, i / 70, 1);
        }
        let grown = (c.cwnd() - start) as f64 / MSS as f64;
        assert!(grown >= 4.5, "grew {grown:.2} segments in 10 windows (Reno-friendly ≈ 0.53 each)");
    }

    /// Before any reduction there is no W_max: the curve starts flat at cwnd, and cwnd grows
    /// at least a twentieth of what is acknowledged (Linux: 5 % a round trip), one segment for
    /// twenty acknowledged, where the flat curve alone would give a fraction of one.
    #[test]
    fn before_any_loss_the_window_grows_at_least_five_percent_a_round_trip() {
        let mut c = Cubic::new(48 * MSS);
        c.exit_slow_start();
        for i in 0..10 {
            c.on_ack(2 * MSS, MSS, i * 100, 100);
        }
        assert_eq!(c.cwnd() / MSS, 49);
    }

    /// Time with nothing in flight moves the epoch on (Linux's CA_EVENT_TX_START): after four
    /// idle seconds the curve resumes where it stood, not four seconds further on (where it
    /// would ask for 25 segments more).
    #[test]
    fn an_idle_spell_moves_the_epoch_on() {
        let mut c = Cubic::new(100 * MSS);
        c.reno.set(100 * MSS, 50 * MSS);
        c.on_loss(100 * MSS, MSS, false);
        c.on_ack(MSS, MSS, 0, 100);
        let before = c.w_cubic(1000u32.wrapping_sub(c.epoch_ms), MSS);
        c.on_transmit_start(4000, 5000);
        let after = c.w_cubic(5000u32.wrapping_sub(c.epoch_ms), MSS);
        assert!((after - before).abs() < 1.0, "{before} -> {after}");
    }

    /// §5.8: ten seconds held back by the application do not count as time on the curve: a
    /// window's worth of ACK after them grows cwnd as the curve's start does (about two
    /// segments), not by the 50 % a ten-second-old epoch would ask (35 segments).
    #[test]
    fn time_held_back_by_the_application_does_not_move_the_curve() {
        let mut c = Cubic::new(100 * MSS);
        c.reno.set(100 * MSS, 50 * MSS);
        c.on_loss(100 * MSS, MSS, false);
        c.on_ack(MSS, MSS, 0, 100);
        c.on_app_limited();
        let before = c.cwnd();
        c.on_ack(before, MSS, 10_000, 100);
        let grown = (c.cwnd() - before) / MSS;
        assert!(grown < 5, "grew {grown} segments on a window's ACK");
    }
}
