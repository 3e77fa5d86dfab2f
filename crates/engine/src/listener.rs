//! A listener: its address, its backlog, and the two queues of RFC 9293 §3.10.7.2 as real
//! stacks build them: the SYN queue (half-open entries, held in the endpoint's half-open table
//! and counted here) and the accept queue (established connections not yet accepted).

use crate::ConnHandle;
use std::collections::VecDeque;
use std::net::SocketAddr;

#[derive(Debug)]
pub(crate) struct Listener {
    pub addr: SocketAddr,
    /// Accept-queue bound: `listen`'s backlog capped by `somaxconn`, as `listen(2)` does.
    pub backlog: usize,
    /// Half-open entries of this listener (the SYN queue's length).
    pub syn_queue_len: usize,
    pub accept_queue: VecDeque<ConnHandle>,
    /// `TCP_NOOPT`: SYN-ACKs carry no options and the SYN's are ignored (but its MSS).
    pub no_options: bool,
}

impl Listener {
    pub fn new(addr: SocketAddr, backlog: usize) -> Listener {
        Listener { addr, backlog, syn_queue_len: 0, accept_queue: VecDeque::new(), no_options: false }
    }

    pub fn accept_queue_full(&self) -> bool {
        self.accept_queue.len() >= self.backlog
    }
}
