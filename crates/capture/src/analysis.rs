//! Anomalies of a connection's segments, with the meanings of Wireshark's `tcp.analysis`
//! flags (retransmission, fast and spurious retransmission, out-of-order, previous segment
//! not captured, duplicate ACK, zero window and its probe, window full, window update,
//! keep-alive, ACK of an unseen segment), decided as Wireshark decides them: per direction,
//! from the highest sequence number sent, the last ACK and window sent, and the count of
//! duplicate ACKs. A reset is marked too, on the side that sent it.

use crate::decode::Segment;
use std::time::Duration;
use synack_wire::SeqNum;

/// One anomaly of a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Anomaly {
    /// Data (or SYN/FIN) sent again: below the highest sequence number its sender had sent.
    Retransmission,
    /// A retransmission right after two or more duplicate ACKs asking for it.
    FastRetransmission,
    /// A retransmission of data the receiver had already acknowledged.
    SpuriousRetransmission,
    /// Sent below the highest sequence number within a round trip of it: reordered.
    OutOfOrder,
    /// A gap before this segment: something its sender sent was not captured.
    PreviousSegmentNotCaptured,
    /// A duplicate ACK: the `n`th in a row for the same ACK number.
    DuplicateAck(u32),
    /// The sender advertises a window of zero.
    ZeroWindow,
    /// One byte past a zero window, probing it.
    ZeroWindowProbe,
    /// The segment fills the receiver's window to its last byte.
    WindowFull,
    /// A bare ACK that only changes the window.
    WindowUpdate,
    /// A keep-alive: zero or one byte one below the next sequence number.
    KeepAlive,
    /// It acknowledges data the capture never saw.
    AckedUnseenSegment,
    /// A RST (marked on the side that sent it).
    Reset,
}

impl Anomaly {
    /// The fields of `tshark -Y tcp.analysis.<field>` that mark the same segments: a fast
    /// or spurious retransmission is a retransmission to Wireshark too.
    pub fn tshark_fields(self) -> Vec<&'static str> {
        match self {
            Anomaly::FastRetransmission | Anomaly::SpuriousRetransmission => {
                self.tshark_field().into_iter().chain(["retransmission"]).collect()
            }
            other => other.tshark_field().into_iter().collect(),
        }
    }

    /// The field of `tshark -Y tcp.analysis.<field>` with the same meaning, if there is one.
    pub fn tshark_field(self) -> Option<&'static str> {
        Some(match self {
            Anomaly::Retransmission => "retransmission",
            Anomaly::FastRetransmission => "fast_retransmission",
            Anomaly::SpuriousRetransmission => "spurious_retransmission",
            Anomaly::OutOfOrder => "out_of_order",
            Anomaly::PreviousSegmentNotCaptured => "lost_segment",
            Anomaly::DuplicateAck(_) => "duplicate_ack",
            Anomaly::ZeroWindow => "zero_window",
            Anomaly::ZeroWindowProbe => "zero_window_probe",
            Anomaly::WindowFull => "window_full",
            Anomaly::WindowUpdate => "window_update",
            Anomaly::KeepAlive => "keep_alive",
            Anomaly::AckedUnseenSegment => "ack_lost_segment",
            Anomaly::Reset => return None,
        })
    }

    /// How the ladder and the listing name it.
    pub fn name(self) -> String {
        match self {
            Anomaly::Retransmission => "retransmission".into(),
            Anomaly::FastRetransmission => "fast retransmission".into(),
            Anomaly::SpuriousRetransmission => "spurious retransmission".into(),
            Anomaly::OutOfOrder => "out-of-order".into(),
            Anomaly::PreviousSegmentNotCaptured => "previous segment not captured".into(),
            Anomaly::DuplicateAck(n) => format!("dup ACK #{n}"),
            Anomaly::ZeroWindow => "zero window".into(),
            Anomaly::ZeroWindowProbe => "zero-window probe".into(),
            Anomaly::WindowFull => "window full".into(),
            Anomaly::WindowUpdate => "window update".into(),
            Anomaly::KeepAlive => "keep-alive".into(),
            Anomaly::AckedUnseenSegment => "ACKed unseen segment".into(),
            Anomaly::Reset => "RST".into(),
        }
    }

    /// The kind, without a duplicate ACK's number (for counting).
    pub fn kind(self) -> Anomaly {
        match self {
            Anomaly::DuplicateAck(_) => Anomaly::DuplicateAck(0),
            other => other,
        }
    }
}

