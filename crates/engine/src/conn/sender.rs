//! The send side of a connection (gVisor's `sender`): the send sequence variables of RFC 9293
//! §3.3.1, the send buffer, the RTT estimator, the congestion controller and the loss-recovery
//! state. The connection's input and output code works on it through `Connection::snd`.

use super::recovery::FastRecovery;
use crate::congestion::{Congestion, HyStart};
use crate::rtt::RttEstimator;
use crate::scoreboard::Scoreboard;
use std::collections::VecDeque;
use synack_wire::SeqNum;

#[derive(Debug)]
pub(crate) struct Sender {
    /// ISS: our initial sequence number.
    pub iss: SeqNum,
    /// SND.UNA: the oldest unacknowledged sequence number.
    pub una: SeqNum,
    /// SND.NXT: the next sequence number to send (pulled back to SND.UNA to resend after a
    /// timeout).
    pub nxt: SeqNum,
    /// The highest SND.NXT so far.
    pub max: SeqNum,
    /// SND.WND: the peer's window, bytes (scaled).
    pub wnd: u32,
    /// The largest window the peer has offered (RFC 5961 §5.2's MAX.SND.WND).
    pub max_wnd: u32,
    /// SND.WL1 and SND.WL2: the segment that last updated the window.
    pub wl1: SeqNum,
    pub wl2: SeqNum,
    /// Data from SND.UNA on: sent and not acknowledged, then not yet sent.
    pub buf: VecDeque<u8>,
    /// The send buffer's size, bytes.
    pub cap: u32,
    pub rtt: RttEstimator,
    pub cc: Congestion,
    /// HyStart++'s rounds in the initial slow start (RFC 9406).
    pub hystart: HyStart,
    pub fast_recovery: FastRecovery,
    /// What the peer has SACKed above SND.UNA, what is lost and what recovery resent
    /// (RFC 6675), RACK's log, and the rest of loss recovery's state (PRR, undo), kept out of
    /// line: most connections never need it.
    pub scoreboard: Scoreboard,
    /// What the retransmission timer's deadline is for.
    pub retransmit_for: RetransmitFor,
    /// SND.MAX when the last probe went out: no second probe until SND.UNA passes it.
    pub loss_probe_high: Option<SeqNum>,
    /// RTT timing of one segment when timestamps are off (Karn: cleared on retransmission).
    pub rtt_probe: RttProbe,
    /// Where the last segment shorter than the MSS ended (Linux's `snd_sml`): Minshall's
    /// Nagle holds a small segment only while another small one is unacknowledged.
    pub small_end: SeqNum,
}

impl Sender {
    /// Before the SYN: everything at the ISS, no window, no data.
    #[inline(always)]
    pub fn new(iss: SeqNum, cap: u32, rto_initial_us: u64) -> Sender {
        Sender {
            iss,
            una: iss,
            nxt: iss,
            max: iss,
            wnd: 0,
            max_wnd: 0,
            wl1: SeqNum(0),
            wl2: SeqNum(0),
            buf: VecDeque::new(),
            cap,
            rtt: RttEstimator::new(rto_initial_us),
            cc: Congestion::new(crate::CongestionAlgorithm::Reno, 0, false),
            hystart: HyStart::new(iss),
            fast_recovery: FastRecovery::idle(iss),
            scoreboard: Scoreboard::default(),
            retransmit_for: RetransmitFor::Rto,
            loss_probe_high: None,
            rtt_probe: RttProbe::NONE,
            small_end: iss,
        }
    }

    /// Congestion control starts once the handshake is done: the initial window, and no
    /// recovery below the ISS (RFC 6582 §3.2: recover starts at the initial send sequence
    /// number).
    #[inline(always)]
    pub fn start_congestion_control(&mut self, config: &crate::Config, initial_window: u32) {
        let linux = config.compat.cubic_in_segments;
        self.cc = Congestion::new(config.tcp_congestion_control, initial_window, linux);
        self.fast_recovery = FastRecovery::idle(self.iss);
    }

    /// Sequence numbers sent and not yet acknowledged (SYN and FIN included).
    #[inline]
    pub fn flight(&self) -> u32 {
        self.max.since(self.una)
    }
}

/// The one segment timed for an RTT sample when timestamps are off (RFC 6298 §3): its
/// sequence number and when it was sent, microseconds, wrapping (`Instant` low bits: a probe
/// lives less than an RTO, far below the 71 minutes a wrap takes). Eight bytes where an
/// `Option` took twelve: a send time of `u32::MAX` means none (a probe sent at that
/// microsecond is not timed, a sample missed).
#[derive(Debug, Clone, Copy)]
pub(crate) struct RttProbe {
    seq: SeqNum,
    sent_us: u32,
}

impl RttProbe {
    pub const NONE: RttProbe = RttProbe { seq: SeqNum(0), sent_us: u32::MAX };

    pub fn set(&mut self, seq: SeqNum, sent_us: u32) {
        *self = RttProbe { seq, sent_us };
    }

    pub fn clear(&mut self) {
        *self = RttProbe::NONE;
    }

    pub fn is_set(&self) -> bool {
        self.sent_us != u32::MAX
    }

    pub fn get(&self) -> Option<(SeqNum, u32)> {
        self.is_set().then_some((self.seq, self.sent_us))
    }
}

/// What the retransmission timer is armed for: the RTO, or in its place (and sooner) a tail
/// loss probe (RFC 8985 §7) or RACK's reordering timer (RFC 8985 §6.3), as Linux multiplexes
/// them on one timer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RetransmitFor {
    Rto,
    LossProbe,
    Reorder,
}
