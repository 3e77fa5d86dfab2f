//! One small error enum per operation, each with a message a person can read.

use crate::ConnError;
use thiserror::Error;

/// Why `connect` failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum ConnectError {
    /// The remote address is unspecified, multicast, or port 0; or families differ.
    #[error(
        "the remote address is not one a connection can go to (unspecified, multicast, port 0, or another IP version)"
    )]
    InvalidRemoteAddress,
    /// The endpoint has no local address of the remote's family.
    #[error("no local address of the remote address's IP version")]
    NoLocalAddress,
    /// The local address is not one of this endpoint's.
    #[error("the local address is not one of this endpoint's")]
    InvalidLocalAddress,
    /// The 4-tuple is in use (also by a TIME-WAIT record), or no ephemeral port is free.
    #[error("address in use (the 4-tuple is taken, or no ephemeral port is free)")]
    AddrInUse,
}

/// Why `listen` failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum ListenError {
    /// Another listener holds that address and port.
    #[error("address in use (another listener holds that address and port)")]
    AddrInUse,
    /// Port 0, or a local address that is not this endpoint's.
    #[error("cannot listen there (port 0, or an address that is not this endpoint's)")]
    InvalidAddress,
    /// Backlog 0.
    #[error("the backlog must be at least 1")]
    InvalidBacklog,
    /// `listen_bound` on a handle that names no bound socket or listener.
    #[error("no such bound socket or listener")]
    InvalidHandle,
}

/// Why `send` failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum SendError {
    /// The handle does not name a live connection.
    #[error("no such connection")]
    InvalidHandle,
    /// The handshake has not completed.
    #[error("not connected yet (the handshake has not completed)")]
    NotConnected,
    /// The write side was shut down or closed (EPIPE).
    #[error("the write side is shut down or closed")]
    Closed,
    /// The connection failed.
    #[error("{0}")]
    Failed(ConnError),
    /// The send buffer is full; wait for `Event::Writable`.
    #[error("the send buffer is full")]
    WouldBlock,
}

/// Why `recv` failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum RecvError {
    /// The handle does not name a live connection.
    #[error("no such connection")]
    InvalidHandle,
    /// The handshake has not completed.
    #[error("not connected yet (the handshake has not completed)")]
    NotConnected,
    /// The connection failed; buffered data has been read or discarded.
    #[error("{0}")]
    Failed(ConnError),
    /// Nothing to read yet; wait for `Event::Readable`.
    #[error("nothing to read yet")]
    WouldBlock,
}

/// Errors of calls that only need a live handle (`shutdown`, `close`, options).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("no such connection or listener")]
pub struct InvalidHandle;
