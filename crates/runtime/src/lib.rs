//! The runtime: drives one engine `Endpoint` over a device with a real clock. This is the only
//! place where real time becomes engine time.
//!
//! Two drivers: `Stack`, a tokio task with `TcpListener` and `TcpStream` in the manner of
//! `tokio::net`; and `BlockingStack`, driven by the calling thread, which the server
//! applications of `apps` use.

pub mod apps;
mod net;
mod stack;
pub mod tap;

pub use net::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, TcpListener, TcpStream, WriteHalf};
pub use stack::Stack;

use std::io;
use std::time::Duration;
use synack_engine::{Endpoint, Event, Instant};
use synack_tun::TunDevice;

/// An endpoint driven over a TUN device by the calling thread.
pub struct BlockingStack {
    endpoint: Endpoint,
    device: TunDevice,
    start: std::time::Instant,
    rx: Vec<u8>,
    tx: Vec<u8>,
}

impl BlockingStack {
    pub fn new(endpoint: Endpoint, device: TunDevice) -> BlockingStack {
        let mtu = device.mtu().max(endpoint.config().mtu);
        BlockingStack { endpoint, device, start: std::time::Instant::now(), rx: vec![0; 65536], tx: vec![0; mtu] }
    }

    /// Engine time: microseconds since this stack started.
    pub fn now(&self) -> Instant {
        Instant::from_micros(self.start.elapsed().as_micros() as u64)
    }

    pub fn endpoint(&mut self) -> &mut Endpoint {
        &mut self.endpoint
    }

    /// Sends everything the endpoint has to send.
    pub fn flush(&mut self) -> io::Result<()> {
        let now = self.now();
        while let Some(t) = self.endpoint.poll_transmit(now, &mut self.tx) {
            self.device.send(&self.tx[..t.len])?;
        }
        Ok(())
    }

    /// Sends what is pending, then waits for a packet, the next engine timer, or `max_wait`,
    /// whichever comes first, and hands what came to the engine. Never busy-polls.
    pub fn run_once(&mut self, max_wait: Duration) -> io::Result<()> {
        self.flush()?;
        let now = self.now();
        let wait = match self.endpoint.poll_timeout() {
            Some(at) => at.saturating_since(now).min(max_wait),
            None => max_wait,
        };
        if let Some(len) = self.device.recv_timeout(&mut self.rx, Some(wait))? {
            let now = self.now();
            self.endpoint.handle_packet(now, &self.rx[..len]);
        }
        let now = self.now();
        self.endpoint.handle_timeout(now);
        self.flush()
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.endpoint.poll_event()
    }
}
