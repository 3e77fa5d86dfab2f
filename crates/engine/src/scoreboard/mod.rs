//! The sender's SACK scoreboard (RFC 6675 §3): which bytes above SND.UNA the peer has
//! reported holding, as sorted, disjoint ranges, which are lost, and which lost bytes this
//! recovery has retransmitted and when. From it: the next hole to retransmit (NextSeg) and
//! how much of the flight is still in the network (the "pipe"). What counts as lost is
//! RFC 6675's count of SACKed bytes above a hole (IsLost), or RACK's verdict by time
//! (RFC 8985, `rack.rs`), whose log of transmissions lives here too, as does the rest of
//! loss recovery's out-of-line state (`state.rs`: undo, PRR, F-RTO).

mod state;

pub(crate) use state::{first_block_is_dsack, Frto, Prr, Undo};

use crate::rack::{AckFacts, Rack};
use crate::Instant;
use std::borrow::Cow;
use std::time::Duration;
use synack_wire::SeqNum;

/// Ranges kept at most; a peer reports three or four blocks per ACK, and a window holds few
/// holes at a time. Past this the lowest ranges are merged into their neighbour (the
/// scoreboard then under-reports, which only delays a retransmission to the timer).
const MAX_RANGES: usize = 32;
/// Retransmissions tracked at most; past this no more holes are resent before the timer.
const MAX_RESENT: usize = 256;
/// Spare tables kept for the next connections (as the endpoint keeps spare buffers).
const MAX_SPARE: usize = 64;

/// How lost bytes are told from delayed ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LossRule {
    /// RFC 6675 §4 IsLost: more than (DupThresh - 1) × SMSS bytes above are SACKed.
    DupThresh { dup_thresh: u32, mss: u32 },
    /// RFC 8985: what RACK has marked lost.
    Rack,
}

/// Allocated on the first SACK block, when RACK starts its log (the second segment in
/// flight) or when a recovery begins, and kept until the connection is freed (then given to
/// the endpoint's spares), so that a connection that never has two segments in flight pays
/// one pointer for it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Scoreboard {
    tables: Option<Box<Tables>>,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Tables {
    ranges: Vec<(SeqNum, SeqNum)>,
    /// Lost bytes retransmitted in this recovery and not yet acknowledged, sorted by start:
    /// (start, end, when sent).
    resent: Vec<(SeqNum, SeqNum, Instant)>,
    /// What RACK has marked lost and is not delivered yet: sorted, disjoint.
    lost: Vec<(SeqNum, SeqNum)>,
    rack: Rack,
    /// RFC 2883 undo (Linux's `undo_marker` and `undo_retrans`): SND.UNA when recovery
    /// began, and its retransmissions that no D-SACK has shown needless yet.
    undo_marker: Option<SeqNum>,
    undo_retrans: u32,
    /// The congestion state before the last fast retransmit (RFC 4015 undo).
    undo: Option<Undo>,
    /// Proportional rate reduction's counters for the recovery under way (RFC 6937).
    prr: Prr,
    /// F-RTO after the last retransmission timeout, while it decides.
    frto: Option<Frto>,
    /// When the next paced segment may leave (`conn/pacing.rs`).
    pacing: crate::conn::Pacing,
}

/// Scoreboard tables of ended connections, for the next ones.
#[derive(Debug, Default)]
pub(crate) struct ScoreboardPool {
    // Boxed: a connection takes and gives back the allocation itself, not a copy of it.
    #[allow(clippy::vec_box)]
    spare: Vec<Box<Tables>>,
}

impl Scoreboard {
    fn ranges(&self) -> &[(SeqNum, SeqNum)] {
        self.tables.as_ref().map_or(&[], |t| &t.ranges)
    }

    fn resent(&self) -> &[(SeqNum, SeqNum, Instant)] {
        self.tables.as_ref().map_or(&[], |t| &t.resent)
    }

    fn lost(&self) -> &[(SeqNum, SeqNum)] {
        self.tables.as_ref().map_or(&[], |t| &t.lost)
    }

    fn tables(&mut self) -> &mut Tables {
        self.tables.get_or_insert_with(Box::default)
    }

    /// RACK's state, if the tables exist.
    pub fn rack(&self) -> Option<&Rack> {
        self.tables.as_ref().map(|t| &t.rack)
    }

