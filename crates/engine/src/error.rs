//! One small error enum per operation.

use crate::ConnError;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectError {
    /// The remote address is unspecified, multicast, or port 0; or families differ.
    InvalidRemoteAddress,
    /// The endpoint has no local address of the remote's family.
    NoLocalAddress,
    /// The local address is not one of this endpoint's.
    InvalidLocalAddress,
    /// The 4-tuple is in use (also by a TIME-WAIT record), or no ephemeral port is free.
    AddrInUse,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListenError {
    /// Another listener holds that address and port.
    AddrInUse,
    /// Port 0, or a local address that is not this endpoint's.
    InvalidAddress,
    /// Backlog 0.
    InvalidBacklog,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendError {
    /// The handle does not name a live connection.
    InvalidHandle,
    /// The handshake has not completed.
    NotConnected,
    /// The write side was shut down or closed (EPIPE).
    Closed,
    /// The connection failed.
    Failed(ConnError),
    /// The send buffer is full; wait for `Event::Writable`.
    WouldBlock,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecvError {
    InvalidHandle,
    NotConnected,
    /// The connection failed; buffered data has been read or discarded.
    Failed(ConnError),
    /// Nothing to read yet; wait for `Event::Readable`.
    WouldBlock,
}

/// Errors of calls that only need a live handle (`shutdown`, `close`, options).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidHandle;

macro_rules! display_via_debug {
    ($($t:ty),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(self, f)
            }
        }
        impl std::error::Error for $t {}
    )*};
}
display_via_debug!(ConnectError, ListenError, SendError, RecvError, InvalidHandle);
