//! Out-of-order data waiting for the gap before it to fill (RFC 9293 §3.10.7.4, seventh:
//! segments beyond RCV.NXT are held for later processing). Ranges are keyed by their stream
//! offset (bytes since the peer's ISN + 1) so they never wrap; there is no fixed limit on the
//! number of gaps, and the caller bounds memory by inserting only inside the receive window.

use std::collections::BTreeMap;

#[derive(Debug, Default)]
pub struct Assembler {
    /// Non-overlapping, non-adjacent-merged chunks: offset -> bytes. None until data arrives
    /// out of order and again once it is delivered: most connections never reorder, and an
    /// absent map costs nothing to drop (an empty `BTreeMap` still walks an iterator). Boxed
    /// so that the absent map takes one word of the connection record, not four.
    #[allow(clippy::box_collection)]
    chunks: Option<Box<BTreeMap<u64, Vec<u8>>>>,
    bytes: usize,
    /// Where the last three arrivals began, most recent first (`NONE` where there is none):
    /// the blocks that hold them lead the SACK option, in that order (RFC 2018 §4).
    recent: [u64; 3],
}

/// An empty place in `recent` (no stream offset reaches it).
const NONE: u64 = u64::MAX;

impl Assembler {
    /// Holding nothing. A constant that a new connection's record is built with in place
    /// (`Default::default()` was staged on the stack and copied over with loads that
    /// straddled its stores, which waited).
    pub const EMPTY: Assembler = Assembler { chunks: None, bytes: 0, recent: [NONE; 3] };

    pub fn is_empty(&self) -> bool {
        self.chunks.as_ref().is_none_or(|c| c.is_empty())
    }

    /// Bytes held.
    pub fn len(&self) -> usize {
        self.bytes
    }

    /// Stores the part of `data` (starting at `offset`) not already held. Returns the number
    /// of bytes that were new.
    pub fn insert(&mut self, offset: u64, data: &[u8]) -> usize {
        let end = offset + data.len() as u64;
        let mut new_bytes = 0;
        let mut cursor = offset;
        // Walk the held chunks that overlap [offset, end) and fill the holes between them.
        let chunks = self.chunks.get_or_insert_with(Default::default);
        let overlapping: Vec<(u64, u64)> = chunks
            .range(..end)
            .rev()
            .take_while(|(&start, chunk)| start + chunk.len() as u64 > offset)
            .map(|(&start, chunk)| (start, start + chunk.len() as u64))
            .collect();
        for &(start, stop) in overlapping.iter().rev() {
            if start > cursor {
                new_bytes += self.put(cursor, &data[(cursor - offset) as usize..(start - offset) as usize]);
            }
            cursor = cursor.max(stop);
        }
        if cursor < end {
            new_bytes += self.put(cursor, &data[(cursor - offset) as usize..]);
        }
        if !data.is_empty() {
            // The new arrival first, then the earlier ones whose blocks it has not joined, each
            // block named once, so that three distinct blocks are remembered.
            let mut recent = [NONE; 3];
            let mut blocks: [Option<(u64, u64)>; 3] = [None; 3];
            let mut n = 0;
            for at in [offset, self.recent[0], self.recent[1], self.recent[2]] {
                if n == 3 || at == NONE {
                    continue;
                }
                let block = self.block_of(at);
                if block.is_some() && !blocks[..n].contains(&block) {
                    (recent[n], blocks[n]) = (at, block);
                    n += 1;
                }
            }
            self.recent = recent;
        }
        new_bytes
    }

    /// The first part of `start..end` already held (adjacent chunks taken as one), if any:
    /// what a segment covering that range duplicates first (RFC 2883's D-SACK block).
    pub fn first_overlap(&self, start: u64, end: u64) -> Option<(u64, u64)> {
        let chunks = self.chunks.as_ref()?;
        let before = chunks.range(..=start).next_back().filter(|(&s, c)| s + c.len() as u64 > start);
        let (&first, chunk) = before.or_else(|| chunks.range(start..end).next())?;
        let mut stop = first + chunk.len() as u64;
        for (&s, c) in chunks.range(stop..) {
            if s != stop || s >= end {
                break;
            }
            stop = s + c.len() as u64;
        }
        Some((first.max(start), stop.min(end)))
    }

    /// The held block (adjacent chunks merged) that contains `at`, if any.
    fn block_of(&self, at: u64) -> Option<(u64, u64)> {
        let chunks = self.chunks.as_ref()?;
        let (&start, chunk) = chunks.range(..=at).next_back()?;
        let mut end = start + chunk.len() as u64;
        if at >= end {
            return None;
        }
        let mut first = start;
        for (&s, c) in chunks.range(..start).rev() {
            if s + c.len() as u64 != first {
                break;
            }
            first = s;
        }
        for (&s, c) in chunks.range(end..) {
            if s != end {
                break;
            }
            end = s + c.len() as u64;
        }
        Some((first, end))
    }

    fn put(&mut self, offset: u64, data: &[u8]) -> usize {
        self.bytes += data.len();
        self.chunks.get_or_insert_with(Default::default).insert(offset, data.to_vec());
        data.len()
    }

    /// Removes and returns the bytes that start at or before `offset` and continue it, in order.
    /// Bytes before `offset` (already delivered) are discarded.
    pub fn pop_at(&mut self, offset: u64, mut out: impl FnMut(&[u8])) -> usize {
        let mut at = offset;
        let Some(chunks) = self.chunks.as_mut() else { return 0 };
        while let Some((&start, chunk)) = chunks.first_key_value() {
            let stop = start + chunk.len() as u64;
            if start > at {
                break;
            }
            let chunk = chunks.remove(&start).unwrap_or_default();
            self.bytes -= chunk.len();
            if stop > at {
                out(&chunk[(at - start) as usize..]);
                at = stop;
            }
        }
        if chunks.is_empty() {
            self.chunks = None;
        }
        (at - offset) as usize
    }

