//! CUBIC in Linux's arithmetic (`Compat::cubic_in_segments`): the curve of RFC 9438
//! (`cubic.rs` follows the RFC in bytes), as Linux's `tcp_cubic` steps it: in whole
//! segments, with time in 1/1024 s, and cwnd raised by one segment each time a count of
//! acknowledged segments is reached, the count being cwnd over the distance to the curve's
//! target one RTT ahead (at least 2: at most 1.5 × cwnd a round trip; at most 20 before any
//! reduction: 5 % a round trip). The step is recomputed at most once every 31 ms while cwnd
//! stays the same (HZ / 32), the Reno estimate grows one segment per 15/8 of a window
//! acknowledged, a timeout forgets the curve (W_max too), and an ACK the application limited
//! leaves the epoch running.
//!
//! Windows are in segments in 16 bits (65,535 segments, 95 MB at 1460 bytes, saturating),
//! so that the state fits the connection record beside the byte-wise controller.

use super::{CongestionControl, NewReno};

/// β = 717 / 1024 (Linux's `beta`), and its scale.
const BETA: u64 = 717;
const BETA_SCALE: u64 = 1024;
/// C = 0.4 s⁻³ as 410 / 1024 (`bic_scale` 41 × 10): a target of `410 × offs³ >> 40` segments
/// for `offs` in 1/1024 s.
const CUBE_RTT_SCALE: u64 = 410;
const CUBE_SHIFT: u32 = 40;
/// Reno's growth in CUBIC's friendly region: a segment per 15/8 of a window acknowledged,
/// 8(1024 + 717) / 3 / (1024 - 717) eighths (Linux's `beta_scale`).
const FRIENDLY_EIGHTHS: u32 = 15;
/// While cwnd stays, the step is recomputed at most this often (HZ / 32 at HZ = 1000).
const RECOMPUTE_MS: u16 = 31;
/// Before any reduction, at most this many segments acknowledged per segment of growth.
const MAX_STEP_UNPROBED: u32 = 20;

#[derive(Debug, Clone, Copy)]
pub(crate) struct LinuxCubic {
    /// cwnd and ssthresh in bytes, and the recovery arithmetic shared with NewReno.
    reno: NewReno,
    /// When the epoch began, ms (wrapping; 0: no epoch).
    epoch_start_ms: u32,
    /// Segments acknowledged toward cwnd's next segment (Linux's `snd_cwnd_cnt`).
    acked_count: u16,
    /// Segments acknowledged toward the Reno estimate's next segment (`ack_cnt`).
    friendly_count: u16,
    /// W_max, segments (0: no reduction yet, or one forgotten by a timeout).
    last_max: u16,
    /// The window the curve passes at K, segments.
    origin: u16,
    /// The Reno estimate, segments (`tcp_cwnd`).
    reno_estimate: u16,
    /// K, 1/1024 s.
    k: u16,
    /// cwnd in segments and the time (ms, low 16 bits) the step was last computed for.
    last_cwnd: u16,
    last_time: u16,
}

fn segments(bytes: u32, mss: u32) -> u32 {
    bytes / mss.max(1)
}

fn narrow(n: u32) -> u16 {
    n.min(u16::MAX as u32) as u16
}

/// ⌊∛n⌋.
fn cube_root(n: u64) -> u64 {
    let mut r = (n as f64).cbrt() as u64;
    while r > 0 && r * r * r > n {
        r -= 1;
    }
    while (r + 1) * (r + 1) * (r + 1) <= n {
        r += 1;
    }
    r
}

impl LinuxCubic {
    pub fn new(initial_window: u32) -> LinuxCubic {
        LinuxCubic {
            reno: NewReno::new(initial_window),
            epoch_start_ms: 0,
            acked_count: 0,
            friendly_count: 0,
            last_max: 0,
            origin: 0,
            reno_estimate: 0,
            k: 0,
            last_cwnd: 0,
            last_time: 0,
        }
    }

