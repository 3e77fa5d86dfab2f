//! RACK (RFC 8985 §6): loss detection by time. Every transmission of data is logged with
//! the instant it left; when data sent later is delivered (acknowledged or SACKed), whatever
//! was sent before it and is still missing is lost once an RTT and the reordering window have
//! passed since it was sent. A segment lost again after its retransmission is found the same
//! way, and a loss with nothing sent after it waits for the reordering timer, not the RTO.
//!
//! The state lives with the scoreboard, allocated with it: a connection that never sends
//! data pays nothing for it.

use crate::scoreboard::unsacked;
use crate::Instant;
use std::collections::VecDeque;
use synack_wire::SeqNum;

/// RFC 8985 §6.2 step 4: a D-SACK widens the reordering window for this many recoveries.
const REO_WND_PERSIST: u8 = 16;
/// Linux's `tcp_max_reordering`: the reordering degree reported is capped here.
const MAX_REORDERING: u32 = 300;
/// The duplicate-ACK threshold (RFC 5681), the reordering degree assumed at first.
pub(crate) const DUP_THRESH: u32 = 3;

/// Bytes `[start, end)` left at `at`: one segment, or a burst sent at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sent {
    pub start: SeqNum,
    pub end: SeqNum,
    pub at: Instant,
    /// Sent before too (RFC 8985's Segment.retransmitted): its ACK is ambiguous.
    pub retransmitted: bool,
}

/// What one ACK tells RACK.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AckFacts {
    pub now: Instant,
    /// When the data whose timestamp the ACK echoes was sent, milliseconds on the
    /// connection's clock (RFC 7323), if timestamps are on.
    pub echoed_ms: Option<u32>,
    /// The sender's MSS, for the reordering degree.
    pub mss: u32,
}

#[derive(Debug, Clone)]
pub(crate) struct Rack {
    /// What was sent from SND.UNA on: sorted, disjoint, each run of bytes with its latest
    /// transmission.
    log: VecDeque<Sent>,
    /// RACK.xmit_ts and RACK.end_seq: the most recently sent data delivered so far.
    xmit: Instant,
    end_seq: SeqNum,
    /// RACK.rtt: that data's round trip, microseconds (none before the first delivery).
    rtt_us: Option<u64>,
    /// RACK.fack: the highest end of data delivered.
    fack: Option<SeqNum>,
    /// RACK.min_RTT, microseconds.
    min_rtt_us: u64,
    /// RACK.reordering_seen.
    reordering_seen: bool,
    reo_wnd_mult: u8,
    reo_wnd_persist: u8,
    /// RACK.dsack_round: no second widening for D-SACKs until SND.UNA passes this.
    dsack_round: Option<SeqNum>,
    /// How far out of order delivered data has been, in segments (Linux's `tp->reordering`,
    /// TCP_INFO's tcpi_reordering).
    pub reordering: u32,
    /// ACKs that showed data delivered out of order (Linux's `reord_seen`).
    pub reorder_events: u32,
    /// Transmissions are logged: RACK decides what is lost on this connection.
    pub enabled: bool,
}

impl Default for Rack {
    fn default() -> Rack {
        Rack {
            log: VecDeque::new(),
            xmit: Instant::ZERO,
            end_seq: SeqNum(0),
            rtt_us: None,
            fack: None,
            min_rtt_us: u64::MAX,
            reordering_seen: false,
            reo_wnd_mult: 1,
            reo_wnd_persist: 0,
            dsack_round: None,
            reordering: DUP_THRESH,
            reorder_events: 0,
            enabled: false,
        }
    }
}

/// RFC 8985 §6.2 RACK_sent_after: `(t1, seq1)` left after `(t2, seq2)`; at one instant, the
/// higher sequence number counts as later.
fn sent_after(t1: Instant, seq1: SeqNum, t2: Instant, seq2: SeqNum) -> bool {
    t1 > t2 || (t1 == t2 && seq1 > seq2)
}