/// What one direction of the connection has shown so far.
#[derive(Debug, Default, Clone)]
struct Flow {
    /// The sequence number after the highest segment sent, and when it was sent.
    next_seq: Option<SeqNum>,
    next_seq_time: Duration,
    /// The acknowledgment field of the last segment sent (None while it is 0, as Wireshark
    /// reads it), the window field, and when.
    last_ack: Option<SeqNum>,
    last_ack_time: Duration,
    window: Option<u32>,
    dup_acks: u32,
    /// The last segment was a keep-alive or a zero-window probe (for the answer's sake).
    last_was_probe: bool,
    /// The window-scale shift offered in its SYN.
    wscale: Option<u8>,
    syn_seen: bool,
}

/// Wireshark's threshold for calling a segment out of order rather than retransmitted when
/// the handshake's round trip is unknown.
const OUT_OF_ORDER_DEFAULT: Duration = Duration::from_millis(3);
/// A fast retransmission follows the duplicate ACKs within this.
const FAST_RETRANSMIT_WITHIN: Duration = Duration::from_millis(20);

/// Decides the anomalies of a connection's segments one by one, in capture order.
#[derive(Debug, Default, Clone)]
pub struct Analyzer {
    flows: [Flow; 2],
    /// The time of the client's first SYN and the handshake's round trip, once known.
    syn_time: Option<Duration>,
    initial_rtt: Option<Duration>,
}

impl Analyzer {
    /// The anomalies of `seg`, sent by `side` (0 the client, 1 the server).
    pub fn on_segment(&mut self, side: usize, seg: &Segment) -> Vec<Anomaly> {
        let mut found = Vec::new();
        let f = seg.flags;
        let control = f.syn() || f.fin() || f.rst();
        let (fwd, rev) = if side == 0 {
            let [a, b] = &mut self.flows;
            (a, b)
        } else {
            let [a, b] = &mut self.flows;
            (b, a)
        };
        if f.syn() {
            if !fwd.syn_seen {
                fwd.wscale = seg.window_scale;
            }
            fwd.syn_seen = true;
            if side == 0 && !f.ack() {
                self.syn_time.get_or_insert(seg.time);
            }
        }
        // The handshake's round trip: from the SYN to the ACK that completes it.
        if side == 0 && f.ack() && !f.syn() && self.initial_rtt.is_none() && rev.syn_seen {
            if let Some(syn) = self.syn_time {
                self.initial_rtt = Some(seg.time.saturating_sub(syn));
            }
        }
        // RFC 7323 §2.2: windows scale only when both SYNs offered it; never in a SYN.
        let both_scale = fwd.wscale.is_some() && rev.wscale.is_some();
        let shift = |flow: &Flow| if both_scale { flow.wscale.unwrap_or(0).min(14) } else { 0 };
        let window = if f.syn() { seg.window as u32 } else { (seg.window as u32) << shift(fwd) };
        let len = seg.len;
        let same_ack = f.ack() && fwd.last_ack == Some(seg.ack);
        let at_next = fwd.next_seq == Some(seg.seq);
        let mut zero_window_probe = false;
        let mut keep_alive = false;
        'checks: {
            if len == 1 && at_next && rev.window == Some(0) {
                found.push(Anomaly::ZeroWindowProbe);
                zero_window_probe = true;
                break 'checks;
            }
            if seg.window == 0 && !control {
                found.push(Anomaly::ZeroWindow);
            }
            if fwd.next_seq.is_some_and(|next| seg.seq > next) && !f.rst() {
                found.push(Anomaly::PreviousSegmentNotCaptured);
            }
            if len <= 1 && !control && fwd.next_seq.is_some_and(|next| seg.seq == next - 1) {
                found.push(Anomaly::KeepAlive);
                keep_alive = true;
            }
            if len == 0 && window != 0 && fwd.window.is_some_and(|w| w != window) && at_next && same_ack && !control {
                found.push(Anomaly::WindowUpdate);
            }
            if len > 0 && !control {
                if let (Some(rev_ack), Some(rev_window)) = (rev.last_ack, rev.window) {
                    if seg.seq + len == rev_ack + rev_window {
                        found.push(Anomaly::WindowFull);
                    }
                }
            }
            let plain_repeat = len == 0 && fwd.window == Some(window) && at_next && same_ack && !control;
            if plain_repeat && rev.last_was_probe {
                // The answer to a keep-alive or a zero-window probe: not a duplicate ACK.
                break 'checks;
            }
            if plain_repeat && window != 0 {
                fwd.dup_acks += 1;
                found.push(Anomaly::DuplicateAck(fwd.dup_acks));
            }
        }
        // A new ACK number ends a run of duplicates (a window update in between does not).
        if !same_ack {
            fwd.dup_acks = 0;
        }
        if f.ack() && rev.next_seq.is_some_and(|next| seg.ack > next) {
            found.push(Anomaly::AckedUnseenSegment);
        }
        let occupies = len > 0 || f.syn() || f.fin();
        if occupies && !keep_alive && !zero_window_probe && fwd.next_seq.is_some_and(|next| seg.seq < next) {
            let out_of_order_within = self.initial_rtt.filter(|rtt| !rtt.is_zero()).unwrap_or(OUT_OF_ORDER_DEFAULT);
            if rev.dup_acks >= 2
                && rev.last_ack == Some(seg.seq)
                && seg.time.saturating_sub(rev.last_ack_time) < FAST_RETRANSMIT_WITHIN
            {
                found.push(Anomaly::FastRetransmission);
            } else if len > 0 && rev.last_ack.is_some_and(|ack| seg.seq + len <= ack) {
                found.push(Anomaly::SpuriousRetransmission);
            } else if seg.time.saturating_sub(fwd.next_seq_time) < out_of_order_within
                && fwd.next_seq != Some(seg.seq + len)
            {
                found.push(Anomaly::OutOfOrder);
            } else {
                found.push(Anomaly::Retransmission);
            }
        }
        if f.rst() {
            found.push(Anomaly::Reset);
        }
        let end = seg.seq + seg.seq_len();
        if occupies && !zero_window_probe && fwd.next_seq.is_none_or(|next| end > next) {
            fwd.next_seq = Some(end);
            fwd.next_seq_time = seg.time;
        }
        fwd.window = Some(window);
        // Wireshark keeps the acknowledgment field of every segment, ACK flag or not (a RST
        // without ACK carries 0), and takes 0 for "none yet": a retransmission after such a
        // RST is not called spurious.
        fwd.last_ack = (seg.ack.0 != 0).then_some(seg.ack);
        fwd.last_ack_time = seg.time;
        fwd.last_was_probe = keep_alive || zero_window_probe;
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use synack_wire::TcpFlags;

