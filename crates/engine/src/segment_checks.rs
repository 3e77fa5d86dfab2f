//! The checks RFC 9293 §3.10.7.4 makes of a segment that arrives in SYN-RECEIVED or a
//! synchronized state, as pure functions that return verdicts, and the one rate limiter every
//! challenge ACK goes through. The half-open record, the connection and the TIME-WAIT record
//! call these; none of them writes the rules again.

use crate::time::MsStamp;
use crate::{Counters, Instant};
use std::time::Duration;
use synack_wire::SeqNum;

/// RCV.NXT =< `seq` < RCV.NXT + RCV.WND.
#[inline]
pub(crate) fn seq_in_window(seq: SeqNum, rcv_nxt: SeqNum, rcv_wnd: u32) -> bool {
    seq.in_range(rcv_nxt, rcv_nxt + rcv_wnd)
}

/// RFC 9293 §3.10.7.4, first: the four cases of the acceptability test for a segment of
/// `len` sequence numbers (text, SYN and FIN counted) starting at `seq`. With a zero window,
/// a segment at RCV.NXT is acceptable whatever its length: its text is trimmed away, and its
/// ACK, RST and window are still processed (the RFC's "special allowance").
#[inline]
pub(crate) fn acceptable(seq: SeqNum, len: u32, rcv_nxt: SeqNum, rcv_wnd: u32) -> bool {
    match (len, rcv_wnd) {
        (_, 0) => seq == rcv_nxt,
        (0, _) => seq_in_window(seq, rcv_nxt, rcv_wnd),
        (_, _) => seq_in_window(seq, rcv_nxt, rcv_wnd) || seq_in_window(seq + (len - 1), rcv_nxt, rcv_wnd),
    }
}

/// What an acceptable RST does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RstVerdict {
    /// It resets the connection (or removes the half-open entry).
    Reset,
    /// It is answered with a challenge ACK and otherwise ignored.
    Challenge,
}

/// RFC 9293 §3.10.7.4, second, as RFC 5961 §3.2 refines it: a RST whose sequence number is
/// exactly RCV.NXT resets; any other in the window gets a challenge ACK. `insecure` is RFC
/// 793's rule (Linux has no such switch; FreeBSD's `net.inet.tcp.insecure_rst`): any RST in
/// the window resets.
#[inline]
pub(crate) fn rst_verdict(seq: SeqNum, rcv_nxt: SeqNum, insecure: bool) -> RstVerdict {
    if seq == rcv_nxt || insecure {
        RstVerdict::Reset
    } else {
        RstVerdict::Challenge
    }
}

/// What a SYN in SYN-RECEIVED (other than the retransmitted one) or a synchronized state does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SynVerdict {
    /// RFC 5961 §4.2: a challenge ACK, whatever its sequence number.
    Challenge,
    /// RFC 793 (`tcp_insecure_syn`): a SYN in the window resets the connection.
    Reset,
}

/// RFC 9293 §3.10.7.4, fourth (RFC 5961 §4.2), or RFC 793's rule with `insecure`.
#[inline]
pub(crate) fn syn_verdict(insecure: bool) -> SynVerdict {
    if insecure {
        SynVerdict::Reset
    } else {
        SynVerdict::Challenge
    }
}

/// The endpoint's share of challenge ACKs: at most `tcp_challenge_ack_limit` a second, for
/// all its records together (RFC 5961 §7; Linux's per-namespace limit, unlimited by default
/// since each record has its own limit).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ChallengeBudget {
    second: u64,
    sent: u32,
}

/// A record's limit on the ACKs that answer unacceptable segments and challenges (RFC 5961
/// §7): at most `burst` in the `interval` from the first of them. Linux's is one per
/// `tcp_invalid_ratelimit`; FreeBSD's five per second (`ack_war_cnt`, `ack_war_timewindow`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct AckLimit {
    pub interval: Duration,
    pub burst: u8,
}

impl AckLimit {
    pub fn of(config: &crate::Config) -> AckLimit {
        AckLimit { interval: config.tcp_invalid_ratelimit, burst: config.tcp_invalid_ratelimit_burst.max(1) }
    }
}

/// A record's count of limited ACKs: when its window began and how many went in it.
pub(crate) struct AckCount<'a> {
    pub since: &'a mut MsStamp,
    pub sent: &'a mut u8,
}

/// Whether a challenge ACK may go now: the record's own limit and then the endpoint's
/// (`budget`, `per_second`). A refused one is counted in `acks_rate_limited`.
pub(crate) fn challenge_allowed(
    now: Instant,
    count: AckCount,
    limit: AckLimit,
    budget: &mut ChallengeBudget,
    per_second: u32,
    counters: &mut Counters,
) -> bool {
    out_of_window_ack_allowed(now, count, limit, counters) && budget_allows(now, budget, per_second, counters)
}