    /// The number of segments to acknowledge per segment of growth at `time_ms` for a window
    /// of `cwnd` segments, from the curve alone.
    fn curve_step(&self, cwnd: u32, time_ms: u32, rtt_ms: u32) -> u32 {
        let t_ms = time_ms.wrapping_sub(self.epoch_start_ms).saturating_add(rtt_ms) as u64;
        let t = (t_ms << 10) / 1000;
        let k = self.k as u64;
        // Past 128 s from K the target is beyond any window (and the cube would overflow).
        let offs = t.abs_diff(k).min(1 << 17);
        let delta = ((CUBE_RTT_SCALE * offs * offs * offs) >> CUBE_SHIFT).min(u32::MAX as u64) as u32;
        let origin = self.origin as u32;
        let target = if t < k { origin.saturating_sub(delta) } else { origin.saturating_add(delta) };
        let mut step = if target > cwnd { cwnd / (target - cwnd) } else { cwnd.saturating_mul(100) };
        if self.last_max == 0 {
            step = step.min(MAX_STEP_UNPROBED);
        }
        step
    }

    /// The step as the Reno estimate allows (never slower than Reno) and at least 2.
    fn friendly_step(&self, step: u32, cwnd: u32) -> u32 {
        let estimate = self.reno_estimate as u32;
        let step = if estimate > cwnd { step.min(cwnd / (estimate - cwnd)) } else { step };
        step.max(2)
    }

    /// Linux's `bictcp_update`: the step for `acked` more segments at `now_ms`.
    fn update(&mut self, cwnd: u32, acked: u32, now_ms: u32, rtt_ms: u32) -> u32 {
        self.friendly_count = narrow(self.friendly_count as u32 + acked);
        let since_ms = (now_ms as u16).wrapping_sub(self.last_time);
        let last_time_ms = now_ms.wrapping_sub(since_ms as u32);
        if self.last_cwnd as u32 == cwnd && since_ms <= RECOMPUTE_MS && self.epoch_start_ms != 0 {
            // The step of the last computation stands.
            return self.friendly_step(self.curve_step(cwnd, last_time_ms, rtt_ms), cwnd);
        }
        let step = if self.epoch_start_ms != 0 && since_ms == 0 {
            // Once per millisecond: the curve's step as last computed, for its window.
            self.curve_step(self.last_cwnd as u32, last_time_ms, rtt_ms)
        } else {
            self.last_cwnd = narrow(cwnd);
            self.last_time = now_ms as u16;
            if self.epoch_start_ms == 0 {
                self.epoch_start_ms = now_ms.max(1);
                self.friendly_count = narrow(acked);
                self.reno_estimate = narrow(cwnd);
                let last_max = self.last_max as u32;
                if last_max <= cwnd {
                    self.k = 0;
                    self.origin = narrow(cwnd);
                } else {
                    // K = ∛((W_max - cwnd) / C), in 1/1024 s.
                    let factor = (1u64 << CUBE_SHIFT) / CUBE_RTT_SCALE;
                    self.k = cube_root(factor * (last_max - cwnd) as u64).min(u16::MAX as u64) as u16;
                    self.origin = self.last_max;
                }
            }
            self.curve_step(cwnd, now_ms, rtt_ms)
        };
        // The Reno estimate: a segment per 15/8 of a window acknowledged.
        let per = (cwnd * FRIENDLY_EIGHTHS) >> 3;
        let count = self.friendly_count as u32;
        if per > 0 && count > per {
            let n = (count - 1) / per;
            self.friendly_count = narrow(count - n * per);
            self.reno_estimate = narrow(self.reno_estimate as u32 + n);
        }
        self.friendly_step(step, cwnd)
    }

