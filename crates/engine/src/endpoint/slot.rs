//! What the endpoint keeps for each connection: the connection, and the endpoint's own
//! bookkeeping about it (is it queued for output, is its timer-heap entry due for an update,
//! which deadline the heap holds for it). The connection never reads the latter; it lives
//! beside it, in the same slab place, so that both share cache lines.

use crate::conn::Connection;
use crate::Instant;
use std::ops::{Deref, DerefMut};

#[derive(Debug)]
pub(super) struct ConnSlot {
    pub conn: Connection,
    /// In the endpoint's queue of connections that may have something to send.
    pub in_dirty: bool,
    /// Queued for the timer heap's next update (`Endpoint::sync_timers`).
    pub timer_pending: bool,
    /// The deadline the endpoint's timer heap holds for this connection.
    pub heap_deadline: Instant,
}

impl ConnSlot {
    #[inline(always)]
    pub fn new(conn: Connection) -> ConnSlot {
        ConnSlot { conn, in_dirty: false, timer_pending: false, heap_deadline: Instant::NEVER }
    }
}

/// The slot reads as its connection, so that the endpoint's calls on it stay short.
impl Deref for ConnSlot {
    type Target = Connection;
    #[inline(always)]
    fn deref(&self) -> &Connection {
        &self.conn
    }
}

impl DerefMut for ConnSlot {
    #[inline(always)]
    fn deref_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }
}
