//! The sender's SACK scoreboard (RFC 6675 §3): which bytes above SND.UNA the peer has
//! reported holding, as sorted, disjoint ranges, and which lost bytes this recovery has
//! retransmitted and when. From it: IsLost, the next hole to retransmit (NextSeg), and how
//! much of the flight is still in the network (the "pipe").

use crate::Instant;
use std::time::Duration;
use synack_wire::SeqNum;

/// Ranges kept at most; a peer reports three or four blocks per ACK, and a window holds few
/// holes at a time. Past this the lowest ranges are merged into their neighbour (the
/// scoreboard then under-reports, which only delays a retransmission to the timer).
const MAX_RANGES: usize = 32;
/// Retransmissions tracked at most; past this no more holes are resent before the timer.
const MAX_RESENT: usize = 256;

/// Allocated on the first SACK block and freed when empty again, so that a connection that
/// never sees a loss pays one pointer for it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Scoreboard {
    tables: Option<Box<Tables>>,
}

#[derive(Debug, Clone, Default)]
struct Tables {
    ranges: Vec<(SeqNum, SeqNum)>,
    /// Lost bytes retransmitted in this recovery and not yet acknowledged, sorted by start:
    /// (start, end, when sent).
    resent: Vec<(SeqNum, SeqNum, Instant)>,
}

impl Scoreboard {
    fn ranges(&self) -> &[(SeqNum, SeqNum)] {
        self.tables.as_ref().map_or(&[], |t| &t.ranges)
    }

    fn resent(&self) -> &[(SeqNum, SeqNum, Instant)] {
        self.tables.as_ref().map_or(&[], |t| &t.resent)
    }

    fn tables(&mut self) -> &mut Tables {
        self.tables.get_or_insert_with(Box::default)
    }

    /// Frees the tables once nothing is in them.
    fn shrink(&mut self) {
        if self.tables.as_ref().is_some_and(|t| t.ranges.is_empty() && t.resent.is_empty()) {
            self.tables = None;
        }
    }

    /// Nothing SACKed and nothing being resent.
    pub fn is_empty(&self) -> bool {
        self.tables.is_none()
    }

    pub fn clear(&mut self) {
        self.tables = None;
    }

    pub fn clear_resent(&mut self) {
        if let Some(t) = &mut self.tables {
            t.resent.clear();
        }
        self.shrink();
    }

    /// Where the lowest retransmission still tracked begins.
    pub fn first_resent(&self) -> Option<SeqNum> {
        self.resent().first().map(|&(start, _, _)| start)
    }

    /// `[start, end)` was retransmitted at `at`. Returns false when the table is full.
    pub fn note_resent(&mut self, start: SeqNum, end: SeqNum, at: Instant) -> bool {
        let resent = &mut self.tables().resent;
        if resent.len() >= MAX_RESENT {
            return false;
        }
        let i = resent.iter().position(|&(s, _, _)| s > start).unwrap_or(resent.len());
        resent.insert(i, (start, end, at));
        true
    }

    /// Forgets retransmissions that were acknowledged or SACKed, and those older than
    /// `timeout` that still are not: those were lost again, and their bytes count as lost
    /// and unsent once more (the idea of RFC 8985's RACK, for retransmissions only). Returns
    /// how many were found lost.
    pub fn expire_resent(&mut self, snd_una: SeqNum, now: Instant, timeout: Duration) -> u64 {
        let Some(tables) = &mut self.tables else { return 0 };
        let ranges = &tables.ranges;
        let mut lost = 0;
        tables.resent.retain(|&(start, end, at)| {
            let from = start.max(snd_una);
            let delivered = end <= snd_una || ranges.iter().any(|&(l, r)| l <= from && end <= r);
            if delivered {
                return false;
            }
            if now - at > timeout {
                lost += 1;
                return false;
            }
            true
        });
        self.shrink();
        lost
    }

    /// Adds the blocks of one ACK; blocks outside (SND.UNA, SND.MAX] or inverted are ignored
    /// (RFC 2883's D-SACK blocks fall below SND.UNA and are ignored here too).
    pub fn add(&mut self, blocks: &[(SeqNum, SeqNum)], snd_una: SeqNum, snd_max: SeqNum) {
        for &(left, right) in blocks {
            if !(left < right && right <= snd_max && right > snd_una) {
                continue;
            }
            self.insert(left.max(snd_una), right);
        }
    }

