//! `Endpoint`: all TCP state of one host, driven sans-IO.
//!
//! Call order: feed packets with `handle_packet(now, bytes)` and expired timers with
//! `handle_timeout(now)`; after each input (and after user calls) drain `poll_transmit(now, buf)`
//! until it returns `None`, then `poll_event()`; sleep until `poll_timeout()`. `now` never goes
//! backwards. The same inputs always give the same outputs.

mod input;
mod output;
mod table;

pub use output::Transmit;
pub use table::{format_ss_table, SocketInfo};

use crate::conn::{Connection, ControlSegment, Ctx, NewConn};
use crate::half_open::HalfOpen;
use crate::isn::IsnGenerator;
use crate::listener::Listener;
use crate::rng::SplitMix64;
use crate::time_wait::TimeWait;
use crate::tuple::SeededState;
use crate::{
    Cause, Config, ConnInfo, ConnectError, Counters, Event, FourTuple, Instant, InvalidHandle, ListenError, RecvError,
    SendError, State,
};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// Names one connection of an endpoint. Stale handles (of freed connections) are detected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnHandle {
    index: u32,
    generation: u32,
}

/// Names one listener of an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ListenerHandle {
    index: u32,
    generation: u32,
}

struct Slot {
    generation: u32,
    conn: Option<Connection>,
}

struct ListenerSlot {
    generation: u32,
    listener: Option<Listener>,
}

/// What a timer-heap entry refers to; checked against the live deadline when it pops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum TimerRef {
    Conn(u32, u32),
    HalfOpen(FourTuple),
    TimeWait(FourTuple),
}

pub struct Endpoint {
    config: Config,
    addresses: Vec<IpAddr>,
    rng: SplitMix64,
    isn: IsnGenerator,
    slots: Vec<Slot>,
    free_slots: Vec<u32>,
    /// Demultiplexing, in the order packets consult them (never a scan over connections).
    by_tuple: HashMap<FourTuple, u32, SeededState>,
    half_open: HashMap<FourTuple, HalfOpen, SeededState>,
    time_wait: HashMap<FourTuple, TimeWait, SeededState>,
    listener_slots: Vec<ListenerSlot>,
    listener_by_addr: HashMap<SocketAddr, u32, SeededState>,
    timers: BinaryHeap<Reverse<(Instant, TimerRef)>>,
    control: VecDeque<ControlSegment>,
    dirty: VecDeque<ConnHandle>,
    events: VecDeque<Event>,
    counters: Counters,
    ip_ident: u16,
    last_now: Instant,
}

