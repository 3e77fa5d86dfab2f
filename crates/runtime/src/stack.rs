//! `Stack`: one engine `Endpoint` driven over a TUN device by a tokio task. The task sleeps
//! until a packet arrives, the engine's next deadline, or a user call, and never busy-polls.
//! User calls (in `net.rs`) run on the endpoint under a lock and register wakers; the task
//! turns the engine's events into wake-ups.

use crate::tap::{Direction, Tap};
use std::collections::HashMap;
use std::io;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Waker;
use std::time::Duration;
use synack_engine::{Config, ConnHandle, Counters, Endpoint, Event, Instant, ListenerHandle, SocketInfo};
use synack_tun::{PacketDevice, SendBatch, BATCH_HEADROOM, BATCH_SIZE};
use tokio::io::unix::AsyncFd;
use tokio::sync::Notify;

pub(crate) struct Shared {
    pub(crate) inner: Mutex<Inner>,
    /// A user call changed something: the driver should transmit and re-arm its timer.
    pub(crate) kick: Notify,
    /// The driver finished a round (took packets or timers in, sent what was due): whoever
    /// waits for the connections to get somewhere (`Stack::close`) looks again.
    pub(crate) progress: Notify,
}

pub(crate) struct Inner {
    pub(crate) ep: Endpoint,
    start: std::time::Instant,
    pub(crate) read_wakers: HashMap<ConnHandle, Waker>,
    pub(crate) write_wakers: HashMap<ConnHandle, Waker>,
    pub(crate) connect_wakers: HashMap<ConnHandle, Waker>,
    pub(crate) accept_wakers: HashMap<ListenerHandle, Waker>,
    /// Packets the device refused to take (the engine retransmits what mattered).
    pub(crate) tx_dropped: u64,
    tap: Tap,
}

impl Inner {
    /// Engine time: the only place where real time becomes engine time.
    pub(crate) fn now(&self) -> Instant {
        Instant::from_micros(self.start.elapsed().as_micros() as u64)
    }

    /// One read from the device, handed to the endpoint. With offload and nothing tapping each
    /// packet, a super-packet goes in whole (one segment of up to 64 KiB); otherwise the read
    /// is split into packets, each through the tap.
    fn receive(&mut self, device: &impl PacketDevice, rx: &mut RxBuffers) -> io::Result<()> {
        if device.offload() && self.tap.is_transparent() {
            let (len, trusted) = device.recv_whole(&mut rx.scratch)?;
            let now = self.now();
            let packet = &rx.scratch[BATCH_HEADROOM..BATCH_HEADROOM + len];
            if trusted {
                self.ep.handle_packet_offloaded(now, packet);
            } else {
                self.ep.handle_packet(now, packet);
            }
            return Ok(());
        }
        let count = device.recv_batch(&mut rx.scratch, &mut rx.bufs, &mut rx.sizes)?;
        let now = self.now();
        for (buf, &size) in rx.bufs.iter().zip(&rx.sizes).take(count) {
            if self.tap.is_transparent() {
                self.ep.handle_packet(now, &buf[..size]);
                continue;
            }
            for packet in self.tap.pass(Direction::In, &buf[..size]) {
                self.ep.handle_packet(now, &packet);
            }
        }
        Ok(())
    }

