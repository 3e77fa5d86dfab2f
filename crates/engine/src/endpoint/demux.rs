//! The demultiplexing table: 4-tuple to the record that holds it (`Demux`).
//!
//! Hand-written because hashbrown's `HashTable` in its place (the same packed entries and
//! keyed hash) measured 1.12 × the time per lifecycle, and 1.30 × with 100,000 idle
//! connections (`crates/bench/abr.sh`, 31 interleaved rounds each; docs/BENCHMARKS.md).
//!
//! Buckets of twelve slots, each bucket in two parts: its head (twelve one-byte tags, the top
//! bits of the tuples' hashes, then the count of entries and the spill count: 16 bytes) in one
//! array, its twelve 4-byte entries in another. Tuples are not stored: a matching tag is
//! confirmed against the record the entry points to, which the caller reads next anyway. A
//! table of 100,000 connections takes 1 MiB (a std `HashMap` with the tuple as key took 2.1).
//!
//! The heads lie apart because the lookups that touch a cold part of a large table are those
//! of new tuples (a SYN, `connect`'s check that its tuple is free), which end at the head: a
//! tag that no slot has means no entry. Such a lookup reads 16 bytes of an array a quarter
//! the size of the whole table (256 KiB for 100,000 connections), whose lines stay in the
//! caches more often than those of the 1 MiB table did when heads and entries shared a line.
//! A new entry is not written at once (see `insert`), so that its entries line, cold too, is
//! written only by a later change, or never. `connect`, when it must look, `prefetch`es the
//! head's line while it computes the ISN and builds the connection. (Prefetching every
//! arriving packet's line before parsing it, or every SYN's, was tried and cost more than it
//! saved; prefetching the entries line in every lookup, or both of a new entry's lines, saved
//! nothing measurable.)
//!
//! A full bucket spills into the next. Its `spilled` count says how many entries passed it
//! while looking for room, so a lookup stops at the first bucket with none; an entry never
//! moves but within its bucket, so removal walks the same path and counts back down.

use super::Demux;
use crate::tuple::SeededState;
use crate::FourTuple;
use std::cell::Cell;
use std::net::{IpAddr, Ipv4Addr};

const SLOTS: usize = 12;

/// A bucket's head: twelve tags, then the count of entries and the spill count (16 bytes, so
/// that one vector comparison finds every slot whose tag matches). Its entries lie apart.
#[derive(Debug, Clone, Copy)]
#[repr(C, align(16))]
struct Head {
    head: [u8; 16],
}

const LEN: usize = SLOTS;
/// Entries that passed this bucket when it was full and live further on. Sticks at 255 (then
/// a lookup always goes on: slower, never wrong).
const SPILLED: usize = SLOTS + 1;

impl Head {
    fn len(&self) -> usize {
        self.head[LEN] as usize
    }

    fn spilled(&self) -> bool {
        self.head[SPILLED] != 0
    }

    /// One bit per occupied slot whose tag is `tag`.
    fn matching(&self, tag: u8) -> u16 {
        tag_bits(&self.head, tag) & ((1u16 << self.len()) - 1)
    }
}