impl Endpoint {
    /// A host with the given local addresses (packets to other addresses are dropped).
    pub fn new(config: Config, addresses: &[IpAddr]) -> Endpoint {
        let mut rng = SplitMix64::new(config.rng_seed);
        let isn = IsnGenerator::new(rng.next_u64(), rng.next_u64());
        let ip_ident = rng.next_u64() as u16;
        let hasher = SeededState::new(rng.next_u64(), rng.next_u64());
        Endpoint {
            config,
            addresses: addresses.to_vec(),
            rng,
            isn,
            slots: Vec::new(),
            free_slots: Vec::new(),
            by_tuple: HashMap::with_hasher(hasher),
            half_open: HashMap::with_hasher(hasher),
            time_wait: HashMap::with_hasher(hasher),
            listener_slots: Vec::new(),
            listener_by_addr: HashMap::with_hasher(hasher),
            timers: BinaryHeap::new(),
            control: VecDeque::new(),
            dirty: VecDeque::new(),
            events: VecDeque::new(),
            counters: Counters::default(),
            ip_ident,
            last_now: Instant::ZERO,
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }
    pub fn addresses(&self) -> &[IpAddr] {
        &self.addresses
    }
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// The next user-visible event, in the order they happened.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    // ---- Listeners ----

    /// LISTEN (RFC 9293 §3.10.1, passive open). `addr` may have an unspecified IP (any local
    /// address of that family; `::` also takes IPv4). `backlog` bounds the accept queue,
    /// capped by `somaxconn` as `listen(2)` does.
    pub fn listen(&mut self, addr: SocketAddr, backlog: usize) -> Result<ListenerHandle, ListenError> {
        if addr.port() == 0 || (!addr.ip().is_unspecified() && !self.addresses.contains(&addr.ip())) {
            return Err(ListenError::InvalidAddress);
        }
        if backlog == 0 {
            return Err(ListenError::InvalidBacklog);
        }
        if self.listener_by_addr.contains_key(&addr) {
            return Err(ListenError::AddrInUse);
        }
        let listener = Listener {
            addr,
            backlog: backlog.min(self.config.somaxconn),
            syn_queue_len: 0,
            accept_queue: VecDeque::new(),
        };
        let index = match self.listener_slots.iter().position(|s| s.listener.is_none()) {
            Some(i) => i,
            None => {
                self.listener_slots.push(ListenerSlot { generation: 0, listener: None });
                self.listener_slots.len() - 1
            }
        };
        let slot = &mut self.listener_slots[index];
        slot.listener = Some(listener);
        self.listener_by_addr.insert(addr, index as u32);
        Ok(ListenerHandle { index: index as u32, generation: slot.generation })
    }

    fn listener_mut(&mut self, h: ListenerHandle) -> Option<&mut Listener> {
        self.listener_slots
            .get_mut(h.index as usize)
            .filter(|s| s.generation == h.generation)
            .and_then(|s| s.listener.as_mut())
    }

    fn listener(&self, h: ListenerHandle) -> Option<&Listener> {
        self.listener_slots
            .get(h.index as usize)
            .filter(|s| s.generation == h.generation)
            .and_then(|s| s.listener.as_ref())
    }

    /// Takes the oldest connection from the accept queue.
    pub fn accept(&mut self, h: ListenerHandle) -> Option<ConnHandle> {
        let handle = self.listener_mut(h)?.accept_queue.pop_front()?;
        if let Some(conn) = self.conn_mut_opt(handle) {
            conn.listener = None;
        }
        Some(handle)
    }

    /// Closes a listener: its half-open entries are forgotten and connections still in its
    /// accept queue are reset, as Linux does.
    pub fn close_listener(&mut self, now: Instant, h: ListenerHandle) -> Result<(), InvalidHandle> {
        let slot = self.listener_slots.get_mut(h.index as usize).filter(|s| s.generation == h.generation);
        let listener = slot.and_then(|s| {
            s.generation = s.generation.wrapping_add(1);
            s.listener.take()
        });
        let listener = listener.ok_or(InvalidHandle)?;
        self.listener_by_addr.remove(&listener.addr);
        self.half_open.retain(|_, entry| entry.listener != h);
        for conn in listener.accept_queue {
            self.with_conn(now, conn, |c, ctx| c.abort(ctx, Cause::ListenerClosed));
        }
        Ok(())
    }

    pub fn listener_addr(&self, h: ListenerHandle) -> Option<SocketAddr> {
        self.listener(h).map(|l| l.addr)
    }

    /// (SYN-queue length, accept-queue length) of a listener.
    pub fn listener_queues(&self, h: ListenerHandle) -> Option<(usize, usize)> {
        self.listener(h).map(|l| (l.syn_queue_len, l.accept_queue.len()))
    }

    fn find_listener(&self, local: SocketAddr) -> Option<u32> {
        let any = |ip: IpAddr| SocketAddr::new(ip, local.port());
        let family_any = if local.is_ipv4() { IpAddr::from([0u8; 4]) } else { IpAddr::from([0u16; 8]) };
        self.listener_by_addr
            .get(&local)
            .or_else(|| self.listener_by_addr.get(&any(family_any)))
            .or_else(|| self.listener_by_addr.get(&any(IpAddr::from([0u16; 8]))))
            .copied()
    }

    // ---- Connections ----

    /// OPEN, active (RFC 9293 §3.10.1). With `local` None (or port 0) the endpoint picks its
    /// first address of the remote's family and an ephemeral port.
    pub fn connect(
        &mut self,
        now: Instant,
        local: Option<SocketAddr>,
        remote: SocketAddr,
    ) -> Result<ConnHandle, ConnectError> {
        self.last_now = self.last_now.max(now);
        let rip = remote.ip();
        if remote.port() == 0 || rip.is_unspecified() || rip.is_multicast() {
            return Err(ConnectError::InvalidRemoteAddress);
        }
        let local_ip = match local.map(|l| l.ip()).filter(|ip| !ip.is_unspecified()) {
            Some(ip) if ip.is_ipv4() != rip.is_ipv4() => return Err(ConnectError::InvalidRemoteAddress),
            Some(ip) if !self.addresses.contains(&ip) => return Err(ConnectError::InvalidLocalAddress),
            Some(ip) => ip,
            None => {
                *self.addresses.iter().find(|a| a.is_ipv4() == rip.is_ipv4()).ok_or(ConnectError::NoLocalAddress)?
            }
        };
        let tuple = match local.map(|l| l.port()).filter(|&p| p != 0) {
            Some(port) => {
                let t = FourTuple::new(SocketAddr::new(local_ip, port), remote);
                if self.tuple_in_use(&t) {
                    return Err(ConnectError::AddrInUse);
                }
                t
            }
            None => self.pick_ephemeral(local_ip, remote).ok_or(ConnectError::AddrInUse)?,
        };
        let handle = self.alloc_slot();
        let n = NewConn {
            handle,
            tuple,
            iss: self.isn.isn(&tuple, now),
            ts_offset: if self.config.timestamps { self.isn.ts_offset(&tuple) } else { 0 },
            now,
        };
        let conn = {
            let mut ctx = Ctx {
                now,
                config: &self.config,
                events: &mut self.events,
                counters: &mut self.counters,
                control: &mut self.control,
            };
            Connection::new_active(&mut ctx, n)
        };
        self.slots[handle.index as usize].conn = Some(conn);
        self.by_tuple.insert(tuple, handle.index);
        self.after_conn(now, handle);
        Ok(handle)
    }

    fn tuple_in_use(&self, t: &FourTuple) -> bool {
        self.by_tuple.contains_key(t) || self.half_open.contains_key(t) || self.time_wait.contains_key(t)
    }

    /// A random port of the ephemeral range that makes a free 4-tuple (probing onward from a
    /// random start, as Linux's port selection does).
    fn pick_ephemeral(&mut self, local_ip: IpAddr, remote: SocketAddr) -> Option<FourTuple> {
        let (lo, hi) = self.config.ephemeral_ports;
        let span = (hi as u32).checked_sub(lo as u32)? + 1;
        let start = self.rng.below(span as u64) as u32;
        (0..span).find_map(|i| {
            let port = lo as u32 + (start + i) % span;
            let t = FourTuple::new(SocketAddr::new(local_ip, port as u16), remote);
            (!self.tuple_in_use(&t)).then_some(t)
        })
    }

    fn alloc_slot(&mut self) -> ConnHandle {
        match self.free_slots.pop() {
            Some(index) => ConnHandle { index, generation: self.slots[index as usize].generation },
            None => {
                self.slots.push(Slot { generation: 0, conn: None });
                ConnHandle { index: self.slots.len() as u32 - 1, generation: 0 }
            }
        }
    }

    fn free_slot(&mut self, index: u32) {
        let slot = &mut self.slots[index as usize];
        slot.conn = None;
        slot.generation = slot.generation.wrapping_add(1);
        self.free_slots.push(index);
    }

    fn conn_mut_opt(&mut self, h: ConnHandle) -> Option<&mut Connection> {
        self.slots.get_mut(h.index as usize).filter(|s| s.generation == h.generation).and_then(|s| s.conn.as_mut())
    }

    fn conn(&self, h: ConnHandle) -> Option<&Connection> {
        self.slots.get(h.index as usize).filter(|s| s.generation == h.generation).and_then(|s| s.conn.as_ref())
    }

    /// Runs `f` on a live connection with a context, then settles what it changed.
    fn with_conn<R>(
        &mut self,
        now: Instant,
        h: ConnHandle,
        f: impl FnOnce(&mut Connection, &mut Ctx) -> R,
    ) -> Option<R> {
        self.last_now = self.last_now.max(now);
        let slot = self.slots.get_mut(h.index as usize).filter(|s| s.generation == h.generation)?;
        let conn = slot.conn.as_mut()?;
        let mut ctx = Ctx {
            now,
            config: &self.config,
            events: &mut self.events,
            counters: &mut self.counters,
            control: &mut self.control,
        };
        let r = f(conn, &mut ctx);
        self.after_conn(now, h);
        Some(r)
    }

    /// After anything touched a connection: reschedule its timer, queue it for output, and
    /// retire it into a TIME-WAIT record or free it when it is done.
    fn after_conn(&mut self, now: Instant, h: ConnHandle) {
        let Some(conn) = self.conn_mut_opt(h) else { return };
        let deadline = conn.next_deadline();
        let push_timer = deadline < conn.heap_deadline;
        if push_timer {
            conn.heap_deadline = deadline;
        }
        let mark_dirty = !conn.in_dirty;
        conn.in_dirty = true;
        let state = conn.state;
        let tuple = conn.tuple;
        if push_timer {
            self.timers.push(Reverse((deadline, TimerRef::Conn(h.index, h.generation))));
        }
        if mark_dirty {
            self.dirty.push_back(h);
        }
        match state {
            State::TimeWait => self.enter_time_wait(now, h),
            State::Closed => {
                if self.by_tuple.get(&tuple) == Some(&h.index) {
                    self.by_tuple.remove(&tuple);
                }
                self.maybe_free(h);
            }
            _ => {}
        }
    }

    /// Frees a CLOSED connection once nobody can ask about it any more.
    fn maybe_free(&mut self, h: ConnHandle) {
        let Some(conn) = self.conn(h) else { return };
        if conn.state == State::Closed && conn.released && conn.listener.is_none() {
            self.free_slot(h.index);
        }
    }

    /// The connection reached TIME-WAIT: a small record takes its place (Linux's
    /// `tcp_time_wait`), and the connection, if the user still holds it, shows CLOSED.
    fn enter_time_wait(&mut self, now: Instant, h: ConnHandle) {
        let Some(conn) = self.conn_mut_opt(h) else { return };
        let (snd_nxt, rcv_nxt, ts_recent, window, ts_ok) = conn.time_wait_numbers();
        let owes_ack = conn.owes_ack();
        let tuple = conn.tuple;
        conn.state = State::Closed;
        conn.heap_deadline = Instant::NEVER;
        let record =
            TimeWait { tuple, snd_nxt, rcv_nxt, ts_recent, deadline: now + self.config.time_wait_len(), window, ts_ok };
        if owes_ack {
            self.control.push_back(self.time_wait_ack(now, &record));
        }
        self.timers.push(Reverse((record.deadline, TimerRef::TimeWait(tuple))));
        self.time_wait.insert(tuple, record);
        self.counters.time_wait_entered += 1;
        self.by_tuple.remove(&tuple);
        self.events.push_back(Event::Closed(h));
        self.maybe_free(h);
    }

    pub fn send(&mut self, h: ConnHandle, data: &[u8]) -> Result<usize, SendError> {
        let now = self.last_now;
        self.with_conn(now, h, |c, _| c.send(data)).unwrap_or(Err(SendError::InvalidHandle))
    }

    pub fn recv(&mut self, h: ConnHandle, buf: &mut [u8]) -> Result<usize, RecvError> {
        let now = self.last_now;
        self.with_conn(now, h, |c, _| c.recv(buf)).unwrap_or(Err(RecvError::InvalidHandle))
    }

    /// Half-close: a FIN follows the queued data; receiving continues.
    pub fn shutdown(&mut self, now: Instant, h: ConnHandle) -> Result<(), InvalidHandle> {
        self.with_conn(now, h, |c, ctx| c.shutdown(ctx, Cause::Shutdown)).ok_or(InvalidHandle)
    }

    /// Graceful close; the handle is given up (it stays valid for queries until freed).
    /// Unread data or linger 0 make it an abort with RST.
    pub fn close(&mut self, now: Instant, h: ConnHandle) -> Result<(), InvalidHandle> {
        self.with_conn(now, h, |c, ctx| c.close(ctx)).ok_or(InvalidHandle)
    }

    /// Abortive close: RST (in the states that have a peer), CLOSED at once.
    pub fn abort(&mut self, now: Instant, h: ConnHandle) -> Result<(), InvalidHandle> {
        self.with_conn(now, h, |c, ctx| c.abort(ctx, Cause::Abort)).ok_or(InvalidHandle)
    }

    /// The connection's state; a connection that went on into TIME-WAIT shows CLOSED (its
    /// TIME-WAIT record appears in `sockets()`).
    pub fn state(&self, h: ConnHandle) -> Option<State> {
        self.conn(h).map(|c| c.state)
    }
    pub fn local_addr(&self, h: ConnHandle) -> Option<SocketAddr> {
        self.conn(h).map(|c| c.tuple.local())
    }
    pub fn peer_addr(&self, h: ConnHandle) -> Option<SocketAddr> {
        self.conn(h).map(|c| c.tuple.remote())
    }
    pub fn conn_info(&self, h: ConnHandle) -> Option<ConnInfo> {
        self.conn(h).map(|c| c.info())
    }
    pub fn conn_error(&self, h: ConnHandle) -> Option<crate::ConnError> {
        self.conn(h).and_then(|c| c.error)
    }
    /// (unread bytes, unacknowledged + unsent bytes).
    pub fn queue_lens(&self, h: ConnHandle) -> Option<(usize, usize)> {
        self.conn(h).map(|c| (c.recv_queue_len(), c.send_queue_len()))
    }
    pub fn set_nodelay(&mut self, h: ConnHandle, on: bool) -> Result<(), InvalidHandle> {
        let now = self.last_now;
        self.with_conn(now, h, |c, _| c.set_nodelay(on)).ok_or(InvalidHandle)
    }
    pub fn nodelay(&self, h: ConnHandle) -> Option<bool> {
        self.conn(h).map(|c| c.nodelay())
    }
    /// SO_LINGER: `Some(0)` makes `close` send RST.
    pub fn set_linger(&mut self, h: ConnHandle, linger: Option<Duration>) -> Result<(), InvalidHandle> {
        self.conn_mut_opt(h).map(|c| c.set_linger(linger)).ok_or(InvalidHandle)
    }
    pub fn linger(&self, h: ConnHandle) -> Option<Option<Duration>> {
        self.conn(h).map(|c| c.linger())
    }
    pub fn set_keepalive(&mut self, now: Instant, h: ConnHandle, on: bool) -> Result<(), InvalidHandle> {
        self.with_conn(now, h, |c, ctx| c.set_keepalive(ctx, on)).ok_or(InvalidHandle)
    }
    /// RFC 9293 §3.10.8 USER TIMEOUT: abort when sent data stays unacknowledged this long.
    pub fn set_user_timeout(&mut self, h: ConnHandle, timeout: Option<Duration>) -> Result<(), InvalidHandle> {
        self.conn_mut_opt(h).map(|c| c.set_user_timeout(timeout)).ok_or(InvalidHandle)
    }
    pub fn set_send_buffer_size(&mut self, h: ConnHandle, bytes: usize) -> Result<(), InvalidHandle> {
        self.conn_mut_opt(h).map(|c| c.set_send_buffer_size(bytes)).ok_or(InvalidHandle)
    }
    /// Only before the SYN has gone out (the window scale it announces depends on it);
    /// returns false when too late.
    pub fn set_recv_buffer_size(&mut self, h: ConnHandle, bytes: usize) -> Result<bool, InvalidHandle> {
        let config = self.config.clone();
        self.conn_mut_opt(h).map(|c| c.set_recv_buffer_size(&config, bytes)).ok_or(InvalidHandle)
    }
    pub fn buffer_sizes(&self, h: ConnHandle) -> Option<(usize, usize)> {
        self.conn(h).map(|c| (c.send_buffer_size(), c.recv_buffer_size()))
    }

    // ---- Time ----

    /// The earliest deadline of any timer, if one is armed. May be earlier than needed (a
    /// stale entry); `handle_timeout` then does nothing.
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        while let Some(Reverse((at, what))) = self.timers.peek().copied() {
            if self.timer_is_live(at, what) {
                return Some(at);
            }
            self.timers.pop();
        }
        None
    }