    /// Sends what the endpoint has to send and wakes whoever its events concern.
    fn flush(&mut self, device: &impl PacketDevice, tx: &mut TxBatch) {
        let now = self.now();
        loop {
            // Up to a batch of packets, each behind the headroom the device wants, in one
            // `send_batch` (coalesced into super-packets when the device offloads).
            let mut n = 0;
            // With offload and nothing tapping each packet, new data leaves as super-segments
            // the kernel cuts up (TSO), each on its own after what was batched before it.
            let gso = device.offload() && self.tap.is_transparent();
            while n < BATCH_SIZE {
                if gso {
                    let big = &mut tx.gso_buf;
                    let Some(t) = self.ep.poll_transmit_gso(now, &mut big[BATCH_HEADROOM..], GSO_SEGMENTS) else {
                        break;
                    };
                    let packet = &mut big[..BATCH_HEADROOM + t.len];
                    if let Some(size) = t.gso_size {
                        // What was batched before it goes first, to keep the order.
                        if n > 0 && device.send_batch(&mut tx.state, &mut tx.bufs[..n]).is_err() {
                            self.tx_dropped += 1;
                        }
                        n = 0;
                        if device.send_gso(packet, size).is_err() {
                            self.tx_dropped += 1;
                        }
                    } else {
                        tx.bufs[n].clear();
                        tx.bufs[n].extend_from_slice(packet);
                        n += 1;
                    }
                    continue;
                }
                let buf = &mut tx.bufs[n];
                buf.resize(BATCH_HEADROOM + tx.mtu, 0);
                let Some(t) = self.ep.poll_transmit(now, &mut buf[BATCH_HEADROOM..]) else { break };
                if self.tap.is_transparent() {
                    buf.truncate(BATCH_HEADROOM + t.len);
                    n += 1;
                    continue;
                }
                let packets = self.tap.pass(Direction::Out, &buf[BATCH_HEADROOM..BATCH_HEADROOM + t.len]);
                if let [packet] = packets.as_slice() {
                    if packet.len() == t.len {
                        // Passed unchanged (the usual case): it is already in place.
                        buf.truncate(BATCH_HEADROOM + t.len);
                        n += 1;
                        continue;
                    }
                }
                // Dropped, delayed, duplicated or changed by the tap: send what it gives.
                for packet in packets {
                    if device.send(&packet).is_err() {
                        self.tx_dropped += 1;
                    }
                }
            }
            if n == 0 {
                break;
            }
            if device.send_batch(&mut tx.state, &mut tx.bufs[..n]).is_err() {
                self.tx_dropped += 1;
            }
        }
        while let Some(event) = self.ep.poll_event() {
            let wake = |map: &mut HashMap<ConnHandle, Waker>, h: ConnHandle| {
                if let Some(w) = map.remove(&h) {
                    w.wake();
                }
            };
            match event {
                Event::Readable(h) | Event::PeerClosed(h) => wake(&mut self.read_wakers, h),
                Event::Writable(h) => wake(&mut self.write_wakers, h),
                Event::Connected(h) => wake(&mut self.connect_wakers, h),
                Event::Error(h, _) | Event::Closed(h) => {
                    wake(&mut self.read_wakers, h);
                    wake(&mut self.write_wakers, h);
                    wake(&mut self.connect_wakers, h);
                }
                Event::Incoming(l) => {
                    if let Some(w) = self.accept_wakers.remove(&l) {
                        w.wake();
                    }
                }
            }
        }
    }
}

/// A TCP/IP stack on a TUN device. Cheap to clone; the driver task stops when the last
/// clone (and every socket made from it) is gone.
#[derive(Clone)]
pub struct Stack {
    pub(crate) shared: Arc<Shared>,
}

/// The longest the driver sleeps without a reason, to notice that it is no longer needed.
const IDLE_CHECK: Duration = Duration::from_secs(1);
/// Reads (system calls) per wake-up before transmitting again.
const READ_BATCH: usize = 64;
/// A super-segment: at most this many bytes of IP packet, of at most this many segments.
const GSO_MAX: usize = 65535;
const GSO_SEGMENTS: usize = 44;

/// The driver's receive buffers: a read lands in `scratch` (one super-packet with offload, or
/// one packet), split into up to BATCH_SIZE packets in `bufs` when it must be.
struct RxBuffers {
    scratch: Vec<u8>,
    bufs: Vec<Vec<u8>>,
    sizes: Vec<usize>,
}

/// The driver's transmit buffers, reused from batch to batch.
struct TxBatch {
    bufs: Vec<Vec<u8>>,
    /// Where super-segments are built (offload only).
    gso_buf: Vec<u8>,
    state: SendBatch,
    mtu: usize,
}

impl Stack {
    /// Starts a stack with `addresses` on `device` (a `TunDevice`, or one end of a
    /// `PacketPipe`). Must be called inside a tokio runtime.
    pub fn new(config: Config, addresses: &[IpAddr], device: impl PacketDevice) -> io::Result<Stack> {
        Stack::with_tap(config, addresses, device, Tap::default())
    }

