//! TIME-WAIT as a small record that replaces the full connection (RFC 9293 §3.10.7.4 for the
//! state's rules; RFC 1337 for ignoring RST). As in Linux's `tcp_timewait_state_process`, the
//! record only *decides*; the endpoint acts on the verdict.

use crate::segment_checks;
use crate::{FourTuple, Instant, IpFields};
use synack_wire::{SeqNum, TcpRepr};

#[derive(Debug, Clone)]
pub(crate) struct TimeWait {
    pub tuple: FourTuple,
    pub snd_nxt: SeqNum,
    pub rcv_nxt: SeqNum,
    pub ts_recent: u32,
    pub deadline: Instant,
    /// The window field of our last ACK, already scaled down.
    pub window: u16,
    pub ts_ok: bool,
    /// The connection's IP_TTL and IP_TOS, for the record's ACKs and RSTs.
    pub ip: IpFields,
    /// The connection signed its segments (RFC 2385): so do the record's, and it takes only
    /// signed ones.
    pub md5: bool,
}

/// What to do with a segment that arrived for a TIME-WAIT record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimeWaitVerdict {
    /// Drop silently: a RST (RFC 1337), a segment without ACK, or a bare ACK at RCV.NXT
    /// (answering those would let two TIME-WAIT records ACK each other forever).
    Drop,
    /// A retransmitted FIN: ACK it again and restart the 2MSL timer.
    AckAndRestart,
    /// An out-of-window segment or one with data: ACK it (RFC 9293 §3.10.7.4, first:
    /// unacceptable segments are answered with an ACK); the timer keeps running.
    Ack,
    /// A SYN that does not reopen: a challenge ACK (RFC 5961 §4.2), within the endpoint's
    /// limit on them.
    Challenge,
    /// A new SYN with a sequence number above the old connection's: end TIME-WAIT and let
    /// the listener take it (RFC 9293 §3.10.7.4 note, RFC 6191).
    Reopen,
    /// With `tcp_insecure_syn`, a SYN in the window: RST and CLOSED (RFC 793).
    Reset,
}

/// The configuration a TIME-WAIT decision depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TimeWaitRules {
    /// A newer SYN may reopen the connection (RFC 6191, Linux and the BSDs).
    pub reopen: bool,
    /// RFC 793's answer to a SYN in the window: RST.
    pub insecure_syn: bool,
}

impl TimeWait {
    pub fn decide(&self, seg: &TcpRepr, rules: TimeWaitRules) -> TimeWaitVerdict {
        let flags = seg.flags;
        // RFC 1337 (TIME-WAIT assassination): ignore RST in TIME-WAIT.
        if flags.rst() {
            return TimeWaitVerdict::Drop;
        }
        // RFC 793 (`tcp_insecure_syn`): any SYN in the window resets. The window is the
        // field of our last ACK (a scaled one counts as unscaled).
        let in_window = segment_checks::seq_in_window(seg.seq, self.rcv_nxt, self.window as u32);
        if flags.syn() && rules.insecure_syn && in_window && !(rules.reopen && !flags.ack() && seg.seq > self.rcv_nxt) {
            return TimeWaitVerdict::Reset;
        }
        if flags.syn() && !flags.ack() {
            let newer_ts = match (self.ts_ok, seg.options.timestamps) {
                (true, Some((val, _))) => SeqNum(val) > SeqNum(self.ts_recent),
                _ => false,
            };
            if rules.reopen && (seg.seq > self.rcv_nxt || newer_ts) {
                return TimeWaitVerdict::Reopen;
            }
            // RFC 5961 §4.2 (or an out-of-window SYN): a challenge ACK.
            return TimeWaitVerdict::Challenge;
        }
        if !flags.ack() {
            return TimeWaitVerdict::Drop;
        }
        // RFC 9293 §3.10.7.4, eighth, TIME-WAIT: "Remain in the TIME-WAIT state. Restart the
        // 2 MSL time-wait timeout." — for the retransmitted FIN that ends at RCV.NXT.
        if flags.fin() && seg.seq + seg.payload.len() as u32 + 1 == self.rcv_nxt {
            return TimeWaitVerdict::AckAndRestart;
        }
        // "The only thing that can arrive in this state is a retransmission of the remote FIN":
        // an acceptable bare ACK has nothing to act on.
        if seg.seq == self.rcv_nxt && seg.segment_len() == 0 {
            return TimeWaitVerdict::Drop;
        }
        TimeWaitVerdict::Ack
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::SocketAddr;
    use synack_wire::{TcpFlags, TcpOptions};

    fn record() -> TimeWait {
        TimeWait {
            tuple: FourTuple::new(SocketAddr::from(([1, 1, 1, 1], 1)), SocketAddr::from(([2, 2, 2, 2], 2))),
            snd_nxt: SeqNum(500),
            rcv_nxt: SeqNum(1000),
            ts_recent: 0,
            deadline: Instant::ZERO,
            window: 100,
            ts_ok: false,
            ip: IpFields::default(),
            md5: false,
        }
    }

    const LINUX: TimeWaitRules = TimeWaitRules { reopen: true, insecure_syn: false };

    fn seg(seq: u32, flags: TcpFlags) -> TcpRepr<'static> {
        TcpRepr {
            src_port: 2,
            dst_port: 1,
            seq: SeqNum(seq),
            ack: SeqNum(500),
            flags,
            window: 100,
            urgent: 0,
            options: TcpOptions::default(),
            payload: &[],
        }
    }

    #[test]
    fn rst_is_ignored_per_rfc1337() {
        assert_eq!(record().decide(&seg(1000, TcpFlags::RST), LINUX), TimeWaitVerdict::Drop);
        assert_eq!(record().decide(&seg(1000, TcpFlags::RST | TcpFlags::ACK), LINUX), TimeWaitVerdict::Drop);
    }

    #[test]
    fn retransmitted_fin_is_acked_and_restarts_2msl() {
        let v = record().decide(&seg(999, TcpFlags::FIN | TcpFlags::ACK), LINUX);
        assert_eq!(v, TimeWaitVerdict::AckAndRestart);
    }

    #[test]
    fn bare_ack_at_rcv_nxt_is_dropped_and_an_old_one_is_acked() {
        assert_eq!(record().decide(&seg(1000, TcpFlags::ACK), LINUX), TimeWaitVerdict::Drop);
        assert_eq!(record().decide(&seg(900, TcpFlags::ACK), LINUX), TimeWaitVerdict::Ack);
    }

    #[test]
    fn without_reopen_a_syn_in_window_resets_or_is_challenged() {
        let strict = TimeWaitRules { reopen: false, insecure_syn: true };
        assert_eq!(record().decide(&seg(1000, TcpFlags::SYN), strict), TimeWaitVerdict::Reset);
        assert_eq!(record().decide(&seg(1099, TcpFlags::SYN), strict), TimeWaitVerdict::Reset);
        assert_eq!(record().decide(&seg(1100, TcpFlags::SYN), strict), TimeWaitVerdict::Challenge);
        let secure = TimeWaitRules { reopen: false, insecure_syn: false };
        assert_eq!(record().decide(&seg(1000, TcpFlags::SYN), secure), TimeWaitVerdict::Challenge);
    }

    #[test]
    fn new_syn_above_rcv_nxt_reopens_and_old_one_is_acked() {
        assert_eq!(record().decide(&seg(5000, TcpFlags::SYN), LINUX), TimeWaitVerdict::Reopen);
        assert_eq!(record().decide(&seg(10, TcpFlags::SYN), LINUX), TimeWaitVerdict::Challenge);
    }
}