    fn timer_is_live(&self, at: Instant, what: TimerRef) -> bool {
        match what {
            TimerRef::Conn(index, generation) => {
                self.conn(ConnHandle { index, generation }).is_some_and(|c| c.heap_deadline == at)
            }
            TimerRef::HalfOpen(t) => self.half_open.get(&t).is_some_and(|e| e.deadline == at),
            TimerRef::TimeWait(t) => self.time_wait.get(&t).is_some_and(|r| r.deadline == at),
        }
    }

    /// Runs every timer due at or before `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.last_now = self.last_now.max(now);
        while let Some(Reverse((at, what))) = self.timers.peek().copied() {
            if at > now {
                break;
            }
            self.timers.pop();
            if !self.timer_is_live(at, what) {
                continue;
            }
            match what {
                TimerRef::Conn(index, generation) => {
                    let h = ConnHandle { index, generation };
                    if let Some(c) = self.conn_mut_opt(h) {
                        c.heap_deadline = Instant::NEVER;
                    }
                    self.with_conn(now, h, |c, ctx| c.on_timeout(ctx));
                }
                TimerRef::HalfOpen(t) => self.half_open_timeout(now, t),
                TimerRef::TimeWait(t) => {
                    self.time_wait.remove(&t);
                    self.counters.time_wait_expired += 1;
                    self.transition(now, t, State::TimeWait, State::Closed, Cause::TimeWaitExpired);
                }
            }
        }
    }

    fn transition(&mut self, now: Instant, tuple: FourTuple, from: State, to: State, cause: Cause) {
        if self.config.record_transitions {
            self.events.push_back(Event::Transition(crate::Transition { at: now, tuple, from, to, cause }));
        }
    }

    // ---- Observation ----

    /// Every socket like `ss -tan`: listeners, half-open entries, connections, TIME-WAIT
    /// records. Sorted by state order, then local and remote address.
    pub fn sockets(&self) -> Vec<SocketInfo> {
        let mut out = Vec::new();
        for slot in &self.listener_slots {
            if let Some(l) = &slot.listener {
                out.push(SocketInfo {
                    state: State::Listen,
                    recv_q: l.accept_queue.len(),
                    send_q: l.backlog,
                    local: l.addr,
                    remote: None,
                });
            }
        }
        for e in self.half_open.values() {
            out.push(SocketInfo {
                state: State::SynReceived,
                recv_q: 0,
                send_q: 0,
                local: e.tuple.local(),
                remote: Some(e.tuple.remote()),
            });
        }
        for slot in &self.slots {
            if let Some(c) = &slot.conn {
                // Like `ss`, no CLOSED sockets: a handle the user still holds after its
                // connection ended is not a socket on the network any more.
                if c.state != State::Closed {
                    out.push(SocketInfo {
                        state: c.state,
                        recv_q: c.recv_queue_len(),
                        send_q: c.send_queue_len(),
                        local: c.tuple.local(),
                        remote: Some(c.tuple.remote()),
                    });
                }
            }
        }
        for r in self.time_wait.values() {
            out.push(SocketInfo {
                state: State::TimeWait,
                recv_q: 0,
                send_q: 0,
                local: r.tuple.local(),
                remote: Some(r.tuple.remote()),
            });
        }
        out.sort_by_key(|s| (s.state, s.local, s.remote));
        out
    }

    /// Number of connections, half-open entries and TIME-WAIT records held.
    pub fn population(&self) -> (usize, usize, usize) {
        (self.by_tuple.len(), self.half_open.len(), self.time_wait.len())
    }
}

/// `size_of` the per-connection records, for the memory figures in docs/BENCHMARKS.md.
pub fn record_sizes() -> (usize, usize, usize) {
    (std::mem::size_of::<HalfOpen>(), std::mem::size_of::<TimeWait>(), std::mem::size_of::<Connection>())
}
