use crate::handle::{ConnHandle, ListenerHandle};
use crate::{FourTuple, Instant, State};
use std::fmt;

/// What the user learns by polling `Endpoint::poll_event`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// An active open completed: the connection is ESTABLISHED.
    Connected(ConnHandle),
    /// A connection is waiting in the listener's accept queue.
    Incoming(ListenerHandle),
    /// New data (or the peer's FIN) can be read.
    Readable(ConnHandle),
    /// Send-buffer space was freed.
    Writable(ConnHandle),
    /// The peer sent FIN: after the buffered data, reads return end of stream.
    PeerClosed(ConnHandle),
    /// The connection failed: refused, reset or timed out.
    Error(ConnHandle, ConnError),
    /// The connection reached CLOSED or TIME-WAIT; its buffers stay readable until released.
    Closed(ConnHandle),
}

/// Why a connection ended abnormally.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnError {
    /// RST in answer to our SYN (ECONNREFUSED).
    Refused,
    /// RST on a synchronized connection (ECONNRESET).
    Reset,
    /// Retransmissions or the user timeout ran out (ETIMEDOUT).
    TimedOut,
    /// Aborted locally (`abort`, linger 0, or data arriving after `close`).
    Aborted,
    /// An ICMP error said the host cannot be reached (EHOSTUNREACH).
    HostUnreachable,
    /// An ICMP error said the network cannot be reached (ENETUNREACH).
    NetUnreachable,
}

impl fmt::Display for ConnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConnError::Refused => "connection refused",
            ConnError::Reset => "connection reset by peer",
            ConnError::TimedOut => "connection timed out",
            ConnError::Aborted => "connection aborted",
            ConnError::HostUnreachable => "no route to host",
            ConnError::NetUnreachable => "network is unreachable",
        })
    }
}

/// One state change of one connection (or half-open entry, or TIME-WAIT record), for traces
/// (`Endpoint::trace_transitions`, `Endpoint::poll_transition`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    /// When it happened.
    pub at: Instant,
    /// The connection's 4-tuple.
    pub tuple: FourTuple,
    /// The state before.
    pub from: State,
    /// The state after.
    pub to: State,
    /// What made it happen.
    pub cause: Cause,
}

/// What made a transition happen, in the words a trace prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// `connect` was called.
    Connect,
    /// A SYN arrived.
    RcvdSyn,
    /// A SYN-ACK arrived.
    RcvdSynAck,
    /// An acceptable ACK arrived.
    RcvdAck,
    /// An ACK with a valid SYN cookie arrived at a listener (no SYN-RECEIVED state was kept).
    RcvdCookieAck,
    /// The ACK of our FIN arrived.
    RcvdAckOfFin,
    /// The peer's FIN arrived.
    RcvdFin,
    /// The peer's FIN and the ACK of ours arrived together.
    RcvdFinAckOfFin,
    /// A RST arrived.
    RcvdRst,
    /// `close` was called.
    Close,
    /// `shutdown` was called.
    Shutdown,
    /// `abort` was called (or linger 0).
    Abort,
    /// 2MSL passed in TIME-WAIT.
    TimeWaitExpired,
    /// `tcp_syn_retries` SYNs went unanswered.
    SynRetriesExhausted,
    /// An ICMP error ended the connection (RFC 1122 §4.2.3.9).
    IcmpError,
    /// The handshake did not complete within the connection-establishment limit
    /// (`tcp_keepinit`, TCP_KEEPINIT).
    ConnectTimeout,
    /// `tcp_synack_retries` SYN-ACKs went unanswered.
    SynAckRetriesExhausted,
    /// `tcp_retries2` retransmissions went unanswered.
    RetransmissionsExhausted,
    /// The user timeout passed with data unacknowledged.
    UserTimeout,
    /// Keepalive probes went unanswered.
    KeepaliveTimeout,
    /// An orphaned connection stayed in FIN-WAIT-2 longer than `tcp_fin_timeout`.
    FinWait2Timeout,
    /// The listener was closed with the connection in its queue.
    ListenerClosed,
    /// Data arrived after `close` (answered with RST).
    DataAfterClose,
    /// A new SYN ended TIME-WAIT (RFC 6191).
    NewSynInTimeWait,
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Cause::Connect => "connect()",
            Cause::RcvdSyn => "rcvd SYN",
            Cause::RcvdSynAck => "rcvd SYN-ACK",
            Cause::RcvdAck => "rcvd ACK",
            Cause::RcvdAckOfFin => "rcvd ACK of FIN",
            Cause::RcvdFin => "rcvd FIN",
            Cause::RcvdFinAckOfFin => "rcvd FIN with ACK of FIN",
            Cause::RcvdRst => "rcvd RST",
            Cause::Close => "close()",
            Cause::Shutdown => "shutdown()",
            Cause::Abort => "abort(): sent RST",
            Cause::TimeWaitExpired => "2MSL expired",
            Cause::SynRetriesExhausted => "SYN retries exhausted",
            Cause::ConnectTimeout => "connection-establishment limit passed",
            Cause::IcmpError => "ICMP error",
            Cause::RcvdCookieAck => "rcvd ACK with a valid SYN cookie",
            Cause::SynAckRetriesExhausted => "SYN-ACK retries exhausted",
            Cause::RetransmissionsExhausted => "retransmissions exhausted",
            Cause::UserTimeout => "user timeout",
            Cause::KeepaliveTimeout => "keepalive probes unanswered",
            Cause::FinWait2Timeout => "FIN-WAIT-2 timeout",
            Cause::ListenerClosed => "listener closed: sent RST",
            Cause::DataAfterClose => "data after close(): sent RST",
            Cause::NewSynInTimeWait => "new SYN reopens",
        })
    }
}
