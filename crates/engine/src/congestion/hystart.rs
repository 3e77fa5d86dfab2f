//! HyStart++ (RFC 9406): leaves the initial slow start before it overshoots. Each round
//! trip's minimum RTT is compared with the last round's; when it has grown by an eighth
//! (4–16 ms), queues are building, and Conservative Slow Start (CSS) grows the window a
//! quarter as fast for up to five rounds. If the RTT falls back below where CSS began, the
//! rise was noise and slow start resumes; after five rounds of it slow start ends
//! (ssthresh = cwnd) and congestion avoidance takes over, without the loss standard slow start
//! would have needed to find that point.
//!
//! The limit RFC 9406 §4.3 suggests on growth per ACK without pacing (L = 8 segments) is not
//! applied: Linux grows by every segment a stretch ACK covers.

use synack_wire::SeqNum;

/// RFC 9406 §4.3's constants.
const MIN_RTT_THRESH_US: u32 = 4_000;
const MAX_RTT_THRESH_US: u32 = 16_000;
const MIN_RTT_DIVISOR: u32 = 8;
const N_RTT_SAMPLE: u8 = 8;
const CSS_GROWTH_DIVISOR: u32 = 4;
const CSS_ROUNDS: u8 = 5;
/// No sample yet.
const NONE_US: u32 = u32::MAX;
/// Linux's CUBIC looks for the delay rise only from this cwnd on (`hystart_low_window`).
const LINUX_LOW_WINDOW_SEGMENTS: u32 = 16;

/// §4.3's RttThresh: how far a round's minimum RTT may rise over `base_us` before it shows a
/// queue building (an eighth of it, 4–16 ms).
fn rtt_thresh(base_us: u32) -> u32 {
    (base_us / MIN_RTT_DIVISOR).clamp(MIN_RTT_THRESH_US, MAX_RTT_THRESH_US)
}

/// How slow start grows on this ACK.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SlowStart {
    /// By every byte acknowledged.
    Standard,
    /// By a quarter of them (CSS).
    Conservative,
    /// Not any more: ssthresh comes down to cwnd.
    Exit,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct HyStart {
    /// SND.NXT when the round began: it ends when that is acknowledged.
    window_end: SeqNum,
    last_round_min_rtt_us: u32,
    current_round_min_rtt_us: u32,
    /// The round's minimum RTT when CSS began (`NONE_US` outside CSS).
    css_baseline_min_rtt_us: u32,
    rtt_samples: u8,
    /// Rounds spent in CSS, from 1 (0: not in CSS).
    css_rounds: u8,
}

impl HyStart {
    pub fn new(iss: SeqNum) -> HyStart {
        HyStart {
            window_end: iss,
            last_round_min_rtt_us: NONE_US,
            current_round_min_rtt_us: NONE_US,
            css_baseline_min_rtt_us: NONE_US,
            rtt_samples: 0,
            css_rounds: 0,
        }
    }

    pub fn in_css(&self) -> bool {
        self.css_rounds > 0
    }

    /// §4.2: an RTT sample during slow start. Enters CSS when this round's minimum has risen
    /// past the last round's by the threshold; leaves it when the minimum falls back below
    /// where CSS began.
    pub fn on_rtt_sample(&mut self, rtt_us: u64) {
        let rtt_us = rtt_us.min(NONE_US as u64 - 1) as u32;
        self.current_round_min_rtt_us = self.current_round_min_rtt_us.min(rtt_us);
        self.rtt_samples = self.rtt_samples.saturating_add(1);
        if self.rtt_samples < N_RTT_SAMPLE || self.current_round_min_rtt_us == NONE_US {
            return;
        }
        if self.in_css() {
            if self.current_round_min_rtt_us < self.css_baseline_min_rtt_us {
                // The RTT rise was spurious: back to standard slow start.
                self.css_baseline_min_rtt_us = NONE_US;
                self.css_rounds = 0;
            }
        } else if self.last_round_min_rtt_us != NONE_US {
            let last = self.last_round_min_rtt_us;
            if self.current_round_min_rtt_us >= last.saturating_add(rtt_thresh(last)) {
                self.css_baseline_min_rtt_us = self.current_round_min_rtt_us;
                self.css_rounds = 1;
            }
        }
    }

    /// Linux's CUBIC HyStart (its delay detection), which `Compat::hystart_without_css`
    /// runs instead of HyStart++: an RTT sample from the ACK of `ack`, `snd_nxt` what has
    /// been sent, `cwnd_segments` the window. From 16 segments of cwnd on, a round starts
    /// with the first sample whose ACK passes the last round's end; once a round has eight
    /// samples, a minimum risen past the connection's minimum RTT by the threshold of §4.3
    /// (an eighth, 4–16 ms) ends slow start at once, without CSS. Returns whether it does.
    /// `last_round_min_rtt_us` holds the connection's minimum in this flavour.
    pub fn on_rtt_sample_linux(&mut self, rtt_us: u64, ack: SeqNum, snd_nxt: SeqNum, cwnd_segments: u32) -> bool {
        let rtt_us = rtt_us.min(NONE_US as u64 - 1) as u32;
        self.last_round_min_rtt_us = self.last_round_min_rtt_us.min(rtt_us);
        if cwnd_segments < LINUX_LOW_WINDOW_SEGMENTS {
            return false;
        }
        if ack > self.window_end {
            self.window_end = snd_nxt;
            self.current_round_min_rtt_us = NONE_US;
            self.rtt_samples = 0;
        }
        self.current_round_min_rtt_us = self.current_round_min_rtt_us.min(rtt_us);
        if self.rtt_samples < N_RTT_SAMPLE {
            self.rtt_samples += 1;
            return false;
        }
        let base = self.last_round_min_rtt_us;
        self.current_round_min_rtt_us > base.saturating_add(rtt_thresh(base))
    }