    fn insert(&mut self, left: SeqNum, right: SeqNum) {
        let (mut left, mut right) = (left, right);
        let ranges = &mut self.tables().ranges;
        // Merge every range that overlaps or touches [left, right).
        ranges.retain(|&(l, r)| {
            if r < left || l > right {
                true
            } else {
                left = left.min(l);
                right = right.max(r);
                false
            }
        });
        let at = ranges.iter().position(|&(l, _)| l > left).unwrap_or(ranges.len());
        ranges.insert(at, (left, right));
        if ranges.len() > MAX_RANGES {
            let (_, r1) = ranges.remove(1);
            ranges[0].1 = r1;
        }
    }

    /// The cumulative ACK moved to `snd_una`: forget what it covers.
    pub fn advance(&mut self, snd_una: SeqNum) {
        let Some(tables) = &mut self.tables else { return };
        tables.ranges.retain(|&(_, r)| r > snd_una);
        if let Some(first) = tables.ranges.first_mut() {
            first.0 = first.0.max(snd_una);
        }
        self.shrink();
    }

    /// Bytes SACKed at or above `seq`.
    pub fn sacked_above(&self, seq: SeqNum) -> u32 {
        self.ranges().iter().filter(|&&(_, r)| r > seq).map(|&(l, r)| r.since(l.max(seq))).sum()
    }

    /// If `seq` is SACKed, where its range ends.
    pub fn sacked_end(&self, seq: SeqNum) -> Option<SeqNum> {
        self.ranges().iter().find(|&&(l, r)| l <= seq && seq < r).map(|&(_, r)| r)
    }

    /// RFC 6675 §4 IsLost: more than (DupThresh - 1) × SMSS bytes above `seq` are SACKed.
    pub fn is_lost(&self, seq: SeqNum, dup_thresh: u32, mss: u32) -> bool {
        self.sacked_above(seq) > (dup_thresh - 1) * mss
    }

