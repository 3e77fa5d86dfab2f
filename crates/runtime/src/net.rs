//! `TcpListener` and `TcpStream` over a `Stack`, with the names and semantics of `tokio::net`.

use crate::stack::Stack;
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use synack_engine::{ConnError, ConnHandle, ConnectError, ListenError, ListenerHandle, RecvError, SendError, State};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The `io::ErrorKind` `tokio::net` uses for each way a connection fails.
fn conn_error(e: ConnError) -> io::Error {
    let kind = match e {
        ConnError::Refused => io::ErrorKind::ConnectionRefused,
        ConnError::Reset => io::ErrorKind::ConnectionReset,
        ConnError::TimedOut => io::ErrorKind::TimedOut,
        ConnError::Aborted => io::ErrorKind::ConnectionAborted,
        ConnError::HostUnreachable => io::ErrorKind::HostUnreachable,
        ConnError::NetUnreachable => io::ErrorKind::NetworkUnreachable,
    };
    io::Error::new(kind, e.to_string())
}

/// Accepts TCP connections on one address of a `Stack`.
pub struct TcpListener {
    stack: Stack,
    handle: ListenerHandle,
    addr: SocketAddr,
}

impl TcpListener {
    /// Listens on `addr` with a backlog of 1024 (capped by the stack's `somaxconn`).
    pub async fn bind(stack: &Stack, addr: SocketAddr) -> io::Result<TcpListener> {
        TcpListener::bind_with_backlog(stack, addr, 1024)
    }

    /// Listens on `addr` with this backlog (capped by the stack's `somaxconn`).
    pub fn bind_with_backlog(stack: &Stack, addr: SocketAddr, backlog: usize) -> io::Result<TcpListener> {
        let handle = stack.lock().ep.listen(addr, backlog).map_err(|e| match e {
            ListenError::AddrInUse => io::Error::new(io::ErrorKind::AddrInUse, format!("{addr} is in use")),
            other => io::Error::new(io::ErrorKind::InvalidInput, format!("cannot listen on {addr}: {other}")),
        })?;
        Ok(TcpListener { stack: stack.clone(), handle, addr })
    }

    /// Any-IP listening (tun2socks-style): accepts connections to every destination address
    /// and port that reaches the device; each stream's `local_addr` is its original destination.
    pub fn bind_any(stack: &Stack, backlog: usize) -> io::Result<TcpListener> {
        let handle = stack.lock().ep.listen_any(backlog).map_err(|e| match e {
            ListenError::AddrInUse => io::Error::new(io::ErrorKind::AddrInUse, "an any-IP listener is already open"),
            other => io::Error::new(io::ErrorKind::InvalidInput, format!("cannot listen on any address: {other}")),
        })?;
        let addr = SocketAddr::new(std::net::Ipv6Addr::UNSPECIFIED.into(), 0);
        Ok(TcpListener { stack: stack.clone(), handle, addr })
    }

    /// The next connection from the accept queue, and its peer's address.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let conn = poll_fn(|cx| {
            let mut inner = self.stack.lock();
            match inner.ep.accept(self.handle) {
                Some(h) => Poll::Ready(h),
                None => {
                    inner.accept_wakers.insert(self.handle, cx.waker().clone());
                    Poll::Pending
                }
            }
        })
        .await;
        let stream = TcpStream::from_handle(&self.stack, conn);
        let peer = stream.peer_addr()?;
        Ok((stream, peer))
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.addr)
    }
}

impl Drop for TcpListener {
    fn drop(&mut self) {
        let mut inner = self.stack.lock();
        let now = inner.now();
        let _ = inner.ep.close_listener(now, self.handle);
        drop(inner);
        self.stack.kick();
    }
}

/// What both halves of a split stream share; the connection closes when the last goes.
struct Core {
    stack: Stack,
    handle: ConnHandle,
}

