//! Any TCP capture explained: reads what tcpdump and Wireshark write (`read`), finds the TCP
//! segments (`decode`) and the connections they belong to (`split`), replays each through a
//! passive observer of both ends (`observer`) and Wireshark's anomaly rules (`analysis`), and
//! draws the result as the seeds' ladder diagram, in text (`ladder`) or SVG (`svg`, with a
//! time–sequence graph).

#![deny(missing_docs)]

pub mod analysis;
pub mod decode;
pub mod ladder;
pub mod observer;
pub mod read;
pub mod split;
pub mod svg;

pub use analysis::{Analyzer, Anomaly};
pub use decode::{decode, Segment};
pub use read::{read_capture, Capture, Frame, ReadError};
pub use split::{split, Connection};

use observer::Observer;
use std::collections::BTreeMap;
use synack_engine::State;
use synack_wire::SeqNum;

/// The TCP connections of a capture, in order of first appearance.
pub fn connections(capture: &Capture) -> Vec<Connection> {
    let segments = capture.frames.iter().filter_map(|f| decode(f.number, f.time, &f.ip)).collect();
    split(segments)
}

/// One segment of an explained connection: who sent it, what it changed, what was odd.
#[derive(Debug, Clone)]
pub struct Row {
    /// 0: the client sent it; 1: the server.
    pub side: usize,
    /// Each side's new state, where the segment changed it.
    pub states: [Option<State>; 2],
    /// What was odd about it.
    pub anomalies: Vec<Anomaly>,
    /// It never arrived (known only for a simulated run's own capture).
    pub lost: bool,
}

/// A connection replayed: a row per segment, both sides' final states, anomaly counts.
#[derive(Debug, Clone)]
pub struct Explanation {
    /// One per segment, in capture order.
    pub rows: Vec<Row>,
    /// The states each side started from (CLOSED and LISTEN, or ESTABLISHED for a capture
    /// that joined after the handshake).
    pub initial: [State; 2],
    /// Each side's state after the last segment.
    pub final_states: [State; 2],
    /// Each side's ISN, from its SYN.
    pub isn: [Option<SeqNum>; 2],
    /// Anomalies by kind (duplicate ACKs under `DuplicateAck(0)`).
    pub counts: BTreeMap<Anomaly, usize>,
    /// Payload bytes each side sent, counting each byte once (retransmissions left out).
    pub bytes: [u64; 2],
}

/// Replays one connection, every segment taken as delivered.
pub fn explain(conn: &Connection) -> Explanation {
    explain_with_losses(conn, |_| false)
}

/// Replays one connection knowing which frames were lost on the way (`lost(frame number)`),
/// as a simulated run does: a lost segment changes only its sender's state.
pub fn explain_with_losses(conn: &Connection, lost: impl Fn(usize) -> bool) -> Explanation {
    let mut observer = Observer::new(conn);
    let initial = observer.states;
    let mut analyzer = Analyzer::default();
    let mut counts = BTreeMap::new();
    let mut bytes = [0u64; 2];
    let mut highest: [Option<SeqNum>; 2] = [None; 2];
    let rows = conn
        .segments
        .iter()
        .map(|seg| {
            let side = conn.side_of(seg);
            let anomalies = analyzer.on_segment(side, seg);
            for a in &anomalies {
                *counts.entry(a.kind()).or_insert(0) += 1;
            }
            let end = seg.seq + seg.len;
            let start = match highest[side] {
                Some(h) if h > seg.seq => h,
                _ => seg.seq,
            };
            if end > start {
                bytes[side] += end.since(start) as u64;
            }
            if highest[side].is_none_or(|h| end > h) {
                highest[side] = Some(end);
            }
            let lost = lost(seg.number);
            let states = observer.on_segment(side, seg, !lost);
            Row { side, states, anomalies, lost }
        })
        .collect();
    Explanation { rows, initial, final_states: observer.states, isn: observer.isn, counts, bytes }
}
