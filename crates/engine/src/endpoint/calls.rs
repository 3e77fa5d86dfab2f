//! The socket-like calls on a connection: send, recv, shutdown, close, abort, options and
//! inspection. Each runs on the connection and then lets the endpoint settle what changed.

use super::{BufferSizes, ConnHandle, Endpoint, QueueLens};
use crate::{Cause, ConnInfo, Instant, InvalidHandle, IpFields, KeepaliveTiming, RecvError, SendError, State};
use std::net::SocketAddr;
use std::time::Duration;

impl Endpoint {
    /// SEND (RFC 9293 §3.10.2): queues as much of `data` as the send buffer takes and returns how
    /// much; `WouldBlock` when it takes nothing. `Event::Writable` follows when room frees after
    /// either.
    pub fn send(&mut self, now: Instant, h: ConnHandle, data: &[u8]) -> Result<usize, SendError> {
        self.with_conn(now, h, Err(SendError::InvalidHandle), |c, ctx| c.send(ctx, data))
    }

    /// `send` with Linux's MSG_MORE: more data follows, so a segment shorter than the MSS
    /// waits for the next write or ACK (and goes without PSH).
    pub fn send_more(&mut self, now: Instant, h: ConnHandle, data: &[u8]) -> Result<usize, SendError> {
        self.with_conn(now, h, Err(SendError::InvalidHandle), |c, ctx| c.send_with(ctx, data, true))
    }

    /// RECEIVE (RFC 9293 §3.10.3): copies what has arrived in order into `buf`; `Ok(0)` is the end of
    /// the stream (the peer's FIN), `WouldBlock` means nothing yet.
    pub fn recv(&mut self, now: Instant, h: ConnHandle, buf: &mut [u8]) -> Result<usize, RecvError> {
        self.with_conn(now, h, Err(RecvError::InvalidHandle), |c, _| c.recv(buf))
    }

    /// `recv` with `MSG_PEEK`: copies what has arrived in order without taking it, so the next
    /// read returns the same bytes (and the window does not open).
    pub fn peek(&mut self, now: Instant, h: ConnHandle, buf: &mut [u8]) -> Result<usize, RecvError> {
        self.with_conn(now, h, Err(RecvError::InvalidHandle), |c, _| c.peek(buf))
    }

    /// Half-close: a FIN follows the queued data; receiving continues.
    pub fn shutdown(&mut self, now: Instant, h: ConnHandle) -> Result<(), InvalidHandle> {
        self.with_conn(now, h, Err(InvalidHandle), |c, ctx| {
            c.shutdown(ctx, Cause::Shutdown);
            Ok(())
        })
    }

    /// Graceful close; the handle is given up (it stays valid for queries until freed).
    /// Unread data or linger 0 make it an abort with RST.
    pub fn close(&mut self, now: Instant, h: ConnHandle) -> Result<(), InvalidHandle> {
        self.with_conn(now, h, Err(InvalidHandle), |c, ctx| {
            c.close(ctx);
            Ok(())
        })
    }

    /// Abortive close: RST (in the states that have a peer), CLOSED at once.
    pub fn abort(&mut self, now: Instant, h: ConnHandle) -> Result<(), InvalidHandle> {
        self.with_conn(now, h, Err(InvalidHandle), |c, ctx| {
            c.abort(ctx, Cause::Abort);
            Ok(())
        })
    }

    /// The connection's state; a connection that went on into TIME-WAIT shows CLOSED (its
    /// TIME-WAIT record appears in `sockets()`).
    pub fn state(&self, h: ConnHandle) -> Option<State> {
        self.conn(h).map(|c| c.state)
    }
    /// The connection's local address and port.
    pub fn local_addr(&self, h: ConnHandle) -> Option<SocketAddr> {
        self.conn(h).map(|c| c.tuple.local())
    }
    /// The peer's address and port.
    pub fn peer_addr(&self, h: ConnHandle) -> Option<SocketAddr> {
        self.conn(h).map(|c| c.tuple.remote())
    }
    /// A snapshot of the connection's variables, like Linux's `TCP_INFO`.
    pub fn conn_info(&self, h: ConnHandle) -> Option<ConnInfo> {
        self.conn_info_at(self.last_now, h)
    }
    /// `conn_info` with the time counters (busy, window-limited) read at `now`, not at the
    /// last time the endpoint was told.
    pub fn conn_info_at(&self, now: Instant, h: ConnHandle) -> Option<ConnInfo> {
        self.conn(h).map(|c| c.info(now.max(self.last_now)))
    }
    /// Why the connection failed, if it did (refused, reset, timed out, aborted).
    pub fn conn_error(&self, h: ConnHandle) -> Option<crate::ConnError> {
        self.conn(h).and_then(|c| c.error)
    }
    /// (unread bytes, unacknowledged + unsent bytes).
    pub fn queue_lens(&self, h: ConnHandle) -> Option<QueueLens> {
        self.conn(h).map(|c| QueueLens { unread: c.recv_queue_len(), unacked: c.send_queue_len() })
    }
    /// Whether TCP_NODELAY is on.
    pub fn nodelay(&self, h: ConnHandle) -> Option<bool> {
        self.conn(h).map(|c| c.nodelay())
    }
    /// Whether TCP_CORK is on.
    pub fn cork(&self, h: ConnHandle) -> Option<bool> {
        self.conn(h).map(|c| c.cork())
    }
    /// SO_LINGER as set (`Some(0)`: `close` sends RST).
    pub fn linger(&self, h: ConnHandle) -> Result<Option<Duration>, InvalidHandle> {
        self.conn(h).map(|c| c.linger()).ok_or(InvalidHandle)
    }
    /// The keep-alive timing in force: the connection's own, or the config's.
    pub fn keepalive_timing(&self, h: ConnHandle) -> Option<KeepaliveTiming> {
        self.conn(h).map(|c| c.keepalive_timing(&self.shared))
    }
    /// Whether the connection signs its segments (TCP_MD5SIG, RFC 2385).
    pub fn md5(&self, h: ConnHandle) -> Option<bool> {
        self.conn(h).map(|c| c.signs())
    }
    /// IP_TTL and IP_TOS as set.
    pub fn ip_fields(&self, h: ConnHandle) -> Option<IpFields> {
        self.conn(h).map(|c| c.ip)
    }
    /// IP_MTU_DISCOVER as set.
    pub fn path_mtu_discovery(&self, h: ConnHandle) -> Option<crate::PmtuDiscovery> {
        self.conn(h).map(|c| c.path_mtu_discovery())
    }
    /// (send, receive) buffer sizes, bytes.
    pub fn buffer_sizes(&self, h: ConnHandle) -> Option<BufferSizes> {
        self.conn(h).map(|c| BufferSizes { send: c.send_buffer_size(), recv: c.recv_buffer_size() })
    }
}