    pub fn rack_mut(&mut self) -> Option<&mut Rack> {
        self.tables.as_mut().map(|t| &mut t.rack)
    }

    /// RACK has logged this connection's transmissions and decides what is lost.
    pub fn rack_enabled(&self) -> bool {
        self.tables.as_ref().is_some_and(|t| t.rack.enabled)
    }

    /// Nothing SACKed, lost or being resent.
    pub fn is_empty(&self) -> bool {
        self.tables.as_ref().is_none_or(|t| t.ranges.is_empty() && t.resent.is_empty() && t.lost.is_empty())
    }

    /// Forgets what was SACKed, lost and resent (RACK's log and measurements, and the undo
    /// state, stay).
    pub fn clear(&mut self) {
        if let Some(t) = &mut self.tables {
            t.ranges.clear();
            t.resent.clear();
            t.lost.clear();
        }
    }

    /// The connection ended: the tables go to `pool` for another.
    pub fn release(&mut self, pool: &mut ScoreboardPool) {
        if let Some(mut tables) = self.tables.take() {
            if pool.spare.len() < MAX_SPARE {
                tables.ranges.clear();
                tables.resent.clear();
                tables.lost.clear();
                tables.rack.reset();
                tables.undo_marker = None;
                tables.undo = None;
                tables.prr = Prr::default();
                tables.frto = None;
                tables.pacing = Default::default();
                pool.spare.push(tables);
            }
        }
    }

    pub fn clear_resent(&mut self) {
        if let Some(t) = &mut self.tables {
            t.resent.clear();
        }
    }

    /// Where the lowest retransmission still tracked begins.
    pub fn first_resent(&self) -> Option<SeqNum> {
        self.resent().first().map(|&(start, _, _)| start)
    }

    /// For RACK: data `[start, end)` left at `at` (`retransmitted`: not for the first time).
    /// Tables taken from `pool` when there are none yet start RACK's minimum RTT at `srtt_us`.
    pub fn note_sent(
        &mut self,
        pool: &mut ScoreboardPool,
        start: SeqNum,
        end: SeqNum,
        at: Instant,
        retransmitted: bool,
        srtt_us: Option<u64>,
    ) {
        let tables = self.tables.get_or_insert_with(|| {
            let mut tables = pool.spare.pop().unwrap_or_default();
            if let Some(srtt_us) = srtt_us {
                tables.rack.note_rtt_us(srtt_us);
            }
            tables
        });
        tables.rack.note_sent(start, end, at, retransmitted);
    }

    /// An RTT sample (for RACK's minimum).
    pub fn note_rtt_us(&mut self, rtt_us: u64) {
        if let Some(t) = &mut self.tables {
            t.rack.note_rtt_us(rtt_us);
        }
    }

    /// `[start, end)` was retransmitted at `at`. Returns false when the table is full.
    pub fn note_resent(&mut self, start: SeqNum, end: SeqNum, at: Instant) -> bool {
        let tables = self.tables();
        tables.undo_retrans = tables.undo_retrans.saturating_add(1);
        let resent = &mut tables.resent;
        if resent.len() >= MAX_RESENT {
            return false;
        }
        let i = resent.iter().position(|&(s, _, _)| s > start).unwrap_or(resent.len());
        resent.insert(i, (start, end, at));
        true
    }

