//! An `ss -tan`-style view of an endpoint's sockets.

use crate::State;
use std::fmt::Write;
use std::net::SocketAddr;

/// One row of the state table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SocketInfo {
    pub state: State,
    /// Unread bytes; for a listener, the accept-queue length (as `ss` shows).
    pub recv_q: usize,
    /// Unacknowledged and unsent bytes; for a listener, the backlog.
    pub send_q: usize,
    pub local: SocketAddr,
    pub remote: Option<SocketAddr>,
}

/// `ss`'s state names (SYN-RECV, FIN-WAIT-1, TIME-WAIT, UNCONN...) differ a little from the
/// RFC's; the table prints the RFC's, which the rest of synack uses.
pub fn format_ss_table(rows: &[SocketInfo]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<13} {:>6} {:>6} {:<40} {:<40}",
        "State", "Recv-Q", "Send-Q", "Local Address:Port", "Peer Address:Port"
    );
    for r in rows {
        let peer = r.remote.map_or_else(|| "*:*".to_string(), |a| a.to_string());
        let _ = writeln!(out, "{:<13} {:>6} {:>6} {:<40} {:<40}", r.state.name(), r.recv_q, r.send_q, r.local, peer);
    }
    out
}
