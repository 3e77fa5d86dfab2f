//! A capture's segments cut into TCP connections: by 4-tuple, and within one 4-tuple by SYN
//! boundaries, so that a port reused for a new connection starts a new one (Wireshark's
//! `tcp.stream`).

use crate::decode::Segment;
use std::collections::HashMap;
use std::net::SocketAddr;
use synack_wire::SeqNum;

/// One TCP connection of a capture.
#[derive(Debug, Clone)]
pub struct Connection {
    /// Its number in the capture, from 1, in order of first appearance.
    pub id: usize,
    /// The side that opened it (sent the first SYN), or the first packet's sender when the
    /// capture began after the handshake.
    pub client: SocketAddr,
    /// The other side.
    pub server: SocketAddr,
    /// Its segments in capture order.
    pub segments: Vec<Segment>,
}

impl Connection {
    /// 0 for a segment the client sent, 1 for one the server sent.
    pub fn side_of(&self, seg: &Segment) -> usize {
        (seg.src != self.client) as usize
    }
}

/// The connection a 4-tuple is in now: its index and each side's ISN from its SYN.
type Current = (usize, [Option<SeqNum>; 2]);

/// Splits segments (in capture order) into connections.
pub fn split(segments: Vec<Segment>) -> Vec<Connection> {
    let mut conns: Vec<Connection> = Vec::new();
    // Per unordered 4-tuple: the current connection's index and each side's ISN from its SYN
    // (side 0 the connection's client).
    let mut current: HashMap<(SocketAddr, SocketAddr), Current> = HashMap::new();
    for seg in segments {
        let key = if seg.src <= seg.dst { (seg.src, seg.dst) } else { (seg.dst, seg.src) };
        let opening = seg.flags.syn() && !seg.flags.ack();
        // A SYN with another ISN than its sender's first one starts a new connection (the
        // same ISN again is a retransmission); so does a SYN after a connection the capture
        // joined late has ended.
        let starts_new = match current.get(&key) {
            None => true,
            Some(&(index, isn)) => {
                let side = conns[index].side_of(&seg);
                opening
                    && match isn[side] {
                        Some(isn) => isn != seg.seq,
                        None => {
                            isn[1 - side].is_none()
                                && conns[index].segments.iter().any(|s| s.flags.rst() || s.flags.fin())
                        }
                    }
            }
        };
        if starts_new {
            current.insert(key, (conns.len(), [None; 2]));
            conns.push(Connection { id: conns.len() + 1, client: seg.src, server: seg.dst, segments: Vec::new() });
        }
        let entry = current.get_mut(&key).expect("present");
        let conn = &mut conns[entry.0];
        if seg.flags.syn() {
            entry.1[conn.side_of(&seg)].get_or_insert(seg.seq);
        }
        conn.segments.push(seg);
    }
    conns
}