impl Rack {
    /// Forgets everything (a record taken back for another connection).
    pub fn reset(&mut self) {
        let mut log = std::mem::take(&mut self.log);
        log.clear();
        *self = Rack { log, ..Rack::default() };
    }

    /// An RTT sample from elsewhere (the handshake, timestamps) bounds RACK.min_RTT too.
    pub fn note_rtt_us(&mut self, rtt_us: u64) {
        self.min_rtt_us = self.min_rtt_us.min(rtt_us.max(1));
    }

    /// RACK.min_RTT, microseconds, once there is a sample.
    pub fn min_rtt_us(&self) -> Option<u64> {
        (self.min_rtt_us != u64::MAX).then_some(self.min_rtt_us)
    }

    /// One ACK showed data delivered out of order.
    pub fn note_reorder_event(&mut self) {
        self.reorder_events = self.reorder_events.saturating_add(1);
    }

    /// Data `[start, end)` left at `at`. New data extends the last run when it left at the
    /// same instant; a retransmission takes its bytes' place in the log.
    pub fn note_sent(&mut self, start: SeqNum, end: SeqNum, at: Instant, retransmitted: bool) {
        self.enabled = true;
        if start >= end {
            return;
        }
        let sent = Sent { start, end, at, retransmitted };
        match self.log.back_mut() {
            None => {
                self.log.push_back(sent);
                return;
            }
            Some(last) if start >= last.end => {
                if start == last.end && at == last.at && !retransmitted && !last.retransmitted {
                    last.end = end;
                } else {
                    self.log.push_back(sent);
                }
                return;
            }
            Some(_) => {}
        }
        // Cold: a retransmission overwrites what the log says of its bytes.
        let first = self.log.partition_point(|s| s.end <= start);
        let mut last = first;
        while last < self.log.len() && self.log[last].start < end {
            last += 1;
        }
        let mut replacement = Vec::with_capacity(3);
        if let Some(head) = self.log.get(first).filter(|s| first < last && s.start < start) {
            replacement.push(Sent { end: start, ..*head });
        }
        replacement.push(sent);
        if last > first {
            let tail = self.log[last - 1];
            if tail.end > end {
                replacement.push(Sent { start: end, ..tail });
            }
        }
        self.log.drain(first..last);
        for (i, s) in replacement.into_iter().enumerate() {
            self.log.insert(first + i, s);
        }
    }

    /// RACK.fack before an ACK is taken in: what that ACK delivers below it was reordered.
    pub fn fack(&self) -> Option<SeqNum> {
        self.fack
    }

    /// RFC 8985 §6.2 steps 2 and 3 for data newly delivered, `[start, end)`: each segment's
    /// round trip becomes RACK.rtt, and the most recently sent becomes RACK's reference,
    /// unless its ACK may be for an earlier transmission (an ambiguous retransmission);
    /// delivered below `prior_fack` (RACK.fack before this ACK), it arrived out of order
    /// (returns true then). Only whole segments count, as a receiver SACKs them: a block that
    /// covers part of one (a byte of it) delivers none of it.
    ///
    /// RACK.rtt ends as the round trip of the last segment taken, and the caller takes an
    /// ACK's data in Linux's order (tcp_sacktag then tcp_clean_rtx_queue): SACK blocks, then
    /// the cumulative range, each by sequence. When an ACK delivers data sent before RACK's
    /// reference as well, RACK.rtt is then that older data's longer round trip, which gives
    /// what is still missing that much longer before it counts as lost.
    pub fn on_delivered(&mut self, start: SeqNum, end: SeqNum, prior_fack: Option<SeqNum>, ack: &AckFacts) -> bool {
        let mss = ack.mss.max(1);
        let mut reordered = false;
        let mut i = self.log.partition_point(|s| s.end <= start);
        while let Some(&run) = self.log.get(i).filter(|s| s.start < end) {
            i += 1;
            // The run's segments start every MSS from its start; its end closes the last.
            let from = start.max(run.start);
            let to = end.min(run.end);
            let lo = run.start + from.since(run.start).div_ceil(mss) * mss;
            let hi = if to == run.end { to } else { run.start + to.since(run.start) / mss * mss };
            if lo >= hi {
                continue;
            }
            let sent = Sent { start: lo, end: hi, ..run };
            let rtt_us = ack.now.saturating_since(sent.at).as_micros() as u64;
            if sent.retransmitted {
                let for_earlier =
                    ack.echoed_ms.is_some_and(|echoed| (sent.at.as_millis() as u32).wrapping_sub(echoed) as i32 > 0);
                if for_earlier || rtt_us < self.min_rtt_us {
                    continue;
                }
            }
            self.note_rtt_us(rtt_us);
            if self.rtt_us.is_none() || sent_after(sent.at, sent.end, self.xmit, self.end_seq) {
                self.xmit = sent.at;
                self.end_seq = sent.end;
            }
            self.rtt_us = Some(rtt_us);
            if let Some(fack) = prior_fack.filter(|&fack| sent.start < fack && !sent.retransmitted) {
                self.reordering_seen = true;
                reordered = true;
                // Linux's degree: how many segments below the highest delivered.
                let degree = fack.since(sent.start).div_ceil(mss);
                self.reordering = self.reordering.max(degree.min(MAX_REORDERING));
            }
            if self.fack.is_none_or(|fack| sent.end > fack) {
                self.fack = Some(sent.end);
            }
        }
        reordered
    }