    /// Drops everything (on reset or close).
    pub fn clear(&mut self) {
        self.chunks = None;
        self.bytes = 0;
        self.recent = [NONE; 3];
    }

    /// Up to `max` held ranges as `[start, end)` offsets with adjacent chunks merged, as RFC
    /// 2018 §4 orders SACK blocks: the one holding the most recent arrival first, then those
    /// of the arrivals before it, most recent first (so a block is reported in several ACKs,
    /// should some be lost), then the others in ascending order.
    pub fn ranges(&self, max: usize) -> Vec<(u64, u64)> {
        let mut merged: Vec<(u64, u64)> = Vec::new();
        for (&start, chunk) in self.chunks.iter().flat_map(|c| c.iter()) {
            let stop = start + chunk.len() as u64;
            match merged.last_mut() {
                Some(last) if last.1 == start => last.1 = stop,
                _ => merged.push((start, stop)),
            }
        }
        let mut out: Vec<(u64, u64)> = Vec::with_capacity(max);
        let holding = |at: u64| merged.iter().copied().find(|&(s, e)| s <= at && at < e);
        for block in self.recent.iter().filter(|&&at| at != NONE).filter_map(|&at| holding(at)) {
            if !out.contains(&block) {
                out.push(block);
            }
        }
        for block in merged.iter().copied() {
            if !out.contains(&block) {
                out.push(block);
            }
        }
        out.truncate(max);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(a: &mut Assembler, at: u64) -> Vec<u8> {
        let mut v = Vec::new();
        a.pop_at(at, |b| v.extend_from_slice(b));
        v
    }

    #[test]
    fn fills_a_gap_and_releases_in_order() {
        let mut a = Assembler::default();
        assert_eq!(a.insert(4, b"efgh"), 4);
        assert_eq!(drain(&mut a, 0), b"");
        a.insert(0, b"abcd");
        assert_eq!(drain(&mut a, 0), b"abcdefgh");
        assert!(a.is_empty());
    }

    #[test]
    fn overlapping_inserts_keep_one_copy_of_each_byte() {
        let mut a = Assembler::default();
        assert_eq!(a.insert(10, b"klmn"), 4);
        assert_eq!(a.insert(8, b"ijklmnop"), 4);
        assert_eq!(a.insert(9, b"jk"), 0);
        assert_eq!(a.len(), 8);
        assert_eq!(drain(&mut a, 8), b"ijklmnop");
    }

    #[test]
    fn bytes_before_the_delivery_point_are_discarded() {
        let mut a = Assembler::default();
        a.insert(2, b"cdef");
        assert_eq!(drain(&mut a, 4), b"ef");
        assert_eq!(a.len(), 0);
    }

    #[test]
    fn ranges_put_the_latest_arrival_first() {
        let mut a = Assembler::default();
        a.insert(10, b"aa");
        a.insert(20, b"bb");
        a.insert(12, b"cc");
        assert_eq!(a.ranges(4), vec![(10, 14), (20, 22)]);
        a.insert(30, b"dd");
        assert_eq!(a.ranges(4), vec![(30, 32), (10, 14), (20, 22)]);
    }

    #[test]
    fn the_first_overlap_is_the_first_held_part_of_a_range() {
        let mut a = Assembler::default();
        a.insert(200, &[0; 100]);
        a.insert(300, &[0; 50]);
        a.insert(400, &[0; 100]);
        assert_eq!(a.first_overlap(100, 275), Some((200, 275)));
        assert_eq!(a.first_overlap(100, 475), Some((200, 350)), "adjacent chunks are one block");
        assert_eq!(a.first_overlap(250, 260), Some((250, 260)));
        assert_eq!(a.first_overlap(350, 400), None, "the gap between blocks");
        assert_eq!(a.first_overlap(0, 200), None);
        assert_eq!(Assembler::default().first_overlap(0, 10), None);
    }

    #[test]
    fn the_map_is_freed_once_everything_is_delivered_or_cleared() {
        let mut a = Assembler::EMPTY;
        a.insert(4, b"efgh");
        assert!(a.chunks.is_some());
        a.insert(0, b"abcd");
        assert_eq!(drain(&mut a, 0), b"abcdefgh");
        assert!(a.chunks.is_none(), "an emptied map is dropped");
        a.insert(9, b"j");
        a.clear();
        assert!(a.chunks.is_none() && a.is_empty());
        assert_eq!(a.len(), 0);
        assert_eq!(drain(&mut a, 0), b"");
    }

    /// RFC 2018 §4: the block of the latest arrival first, then the blocks of the arrivals
    /// before it, most recent first; the rest ascending.
    #[test]
    fn sack_ranges_lead_with_the_latest_arrivals() {
        let mut a = Assembler::EMPTY;
        a.insert(200, &[0; 100]);
        a.insert(400, &[0; 100]);
        a.insert(600, &[0; 100]);
        assert_eq!(a.ranges(4), vec![(600, 700), (400, 500), (200, 300)]);
        a.insert(50, &[0; 25]);
        assert_eq!(a.ranges(4), vec![(50, 75), (600, 700), (400, 500), (200, 300)]);
        assert_eq!(a.ranges(3), vec![(50, 75), (600, 700), (400, 500)]);
        // An arrival that joins a block puts that block first; each block appears once.
        a.insert(700, &[0; 50]);
        assert_eq!(a.ranges(4), vec![(600, 750), (50, 75), (400, 500), (200, 300)]);
    }
}
