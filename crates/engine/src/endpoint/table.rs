//! An `ss -tan`-style view of an endpoint's sockets.

use super::{ConnHandle, Endpoint, ListenerHandle};
use crate::State;
use std::fmt::Write;
use std::net::SocketAddr;

/// A connection's queues, as `ss` shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueLens {
    /// Bytes received and not yet read (Recv-Q).
    pub unread: usize,
    /// Bytes sent and not acknowledged, or not sent yet (Send-Q).
    pub unacked: usize,
}

/// A connection's buffer sizes, bytes (SO_SNDBUF, SO_RCVBUF).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BufferSizes {
    /// The send buffer.
    pub send: usize,
    /// The receive buffer.
    pub recv: usize,
}

/// A listener's two queues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListenerQueues {
    /// Half-open (SYN-RECEIVED) entries.
    pub syn_queue: usize,
    /// Established connections waiting for `accept`.
    pub accept_queue: usize,
}

/// What an endpoint holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Population {
    /// Connections (CLOSED ones the user has not released included).
    pub connections: usize,
    /// Half-open entries.
    pub half_open: usize,
    /// TIME-WAIT records.
    pub time_wait: usize,
}

/// One row of the state table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SocketInfo {
    /// RFC 9293 state (LISTEN for a listener).
    pub state: State,
    /// Unread bytes; for a listener, the accept-queue length (as `ss` shows).
    pub recv_q: usize,
    /// Unacknowledged and unsent bytes; for a listener, the backlog.
    pub send_q: usize,
    /// Local address and port.
    pub local: SocketAddr,
    /// The peer's address and port (none for a listener).
    pub remote: Option<SocketAddr>,
}

impl Endpoint {
    /// Every socket like `ss -tan`: listeners, half-open entries, connections, TIME-WAIT
    /// records. Sorted by state order, then local and remote address. Like `ss`, no CLOSED
    /// sockets: a handle the user still holds after its connection ended is not on the network.
    pub fn sockets(&self) -> Vec<SocketInfo> {
        let mut out = Vec::new();
        // A socket only bound is CLOSED: not listed.
        for (_, l) in self.listeners.iter().filter(|(_, l)| l.listening) {
            let (recv_q, send_q) = (l.accept_queue.len(), l.backlog);
            out.push(SocketInfo { state: State::Listen, recv_q, send_q, local: l.addr, remote: None });
        }
        for (_, e) in self.half_opens.iter() {
            let (local, remote) = (e.tuple.local(), Some(e.tuple.remote()));
            out.push(SocketInfo { state: State::SynReceived, recv_q: 0, send_q: 0, local, remote });
        }
        for (_, c) in self.conns.iter().filter(|(_, c)| c.state != State::Closed) {
            let (recv_q, send_q) = (c.recv_queue_len(), c.send_queue_len());
            out.push(SocketInfo {
                state: c.state,
                recv_q,
                send_q,
                local: c.tuple.local(),
                remote: Some(c.tuple.remote()),
            });
        }
        for (_, r) in self.time_waits.iter() {
            let (local, remote) = (r.tuple.local(), Some(r.tuple.remote()));
            out.push(SocketInfo { state: State::TimeWait, recv_q: 0, send_q: 0, local, remote });
        }
        out.sort_by_key(|s| (s.state, s.local, s.remote));
        out
    }

    /// Every connection the endpoint holds, CLOSED ones not yet released included.
    pub fn connection_handles(&self) -> Vec<ConnHandle> {
        self.conns.iter().map(|(index, _)| ConnHandle { index, generation: self.conns.generation(index) }).collect()
    }

    /// Every open listener and bound socket.
    pub fn listener_handles(&self) -> Vec<ListenerHandle> {
        self.listeners
            .iter()
            .map(|(index, _)| ListenerHandle { index, generation: self.listeners.generation(index) })
            .collect()
    }

    /// How many connections, half-open entries and TIME-WAIT records the endpoint holds.
    pub fn population(&self) -> Population {
        let (half_open, time_wait) = (self.half_opens.len(), self.time_waits.len());
        Population { connections: self.demux.len() - half_open - time_wait, half_open, time_wait }
    }
}

/// The RFC's state names (`ss` prints SYN-RECV, FIN-WAIT-1 and so on, a little differently).
pub fn format_ss_table(rows: &[SocketInfo]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<13} {:>6} {:>6} {:<40} {:<40}",
        "State", "Recv-Q", "Send-Q", "Local Address:Port", "Peer Address:Port"
    );
    for r in rows {
        let peer = r.remote.map_or_else(|| "*:*".to_string(), |a| a.to_string());
        let line = format!("{:<13} {:>6} {:>6} {:<40} {:<40}", r.state.name(), r.recv_q, r.send_q, r.local, peer);
        let _ = writeln!(out, "{}", line.trim_end());
    }
    out
}