    /// The cumulative ACK reached `snd_una`: the log forgets what is below it.
    /// The logged transmission of the byte at `seq`, if it is in the log.
    pub fn sent_at(&self, seq: SeqNum) -> Option<Sent> {
        let i = self.log.partition_point(|s| s.end <= seq);
        self.log.get(i).filter(|s| s.start <= seq).copied()
    }

    pub fn advance(&mut self, snd_una: SeqNum) {
        while self.log.front().is_some_and(|s| s.end <= snd_una) {
            self.log.pop_front();
        }
        if let Some(first) = self.log.front_mut() {
            first.start = first.start.max(snd_una);
        }
    }

    /// RFC 8985 §6.2 step 4 (RACK_update_reo_wnd) on an ACK: a D-SACK widens the window by
    /// a quarter of the minimum RTT, once per round trip, for the next 16 recoveries.
    pub fn on_dsack(&mut self, snd_una: SeqNum, snd_nxt: SeqNum, dsack: bool) {
        if self.dsack_round.is_some_and(|round| snd_una >= round) {
            self.dsack_round = None;
        }
        if dsack && self.dsack_round.is_none() {
            self.dsack_round = Some(snd_nxt);
            self.reo_wnd_mult = self.reo_wnd_mult.saturating_add(1);
            self.reo_wnd_persist = REO_WND_PERSIST;
        }
    }

    /// A recovery ended: one fewer to keep a widened window for.
    pub fn on_recovery_end(&mut self) {
        self.reo_wnd_persist = self.reo_wnd_persist.saturating_sub(1);
        if self.reo_wnd_persist == 0 {
            self.reo_wnd_mult = 1;
        }
    }

    /// RFC 8985 §6.2 step 4: the reordering window, microseconds. None until reordering has
    /// been seen while in recovery or with DupThresh segments SACKed (the loss is then not
    /// reordering by RFC 6675's count); else a quarter of the minimum RTT per step, at most
    /// SRTT.
    pub fn reo_wnd_us(&self, in_recovery: bool, sacked_segments: u32, srtt_us: u64) -> u64 {
        if !self.reordering_seen && (in_recovery || sacked_segments >= self.reordering) {
            return 0;
        }
        let min_rtt = if self.min_rtt_us == u64::MAX { srtt_us } else { self.min_rtt_us };
        (min_rtt / 4 * self.reo_wnd_mult as u64).min(srtt_us)
    }