    /// A reduction (Linux's `cubictcp_recalc_ssthresh`): W_max remembers the window, less by
    /// fast convergence when below the last W_max; ssthresh is β of it, at least 2 segments.
    fn reduce(&mut self, mss: u32) -> u32 {
        let cwnd = segments(self.reno.cwnd(), mss);
        self.epoch_start_ms = 0;
        let last_max = self.last_max as u32;
        self.last_max =
            narrow(if cwnd < last_max { (cwnd as u64 * (BETA_SCALE + BETA) / (2 * BETA_SCALE)) as u32 } else { cwnd });
        let ssthresh = ((cwnd as u64 * BETA / BETA_SCALE) as u32).max(2);
        ssthresh * mss
    }
}

impl CongestionControl for LinuxCubic {
    super::reductions_on_reno!();

    /// Slow start in segments up to ssthresh (Linux's `tcp_slow_start`), what is left of the
    /// ACK in avoidance: cwnd one segment more each time the step's count is reached
    /// (`tcp_cong_avoid_ai`).
    fn on_ack(&mut self, acked: u32, mss: u32, now_ms: u32, rtt_ms: u32) {
        let mss = mss.max(1);
        let ssthresh_bytes = self.reno.ssthresh();
        let mut cwnd = segments(self.reno.cwnd(), mss);
        let ssthresh = segments(ssthresh_bytes, mss);
        let mut acked = acked.div_ceil(mss);
        if cwnd < ssthresh {
            let grown = cwnd.saturating_add(acked).min(ssthresh);
            acked -= grown - cwnd;
            cwnd = grown;
            if acked == 0 {
                self.reno.set(cwnd * mss, ssthresh_bytes);
                return;
            }
        }
        let step = self.update(cwnd, acked, now_ms, rtt_ms);
        let mut count = self.acked_count as u32;
        if count >= step {
            count = 0;
            cwnd += 1;
        }
        count += acked;
        if count >= step {
            let n = count / step;
            count -= n * step;
            cwnd += n;
        }
        self.acked_count = narrow(count);
        self.reno.set(cwnd.saturating_mul(mss), ssthresh_bytes);
    }

    /// A timeout reduces as a loss does, then forgets the curve, W_max included (Linux
    /// resets CUBIC's state on entering its Loss state), and restarts from one segment.
    fn on_rto(&mut self, _flight: u32, mss: u32) {
        let ssthresh = self.reduce(mss);
        *self = LinuxCubic { reno: self.reno, ..LinuxCubic::new(0) };
        self.reno.set(mss, ssthresh);
    }

    fn exit_slow_start(&mut self) {
        self.reno.exit_slow_start();
    }

    /// The epoch goes on (Linux's avoidance returns before the curve when not cwnd-limited).
    fn on_app_limited(&mut self) {}

    /// The epoch moves on by the idle time, never past now (CA_EVENT_TX_START).
    fn on_transmit_start(&mut self, idle_ms: u32, now_ms: u32) {
        if self.epoch_start_ms != 0 && idle_ms > 0 {
            let moved = self.epoch_start_ms.wrapping_add(idle_ms);
            let past_now = (moved.wrapping_sub(now_ms) as i32) > 0;
            self.epoch_start_ms = if past_now { now_ms.max(1) } else { moved };
        }
    }

    fn undo(&mut self, cwnd: u32, ssthresh: u32) {
        self.reno.undo(cwnd, ssthresh);
        self.epoch_start_ms = 0;
    }