/// One bit per byte of `head` equal to `tag`: a single 16-byte comparison (SSE2, which every
/// x86-64 has) where the compiler would otherwise test the bytes one by one.
#[cfg(target_arch = "x86_64")]
fn tag_bits(head: &[u8; 16], tag: u8) -> u16 {
    use std::arch::x86_64::{_mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8};
    // SAFETY: SSE2 is part of the x86-64 baseline; the load reads exactly the 16 bytes of
    // `head` (unaligned load, no alignment needed).
    unsafe {
        let bytes = _mm_loadu_si128(head.as_ptr().cast());
        _mm_movemask_epi8(_mm_cmpeq_epi8(bytes, _mm_set1_epi8(tag as i8))) as u16
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn tag_bits(head: &[u8; 16], tag: u8) -> u16 {
    head.iter().enumerate().fold(0, |bits, (i, &t)| bits | ((t == tag) as u16) << i)
}

const EMPTY: Head = Head { head: [0; 16] };

#[derive(Debug)]
pub(super) struct DemuxTable {
    heads: Vec<Head>,
    /// Each bucket's entries, in the same order.
    entries: Vec<[u32; SLOTS]>,
    len: usize,
    hasher: SeededState,
    /// The last tuple found, inserted or replaced, and its entry: a flow's packets come in
    /// runs (a lookup, then the same tuple replaced or removed). The last entry inserted waits
    /// here, not yet in its bucket, until the next change to the table.
    memo: Cell<Option<Memo>>,
    /// Tests bend every hash to bucket 0 of a small table, to make buckets spill.
    #[cfg(test)]
    bend_home: bool,
}

/// A tuple, its entry and where that lies: the next packet of the same flow then needs no
/// probe at all (the BSDs' `tcp_input` kept such a one-entry cache of the last connection it
/// looked up, `tcp_last_inpcb`), and replacing or removing its entry, which a flow's last
/// packets do, needs no hash. Kept true by every change to the table (`insert`, `replace` and
/// `remove` set, move or forget it; growing, which `insert` does after placing a waiting
/// entry, forgets it).
#[derive(Debug, Clone, Copy)]
struct Memo {
    tuple: FourTuple,
    entry: Demux,
    hash: u64,
    /// `UNPLACED` while the entry is not yet in its bucket (see `insert`).
    bucket: u32,
    slot: u32,
}

/// A memo's `bucket` while its entry waits to be placed.
const UNPLACED: u32 = u32::MAX;

impl Memo {
    fn placed(&self) -> bool {
        self.bucket != UNPLACED
    }
}

/// A `Demux` in 32 bits: kind in the top two, slab index below (ordered as `TimerRef`s are:
/// kind, then index; the timer heap packs its entries with it).
pub(super) fn pack(d: Demux) -> u32 {
    let (kind, index) = match d {
        Demux::Conn(i) => (0, i),
        Demux::HalfOpen(i) => (1, i),
        Demux::TimeWait(i) => (2, i),
    };
    // A slab index reaches 2^30 only past a billion records; memory runs out long before.
    debug_assert!(index < 1 << 30);
    kind << 30 | index & ((1 << 30) - 1)
}

pub(super) fn unpack(p: u32) -> Demux {
    let index = p & ((1 << 30) - 1);
    match p >> 30 {
        0 => Demux::Conn(index),
        1 => Demux::HalfOpen(index),
        _ => Demux::TimeWait(index),
    }
}

fn tag(hash: u64) -> u8 {
    (hash >> 56) as u8
}

/// Asks the cache to load `head`'s line; a hint, nothing waits for it.
#[inline]
fn prefetch_line(head: &Head) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: PREFETCHT0 has no architectural effect (it cannot fault or change memory); the
    // address is that of a live bucket head.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>(head as *const Head as *const i8);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = head;
}

impl DemuxTable {
    pub fn new(hasher: SeededState) -> DemuxTable {
        DemuxTable {
            heads: vec![EMPTY; 2],
            entries: vec![[0; SLOTS]; 2],
            len: 0,
            hasher,
            memo: Cell::new(None),
            #[cfg(test)]
            bend_home: false,
        }
    }

    #[inline]
    fn hash(&self, t: &FourTuple) -> u64 {
        let hash = self.hasher.hash_tuple(t);
        #[cfg(test)]
        if self.bend_home {
            return hash & !3;
        }
        hash
    }

    /// Remembers `t`'s entry, its hash and place.
    fn remember(&self, t: &FourTuple, entry: Demux, hash: u64, (bucket, slot): (usize, usize)) {
        self.memo.set(Some(Memo { tuple: *t, entry, hash, bucket: bucket as u32, slot: slot as u32 }));
    }

    /// The memo, if it holds `t → entry`.
    fn memo_of(&self, t: &FourTuple, entry: Demux) -> Option<Memo> {
        self.memo.get().filter(|memo| memo.entry == entry && memo.tuple == *t)
    }

    fn mask(&self) -> usize {
        self.heads.len() - 1
    }

    /// Starts loading the line where `t` would be, so that the lookup a little later finds it
    /// in the cache. Inlined, so that `connect` hashes its new tuple from registers: the
    /// tuple it had just stored field by field was read back in wider words, which waited
    /// for those stores.
    #[inline]
    pub fn prefetch(&self, t: &FourTuple) {
        prefetch_line(&self.heads[self.hash(t) as usize & self.mask()]);
    }

    /// Where `t` points. `tuple_of` gives the tuple of the record an entry points at.
    /// The memo's answer in line (most packets: no call, no register saves); the probe out
    /// of line.
    #[inline]
    pub fn get<'r>(&self, t: &FourTuple, tuple_of: impl Fn(Demux) -> Option<&'r FourTuple>) -> Option<Demux> {
        if let Some(memo) = self.memo.get() {
            if memo.tuple == *t {
                return Some(memo.entry);
            }
        }
        self.get_probed(t, tuple_of)
    }

    #[inline(never)]
    fn get_probed<'r>(&self, t: &FourTuple, tuple_of: impl Fn(Demux) -> Option<&'r FourTuple>) -> Option<Demux> {
        // An IPv4 key is compared by its 4-byte addresses: `t` was usually stored a moment
        // ago, an IPv4 address in 4 bytes of the 16 an `IpAddr` has room for, and the general
        // comparison's wider loads (hoisted out of the loop for the IPv6 case) cannot be
        // forwarded from that store and wait for it to reach the cache.
        let hash = self.hash(t);
        let found = match (&t.local_ip, &t.remote_ip) {
            (IpAddr::V4(local), IpAddr::V4(remote)) => {
                let (local, remote, ports) = (*local, *remote, (t.local_port, t.remote_port));
                let is = |ip: &IpAddr, v4: Ipv4Addr| matches!(ip, IpAddr::V4(a) if *a == v4);
                self.probe_hashed(hash, |entry| {
                    tuple_of(unpack(entry)).is_some_and(|r| {
                        (r.local_port, r.remote_port) == ports && is(&r.local_ip, local) && is(&r.remote_ip, remote)
                    })
                })
            }
            _ => self.probe_hashed(hash, |entry| tuple_of(unpack(entry)) == Some(t)),
        };
        let (b, slot) = found?;
        let entry = unpack(self.entries[b][slot]);
        // An unplaced entry stays in the memo: it is in the table nowhere else.
        if self.memo.get().is_none_or(|memo| memo.placed()) {
            self.remember(t, entry, hash, (b, slot));
        }
        Some(entry)
    }

    /// Where the entry `t → entry` lies, if it is in the table, and `t`'s hash: from the memo
    /// when it holds them (returned too), else hashed and probed.
    #[inline(always)]
    fn locate(&self, t: &FourTuple, entry: Demux) -> (Option<Memo>, u64, Option<(usize, usize)>) {
        match self.memo_of(t, entry) {
            Some(memo) => (Some(memo), memo.hash, Some((memo.bucket as usize, memo.slot as usize))),
            None => {
                let hash = self.hash(t);
                (None, hash, self.find_hashed(hash, entry))
            }
        }
    }

    /// The bucket and slot of the entry `to` on the path of the tuple whose hash is `hash`
    /// (entry and tag both match: an entry is unique, and the tag keeps even a stray one of
    /// another tuple from being taken).
    fn find_hashed(&self, hash: u64, to: Demux) -> Option<(usize, usize)> {
        let entry = pack(to);
        self.probe_hashed(hash, |e| e == entry)
    }

    /// Walks the path of the tuple whose hash is `hash`, from its home bucket on while
    /// buckets have spilled, to the first slot whose tag is the tuple's and whose entry
    /// `is_it` accepts.
    #[inline]
    fn probe_hashed(&self, hash: u64, is_it: impl Fn(u32) -> bool) -> Option<(usize, usize)> {
        let mut b = hash as usize & self.mask();
        for _ in 0..self.heads.len() {
            let bucket = &self.heads[b];
            let mut candidates = bucket.matching(tag(hash));
            while candidates != 0 {
                let slot = candidates.trailing_zeros() as usize;
                if is_it(self.entries[b][slot]) {
                    return Some((b, slot));
                }
                candidates &= candidates - 1;
            }
            if !bucket.spilled() {
                return None;
            }
            b = (b + 1) & self.mask();
        }
        None
    }

    /// Adds `t → to`; `t` must not be in the table. `tuple_of` is needed when the table grows.
    ///
    /// The entry waits in the memo, where lookups find it, and goes into its bucket at the
    /// next change to the table (a newer entry then waits in its place). In a large table a
    /// new tuple's entries line is rarely cached, and a store into it at once would hold up
    /// the stores behind it while the line loads. Later, the store is one among other work;
    /// or it never happens: an entry removed while it still waits (a short connection's, when
    /// nothing else changed the table meanwhile) never touches its bucket.
    pub fn insert<'r>(&mut self, t: &FourTuple, to: Demux, tuple_of: impl Fn(Demux) -> Option<&'r FourTuple>) {
        self.settle();
        // Grow at three quarters full, so that few buckets spill.
        if (self.len + 1) * 4 > self.heads.len() * SLOTS * 3 {
            self.grow(&tuple_of);
        }
        let hash = self.hash(t);
        self.len += 1;
        self.memo.set(Some(Memo { tuple: *t, entry: to, hash, bucket: UNPLACED, slot: 0 }));
    }

    /// Places the memo's entry if it waits (`insert`).
    #[inline]
    fn settle(&mut self) {
        if let Some(mut memo) = self.memo.get().filter(|memo| !memo.placed()) {
            let (b, slot) = self.place(memo.hash, pack(memo.entry));
            (memo.bucket, memo.slot) = (b as u32, slot as u32);
            self.memo.set(Some(memo));
        }
    }

    /// Points `t` at `to` instead of `from` (a record turning into another kind), or adds it.
    pub fn replace<'r>(
        &mut self,
        t: &FourTuple,
        from: Demux,
        to: Demux,
        tuple_of: impl Fn(Demux) -> Option<&'r FourTuple>,
    ) {
        if let Some(mut memo) = self.memo_of(t, from).filter(|memo| !memo.placed()) {
            memo.entry = to;
            self.memo.set(Some(memo));
            return;
        }
        self.settle();
        let (_, hash, found) = self.locate(t, from);
        match found {
            Some((b, slot)) => {
                self.entries[b][slot] = pack(to);
                self.remember(t, to, hash, (b, slot));
            }
            None => self.insert(t, to, tuple_of),
        }
    }

    /// Removes the entry `t → at`, if there is one; whether there was.
    pub fn remove(&mut self, t: &FourTuple, at: Demux) -> bool {
        // An entry that still waits was never in a bucket.
        if self.memo_of(t, at).is_some_and(|memo| !memo.placed()) {
            self.memo.set(None);
            self.len -= 1;
            return true;
        }
        self.settle();
        // Hashed once (or not at all, from the memo): for the probe, and for the walk over the
        // buckets passed below.
        let (memo, hash, found) = self.locate(t, at);
        let Some((found, slot)) = found else { return false };
        let bucket = &mut self.heads[found];
        let last = bucket.len() - 1;
        bucket.head[slot] = bucket.head[last];
        bucket.head[LEN] -= 1;
        let entries = &mut self.entries[found];
        entries[slot] = entries[last];
        self.len -= 1;
        match (memo, self.memo.get()) {
            // The memo held `t`: forgotten.
            (Some(_), _) => self.memo.set(None),
            // It holds another tuple (never `t`, whose entry it would hold): if that was the
            // bucket's last entry, which moved into the freed slot, the memo follows it.
            (None, Some(mut other)) if other.bucket as usize == found && other.slot as usize == last => {
                other.slot = slot as u32;
                self.memo.set(Some(other));
            }
            (None, _) => {}
        }
        // The buckets it passed on its way have one entry fewer beyond them.
        let mut b = hash as usize & self.mask();
        while b != found {
            let passed = &mut self.heads[b];
            if passed.head[SPILLED] != u8::MAX {
                passed.head[SPILLED] -= 1;
            }
            b = (b + 1) & self.mask();
        }
        true
    }

    /// Puts `entry` in the first bucket with room on `hash`'s path; returns where.
    fn place(&mut self, hash: u64, entry: u32) -> (usize, usize) {
        let mask = self.mask();
        let mut b = hash as usize & mask;
        // Ends: the table is never full (`insert` grows it first).
        loop {
            let bucket = &mut self.heads[b];
            let len = bucket.len();
            if len < SLOTS {
                bucket.head[len] = tag(hash);
                bucket.head[LEN] += 1;
                self.entries[b][len] = entry;
                return (b, len);
            }
            bucket.head[SPILLED] = bucket.head[SPILLED].saturating_add(1);
            b = (b + 1) & mask;
        }
    }

    /// Twice the buckets, every entry placed again by its record's tuple. Rare (each growth
    /// doubles the table), so out of the way of `insert`'s common path.
    #[cold]
    #[inline(never)]
    fn grow<'r>(&mut self, tuple_of: &impl Fn(Demux) -> Option<&'r FourTuple>) {
        let doubled = vec![EMPTY; self.heads.len() * 2];
        let old = std::mem::replace(&mut self.heads, doubled);
        let old_entries = std::mem::replace(&mut self.entries, vec![[0; SLOTS]; old.len() * 2]);
        // Every entry moves (and the mask changes): where the memo says is no longer true.
        self.memo.set(None);
        for (bucket, entries) in old.iter().zip(&old_entries) {
            for &entry in &entries[..bucket.len()] {
                // Every entry's record exists (records leave the table before their slab).
                match tuple_of(unpack(entry)) {
                    Some(t) => {
                        let hash = self.hasher.hash_tuple(t);
                        self.place(hash, entry);
                    }
                    None => {
                        debug_assert!(false, "demux entry without a record");
                        self.len -= 1;
                    }
                }
            }
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::SocketAddr;

    fn tuple(i: u32) -> FourTuple {
        let remote = SocketAddr::from(((0x0a00_0000 | i >> 16).to_be_bytes(), i as u16));
        FourTuple::new(SocketAddr::from(([192, 0, 2, 1], 80)), remote)
    }

    /// The slab index an entry points at, whatever its kind.
    fn index(d: Demux) -> u32 {
        match d {
            Demux::Conn(i) | Demux::HalfOpen(i) | Demux::TimeWait(i) => i,
        }
    }

    /// Records live in a plain vector here: entry `Conn(i)` is the record of `tuple(i)`.
    fn of<'r>(records: &'r [Option<FourTuple>]) -> impl Fn(Demux) -> Option<&'r FourTuple> {
        move |d| records.get(index(d) as usize)?.as_ref()
    }

    #[test]
    fn lookups_agree_with_a_plain_map_through_random_changes() {
        // Few tuples, so that the same flow comes up again and again (the memo's case), and
        // freed record slots taken again by other tuples (a stale memo would point at them).
        use crate::SplitMix64;
        use std::collections::HashMap;
        for seed in 0..300 {
            let mut rng = SplitMix64::new(seed);
            let mut table = DemuxTable::new(SeededState::new(seed, !seed));
            let mut records: Vec<Option<FourTuple>> = vec![];
            let mut free: Vec<u32> = vec![];
            let mut model: HashMap<FourTuple, Demux> = HashMap::new();
            let kinds = [Demux::Conn as fn(u32) -> Demux, Demux::HalfOpen, Demux::TimeWait];
            for step in 0..400 {
                // A lookup of some tuple (the memo then holds it, or another), then a change to
                // `t`'s entry, after its own lookup half of the time: both the memo's paths.
                let other = tuple(rng.below(6) as u32);
                let got = table.get(&other, of(&records));
                assert_eq!(got, model.get(&other).copied(), "seed {seed} step {step}: lookup of {other:?}");
                let t = tuple(rng.below(6) as u32);
                if rng.chance(1, 2) {
                    let got = table.get(&t, of(&records));
                    assert_eq!(got, model.get(&t).copied(), "seed {seed} step {step}: lookup of {t:?}");
                }
                let slot = free.pop().unwrap_or_else(|| {
                    records.push(None);
                    records.len() as u32 - 1
                });
                let new = kinds[rng.below(3) as usize](slot);
                match model.get(&t).copied() {
                    None => {
                        records[slot as usize] = Some(t);
                        table.insert(&t, new, of(&records));
                        model.insert(t, new);
                    }
                    Some(old) => {
                        let old_slot = index(old);
                        if rng.chance(1, 2) {
                            records[slot as usize] = Some(t);
                            table.replace(&t, old, new, of(&records));
                            model.insert(t, new);
                        } else {
                            table.remove(&t, old);
                            model.remove(&t);
                            free.push(slot);
                        }
                        // The old record goes after its entry, as the endpoint's do.
                        records[old_slot as usize] = None;
                        free.push(old_slot);
                    }
                }
                assert_eq!(placed(&table) + waiting(&table), table.len(), "seed {seed} step {step}: entries counted");
            }
        }
    }

    /// Entries in buckets.
    fn placed(table: &DemuxTable) -> usize {
        table.heads.iter().map(|h| h.len()).sum()
    }

    /// Entries waiting in the memo (0 or 1).
    fn waiting(table: &DemuxTable) -> usize {
        table.memo.get().is_some_and(|memo| !memo.placed()) as usize
    }

    #[test]
    fn an_entry_removed_while_it_waits_never_touches_its_bucket() {
        let records = vec![Some(tuple(0))];
        let mut table = DemuxTable::new(SeededState::new(9, 10));
        table.insert(&tuple(0), Demux::HalfOpen(0), of(&records));
        table.replace(&tuple(0), Demux::HalfOpen(0), Demux::Conn(0), of(&records));
        assert_eq!(table.get(&tuple(0), of(&records)), Some(Demux::Conn(0)));
        assert_eq!((placed(&table), waiting(&table), table.len()), (0, 1, 1));
        table.remove(&tuple(0), Demux::Conn(0));
        assert_eq!((placed(&table), waiting(&table), table.len()), (0, 0, 0));
        assert_eq!(table.get(&tuple(0), of(&records)), None);
    }

    #[test]
    fn a_waiting_entry_goes_into_its_bucket_at_the_next_change_and_is_found_there() {
        let records = vec![Some(tuple(0)), Some(tuple(1))];
        let mut table = DemuxTable::new(SeededState::new(11, 12));
        table.insert(&tuple(0), Demux::Conn(0), of(&records));
        // A lookup of another tuple (absent) leaves the waiting entry where it is.
        assert_eq!(table.get(&tuple(1), of(&records)), None);
        assert_eq!((placed(&table), waiting(&table)), (0, 1));
        table.insert(&tuple(1), Demux::Conn(1), of(&records));
        assert_eq!((placed(&table), waiting(&table), table.len()), (1, 1, 2));
        // Tuple 0 is found by its probe; the memo keeps tuple 1, which still waits.
        assert_eq!(table.get(&tuple(0), of(&records)), Some(Demux::Conn(0)));
        assert_eq!(waiting(&table), 1);
        assert_eq!(table.get(&tuple(1), of(&records)), Some(Demux::Conn(1)));
        // Removing tuple 0 places tuple 1 first; then only it is left, in its bucket.
        table.remove(&tuple(0), Demux::Conn(0));
        assert_eq!((placed(&table), waiting(&table), table.len()), (1, 0, 1));
        table.memo.set(None);
        assert_eq!(table.get(&tuple(1), of(&records)), Some(Demux::Conn(1)));
    }

    #[test]
    fn a_hundred_thousand_tuples_are_found_and_removed_through_growth() {
        let n = 100_000;
        let records: Vec<Option<FourTuple>> = (0..n).map(|i| Some(tuple(i))).collect();
        let mut table = DemuxTable::new(SeededState::new(1, 2));
        for i in 0..n {
            table.insert(&tuple(i), Demux::Conn(i), of(&records));
        }
        assert_eq!(table.len(), n as usize);
        assert!(table.heads.len() * SLOTS * 3 >= table.len() * 4, "grown at three quarters");
        for i in 0..n {
            assert_eq!(table.get(&tuple(i), of(&records)), Some(Demux::Conn(i)), "tuple {i}");
        }
        assert_eq!(table.get(&tuple(n), of(&records)), None);
        for i in (0..n).step_by(2) {
            table.remove(&tuple(i), Demux::Conn(i));
        }
        for i in 0..n {
            let want = (i % 2 == 1).then_some(Demux::Conn(i));
            assert_eq!(table.get(&tuple(i), of(&records)), want, "tuple {i}");
        }
        assert_eq!(table.len(), n as usize / 2);
    }

    #[test]
    fn spilled_buckets_are_searched_and_count_back_down() {
        // Forty tuples whose hashes are bent to one home bucket of a four-bucket table.
        let n = 40u32;
        let records: Vec<Option<FourTuple>> = (0..n).map(|i| Some(tuple(i))).collect();
        let mut table = DemuxTable::new(SeededState::new(3, 4));
        table.heads = vec![EMPTY; 4];
        table.entries = vec![[0; SLOTS]; 4];
        table.bend_home = true; // home bucket 0 for all
        for i in 0..n {
            let hash = table.hash(&tuple(i));
            table.place(hash, pack(Demux::Conn(i)));
            table.len += 1;
        }
        assert_eq!(table.heads[0].head[SPILLED] as usize, n as usize - SLOTS);
        for i in 0..n {
            table.memo.set(None);
            assert_eq!(table.get(&tuple(i), of(&records)), Some(Demux::Conn(i)));
        }
        for i in 0..n {
            table.memo.set(None);
            table.remove(&tuple(i), Demux::Conn(i));
        }
        assert_eq!(table.len(), 0);
        assert!(table.heads.iter().all(|b| b.len() == 0 && !b.spilled()), "{:?}", table.heads);
    }

    #[test]
    fn replace_changes_the_kind_and_remove_needs_the_exact_entry() {
        let records = vec![Some(tuple(0)); 8];
        let mut table = DemuxTable::new(SeededState::new(5, 6));
        table.insert(&tuple(0), Demux::HalfOpen(3), of(&records));
        table.replace(&tuple(0), Demux::HalfOpen(3), Demux::Conn(5), of(&records));
        assert_eq!(table.get(&tuple(0), of(&records)), Some(Demux::Conn(5)));
        table.remove(&tuple(0), Demux::Conn(4));
        assert_eq!(table.get(&tuple(0), of(&records)), Some(Demux::Conn(5)), "another entry stays");
        table.remove(&tuple(0), Demux::Conn(5));
        assert_eq!(table.get(&tuple(0), of(&records)), None);
        assert_eq!(table.len(), 0);
    }

    #[test]
    fn matching_finds_exactly_the_occupied_slots_with_the_tag() {
        for len in 0..=SLOTS {
            for tag in [0u8, 1, 0x7f, 0x80, 0xff] {
                let mut bucket = EMPTY;
                for (i, t) in bucket.head.iter_mut().enumerate().take(SLOTS) {
                    // Every third slot has the tag; the others differ from it in one bit each.
                    *t = if i % 3 == 0 { tag } else { tag ^ (1 << (i % 8)) };
                }
                bucket.head[LEN] = len as u8;
                bucket.head[SPILLED] = tag;
                let want: u16 = (0..len).filter(|i| i % 3 == 0).map(|i| 1u16 << i).sum();
                assert_eq!(bucket.matching(tag), want, "len {len} tag {tag:#x}");
            }
        }
    }

    #[test]
    fn a_matching_tag_of_another_tuple_is_not_a_match() {
        // Two entries, one tuple's record: the other entry's record holds a different tuple.
        let records = vec![Some(tuple(1)), Some(tuple(2))];
        let mut table = DemuxTable::new(SeededState::new(7, 8));
        table.insert(&tuple(1), Demux::TimeWait(0), of(&records));
        table.insert(&tuple(2), Demux::TimeWait(1), of(&records));
        assert_eq!(table.get(&tuple(1), of(&records)), Some(Demux::TimeWait(0)));
        assert_eq!(table.get(&tuple(2), of(&records)), Some(Demux::TimeWait(1)));
        assert_eq!(table.get(&tuple(3), of(&records)), None);
    }

    #[test]
    fn a_tuple_that_differs_in_any_one_field_is_not_a_match() {
        // Records that share the key's tag and bucket but differ from it in one field each,
        // the same addresses in IPv6 (mapped) form among them; the key's own record last.
        let key4 = FourTuple::new(SocketAddr::from(([192, 0, 2, 1], 80)), SocketAddr::from(([10, 0, 0, 2], 4000)));
        let v6 = |t: &FourTuple| {
            let map = |ip: IpAddr| match ip {
                IpAddr::V4(v4) => IpAddr::V6(v4.to_ipv6_mapped()),
                v6 => v6,
            };
            FourTuple { local_ip: map(t.local_ip), remote_ip: map(t.remote_ip), ..*t }
        };
        for key in [key4, v6(&key4)] {
            let others = [
                FourTuple { local_ip: IpAddr::from([192, 0, 2, 9]), ..key4 },
                FourTuple { remote_ip: IpAddr::from([10, 0, 0, 9]), ..key4 },
                FourTuple { local_port: 81, ..key4 },
                FourTuple { remote_port: 4001, ..key4 },
            ];
            let mut records: Vec<Option<FourTuple>> = others.iter().map(|t| Some(*t)).collect();
            records.extend(others.iter().map(|t| Some(v6(t))));
            // The key in the other family, then the key itself.
            records.push(Some(if key == key4 { v6(&key4) } else { key4 }));
            records.push(Some(key));
            let mut table = DemuxTable::new(SeededState::new(9, 10));
            let hash = table.hash(&key);
            for i in 0..records.len() as u32 - 1 {
                table.place(hash, pack(Demux::Conn(i)));
            }
            assert_eq!(table.get(&key, of(&records)), None, "{key:?}");
            let own = records.len() as u32 - 1;
            table.place(hash, pack(Demux::Conn(own)));
            assert_eq!(table.get(&key, of(&records)), Some(Demux::Conn(own)), "{key:?}");
        }
    }
}