impl Drop for Core {
    /// Like Linux: FIN, or RST if received data was never read.
    fn drop(&mut self) {
        let mut inner = self.stack.lock();
        let now = inner.now();
        let _ = inner.ep.close(now, self.handle);
        inner.read_wakers.remove(&self.handle);
        inner.write_wakers.remove(&self.handle);
        drop(inner);
        self.stack.kick();
    }
}

impl Core {
    fn poll_read(&self, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let mut inner = self.stack.lock();
        let now = inner.now();
        let result = inner.ep.recv(now, self.handle, buf.initialize_unfilled());
        match result {
            Ok(n) => {
                buf.advance(n);
                drop(inner);
                if n > 0 {
                    self.stack.kick(); // a window update may be due
                }
                Poll::Ready(Ok(()))
            }
            Err(RecvError::WouldBlock) | Err(RecvError::NotConnected) => {
                inner.read_wakers.insert(self.handle, cx.waker().clone());
                Poll::Pending
            }
            Err(RecvError::Failed(e)) => Poll::Ready(Err(conn_error(e))),
            Err(RecvError::InvalidHandle) => Poll::Ready(Err(io::ErrorKind::NotConnected.into())),
        }
    }

    fn poll_write(&self, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let mut inner = self.stack.lock();
        let now = inner.now();
        match inner.ep.send(now, self.handle, data) {
            Ok(n) => {
                drop(inner);
                self.stack.kick();
                Poll::Ready(Ok(n))
            }
            Err(SendError::WouldBlock) | Err(SendError::NotConnected) => {
                inner.write_wakers.insert(self.handle, cx.waker().clone());
                Poll::Pending
            }
            Err(SendError::Closed) => Poll::Ready(Err(io::Error::new(io::ErrorKind::BrokenPipe, "write side closed"))),
            Err(SendError::Failed(e)) => Poll::Ready(Err(conn_error(e))),
            Err(SendError::InvalidHandle) => Poll::Ready(Err(io::ErrorKind::NotConnected.into())),
        }
    }

    /// Half-close: FIN after the queued data; reading goes on.
    fn shutdown(&self) -> io::Result<()> {
        let mut inner = self.stack.lock();
        let now = inner.now();
        inner.ep.shutdown(now, self.handle).map_err(|_| io::Error::from(io::ErrorKind::NotConnected))?;
        drop(inner);
        self.stack.kick();
        Ok(())
    }
}

/// A TCP connection on a `Stack`.
pub struct TcpStream {
    core: Arc<Core>,
}

impl TcpStream {
    fn from_handle(stack: &Stack, handle: ConnHandle) -> TcpStream {
        TcpStream { core: Arc::new(Core { stack: stack.clone(), handle }) }
    }

    /// Opens a connection to `addr` from an ephemeral port and waits for the handshake.
    pub async fn connect(stack: &Stack, addr: SocketAddr) -> io::Result<TcpStream> {
        let handle = {
            let mut inner = stack.lock();
            let now = inner.now();
            inner.ep.connect(now, None, addr).map_err(|e| match e {
                ConnectError::AddrInUse => io::Error::new(io::ErrorKind::AddrInUse, e.to_string()),
                ConnectError::NoLocalAddress => io::Error::new(io::ErrorKind::AddrNotAvailable, e.to_string()),
                _ => io::Error::new(io::ErrorKind::InvalidInput, e.to_string()),
            })?
        };
        stack.kick();
        let stream = TcpStream::from_handle(stack, handle);
        poll_fn(|cx| {
            let mut inner = stack.lock();
            match inner.ep.state(handle) {
                Some(State::SynSent) | Some(State::SynReceived) => {
                    inner.connect_wakers.insert(handle, cx.waker().clone());
                    Poll::Pending
                }
                Some(State::Closed) | None => {
                    let e = inner.ep.conn_error(handle).unwrap_or(ConnError::Aborted);
                    Poll::Ready(Err(conn_error(e)))
                }
                Some(_) => Poll::Ready(Ok(())),
            }
        })
        .await?;
        Ok(stream)
    }