    /// §4.2 on an ACK of new data during slow start, `snd_nxt` what has been sent: a round
    /// ends when the ACK reaches the mark set when it began (the next one starts), and the
    /// fifth round of CSS ends slow start.
    pub fn on_ack(&mut self, ack: SeqNum, snd_nxt: SeqNum) -> SlowStart {
        if ack >= self.window_end {
            if self.in_css() {
                if self.css_rounds >= CSS_ROUNDS {
                    self.css_rounds = 0;
                    return SlowStart::Exit;
                }
                self.css_rounds += 1;
            }
            self.last_round_min_rtt_us = self.current_round_min_rtt_us;
            self.current_round_min_rtt_us = NONE_US;
            self.rtt_samples = 0;
            self.window_end = snd_nxt;
        }
        if self.in_css() {
            SlowStart::Conservative
        } else {
            SlowStart::Standard
        }
    }

    /// The share of `acked` bytes slow start grows by in CSS.
    pub fn css_growth(acked: u32) -> u32 {
        acked / CSS_GROWTH_DIVISOR
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One round: `samples` RTT samples of `rtt_ms`, then the ACK that ends it.
    fn round(h: &mut HyStart, end: &mut u32, rtt_ms: u64, samples: u32) -> SlowStart {
        for _ in 0..samples {
            h.on_rtt_sample(rtt_ms * 1000);
        }
        let verdict = h.on_ack(SeqNum(*end), SeqNum(*end + 10_000));
        *end += 10_000;
        verdict
    }

    #[test]
    fn a_rising_rtt_starts_css_and_five_rounds_of_it_end_slow_start() {
        let mut h = HyStart::new(SeqNum(0));
        let mut end = 0;
        assert_eq!(round(&mut h, &mut end, 100, 8), SlowStart::Standard);
        assert_eq!(round(&mut h, &mut end, 100, 8), SlowStart::Standard);
        // 100 → 112 ms: under the threshold of an eighth (12.5 ms).
        assert_eq!(round(&mut h, &mut end, 112, 8), SlowStart::Standard);
        assert!(!h.in_css());
        // 112 → 127: the threshold is 14 ms; 127 ≥ 126 enters CSS at the eighth sample.
        for _ in 0..7 {
            h.on_rtt_sample(127_000);
        }
        assert!(!h.in_css(), "not before N_RTT_SAMPLE samples");
        h.on_rtt_sample(127_000);
        assert!(h.in_css());
        // Rounds 1..5 of CSS grow conservatively; the end of the fifth ends slow start.
        let mut verdicts = Vec::new();
        for _ in 0..5 {
            verdicts.push(round(&mut h, &mut end, 127, 8));
        }
        assert_eq!(verdicts[..4], [SlowStart::Conservative; 4]);
        assert_eq!(verdicts[4], SlowStart::Exit);
        assert_eq!(HyStart::css_growth(4000), 1000);
    }

    /// Linux's flavour: a sample below 16 segments of cwnd counts only for the minimum; from
    /// 16 on, eight samples of 240 ms make a round's minimum, and the ninth, past 200 + 16 ms,
    /// ends slow start at once. 210 ms is within the threshold.
    #[test]
    fn linux_hystart_ends_slow_start_on_the_ninth_sample_of_a_slower_round() {
        for (rtt_us, exits) in [(240_000, true), (210_000, false)] {
            let mut h = HyStart::new(SeqNum(0));
            assert!(!h.on_rtt_sample_linux(200_000, SeqNum(10_000), SeqNum(30_000), 10));
            let verdicts: Vec<bool> =
                (1..=9).map(|i| h.on_rtt_sample_linux(rtt_us, SeqNum(10_000 + i * 2000), SeqNum(50_000), 20)).collect();
            assert_eq!(verdicts[..8], [false; 8]);
            assert_eq!(verdicts[8], exits, "{rtt_us} us");
        }
    }

    #[test]
    fn an_rtt_back_below_the_baseline_resumes_slow_start() {
        let mut h = HyStart::new(SeqNum(0));
        let mut end = 0;
        round(&mut h, &mut end, 40, 8);
        round(&mut h, &mut end, 40, 8);
        for _ in 0..8 {
            h.on_rtt_sample(50_000); // 40 + 5 (an eighth, above the 4 ms floor)
        }
        assert!(h.in_css());
        assert_eq!(round(&mut h, &mut end, 50, 0), SlowStart::Conservative);
        for _ in 0..8 {
            h.on_rtt_sample(41_000);
        }
        assert!(!h.in_css(), "41 ms is below the 50 ms baseline");
        assert_eq!(h.on_ack(SeqNum(end), SeqNum(end + 10_000)), SlowStart::Standard);
    }
}
