//! The endpoint's timers: one heap of (deadline, record) entries. A connection keeps its own
//! small table of timers and has at most one live entry here (`heap_deadline`); half-open and
//! TIME-WAIT records have one deadline each. Entries whose record moved on are stale and are
//! skipped when they come up.

use super::{ConnHandle, Demux, Endpoint, TimerRef};
use crate::{Cause, Event, FourTuple, Instant, State, Transition};
use std::cmp::Reverse;

impl Endpoint {
    /// The earliest deadline of any timer, if one is armed.
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        while let Some(Reverse((at, what))) = self.timers.peek().copied() {
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
        while let Some(Reverse((at, what))) = self.timers.peek().copied() {
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
                    self.with_conn(now, h, |c, ctx| c.on_timeout(ctx));
                }
                TimerRef::HalfOpen(i, _) => self.half_open_timeout(now, i),
                TimerRef::TimeWait(i, _) => {
                    if let Some(record) = self.time_waits.remove(i) {
                        self.demux.remove(&record.tuple, Demux::TimeWait(i));
                        self.counters.time_wait_expired += 1;
                        self.transition(now, record.tuple, State::TimeWait, State::Closed, Cause::TimeWaitExpired);
                    }
                }
            }
        }
    }

    pub(super) fn transition(&mut self, now: Instant, tuple: FourTuple, from: State, to: State, cause: Cause) {
        if self.config.record_transitions {
            self.events.push_back(Event::Transition(Transition { at: now, tuple, from, to, cause }));
        }
    }
}