/// The endpoint's limit alone, for a record that keeps no time of its own (TIME-WAIT, whose
/// record stays at 64 bytes); counts the challenge ACK when it may go.
pub(crate) fn budget_allows(
    now: Instant,
    budget: &mut ChallengeBudget,
    per_second: u32,
    counters: &mut Counters,
) -> bool {
    let second = now.as_micros() / 1_000_000;
    if second != budget.second {
        *budget = ChallengeBudget { second, sent: 0 };
    }
    if budget.sent >= per_second {
        counters.acks_rate_limited += 1;
        return false;
    }
    budget.sent += 1;
    counters.challenge_acks_sent += 1;
    true
}

/// The per-record limit alone, for the ACK that answers an unacceptable bare segment (Linux's
/// `tcp_oow_rate_limited`): two endpoints that each answered the other's unacceptable ACK
/// would loop forever.
pub(crate) fn out_of_window_ack_allowed(
    now: Instant,
    count: AckCount,
    limit: AckLimit,
    counters: &mut Counters,
) -> bool {
    if count.since.elapsed(now) >= limit.interval {
        *count.since = MsStamp::at(now);
        *count.sent = 1;
        true
    } else if *count.sent < limit.burst {
        *count.sent += 1;
        true
    } else {
        counters.acks_rate_limited += 1;
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_four_cases_of_acceptability() {
        let nxt = SeqNum(1000);
        assert!(acceptable(SeqNum(1000), 0, nxt, 0));
        assert!(!acceptable(SeqNum(1001), 0, nxt, 0));
        assert!(acceptable(SeqNum(1099), 0, nxt, 100));
        assert!(!acceptable(SeqNum(1100), 0, nxt, 100));
        assert!(acceptable(SeqNum(1000), 10, nxt, 0), "the zero-window allowance");
        assert!(!acceptable(SeqNum(999), 10, nxt, 0));
        assert!(acceptable(SeqNum(995), 10, nxt, 100), "its tail is in the window");
        assert!(!acceptable(SeqNum(990), 10, nxt, 100));
    }

    #[test]
    fn only_an_exact_rst_resets_unless_insecure() {
        assert_eq!(rst_verdict(SeqNum(5), SeqNum(5), false), RstVerdict::Reset);
        assert_eq!(rst_verdict(SeqNum(6), SeqNum(5), false), RstVerdict::Challenge);
        assert_eq!(rst_verdict(SeqNum(6), SeqNum(5), true), RstVerdict::Reset);
        assert_eq!(syn_verdict(false), SynVerdict::Challenge);
    }

    #[test]
    fn challenges_are_limited_per_record_and_per_endpoint() {
        let mut counters = Counters::default();
        let mut budget = ChallengeBudget::default();
        let limit = AckLimit { interval: Duration::from_millis(500), burst: 1 };
        let mut records = [(MsStamp::NEVER, 0u8); 3];
        let mut allowed = |t: Instant, r: usize, budget: &mut ChallengeBudget, counters: &mut Counters| {
            let (since, sent) = &mut records[r];
            challenge_allowed(t, AckCount { since, sent }, limit, budget, 2, counters)
        };
        let t0 = Instant::from_micros(10_000_000);
        assert!(allowed(t0, 0, &mut budget, &mut counters));
        assert!(!allowed(t0, 0, &mut budget, &mut counters), "the record's own limit");
        assert!(allowed(t0, 1, &mut budget, &mut counters));
        assert!(!allowed(t0, 2, &mut budget, &mut counters), "the endpoint's 2 a second");
        let t1 = Instant::from_micros(11_000_000);
        assert!(allowed(t1, 2, &mut budget, &mut counters), "a new second");
        assert_eq!((counters.challenge_acks_sent, counters.acks_rate_limited), (3, 2));
    }

    /// FreeBSD's limit: five in the window from the first, then none until it ends.
    #[test]
    fn a_burst_of_acks_fits_in_the_window_then_the_limit_holds() {
        let mut counters = Counters::default();
        let limit = AckLimit { interval: Duration::from_secs(1), burst: 5 };
        let (mut since, mut sent) = (MsStamp::NEVER, 0u8);
        let mut at = |ms: u64| {
            let now = Instant::from_micros(ms * 1000);
            out_of_window_ack_allowed(now, AckCount { since: &mut since, sent: &mut sent }, limit, &mut counters)
        };
        let went: Vec<bool> = [0, 100, 200, 300, 400, 500, 999, 1000].into_iter().map(&mut at).collect();
        assert_eq!(went, [true, true, true, true, true, false, false, true]);
    }
}