    /// The holes between SND.UNA and the highest SACKed byte, lowest first.
    pub fn holes(&self, snd_una: SeqNum) -> impl Iterator<Item = (SeqNum, SeqNum)> + '_ {
        let mut start = snd_una;
        self.ranges().iter().filter_map(move |&(l, r)| {
            let hole = (start < l).then_some((start, l));
            start = start.max(r);
            hole
        })
    }

    /// Bytes of `[start, end)` covered by pending retransmissions.
    fn resent_within(&self, start: SeqNum, end: SeqNum) -> u32 {
        self.resent()
            .iter()
            .filter(|&&(s, e, _)| s < end && e > start)
            .map(|&(s, e, _)| e.min(end).since(s.max(start)))
            .sum()
    }

    /// RFC 6675 §4 SetPipe, by ranges: the bytes in flight that are neither SACKed nor lost,
    /// plus lost bytes retransmitted and still pending.
    pub fn pipe(&self, snd_una: SeqNum, snd_max: SeqNum, dup_thresh: u32, mss: u32) -> u32 {
        let outstanding = snd_max.since(snd_una);
        let sacked = self.sacked_above(snd_una);
        let lost_not_resent: u32 = self
            .holes(snd_una)
            .filter(|&(_, end)| self.is_lost(end, dup_thresh, mss))
            .map(|(start, end)| end.since(start).saturating_sub(self.resent_within(start, end)))
            .sum();
        outstanding.saturating_sub(sacked).saturating_sub(lost_not_resent)
    }

    /// RFC 6675 §4 NextSeg rule 1: the lowest lost bytes with no pending retransmission, at
    /// most `max_len` of them, as (sequence number, length).
    pub fn next_lost(&self, snd_una: SeqNum, dup_thresh: u32, mss: u32, max_len: usize) -> Option<(SeqNum, usize)> {
        for (start, end) in self.holes(snd_una) {
            if !self.is_lost(end, dup_thresh, mss) {
                continue;
            }
            let mut at = start;
            let mut limit = end;
            for &(s, e, _) in self.resent() {
                if e <= at || s >= limit {
                    continue;
                }
                if s <= at {
                    at = e;
                } else {
                    limit = s;
                    break;
                }
            }
            if at < limit {
                return Some((at, (limit.since(at) as usize).min(max_len)));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(n: u32) -> SeqNum {
        SeqNum(n)
    }

    #[test]
    fn blocks_merge_and_stay_sorted_and_old_ones_are_ignored() {
        let mut b = Scoreboard::default();
        b.add(&[(s(300), s(400)), (s(100), s(200))], s(0), s(1000));
        b.add(&[(s(200), s(250)), (s(50), s(60))], s(60), s(1000));
        b.add(&[(s(900), s(1100))], s(0), s(1000)); // beyond SND.MAX
        assert_eq!(b.ranges(), [(s(100), s(250)), (s(300), s(400))]);
        assert_eq!(b.holes(s(0)).collect::<Vec<_>>(), vec![(s(0), s(100)), (s(250), s(300))]);
        assert_eq!(b.sacked_above(s(0)), 250);
        assert_eq!(b.sacked_above(s(320)), 80);
        assert_eq!(b.sacked_end(s(120)), Some(s(250)));
        assert_eq!(b.sacked_end(s(260)), None);
        b.advance(s(320));
        assert_eq!(b.ranges(), [(s(320), s(400))]);
    }

    #[test]
    fn a_hole_is_lost_once_more_than_two_segments_above_it_are_sacked() {
        let mut b = Scoreboard::default();
        b.add(&[(s(1000), s(3000))], s(0), s(5000));
        assert!(!b.is_lost(s(0), 3, 1000), "2 segments above");
        b.add(&[(s(3000), s(3001))], s(0), s(5000));
        assert!(b.is_lost(s(0), 3, 1000));
    }

    #[test]
    fn pipe_leaves_out_sacked_and_lost_bytes_until_they_are_resent() {
        let mut b = Scoreboard::default();
        // Flight 0..6000 in 1000-byte segments; 1000..4000 SACKed: 0..1000 lost.
        b.add(&[(s(1000), s(4000))], s(0), s(6000));
        assert_eq!(b.pipe(s(0), s(6000), 3, 1000), 6000 - 3000 - 1000);
        assert_eq!(b.next_lost(s(0), 3, 1000, 1000), Some((s(0), 1000)));
        // After the retransmission of 0..1000 it is in the pipe again.
        b.note_resent(s(0), s(1000), Instant::ZERO);
        assert_eq!(b.pipe(s(0), s(6000), 3, 1000), 6000 - 3000);
        assert_eq!(b.next_lost(s(0), 3, 1000, 1000), None);
    }

    #[test]
    fn a_retransmission_unanswered_past_the_timeout_is_lost_again() {
        let mut b = Scoreboard::default();
        b.add(&[(s(2000), s(6000))], s(0), s(8000));
        b.note_resent(s(0), s(1000), Instant::ZERO);
        b.note_resent(s(1000), s(2000), Instant::ZERO + Duration::from_millis(5));
        assert_eq!(b.next_lost(s(0), 3, 1000, 1000), None);
        let at = Instant::ZERO + Duration::from_millis(12);
        assert_eq!(b.expire_resent(s(0), at, Duration::from_millis(10)), 1, "only the first is overdue");
        assert_eq!(b.next_lost(s(0), 3, 1000, 1000), Some((s(0), 1000)));
        // An acknowledgment clears the other without counting it lost.
        assert_eq!(b.expire_resent(s(2000), at + Duration::from_secs(1), Duration::from_millis(10)), 0);
        assert!(b.resent().is_empty());
    }

    #[test]
    fn the_range_count_is_bounded() {
        let mut b = Scoreboard::default();
        for i in 0..100u32 {
            b.add(&[(s(i * 100 + 10), s(i * 100 + 20))], s(0), s(100_000));
        }
        assert!(b.ranges().len() <= MAX_RANGES);
        assert_eq!(b.ranges().last(), Some(&(s(9910), s(9920))));
        b.advance(s(100_000));
        assert!(b.tables.is_none(), "freed once empty");
    }
}