    /// Like `new`, with every packet passing through `tap` (pcap, trace, faults).
    pub fn with_tap(config: Config, addresses: &[IpAddr], device: impl PacketDevice, tap: Tap) -> io::Result<Stack> {
        device.set_nonblocking(true)?;
        let mtu = device.mtu().max(config.mtu);
        // SAFETY: `PacketDevice`'s contract: the descriptor stays the same and open for as long
        // as the device lives, and the AsyncFd owns the device.
        let fd = unsafe { AsyncFd::register_with_interest(device, tokio::io::Interest::READABLE) }?;
        let inner = Inner {
            ep: Endpoint::new(config, addresses),
            start: std::time::Instant::now(),
            read_wakers: HashMap::new(),
            write_wakers: HashMap::new(),
            connect_wakers: HashMap::new(),
            accept_wakers: HashMap::new(),
            tx_dropped: 0,
            tap,
        };
        let shared = Arc::new(Shared { inner: Mutex::new(inner), kick: Notify::new(), progress: Notify::new() });
        tokio::spawn(drive(shared.clone(), fd, mtu));
        Ok(Stack { shared })
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves the endpoint as it was; keep serving.
        self.shared.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Tells the driver that a user call may have given it something to send.
    pub(crate) fn kick(&self) {
        self.shared.kick.notify_one();
    }

    /// Every socket, like `ss -tan` (half-open entries and TIME-WAIT records included).
    pub fn sockets(&self) -> Vec<SocketInfo> {
        self.lock().ep.sockets()
    }

    /// The endpoint's counters, like `netstat -s`.
    pub fn counters(&self) -> Counters {
        self.lock().ep.counters().clone()
    }

    /// Stops the stack gracefully, for a program about to exit: a user-space stack's data
    /// dies with its process, so call this before `main` returns.
    ///
    /// Every listener closes (connections waiting in an accept queue are reset, SYNs are
    /// answered with RST from then on), every connection is shut down for writing (FIN after
    /// its queued data, as `shutdown(SHUT_WR)`), and the call waits until each has had all
    /// its data and its FIN acknowledged (FIN-WAIT-2, TIME-WAIT or CLOSED), or `timeout`
    /// passes. Connections that have not finished by then are reset, and the report lists
    /// them with the bytes they had not delivered.
    pub async fn close(&self, timeout: Duration) -> CloseReport {
        {
            let mut inner = self.lock();
            let now = inner.now();
            for l in inner.ep.listener_handles() {
                let _ = inner.ep.close_listener(now, l);
            }
            for h in inner.ep.connection_handles() {
                let _ = inner.ep.shutdown(now, h);
            }
        }
        self.kick();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let progress = self.shared.progress.notified();
            tokio::pin!(progress);
            progress.as_mut().enable();
            if self.lock().unfinished().is_empty() {
                break;
            }
            if tokio::time::timeout_at(deadline, progress).await.is_err() {
                break;
            }
        }
        let (finished, abandoned) = self.lock().abandon_unfinished();
        if !abandoned.is_empty() {
            // Give the driver a round to send the RSTs before the program goes on to exit.
            let progress = self.shared.progress.notified();
            self.kick();
            let _ = tokio::time::timeout(Duration::from_millis(200), progress).await;
        }
        CloseReport { finished, abandoned }
    }
}

/// What `Stack::close` achieved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseReport {
    /// Connections whose data and FIN were all acknowledged (or that had already ended).
    pub finished: usize,
    /// Connections reset at the timeout, with what they had not delivered.
    pub abandoned: Vec<Abandoned>,
}

/// A connection `Stack::close` gave up on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Abandoned {
    /// Our address and port.
    pub local: std::net::SocketAddr,
    /// The peer's address and port.
    pub peer: std::net::SocketAddr,
    /// Its state at the timeout.
    pub state: synack_engine::State,
    /// Bytes sent but not acknowledged, or not sent yet (the FIN not counted).
    pub unacked_bytes: usize,
}

