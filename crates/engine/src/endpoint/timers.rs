//! The endpoint's timers: one heap of (deadline, record) entries. A connection keeps its own
//! small table of timers and has at most one live entry here (`heap_deadline`); half-open and
//! TIME-WAIT records have one deadline each. Entries whose record moved on are stale and are
//! skipped when they come up.

use super::{demux, ConnHandle, Demux, Endpoint, TimerRef};
use crate::{Cause, FourTuple, Instant, State};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// A min-heap of (deadline, record) entries, each packed into one `u128` that orders as the
/// pair does: deadline in the top 64 bits, then the record as the demux table packs it (kind,
/// slab index), then the generation. Sixteen bytes an entry instead of twenty-four, one
/// comparison instead of four, and an entry is moved as one 16-byte word (a mix of 8- and
/// 16-byte moves of the same entry made the heap's loads wait on its own stores).
#[derive(Debug, Default)]
pub(super) struct TimerHeap(BinaryHeap<Reverse<u128>>);

impl TimerHeap {
    pub fn push(&mut self, at: Instant, what: TimerRef) {
        let (record, generation) = match what {
            TimerRef::Conn(i, g) => (Demux::Conn(i), g),
            TimerRef::HalfOpen(i, g) => (Demux::HalfOpen(i), g),
            TimerRef::TimeWait(i, g) => (Demux::TimeWait(i), g),
        };
        let low = (demux::pack(record) as u64) << 32 | generation as u64;
        self.0.push(Reverse((at.as_micros() as u128) << 64 | low as u128));
    }

    /// The earliest entry.
    pub fn peek(&self) -> Option<(Instant, TimerRef)> {
        let &Reverse(entry) = self.0.peek()?;
        let (at, low) = ((entry >> 64) as u64, entry as u64);
        let generation = low as u32;
        let what = match demux::unpack((low >> 32) as u32) {
            Demux::Conn(i) => TimerRef::Conn(i, generation),
            Demux::HalfOpen(i) => TimerRef::HalfOpen(i, generation),
            Demux::TimeWait(i) => TimerRef::TimeWait(i, generation),
        };
        Some((Instant::from_micros(at), what))
    }

    pub fn pop(&mut self) {
        self.0.pop();
    }
}

impl Endpoint {
    /// Brings the heap up to date with the records queued since it was last read: each
    /// connection's earliest deadline goes in if it is earlier than the entry the heap holds
    /// for it (later entries are skipped as stale when they come up), and each new half-open
    /// entry's first deadline. Records gone since are skipped.
    #[inline]
    fn sync_timers(&mut self) {
        if self.timers_pending.is_empty() {
            return;
        }
        for what in self.timers_pending.drain(..) {
            match what {
                TimerRef::Conn(index, generation) => {
                    let Some(conn) = self.conns.get_mut(index, generation) else { continue };
                    conn.timer_pending = false;
                    let deadline = conn.next_deadline();
                    if deadline < conn.heap_deadline {
                        conn.heap_deadline = deadline;
                        self.timers.push(deadline, what);
                    }
                }
                TimerRef::HalfOpen(index, generation) => {
                    if let Some(entry) = self.half_opens.get(index, generation) {
                        self.timers.push(entry.deadline, what);
                    }
                }
                TimerRef::TimeWait(..) => debug_assert!(false, "TIME-WAIT records are pushed at once"),
            }
        }
    }

    /// Called where connections and half-open entries are made: a driver that never reads
    /// the timers would otherwise queue one handle for every record ever made.
    pub(super) fn bound_timers_pending(&mut self) {
        if self.timers_pending.len() > 2 * (self.conns.len() + self.half_opens.len()) + 64 {
            self.sync_timers();
        }
    }