    /// The connection's local address (its original destination under `bind_any`).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.core.stack.lock().ep.local_addr(self.core.handle).ok_or_else(|| io::ErrorKind::NotConnected.into())
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.core.stack.lock().ep.peer_addr(self.core.handle).ok_or_else(|| io::ErrorKind::NotConnected.into())
    }

    /// TCP_NODELAY: small writes go out at once instead of waiting for Nagle's algorithm.
    pub fn set_nodelay(&self, on: bool) -> io::Result<()> {
        self.set_option(|conn| conn.set_nodelay(on))
    }

    /// SO_LINGER; `Some(Duration::ZERO)` makes dropping the stream send RST.
    pub fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        self.set_option(|conn| conn.set_linger(linger))
    }

    /// Sets an option of the connection now; `NotConnected` once it is gone.
    fn set_option(&self, set: impl FnOnce(&mut synack_engine::ConnMut<'_>)) -> io::Result<()> {
        let mut inner = self.core.stack.lock();
        let now = inner.now();
        let mut conn = inner.ep.conn_mut(now, self.core.handle).ok_or(io::ErrorKind::NotConnected)?;
        set(&mut conn);
        Ok(())
    }

    /// Splits into halves that can move to different tasks. Dropping the write half shuts the
    /// write side down; the connection closes when both are gone.
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        (OwnedReadHalf { core: self.core.clone() }, OwnedWriteHalf { core: self.core, shut: false })
    }

    /// Borrowed halves, for use within one task.
    pub fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        (ReadHalf { core: &self.core }, WriteHalf { core: &self.core })
    }
}

impl AsyncRead for TcpStream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        self.core.poll_read(cx, buf)
    }
}

impl AsyncWrite for TcpStream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        self.core.poll_write(cx, data)
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    /// Sends FIN after the queued data (half-close); reading continues.
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.core.shutdown())
    }
}

/// The read half of a `TcpStream` (`into_split`), for another task.
pub struct OwnedReadHalf {
    core: Arc<Core>,
}

/// The write half of a `TcpStream` (`into_split`); dropping it shuts the write side down
/// (FIN).
pub struct OwnedWriteHalf {
    core: Arc<Core>,
    shut: bool,
}

impl Drop for OwnedWriteHalf {
    fn drop(&mut self) {
        if !self.shut {
            let _ = self.core.shutdown();
        }
    }
}

/// The read half of a borrowed `TcpStream` (`split`).
pub struct ReadHalf<'a> {
    core: &'a Core,
}

/// The write half of a borrowed `TcpStream` (`split`).
pub struct WriteHalf<'a> {
    core: &'a Core,
}

macro_rules! read_impl {
    ($t:ty) => {
        impl AsyncRead for $t {
            fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
                self.core.poll_read(cx, buf)
            }
        }
    };
}
read_impl!(OwnedReadHalf);
read_impl!(ReadHalf<'_>);

/// Writing is the same on every handle; only what shutdown remembers differs.
macro_rules! write_impl {
    ($t:ty) => {
        impl AsyncWrite for $t {
            fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
                self.core.poll_write(cx, data)
            }
            fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(Ok(()))
            }
            fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
                let this = self.get_mut();
                this.mark_shut();
                Poll::Ready(this.core.shutdown())
            }
        }
    };
}
write_impl!(OwnedWriteHalf);
write_impl!(WriteHalf<'_>);

impl OwnedWriteHalf {
    /// Shut down explicitly: dropping need not do it again.
    fn mark_shut(&mut self) {
        self.shut = true;
    }
}

impl WriteHalf<'_> {
    /// A borrowed half leaves closing to its stream.
    fn mark_shut(&mut self) {}
}

impl std::fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TcpStream").field("handle", &self.core.handle).finish()
    }
}

impl std::fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TcpListener").field("handle", &self.handle).field("addr", &self.addr).finish()
    }
}