    /// RFC 8985 §6.2 step 5 (RACK_detect_loss): of what is not delivered (`sacked` ranges
    /// excluded), the runs sent before RACK's reference whose RTT and reordering window have
    /// passed are lost (pushed to `lost`); returns how long until the next would be (the
    /// reordering timer), if any would.
    pub fn detect_loss(
        &self,
        now: Instant,
        reo_wnd_us: u64,
        sacked: &[(SeqNum, SeqNum)],
        lost: &mut Vec<(SeqNum, SeqNum)>,
    ) -> Option<u64> {
        let rtt_us = self.rtt_us?;
        let mut timeout_us: Option<u64> = None;
        for sent in &self.log {
            if sent.at > self.xmit {
                // The log is in sequence order, not time order: retransmissions sit low.
                continue;
            }
            // At RACK's own instant, only what precedes its end was sent before it.
            let end = if sent.at == self.xmit { sent.end.min(self.end_seq) } else { sent.end };
            if sent.start >= end {
                continue;
            }
            let missing = unsacked(sent.start, end, sacked);
            if missing.is_empty() {
                continue;
            }
            let deadline = sent.at.add_micros(rtt_us + reo_wnd_us);
            if deadline <= now {
                lost.extend(missing);
            } else {
                let wait = deadline.saturating_since(now).as_micros() as u64;
                timeout_us = Some(timeout_us.map_or(wait, |t| t.max(wait)));
            }
        }
        timeout_us
    }

