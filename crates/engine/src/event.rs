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
    /// A state change, for traces and state tables.
    Transition(Transition),
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
}

impl fmt::Display for ConnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConnError::Refused => "connection refused",
            ConnError::Reset => "connection reset by peer",
            ConnError::TimedOut => "connection timed out",
            ConnError::Aborted => "connection aborted",
        })
    }
}

/// One state change of one connection (or half-open entry, or TIME-WAIT record).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    pub at: Instant,
    pub tuple: FourTuple,
    pub from: State,
    pub to: State,
    pub cause: Cause,
}

/// What made a transition happen, in the words a trace prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    Connect,
    RcvdSyn,
    RcvdSynAck,
    RcvdAck,
    RcvdAckOfFin,
    RcvdFin,
    RcvdFinAckOfFin,
    RcvdRst,
    Close,
    Shutdown,
    Abort,
    TimeWaitExpired,
    SynRetriesExhausted,
    SynAckRetriesExhausted,
    RetransmissionsExhausted,
    UserTimeout,
    KeepaliveTimeout,
    FinWait2Timeout,
    ListenerClosed,
    DataAfterClose,
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
