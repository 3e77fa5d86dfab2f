//! A half-open (SYN-RECEIVED, passive) entry: the few facts a listener must keep between its
//! SYN-ACK and the final ACK. The full connection is built only when that ACK checks out, as
//! Linux does with request sockets; until then a SYN costs one of these records.

use crate::handle::ListenerHandle;
use crate::time::MsStamp;
use crate::{FourTuple, Instant};
use synack_wire::SeqNum;

#[derive(Debug, Clone)]
pub(crate) struct HalfOpen {
    pub tuple: FourTuple,
    pub listener: ListenerHandle,
    pub iss: SeqNum,
    pub irs: SeqNum,
    /// TSval of the SYN, echoed in our SYN-ACK (RFC 7323 §4.3).
    pub ts_recent: u32,
    /// Our TSval offset for this connection (kept so no retransmission rehashes the tuple).
    pub ts_offset: u32,
    /// When the next SYN-ACK retransmission (or, after the last one, the expiry) is due.
    pub deadline: Instant,
    /// When the entry last sent a challenge ACK (RFC 5961 §7's per-record limit).
    pub last_challenge: MsStamp,
    /// Challenge ACKs sent since `last_challenge` began the limit's window.
    pub challenges: u8,
    /// The MSS the peer announced (536 when absent, RFC 9293 §3.7.1).
    pub peer_mss: u16,
    /// The peer's window-scale shift, when both sides offered scaling.
    pub peer_wscale: Option<u8>,
    /// SYN-ACKs retransmitted so far.
    pub retries: u8,
    pub sack_ok: bool,
    pub ts_ok: bool,
    /// The listener sends no options (`TCP_NOOPT`): the SYN-ACK carries none, not even MSS.
    pub no_options: bool,
    /// The SYN asked for ECN and we agreed (RFC 3168 §6.1.1).
    pub ecn_ok: bool,
    /// A retransmitted SYN had the SYN-ACK sent again: the final ACK's time no longer
    /// measures the RTT (Karn's rule, RFC 6298 §3).
    pub resent: bool,
}

/// RFC 9293 §3.7.1: the MSS assumed when the peer sends no MSS option.
pub(crate) const DEFAULT_MSS: u16 = 536;
