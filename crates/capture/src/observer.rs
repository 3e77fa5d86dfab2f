//! Both ends' RFC 9293 states inferred from the segments between them, as a passive observer
//! on the wire sees them: a sender changes state when it sends (SYN, FIN, the ACK that
//! completes a handshake), a receiver when the segment reaches it (taken to be the moment it
//! was captured). What an observer cannot see (a listener's LISTEN before its first SYN, a
//! TIME-WAIT's end) is assumed as RFC 9293 describes it.

use crate::decode::Segment;
use crate::split::Connection;
use synack_engine::State;
use synack_wire::SeqNum;

/// The two ends as the observer tracks them.
#[derive(Debug, Clone)]
pub struct Observer {
    /// Each side's state: 0 the client, 1 the server.
    pub states: [State; 2],
    /// Each side's initial sequence number, from its SYN.
    pub isn: [Option<SeqNum>; 2],
    /// The sequence number of each side's FIN, once sent.
    fin: [Option<SeqNum>; 2],
    /// The side answered a SYN from LISTEN (a passive open).
    passive: [bool; 2],
}

/// What one segment changed: each side's new state, if it changed.
pub type Changes = [Option<State>; 2];

impl Observer {
    /// Before the first segment: a connection that opens with a SYN starts from CLOSED (the
    /// client) and LISTEN (the server; CLOSED if it answers with a RST); one the capture
    /// joined later from ESTABLISHED.
    pub fn new(conn: &Connection) -> Observer {
        let opens = conn.segments.first().is_some_and(|s| s.flags.syn());
        // A server whose first word is a RST had no listener: it was CLOSED (§3.10.7.1).
        let refused = conn.segments.iter().find(|s| conn.side_of(s) == 1).is_some_and(|s| s.flags.rst());
        let server = if refused { State::Closed } else { State::Listen };
        let states = if opens { [State::Closed, server] } else { [State::Established; 2] };
        Observer { states, isn: [None; 2], fin: [None; 2], passive: [false; 2] }
    }

    /// Takes one segment sent by `side`; returns the state changes it caused. A segment not
    /// `delivered` (lost on the way, as a simulated run knows) changes its sender only.
    pub fn on_segment(&mut self, side: usize, seg: &Segment, delivered: bool) -> Changes {
        let before = self.states;
        let peer = 1 - side;
        let f = seg.flags;
        if f.rst() {
            // RFC 9293 §3.10.7: a reset (taken as acceptable) closes the receiver, except that
            // a passive open still in SYN-RECEIVED returns to LISTEN (§3.10.7.4, second); the
            // sender has aborted, or had no connection at all.
            self.states[side] = State::Closed;
            if delivered {
                let back_to_listen = self.passive[peer] && self.states[peer] == State::SynReceived;
                self.states[peer] = if back_to_listen { State::Listen } else { State::Closed };
            }
            return changes(before, self.states);
        }
        self.sent(side, seg);
        if delivered {
            self.received(peer, seg);
        }
        changes(before, self.states)
    }

    /// What sending `seg` does to its sender `side`.
    fn sent(&mut self, side: usize, seg: &Segment) {
        let (peer, f) = (1 - side, seg.flags);
        if f.syn() {
            self.isn[side].get_or_insert(seg.seq);
            let syn_states = matches!(self.states[side], State::Listen | State::SynSent | State::Closed);
            if f.ack() && syn_states {
                // SYN-ACK: the sender took a SYN (§3.10.7.2 LISTEN, §3.10.7.3 simultaneous open).
                self.passive[side] = self.states[side] == State::Listen;
                self.states[side] = State::SynReceived;
            } else if !f.ack() && matches!(self.states[side], State::Closed | State::Listen) {
                self.states[side] = State::SynSent;
            }
        }
        // The ACK of the peer's SYN completes the sender's side of a simultaneous open.
        if f.ack() && !f.syn() && self.states[side] == State::SynReceived && self.acks_syn(peer, seg) {
            self.states[side] = State::Established;
        }
        if f.fin() {
            self.fin[side].get_or_insert(seg.seq + seg.len);
            // A FIN that does not acknowledge the peer's was sent before the peer's FIN
            // arrived: a simultaneous close (RFC 9293 §3.6), FIN-WAIT-1 and at once CLOSING,
            // although the capture showed the peer's FIN first.
            let crossed = self.fin[peer].is_some_and(|fin| !(f.ack() && seg.ack > fin));
            self.states[side] = match self.states[side] {
                State::Established | State::SynReceived => State::FinWait1,
                State::CloseWait if crossed => State::Closing,
                State::CloseWait => State::LastAck,
                other => other,
            };
        }
    }

    /// What `seg` does to its receiver `side` when it arrives.
    fn received(&mut self, side: usize, seg: &Segment) {
        let f = seg.flags;
        if f.syn() {
            if f.ack() && self.states[side] == State::SynSent && self.acks_syn(side, seg) {
                self.states[side] = State::Established;
            } else if !f.ack() && self.states[side] == State::SynSent {
                // A SYN reaching a side in SYN-SENT: simultaneous open.
                self.states[side] = State::SynReceived;
            }
        }
        if f.ack() {
            if !f.syn() && self.states[side] == State::SynReceived && self.acks_syn(side, seg) {
                self.states[side] = State::Established;
            }
            if self.fin[side].is_some_and(|fin| seg.ack > fin) {
                self.states[side] = match self.states[side] {
                    State::FinWait1 => State::FinWait2,
                    State::Closing => State::TimeWait,
                    State::LastAck => State::Closed,
                    other => other,
                };
            }
        }
        if f.fin() {
            // RFC 9293 §3.10.7.4, eighth: the FIN reaches the side.
            let its_fin_acked = self.fin[side].is_some_and(|fin| f.ack() && seg.ack > fin);
            self.states[side] = match self.states[side] {
                State::Established | State::SynReceived => State::CloseWait,
                State::FinWait1 if its_fin_acked => State::TimeWait,
                State::FinWait1 => State::Closing,
                State::FinWait2 => State::TimeWait,
                other => other,
            };
        }
    }

    /// Whether `seg` acknowledges `side`'s SYN.
    fn acks_syn(&self, side: usize, seg: &Segment) -> bool {
        self.isn[side].is_some_and(|isn| seg.flags.ack() && seg.ack == isn + 1)
    }
}

fn changes(before: [State; 2], after: [State; 2]) -> Changes {
    [0, 1].map(|i| (before[i] != after[i]).then_some(after[i]))
}
