//! The demultiplexing table: 4-tuple to the record that holds it. IPv4 tuples are packed into
//! 12 bytes (two addresses in a u64, two ports in a u32) so that a table of a hundred thousand
//! connections is half the size, and a lookup misses the cache less; IPv6 tuples keep their
//! full form in a table of their own.

use super::Demux;
use crate::tuple::SeededState;
use crate::FourTuple;
use std::cell::Cell;
use std::collections::HashMap;
use std::net::IpAddr;

#[derive(Debug)]
pub(super) struct DemuxTable {
    v4: HashMap<(u64, u32), Packed, SeededState>,
    v6: HashMap<FourTuple, Packed, SeededState>,
    /// The last IPv4 tuple found and where it points: the packets of a flow come in runs,
    /// and a hit saves a hash and a probe into a table that may be far larger than the
    /// caches. Every change to that tuple's entry updates or clears it.
    last_v4: Cell<Option<((u64, u32), Packed)>>,
}

/// A `Demux` in 32 bits (kind in the top two, slab index below): an IPv4 entry is then 16
/// bytes instead of 24.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Packed(u32);

const INDEX_BITS: u32 = 30;
const INDEX_MASK: u32 = (1 << INDEX_BITS) - 1;

impl From<Demux> for Packed {
    fn from(d: Demux) -> Packed {
        let (kind, index) = match d {
            Demux::Conn(i) => (0, i),
            Demux::HalfOpen(i) => (1, i),
            Demux::TimeWait(i) => (2, i),
        };
        // A slab index reaches 2^30 only past a billion records; memory runs out long before.
        debug_assert!(index <= INDEX_MASK);
        Packed(kind << INDEX_BITS | index & INDEX_MASK)
    }
}

impl From<Packed> for Demux {
    fn from(p: Packed) -> Demux {
        let index = p.0 & INDEX_MASK;
        match p.0 >> INDEX_BITS {
            0 => Demux::Conn(index),
            1 => Demux::HalfOpen(index),
            _ => Demux::TimeWait(index),
        }
    }
}

/// The packed form of an IPv4 tuple, or None for IPv6.
fn packed(t: &FourTuple) -> Option<(u64, u32)> {
    match (t.local_ip, t.remote_ip) {
        (IpAddr::V4(l), IpAddr::V4(r)) => Some((
            (u32::from(l) as u64) << 32 | u32::from(r) as u64,
            (t.local_port as u32) << 16 | t.remote_port as u32,
        )),
        _ => None,
    }
}

impl DemuxTable {
    pub fn new(hasher: SeededState) -> DemuxTable {
        DemuxTable { v4: HashMap::with_hasher(hasher), v6: HashMap::with_hasher(hasher), last_v4: Cell::new(None) }
    }

    pub fn get(&self, t: &FourTuple) -> Option<Demux> {
        match packed(t) {
            Some(k) => {
                if let Some((last, p)) = self.last_v4.get() {
                    if last == k {
                        return Some(p.into());
                    }
                }
                let p = *self.v4.get(&k)?;
                self.last_v4.set(Some((k, p)));
                Some(p.into())
            }
            None => self.v6.get(t).map(|&p| p.into()),
        }
    }

    /// Forgets the cached entry if it is `k`'s.
    fn forget(&self, k: (u64, u32)) {
        if self.last_v4.get().is_some_and(|(last, _)| last == k) {
            self.last_v4.set(None);
        }
    }

    pub fn contains(&self, t: &FourTuple) -> bool {
        self.get(t).is_some()
    }

    /// Points `t` at `to`, replacing what it pointed at.
    pub fn insert(&mut self, t: FourTuple, to: Demux) {
        match packed(&t) {
            Some(k) => {
                self.forget(k);
                self.v4.insert(k, to.into())
            }
            None => self.v6.insert(t, to.into()),
        };
    }

    pub fn remove(&mut self, t: &FourTuple) {
        match packed(t) {
            Some(k) => {
                self.forget(k);
                self.v4.remove(&k)
            }
            None => self.v6.remove(t),
        };
    }

    /// Removes `t` only if it still points at `at` (one hash either way).
    pub fn remove_if(&mut self, t: &FourTuple, at: Demux) {
        use std::collections::hash_map::Entry;
        let at = Packed::from(at);
        match packed(t) {
            Some(k) => {
                self.forget(k);
                if let Entry::Occupied(e) = self.v4.entry(k) {
                    if *e.get() == at {
                        e.remove();
                    }
                }
            }
            None => {
                if let Entry::Occupied(e) = self.v6.entry(*t) {
                    if *e.get() == at {
                        e.remove();
                    }
                }
            }
        }
    }

    pub fn len(&self) -> usize {
        self.v4.len() + self.v6.len()
    }
}