    #[cfg(test)]
    pub fn log(&self) -> Vec<Sent> {
        self.log.iter().copied().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(n: u32) -> SeqNum {
        SeqNum(n)
    }
    fn ms(n: u64) -> Instant {
        Instant::from_millis(n)
    }
    fn ack(now: Instant) -> AckFacts {
        AckFacts { now, echoed_ms: None, mss: 1000 }
    }

    #[test]
    fn a_burst_is_one_run_and_a_retransmission_takes_its_bytes_place() {
        let mut rack = Rack::default();
        rack.note_sent(s(0), s(1000), ms(0), false);
        rack.note_sent(s(1000), s(4000), ms(0), false);
        rack.note_sent(s(4000), s(5000), ms(10), false);
        assert_eq!(rack.log().len(), 2);
        rack.note_sent(s(1000), s(2000), ms(50), true);
        let log: Vec<_> = rack.log().iter().map(|x| (x.start.0, x.end.0, x.at.as_millis(), x.retransmitted)).collect();
        assert_eq!(log, [(0, 1000, 0, false), (1000, 2000, 50, true), (2000, 4000, 0, false), (4000, 5000, 10, false)]);
        rack.advance(s(1500));
        assert_eq!(rack.log()[0].start, s(1500));
        assert_eq!(rack.log().len(), 3);
    }

    #[test]
    fn data_sent_before_delivered_data_is_lost_after_rtt_and_window() {
        let mut rack = Rack::default();
        rack.note_rtt_us(100_000);
        rack.note_sent(s(0), s(4000), ms(100), false);
        // The last segment is SACKed at 200 ms: RTT 100 ms; 0..3000 wait out the window.
        let prior = rack.fack();
        rack.on_delivered(s(3000), s(4000), prior, &ack(ms(200)));
        let sacked = [(s(3000), s(4000))];
        let reo = rack.reo_wnd_us(false, 1, 100_000);
        assert_eq!(reo, 25_000, "a quarter of the minimum RTT");
        let mut lost = Vec::new();
        assert_eq!(rack.detect_loss(ms(200), reo, &sacked, &mut lost), Some(25_000));
        assert!(lost.is_empty());
        assert_eq!(rack.detect_loss(ms(225), reo, &sacked, &mut lost), None);
        assert_eq!(lost, [(s(0), s(3000))]);
    }

    #[test]
    fn three_sacked_segments_or_recovery_leave_no_window_until_reordering_is_seen() {
        let mut rack = Rack::default();
        rack.note_rtt_us(40_000);
        assert_eq!(rack.reo_wnd_us(false, 3, 40_000), 0);
        assert_eq!(rack.reo_wnd_us(true, 0, 40_000), 0);
        rack.note_sent(s(0), s(3000), ms(0), false);
        let prior = rack.fack();
        rack.on_delivered(s(2000), s(3000), prior, &ack(ms(40)));
        let prior = rack.fack();
        rack.on_delivered(s(0), s(1000), prior, &ack(ms(41)));
        assert!(rack.reordering_seen);
        assert_eq!(rack.reordering, 3, "2 segments below the highest: the floor of 3 stays");
        assert_eq!(rack.reo_wnd_us(true, 3, 40_000), 10_000);
    }

    #[test]
    fn rack_rtt_is_the_last_segment_taken_and_reordering_counts_against_the_fack_before() {
        let mut rack = Rack::default();
        rack.note_rtt_us(10_000);
        rack.note_sent(s(0), s(10_000), ms(10), false);
        // Segment 8 SACKed, then segment 0 resent at 20 ms.
        rack.on_delivered(s(8000), s(9000), None, &ack(ms(20)));
        rack.note_sent(s(0), s(1000), ms(20), true);
        // One ACK delivers the retransmission (12 ms) and original data sent at 10 ms (22 ms),
        // the cumulative range taken in sequence order: RACK.rtt is the later one's, the
        // reference the retransmission, and the original below the old fack is reordering.
        let prior = rack.fack();
        assert!(rack.on_delivered(s(0), s(4000), prior, &ack(ms(32))));
        assert_eq!(rack.rtt_us, Some(22_000));
        assert_eq!((rack.xmit, rack.end_seq), (ms(20), s(1000)));
        rack.advance(s(4000));
        // Segment 9, sent at 10 ms, is lost only after 22 ms plus the window.
        let sacked = [(s(8000), s(9000))];
        let mut lost = Vec::new();
        assert_eq!(rack.detect_loss(ms(32), 2_500, &sacked, &mut lost), Some(2_500));
        assert!(lost.is_empty());
    }

    #[test]
    fn in_order_delivery_in_one_ack_is_not_reordering() {
        let mut rack = Rack::default();
        rack.note_sent(s(0), s(3000), ms(0), false);
        // An ACK of 0..1000 that SACKs 2000..3000: the SACK, taken first, raises the fack,
        // yet the cumulative data was not delivered below the fack before the ACK.
        let prior = rack.fack();
        assert!(!rack.on_delivered(s(2000), s(3000), prior, &ack(ms(40))));
        assert!(!rack.on_delivered(s(0), s(1000), prior, &ack(ms(40))));
        assert!(!rack.reordering_seen);
    }

    #[test]
    fn a_dsack_widens_the_window_for_sixteen_recoveries() {
        let mut rack = Rack::default();
        rack.note_rtt_us(40_000);
        rack.note_sent(s(0), s(1000), ms(0), false);
        let prior = rack.fack();
        rack.on_delivered(s(0), s(1000), prior, &ack(ms(40)));
        rack.reordering_seen = true;
        rack.on_dsack(s(1000), s(5000), true);
        assert_eq!(rack.reo_wnd_us(false, 0, 100_000), 20_000);
        rack.on_dsack(s(2000), s(5000), true);
        assert_eq!(rack.reo_wnd_us(false, 0, 100_000), 20_000, "once per round trip");
        for _ in 0..16 {
            rack.on_recovery_end();
        }
        assert_eq!(rack.reo_wnd_us(false, 0, 100_000), 10_000);
    }

    #[test]
    fn an_ambiguous_retransmission_is_no_reference() {
        let mut rack = Rack::default();
        rack.note_rtt_us(50_000);
        rack.note_sent(s(0), s(1000), ms(0), false);
        rack.note_sent(s(0), s(1000), ms(60), true);
        // Acknowledged 10 ms after the retransmission: faster than any RTT, so it was the
        // original that arrived.
        let prior = rack.fack();
        rack.on_delivered(s(0), s(1000), prior, &ack(ms(70)));
        assert_eq!(rack.rtt_us, None);
        // With timestamps, an echo older than the retransmission says the same.
        let echoed = AckFacts { echoed_ms: Some(0), ..ack(ms(200)) };
        let prior = rack.fack();
        rack.on_delivered(s(0), s(1000), prior, &echoed);
        assert_eq!(rack.rtt_us, None);
    }
}