impl Inner {
    /// Resets every connection that has not finished sending; returns how many had finished
    /// and what the others had not delivered.
    fn abandon_unfinished(&mut self) -> (usize, Vec<Abandoned>) {
        let unfinished = self.unfinished();
        let finished = self.ep.connection_handles().len() - unfinished.len();
        let now = self.now();
        let mut abandoned = Vec::new();
        for h in unfinished {
            let ep = &self.ep;
            if let (Some(state), Some(local), Some(peer), Some(synack_engine::QueueLens { unacked, .. })) =
                (ep.state(h), ep.local_addr(h), ep.peer_addr(h), ep.queue_lens(h))
            {
                abandoned.push(Abandoned { local, peer, state, unacked_bytes: unacked });
            }
            let _ = self.ep.abort(now, h);
        }
        (finished, abandoned)
    }

    /// Connections whose data or FIN is not yet acknowledged.
    fn unfinished(&self) -> Vec<ConnHandle> {
        use synack_engine::State::{Closed, FinWait2, TimeWait};
        let finished = |h: &ConnHandle| matches!(self.ep.state(*h), None | Some(Closed | FinWait2 | TimeWait));
        self.ep.connection_handles().into_iter().filter(|h| !finished(h)).collect()
    }
}

impl Drop for Inner {
    /// The stack is going away (its last handle dropped, or its runtime shut down): say so
    /// if connections still had data on its way, which is lost with it.
    fn drop(&mut self) {
        let unfinished = self.unfinished();
        if unfinished.is_empty() {
            return;
        }
        let bytes: usize = unfinished.iter().filter_map(|&h| self.ep.queue_lens(h)).map(|q| q.unacked).sum();
        eprintln!(
            "synack: the stack stopped with {} connection(s) still sending ({bytes} bytes unacknowledged or unsent); \
             await Stack::close before exiting to let them finish",
            unfinished.len()
        );
    }
}

async fn drive(shared: Arc<Shared>, fd: AsyncFd<impl PacketDevice>, mtu: usize) {
    let mut rx = RxBuffers {
        scratch: vec![0u8; BATCH_HEADROOM + 65536],
        bufs: vec![vec![0u8; mtu.max(1500)]; BATCH_SIZE],
        sizes: vec![0usize; BATCH_SIZE],
    };
    let mut tx = TxBatch {
        bufs: (0..BATCH_SIZE).map(|_| Vec::with_capacity(BATCH_HEADROOM + mtu)).collect(),
        gso_buf: vec![0u8; BATCH_HEADROOM + GSO_MAX],
        state: SendBatch::default(),
        mtu,
    };
    loop {
        if Arc::strong_count(&shared) == 1 {
            return; // no Stack and no socket is left
        }
        let sleep_for = {
            let mut inner = shared.inner.lock().unwrap_or_else(|e| e.into_inner());
            // Delayed packets (fault injection) that are due go on their way first.
            for (dir, packet) in inner.tap.due() {
                match dir {
                    Direction::In => {
                        let now = inner.now();
                        inner.ep.handle_packet(now, &packet);
                    }
                    Direction::Out => {
                        if fd.get_ref().send(&packet).is_err() {
                            inner.tx_dropped += 1;
                        }
                    }
                }
            }
            // Timers run every round, so that a steady stream of packets cannot starve them.
            let now = inner.now();
            inner.ep.handle_timeout(now);
            inner.flush(fd.get_ref(), &mut tx);
            shared.progress.notify_waiters();
            let engine = inner.ep.poll_timeout().map_or(IDLE_CHECK, |at| at.saturating_since(now).min(IDLE_CHECK));
            inner.tap.next_due().map_or(engine, |d| d.min(engine))
        };
        tokio::select! {
            ready = fd.readable() => {
                let Ok(mut guard) = ready else { return };
                let mut inner = shared.inner.lock().unwrap_or_else(|e| e.into_inner());
                for _ in 0..READ_BATCH {
                    match inner.receive(fd.get_ref(), &mut rx) {
                        Ok(()) => {}
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            guard.clear_ready();
                            break;
                        }
                        Err(_) => break,
                    }
                }
            }
            _ = tokio::time::sleep(sleep_for) => {}
            _ = shared.kick.notified() => {}
        }
    }
}