    /// Forgets retransmissions that were acknowledged or SACKed, and those older than
    /// `timeout` that still are not: those were lost again, and their bytes count as lost
    /// and unsent once more (the idea of RFC 8985's RACK, for retransmissions only, where RACK
    /// is off). Returns how many were found lost.
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
        lost
    }

    /// RACK on an ACK (RFC 8985 §6.2 steps 2–3), before its blocks join the scoreboard: the
    /// data it newly delivers, cumulatively (`[snd_una_before, snd_una)`) or by SACK blocks,
    /// less what was SACKed before. Then the scoreboard and the log move to `snd_una`.
    pub fn deliver(
        &mut self,
        snd_una_before: SeqNum,
        snd_una: SeqNum,
        blocks: &[(SeqNum, SeqNum)],
        snd_max: SeqNum,
        facts: &AckFacts,
    ) {
        let Some(tables) = &mut self.tables else { return };
        let prior_fack = tables.rack.fack();
        let mut reordered = false;
        // SACK blocks first, by sequence, then the cumulative range (see Rack::on_delivered).
        let mut sorted = [(SeqNum(0), SeqNum(0)); synack_wire::MAX_SACK_BLOCKS];
        let n = blocks.len().min(sorted.len());
        sorted[..n].copy_from_slice(&blocks[..n]);
        sorted[..n].sort_unstable_by_key(|block| block.0.since(snd_una));
        for &(left, right) in &sorted[..n] {
            if !(left < right && right <= snd_max && right > snd_una) {
                continue;
            }
            for (l, r) in unsacked(left.max(snd_una), right, &tables.ranges) {
                reordered |= tables.rack.on_delivered(l, r, prior_fack, facts);
            }
        }
        if tables.ranges.is_empty() {
            reordered |= tables.rack.on_delivered(snd_una_before, snd_una, prior_fack, facts);
        } else {
            for (l, r) in unsacked(snd_una_before, snd_una, &tables.ranges) {
                reordered |= tables.rack.on_delivered(l, r, prior_fack, facts);
            }
        }
        if reordered {
            tables.rack.note_reorder_event();
        }
        tables.rack.advance(snd_una);
        self.advance(snd_una);
        self.add(blocks, snd_una, snd_max);
    }

    /// RACK (RFC 8985 §6.2 step 5) marks lost what its reference shows missing; returns how
    /// long until more may be (for the reordering timer), and how many retransmissions were
    /// found lost again.
    pub fn rack_detect_loss(&mut self, now: Instant, reo_wnd_us: u64) -> (Option<u64>, u64) {
        let Some(tables) = &mut self.tables else { return (None, 0) };
        let mut found = Vec::new();
        let wait = tables.rack.detect_loss(now, reo_wnd_us, &tables.ranges, &mut found);
        let mut lost_again = 0;
        for (start, end) in found {
            let before = tables.resent.len();
            tables.resent.retain(|&(s, e, _)| e <= start || s >= end);
            lost_again += (before - tables.resent.len()) as u64;
            insert_range(&mut tables.lost, start, end);
        }
        (wait, lost_again)
    }

    /// Adds the blocks of one ACK; blocks outside (SND.UNA, SND.MAX] or inverted are ignored
    /// (RFC 2883's D-SACK blocks fall below SND.UNA and are ignored here too). What they
    /// cover is no longer lost.
    pub fn add(&mut self, blocks: &[(SeqNum, SeqNum)], snd_una: SeqNum, snd_max: SeqNum) {
        for &(left, right) in blocks {
            if !(left < right && right <= snd_max && right > snd_una) {
                continue;
            }
            let tables = self.tables();
            insert_range(&mut tables.ranges, left.max(snd_una), right);
            if tables.ranges.len() > MAX_RANGES {
                let (_, r1) = tables.ranges.remove(1);
                tables.ranges[0].1 = r1;
            }
            tables.resent.retain(|&(s, e, _)| !(left <= s && e <= right));
            if !tables.lost.is_empty() {
                let lost = std::mem::take(&mut tables.lost);
                tables.lost = lost.into_iter().flat_map(|(l, r)| unsacked(l, r, &[(left, right)])).collect();
            }
        }
    }

    /// The cumulative ACK moved to `snd_una`: forget what it covers.
    pub fn advance(&mut self, snd_una: SeqNum) {
        let Some(tables) = &mut self.tables else { return };
        tables.resent.retain(|&(_, e, _)| e > snd_una);
        for ranges in [&mut tables.ranges, &mut tables.lost] {
            ranges.retain(|&(_, r)| r > snd_una);
            if let Some(first) = ranges.first_mut() {
                first.0 = first.0.max(snd_una);
            }
        }
    }

    /// Some of `[left, right)` is not SACKed yet.
    pub fn has_unsacked(&self, left: SeqNum, right: SeqNum) -> bool {
        left < right && !unsacked(left, right, self.ranges()).is_empty()
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

    /// Segments of `mss` bytes marked lost (TCP_INFO's tcpi_lost), by `rule`.
    pub fn lost_segments(&self, snd_una: SeqNum, rule: LossRule, mss: u32) -> u32 {
        self.lost_ranges(snd_una, rule).iter().map(|&(l, r)| r.since(l).div_ceil(mss.max(1))).sum()
    }

    /// Segments of `mss` bytes retransmitted and not yet delivered (TCP_INFO's tcpi_retrans).
    pub fn resent_segments(&self, mss: u32) -> u32 {
        self.resent().iter().map(|&(s, e, _)| e.since(s).div_ceil(mss.max(1))).sum()
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

    /// The lost bytes by `rule`, lowest first: RACK's marks as kept (every poll in recovery
    /// asks), RFC 6675's worked out from the holes.
    fn lost_ranges(&self, snd_una: SeqNum, rule: LossRule) -> Cow<'_, [(SeqNum, SeqNum)]> {
        match rule {
            LossRule::DupThresh { dup_thresh, mss } => {
                Cow::Owned(self.holes(snd_una).filter(|&(_, end)| self.is_lost(end, dup_thresh, mss)).collect())
            }
            LossRule::Rack => Cow::Borrowed(self.lost()),
        }
    }

    /// RACK has marked something lost that is not delivered yet.
    pub fn any_rack_lost(&self) -> bool {
        !self.lost().is_empty()
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
    pub fn pipe(&self, snd_una: SeqNum, snd_max: SeqNum, rule: LossRule) -> u32 {
        let outstanding = snd_max.since(snd_una);
        let sacked = self.sacked_above(snd_una);
        let lost_not_resent: u32 = self
            .lost_ranges(snd_una, rule)
            .iter()
            .map(|&(start, end)| end.since(start).saturating_sub(self.resent_within(start, end)))
            .sum();
        outstanding.saturating_sub(sacked).saturating_sub(lost_not_resent)
    }

    /// RFC 6675 §4 NextSeg rule 1: the lowest lost bytes with no pending retransmission, at
    /// most `max_len` of them, as (sequence number, length).
    pub fn next_lost(&self, snd_una: SeqNum, rule: LossRule, max_len: usize) -> Option<(SeqNum, usize)> {
        for &(start, end) in self.lost_ranges(snd_una, rule).iter() {
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

/// Adds `[left, right)` to sorted, disjoint `ranges`, merging what it overlaps or touches.
fn insert_range(ranges: &mut Vec<(SeqNum, SeqNum)>, left: SeqNum, right: SeqNum) {
    let (mut left, mut right) = (left, right);
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
}

/// `[start, end)` less the sorted, disjoint `sacked` ranges.
pub(crate) fn unsacked(start: SeqNum, end: SeqNum, sacked: &[(SeqNum, SeqNum)]) -> Vec<(SeqNum, SeqNum)> {
    let mut out = Vec::new();
    let mut at = start;
    for &(l, r) in sacked {
        if r <= at {
            continue;
        }
        if l >= end {
            break;
        }
        if l > at {
            out.push((at, l));
        }
        at = at.max(r);
        if at >= end {
            break;
        }
    }
    if at < end {
        out.push((at, end));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(n: u32) -> SeqNum {
        SeqNum(n)
    }

    const COUNT: LossRule = LossRule::DupThresh { dup_thresh: 3, mss: 1000 };

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
        assert_eq!(b.pipe(s(0), s(6000), COUNT), 6000 - 3000 - 1000);
        assert_eq!(b.next_lost(s(0), COUNT, 1000), Some((s(0), 1000)));
        // After the retransmission of 0..1000 it is in the pipe again.
        b.note_resent(s(0), s(1000), Instant::ZERO);
        assert_eq!(b.pipe(s(0), s(6000), COUNT), 6000 - 3000);
        assert_eq!(b.next_lost(s(0), COUNT, 1000), None);
    }

    #[test]
    fn a_retransmission_unanswered_past_the_timeout_is_lost_again() {
        let mut b = Scoreboard::default();
        b.add(&[(s(2000), s(6000))], s(0), s(8000));
        b.note_resent(s(0), s(1000), Instant::ZERO);
        b.note_resent(s(1000), s(2000), Instant::ZERO + Duration::from_millis(5));
        assert_eq!(b.next_lost(s(0), COUNT, 1000), None);
        let at = Instant::ZERO + Duration::from_millis(12);
        assert_eq!(b.expire_resent(s(0), at, Duration::from_millis(10)), 1, "only the first is overdue");
        assert_eq!(b.next_lost(s(0), COUNT, 1000), Some((s(0), 1000)));
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
        assert!(b.is_empty());
    }
}