    fn restart_after_idle(&mut self, cwnd: u32) {
        self.reno.restart_after_idle(cwnd);
        self.epoch_start_ms = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSS: u32 = 1000;

    fn after_loss_at(w_max: u32) -> LinuxCubic {
        let mut c = LinuxCubic::new(w_max * MSS);
        c.reno.set(w_max * MSS, w_max / 2 * MSS);
        c.on_loss(w_max * MSS, MSS, false);
        c
    }

    /// A loss leaves ssthresh at 717/1024 of the window; fast convergence remembers less of a
    /// window below the last W_max.
    #[test]
    fn a_loss_reduces_to_beta_of_the_window_in_segments() {
        let mut c = after_loss_at(10);
        assert_eq!((c.cwnd(), c.ssthresh(), c.last_max), (7 * MSS, 7 * MSS, 10));
        c.on_loss(7 * MSS, MSS, false);
        assert_eq!((c.ssthresh() / MSS, c.last_max), (4, 7 * 1741 / 2048));
    }

    /// After a loss at W_max = 100 segments the window follows W(t) = 0.4 (t - K)³ + 100 with
    /// K = ∛75 s (C being 410/1024, 4316 in 1/1024 s): checked at several times, with ACKs every 10 ms, a
    /// window per RTT of 100 ms; cwnd lies between the curve now and one RTT ahead.
    #[test]
    fn the_window_follows_the_cubic_function_after_a_loss() {
        let mut c = after_loss_at(100);
        assert_eq!(c.cwnd(), 70 * MSS);
        let k = 75f64.cbrt();
        let formula = |t: f64| 0.4 * (t - k).powi(3) + 100.0;
        for tick in 1..=800u32 {
            let acked = (c.cwnd() / 10).max(MSS);
            c.on_ack(acked, MSS, tick * 10, 100);
            if [100, 200, 300, 422, 500, 600, 800].contains(&tick) {
                let (t, cwnd) = (tick as f64 / 100.0 - 0.01, (c.cwnd() / MSS) as f64);
                let (lo, hi) = (formula(t).min(formula(t + 0.1)), formula(t).max(formula(t + 0.1)));
                assert!(
                    cwnd >= lo - 1.5 && cwnd <= hi + 1.5,
                    "t {t} s: cwnd {cwnd} segments, formula {lo:.1}..{hi:.1}"
                );
            }
        }
        assert_eq!(c.k, 4316, "K = ∛(30 / (410 / 1024)) s in 1/1024 s");
    }

    /// Before any reduction the flat curve asks for almost nothing, and cwnd grows a segment
    /// per twenty acknowledged (5 % a round trip), in whole segments: two a 100 ms ACK.
    #[test]
    fn before_any_loss_a_segment_per_twenty_acknowledged() {
        let mut c = LinuxCubic::new(48 * MSS);
        c.exit_slow_start();
        let mut seen = Vec::new();
        for i in 1..=20 {
            c.on_ack(2 * MSS, MSS, i * 100, 100);
            seen.push(c.cwnd() / MSS);
        }
        assert_eq!(seen[8..11], [48, 49, 49], "the 20th segment acknowledged adds one");
        assert_eq!(c.cwnd() / MSS, 50);
        assert_eq!(c.cwnd() % MSS, 0, "whole segments");
    }

    /// Never faster than 1.5 × cwnd a round trip: at most a segment per two acknowledged, far
    /// above the curve's origin.
    #[test]
    fn at_most_one_segment_per_two_acknowledged() {
        let mut c = after_loss_at(20);
        c.on_ack(MSS, MSS, 1, 100);
        let start = c.cwnd() / MSS;
        for i in 1..=10 {
            c.on_ack(2 * MSS, MSS, 60_000 + i * 100, 100);
        }
        assert_eq!(c.cwnd() / MSS - start, 10);
    }

    /// A timeout forgets the curve, W_max too: avoidance after it grows as before any loss.
    #[test]
    fn a_timeout_forgets_w_max() {
        let mut c = after_loss_at(100);
        c.on_rto(70 * MSS, MSS);
        assert_eq!((c.cwnd(), c.ssthresh() / MSS, c.last_max), (MSS, 49, 0));
    }

    /// The step is recomputed at most once in 31 ms while cwnd stays: ACKs 2 ms apart use the
    /// step of the first.
    #[test]
    fn the_step_stands_for_31_ms_while_cwnd_stays() {
        let mut c = after_loss_at(100);
        c.on_ack(MSS, MSS, 1000, 100);
        let first = c.update(70, 0, 1000, 100);
        assert_eq!(c.update(70, 0, 1030, 100), first);
    }
}