    fn seg(at_us: u64, seq: u32, ack: u32, flags: TcpFlags, len: u32) -> Segment {
        Segment {
            number: 0,
            time: Duration::from_micros(at_us),
            src: "10.0.0.1:1".parse().unwrap(),
            dst: "10.0.0.2:2".parse().unwrap(),
            seq: SeqNum(seq),
            ack: SeqNum(ack),
            flags,
            window: 1000,
            mss: None,
            window_scale: None,
            sack_permitted: false,
            sack: Default::default(),
            timestamps: None,
            len,
        }
    }

    /// Data already acknowledged and sent again is a spurious retransmission; sent again after
    /// the peer's RST without ACK (whose acknowledgment field, 0, Wireshark keeps as "none")
    /// it is a plain retransmission, as tshark calls it.
    #[test]
    fn a_rst_without_ack_forgets_the_last_acknowledgment() {
        let ack = TcpFlags::ACK;
        let mut a = Analyzer::default();
        a.on_segment(1, &seg(0, 5000, 100, ack, 1000));
        a.on_segment(1, &seg(1, 6000, 100, ack, 1000));
        a.on_segment(0, &seg(2, 100, 7000, ack, 0));
        assert_eq!(a.on_segment(1, &seg(10_000, 5000, 100, ack, 1000)), vec![Anomaly::SpuriousRetransmission]);
        a.on_segment(0, &seg(10_001, 100, 0, TcpFlags::RST, 0));
        assert_eq!(a.on_segment(1, &seg(20_000, 6000, 100, ack, 1000)), vec![Anomaly::Retransmission]);
    }
}