    /// The earliest deadline of any timer, if one is armed.
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        self.sync_timers();
        while let Some((at, what)) = self.timers.peek() {
            if self.timer_is_live(at, what) {
                return Some(at);
            }
            self.timers.pop();
        }
        None
    }

    fn timer_is_live(&self, at: Instant, what: TimerRef) -> bool {
        match what {
            TimerRef::Conn(index, generation) => {
                self.conn(ConnHandle { index, generation }).is_some_and(|c| c.heap_deadline == at)
            }
            TimerRef::HalfOpen(i, g) => self.half_opens.get(i, g).is_some_and(|e| e.deadline == at),
            TimerRef::TimeWait(i, g) => self.time_waits.get(i, g).is_some_and(|r| r.deadline == at),
        }
    }

    /// Runs every timer due at or before `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.last_now = self.last_now.max(now);
        loop {
            // A timer that ran may have armed another, due now too.
            self.sync_timers();
            let Some((at, what)) = self.timers.peek() else { break };
            if at > now {
                break;
            }
            self.timers.pop();
            if !self.timer_is_live(at, what) {
                continue;
            }
            match what {
                TimerRef::Conn(index, generation) => {
                    let h = ConnHandle { index, generation };
                    if let Some(c) = self.conn_mut_opt(h) {
                        c.heap_deadline = Instant::NEVER;
                    }
                    self.with_conn(now, h, (), |c, ctx| c.on_timeout(ctx));
                }
                TimerRef::HalfOpen(i, _) => self.half_open_timeout(now, i),
                TimerRef::TimeWait(i, _) => {
                    // Only the tuple is copied out: the whole record, taken by value, was
                    // copied twice over the stack, and the second copy's loads straddled the
                    // first one's stores and waited.
                    if let Some(tuple) = self.time_waits.at(i).map(|r| r.tuple) {
                        self.time_waits.free(i);
                        self.demux_remove(&tuple, Demux::TimeWait(i));
                        self.shared.counters.time_wait_expired += 1;
                        self.transition(now, tuple, State::TimeWait, State::Closed, Cause::TimeWaitExpired);
                    }
                }
            }
        }
    }

    /// `Ctx::transition` for a record that is not a connection (half-open, TIME-WAIT).
    pub(super) fn transition(&mut self, now: Instant, tuple: FourTuple, from: State, to: State, cause: Cause) {
        self.ctx(now).transition(tuple, from, to, cause);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_come_out_in_deadline_then_record_order() {
        let mut heap = TimerHeap::default();
        let t = Instant::from_micros;
        let entries = [
            (t(5), TimerRef::TimeWait(3, 9)),
            (t(5), TimerRef::Conn((1 << 30) - 1, u32::MAX)),
            (t(1), TimerRef::HalfOpen(0, 0)),
            (t(u64::MAX), TimerRef::Conn(0, 0)),
            (t(5), TimerRef::Conn(7, 1)),
            (t(5), TimerRef::HalfOpen(2, 4)),
        ];
        for (at, what) in entries {
            heap.push(at, what);
        }
        let mut sorted = entries.to_vec();
        sorted.sort();
        let mut popped = vec![];
        while let Some(entry) = heap.peek() {
            popped.push(entry);
            heap.pop();
        }
        assert_eq!(popped, sorted);
    }

    /// A driver that never asks for timers (only sends and receives) must not make the
    /// queue of connections awaiting the heap grow with every connection it ever opened.
    #[test]
    fn connections_queued_for_the_heap_stay_bounded_without_timer_reads() {
        use crate::{Config, Endpoint};
        use std::net::SocketAddr;
        let local = SocketAddr::from(([10, 0, 0, 1], 0));
        let mut ep = Endpoint::new(Config::default(), &[local.ip()]);
        let remote = SocketAddr::from(([10, 0, 0, 2], 80));
        for port in 1024..11_024u16 {
            let h = ep.connect(Instant::ZERO, Some(SocketAddr::new(local.ip(), port)), remote).expect("connect");
            ep.abort(Instant::ZERO, h).expect("abort");
        }
        assert!(ep.timers_pending.len() <= 2 * ep.conns.len() + 65, "{} queued", ep.timers_pending.len());
        // And the first read of the timers finds every live deadline (none: all aborted).
        assert_eq!(ep.poll_timeout(), None);
        assert!(ep.timers_pending.is_empty());
    }
}
