//! `Endpoint`: all TCP state of one host, driven sans-IO.
//!
//! Call order: feed packets with `handle_packet(now, bytes)` and expired timers with
//! `handle_timeout(now)`; after each input (and after user calls) drain `poll_transmit(now, buf)`
//! until it returns `None`, then `poll_event()`; sleep until `poll_timeout()`. `now` never goes
//! backwards. The same inputs always give the same outputs.
//!
//! Storage: connections, half-open entries, TIME-WAIT records and listeners each live in a
//! slab; one hash table maps a 4-tuple to the record that holds it (`Demux`), another maps a
//! listening address to its listener. User calls are in `calls.rs`, packet input in
//! `input.rs`, output in `output.rs`, timers in `timers.rs`, the socket table in `table.rs`.

mod calls;
mod cookies;
mod demux;
mod icmp;
mod input;
mod listeners;
mod options;
mod output;
mod port_use;
mod slot;
mod table;
mod timers;

pub use options::ConnMut;
pub use output::Transmit;
pub use table::{format_ss_table, BufferSizes, ListenerQueues, Population, QueueLens, SocketInfo};

use crate::buffers::BufferPool;
use crate::config::{ConfigMut, Timing};
use crate::conn::{Connection, ControlSegment, Ctx, NewConn, Shared};
use crate::fifo::Fifo;
use crate::half_open::HalfOpen;
use crate::handle::{ConnHandle, ListenerHandle};
use crate::isn::IsnGenerator;
use crate::listener::{ListenKey, Listener};
use crate::rng::SplitMix64;
use crate::slab::Slab;
use crate::syncookie::SynCookies;
use crate::time_wait::TimeWait;
use crate::tuple::SeededState;
use crate::{Cause, Config, ConnectError, Counters, Event, FourTuple, Instant, IpFields, State, Transition};
use demux::DemuxTable;
use port_use::PortUse;
use slot::ConnSlot;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use timers::TimerHeap;

/// Where the demultiplexing table sends a 4-tuple: which kind of record holds it and its slab
/// index. A tuple is in at most one record at a time, so one lookup per packet finds it (RFC
/// 9293's order, connection before half-open before TIME-WAIT, holds trivially), and a record
/// that turns into another kind only updates its entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Demux {
    Conn(u32),
    HalfOpen(u32),
    TimeWait(u32),
}

/// What a timer-heap entry refers to (slab index and generation); checked against the live
/// deadline when it pops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum TimerRef {
    Conn(u32, u32),
    HalfOpen(u32, u32),
    TimeWait(u32, u32),
}

/// All TCP state of one host, driven sans-IO: no clock, no I/O, randomness from
/// `Config::rng_seed`, so the same inputs always give the same outputs.
///
/// The poll loop: after every input (`handle_packet`, `handle_timeout`) and every user call,
/// drain `poll_transmit` until it returns `None` and hand each packet to the network, then
/// take `poll_event`s; sleep until `poll_timeout()` (or the next packet) and call
/// `handle_timeout(now)` then. `now` never goes backwards. Every call that acts (`connect`,
/// `send`, `recv`, `shutdown`, `close`, an option through `conn_mut`, ...) takes the time
/// first, as the inputs do; queries (`state`, `sockets`, `counters`, ...) do not.
///
/// ```
/// use synack_engine::{Config, Endpoint, Event, Instant};
///
/// let mut server = Endpoint::new(Config::default(), &["10.0.0.1".parse().unwrap()]);
/// let mut client = Endpoint::new(Config::default(), &["10.0.0.2".parse().unwrap()]);
/// let listener = server.listen("10.0.0.1:80".parse().unwrap(), 128).unwrap();
/// let conn = client.connect(Instant::ZERO, None, "10.0.0.1:80".parse().unwrap()).unwrap();
/// let (mut buf, now) = ([0u8; 1500], Instant::ZERO);
/// for _ in 0..4 {
///     while let Some(t) = client.poll_transmit(now, &mut buf) { server.handle_packet(now, &buf[..t.len]); }
///     while let Some(t) = server.poll_transmit(now, &mut buf) { client.handle_packet(now, &buf[..t.len]); }
/// }
/// let accepted = server.accept(listener).expect("the handshake is done");
/// while let Some(event) = client.poll_event() {
///     if let Event::Connected(h) = event { assert_eq!(h, conn); }
/// }
/// client.send(now, conn, b"hello").unwrap();
/// while let Some(t) = client.poll_transmit(now, &mut buf) { server.handle_packet(now, &buf[..t.len]); }
/// let mut got = [0u8; 5];
/// assert_eq!(server.recv(now, accepted, &mut got), Ok(5));
/// assert_eq!(&got, b"hello");
/// ```
pub struct Endpoint {
    /// The config, its times, the event and control queues, the counters and the buffer pool:
    /// what a connection call may touch besides the connection (`Ctx`).
    shared: Shared,
    addresses: Vec<IpAddr>,
    rng: SplitMix64,
    isn: IsnGenerator,
    /// The secret of the SYN cookies (`syncookie.rs`), derived from the ISN key.
    cookies: SynCookies,
    /// Echo replies to send (`icmp.rs`): the packet, its source and destination.
    echo_replies: std::collections::VecDeque<(Vec<u8>, IpAddr, IpAddr)>,
    /// ICMP messages sent this second: (second, count), for `icmp_msgs_per_sec`.
    icmp_budget: (u64, u32),
    /// Packets that are neither TCP nor ICMP the endpoint acts on, kept for the application
    /// (`keep_other_packets`); None: dropped.
    other_packets: Option<std::collections::VecDeque<Vec<u8>>>,
    conns: Slab<ConnSlot>,
    half_opens: Slab<HalfOpen>,
    time_waits: Slab<TimeWait>,
    listeners: Slab<Listener>,
    /// Demultiplexing by 4-tuple (never a scan over connections), then by listening address.
    demux: DemuxTable,
    /// Which ports of the endpoint's addresses records hold (`connect`'s check).
    port_use: PortUse,
    listener_by_addr: HashMap<ListenKey, u32, SeededState>,
    /// The any-IP listener, if one is open: it takes connections to every address and port.
    any_listener: Option<u32>,
    timers: TimerHeap,
    /// Connections whose timers changed, and new half-open entries, since the heap was last
    /// brought up to date: the heap is updated only when it is read (`poll_timeout`,
    /// `handle_timeout`), so that a connection whose deadlines move several times in
    /// between, or a record that ends before then, leaves no stale entries to pop.
    timers_pending: Vec<TimerRef>,
    dirty: Fifo<ConnHandle>,
    ip_ident: u16,
    /// While a segment that came in UDP is handled: the peer's UDP port (FreeBSD's TCP over
    /// UDP), which a record the segment makes keeps and an answer goes back to.
    inbound_udp_port: Option<u16>,
    last_now: Instant,
}

impl Endpoint {
    /// A host with the given local addresses (packets to other addresses are dropped).
    pub fn new(config: Config, addresses: &[IpAddr]) -> Endpoint {
        let mut rng = SplitMix64::new(config.rng_seed);
        let isn = IsnGenerator::new(rng.next_u64(), rng.next_u64());
        let cookies = SynCookies::new(isn.derive_key(0x5359_4e43_4f4f_4b49)); // "SYNCOOKI"
        let ip_ident = rng.next_u64() as u16;
        let hasher = SeededState::new(rng.next_u64(), rng.next_u64());
        let shared = Shared {
            timing: Timing::of(&config),
            config,
            events: Fifo::default(),
            counters: Counters::default(),
            control: Fifo::default(),
            buffers: BufferPool::default(),
            scoreboards: Default::default(),
            challenge_budget: Default::default(),
            trace_transitions: false,
            transitions: Fifo::default(),
            keepalive_timings: Default::default(),
            device_refusing: false,
            probe_spells: Default::default(),
            md5_keys: Default::default(),
            udp_ports: Default::default(),
        };
        Endpoint {
            shared,
            addresses: addresses.to_vec(),
            rng,
            isn,
            cookies,
            echo_replies: Default::default(),
            other_packets: None,
            icmp_budget: (0, 0),
            conns: Slab::default(),
            half_opens: Slab::default(),
            time_waits: Slab::default(),
            listeners: Slab::default(),
            demux: DemuxTable::new(hasher),
            port_use: PortUse::new(addresses.len()),
            listener_by_addr: HashMap::with_hasher(hasher),
            any_listener: None,
            timers: TimerHeap::default(),
            timers_pending: Vec::new(),
            dirty: Fifo::default(),
            ip_ident,
            last_now: Instant::ZERO,
            inbound_udp_port: None,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.shared.config
    }
    /// Changes take effect for what happens next, as a sysctl does: new connections, new
    /// segments, new timers. Connections keep what they negotiated.
    pub fn config_mut(&mut self) -> ConfigMut<'_> {
        ConfigMut { config: &mut self.shared.config, timing: &mut self.shared.timing }
    }
    /// The endpoint's own addresses.
    pub fn addresses(&self) -> &[IpAddr] {
        &self.addresses
    }
    /// The endpoint's counters, like `netstat -s`: every dropped packet is counted under its
    /// reason.
    pub fn counters(&self) -> &Counters {
        &self.shared.counters
    }

    fn push_control(&mut self, seg: ControlSegment) {
        self.shared.push_control(seg);
    }

    /// The next user-visible event, in the order they happened.
    #[inline]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.shared.events.pop_front()
    }

    /// Records every state change of every connection, half-open entry and TIME-WAIT record
    /// for `poll_transition` (off by default: a trace is for tools that draw one, such as the
    /// simulator's traces and ladders; a caller that turns it on takes the transitions, or they
    /// pile up).
    pub fn trace_transitions(&mut self, on: bool) {
        self.shared.trace_transitions = on;
    }

    /// The next recorded state change, in the order they happened.
    pub fn poll_transition(&mut self) -> Option<Transition> {
        self.shared.transitions.pop_front()
    }

    /// Drops whatever holds `tuple`, as FreeBSD's `tcpdrop` does: a connection is aborted
    /// (RST where it has a peer), a half-open entry or TIME-WAIT record is forgotten.
    /// Returns false when nothing holds it.
    pub fn drop_connection(&mut self, now: Instant, tuple: &FourTuple) -> bool {
        match self.lookup(tuple) {
            Some(Demux::Conn(index)) => {
                let h = ConnHandle { index, generation: self.conns.generation(index) };
                self.with_conn(now, h, (), |c, ctx| c.abort(ctx, Cause::Abort));
            }
            Some(Demux::HalfOpen(index)) => {
                self.remove_half_open(index);
                self.transition(now, *tuple, State::SynReceived, State::Closed, Cause::Abort);
            }
            Some(Demux::TimeWait(index)) => {
                self.time_waits.free(index);
                self.demux_remove(tuple, Demux::TimeWait(index));
                self.transition(now, *tuple, State::TimeWait, State::Closed, Cause::Abort);
            }
            None => return false,
        }
        true
    }

    // ---- The demultiplexing table ----

    /// The record that holds `t`, if any.
    fn lookup(&self, t: &FourTuple) -> Option<Demux> {
        self.demux.get(t, |d| record_tuple(&self.conns, &self.half_opens, &self.time_waits, d))
    }

    /// Enters `t → to` for a record just stored; `t` must not be in the table yet.
    /// `address` is where `t.local_ip` is among the endpoint's addresses (`address_index`):
    /// an argument because `connect` has found it already.
    fn demux_insert(&mut self, t: &FourTuple, to: Demux, address: Option<usize>) {
        // A new record travels as the segment that made it did: in UDP from its port, or not.
        match self.inbound_udp_port {
            Some(port) => {
                self.shared.udp_ports.insert(*t, port);
            }
            None if !self.shared.udp_ports.is_empty() => {
                self.shared.udp_ports.remove(t);
            }
            None => {}
        }
        let (conns, half_opens, time_waits) = (&self.conns, &self.half_opens, &self.time_waits);
        self.demux.insert(t, to, |d| record_tuple(conns, half_opens, time_waits, d));
        if let Some(address) = address {
            self.port_use.add(address, t.local_port);
        }
    }

    /// Removes the entry `t → at` of a record that is going, if the table has it.
    fn demux_remove(&mut self, t: &FourTuple, at: Demux) {
        if self.demux.remove(t, at) {
            if !self.shared.udp_ports.is_empty() {
                self.shared.udp_ports.remove(t);
            }
            if let Some(address) = self.address_index(&t.local_ip) {
                self.port_use.sub(address, t.local_port);
            }
        }
    }

    /// Where `ip` is among the endpoint's addresses.
    fn address_index(&self, ip: &IpAddr) -> Option<usize> {
        self.addresses.iter().position(|a| a == ip)
    }

    /// Points `t` at `to` instead of `from` (a record turned into another kind).
    fn demux_replace(&mut self, t: &FourTuple, from: Demux, to: Demux) {
        let (conns, half_opens, time_waits) = (&self.conns, &self.half_opens, &self.time_waits);
        self.demux.replace(t, from, to, |d| record_tuple(conns, half_opens, time_waits, d));
    }

    // ---- Opening connections ----

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
        // The local address as its place among ours: the port counts are kept by that place.
        let address = match local.map(|l| l.ip()).filter(|ip| !ip.is_unspecified()) {
            Some(ip) if ip.is_ipv4() != rip.is_ipv4() => return Err(ConnectError::InvalidRemoteAddress),
            Some(ip) => self.address_index(&ip).ok_or(ConnectError::InvalidLocalAddress)?,
            None => {
                self.addresses.iter().position(|a| a.is_ipv4() == rip.is_ipv4()).ok_or(ConnectError::NoLocalAddress)?
            }
        };
        let local_ip = self.addresses[address];
        let (tuple, must_check_in_use) = match local.map(|l| l.port()).filter(|&p| p != 0) {
            Some(port) => {
                let t = FourTuple::new(SocketAddr::new(local_ip, port), remote);
                // A port no record holds makes a free tuple. Else, in a large table a new
                // tuple's line is rarely cached: ask for it now, and compute the ISN and build
                // the connection while it loads.
                let held = self.port_use.held(address, port);
                if held {
                    self.demux.prefetch(&t);
                }
                (t, held)
            }
            // A picked port is free already.
            None => (self.pick_ephemeral(address, remote).ok_or(ConnectError::AddrInUse)?, false),
        };
        let (iss, ts_offset) = self.isn.isn_and_ts_offset(&tuple, now);
        let ts_offset = if self.shared.config.tcp_timestamps { ts_offset } else { 0 };
        self.bound_timers_pending();
        let (config, timing) = (&self.shared.config, &self.shared.timing);
        let (index, generation) = self.conns.insert_with(|(index, generation)| {
            let handle = ConnHandle { index, generation };
            ConnSlot::new(Connection::new_active(
                config,
                timing,
                NewConn { handle, tuple, iss, ts_offset, now, ip: IpFields::default() },
            ))
        });
        // Checked only now, so that the prefetched line has had the ISN and the build to load.
        if must_check_in_use && self.lookup(&tuple).is_some() {
            self.conns.free(index);
            return Err(ConnectError::AddrInUse);
        }
        self.ctx(now).transition(tuple, State::Closed, State::SynSent, Cause::Connect);
        let handle = ConnHandle { index, generation };
        self.demux_insert(&tuple, Demux::Conn(index), Some(address));
        self.after_conn(now, handle);
        Ok(handle)
    }

    /// A random port of the ephemeral range that makes a free 4-tuple (probing onward from a
    /// random start, as Linux's port selection does) from our address at `address`.
    fn pick_ephemeral(&mut self, address: usize, remote: SocketAddr) -> Option<FourTuple> {
        let (lo, hi) = self.shared.config.ip_local_port_range;
        let span = (hi as u32).checked_sub(lo as u32)? + 1;
        let start = self.rng.below(span as u64) as u32;
        let local_ip = self.addresses[address];
        (0..span).find_map(|i| {
            let port = (lo as u32 + (start + i) % span) as u16;
            let t = FourTuple::new(SocketAddr::new(local_ip, port), remote);
            (!self.port_use.held(address, port) || self.lookup(&t).is_none()).then_some(t)
        })
    }

    // ---- The connection lifecycle ----

    /// The context a connection call may touch.
    fn ctx(&mut self, now: Instant) -> Ctx<'_> {
        Ctx { now, shared: &mut self.shared }
    }

    fn conn(&self, h: ConnHandle) -> Option<&ConnSlot> {
        self.conns.get(h.index, h.generation)
    }

    fn conn_mut_opt(&mut self, h: ConnHandle) -> Option<&mut ConnSlot> {
        self.conns.get_mut(h.index, h.generation)
    }

    /// Runs `f` on a live connection with a context, then settles what it changed; `stale` is
    /// the answer when `h` names no live connection. (An `Option` around `f`'s result instead
    /// was packed on the stack in pieces and read back across them, which waits for the
    /// stores to reach the cache: `recv`'s result did, once per call.)
    #[inline(always)]
    fn with_conn<R>(
        &mut self,
        now: Instant,
        h: ConnHandle,
        stale: R,
        f: impl FnOnce(&mut Connection, &mut Ctx) -> R,
    ) -> R {
        self.last_now = self.last_now.max(now);
        let Some(conn) = self.conns.get_mut(h.index, h.generation) else { return stale };
        let r = f(conn, &mut Ctx { now, shared: &mut self.shared });
        if settle(&mut self.timers_pending, &mut self.dirty, conn, h) {
            self.after_conn_ended(now, h);
        }
        r
    }

    /// After anything touched a connection: reschedule its timer, queue it for output, and
    /// retire it into a TIME-WAIT record or free it when it is done.
    #[inline(always)]
    fn after_conn(&mut self, now: Instant, h: ConnHandle) {
        let Some(conn) = self.conns.get_mut(h.index, h.generation) else { return };
        if settle(&mut self.timers_pending, &mut self.dirty, conn, h) {
            self.after_conn_ended(now, h);
        }
    }

    /// The rest of `after_conn` for a connection in TIME-WAIT or CLOSED: rare (mostly the call
    /// that ended it), so kept out of line and the common path small enough to inline.
    #[inline(never)]
    fn after_conn_ended(&mut self, now: Instant, h: ConnHandle) {
        let Some(conn) = self.conns.get_mut(h.index, h.generation) else { return };
        let (state, tuple) = (conn.state, conn.tuple);
        match state {
            State::TimeWait => self.enter_time_wait(now, h),
            State::Closed => {
                self.demux_remove(&tuple, Demux::Conn(h.index));
                self.maybe_free(h);
            }
            _ => {}
        }
    }

    /// Frees a CLOSED connection once nobody can ask about it any more.
    fn maybe_free(&mut self, h: ConnHandle) {
        let Some(conn) = self.conn(h) else { return };
        if conn.state == State::Closed && conn.released() && conn.listener.is_none() {
            if let Some(conn) = self.conns.at_mut(h.index) {
                conn.give_buffers(&mut self.shared);
            }
            self.conns.free(h.index);
        }
    }

    /// The connection reached TIME-WAIT: a small record takes its place (Linux's
    /// `tcp_time_wait`), and the connection, if the user still holds it, shows CLOSED.
    fn enter_time_wait(&mut self, now: Instant, h: ConnHandle) {
        let Some(conn) = self.conn_mut_opt(h) else { return };
        let (snd_nxt, rcv_nxt, ts_recent, window, ts_ok, ts_offset) = conn.time_wait_numbers();
        let (ip, md5) = (conn.ip, conn.signs());
        let owes_ack = conn.owes_ack();
        let tuple = conn.tuple;
        conn.retire();
        conn.heap_deadline = Instant::NEVER;
        let deadline = now.add_micros(self.shared.timing.time_wait_us);
        let record = TimeWait { tuple, snd_nxt, rcv_nxt, ts_recent, deadline, window, ts_ok, ip, md5 };
        if owes_ack {
            self.push_control(input::time_wait_ack_with(now, &record, ts_offset));
        }
        let (index, generation) = self.time_waits.insert(record);
        self.timers.push(deadline, TimerRef::TimeWait(index, generation));
        self.demux_replace(&tuple, Demux::Conn(h.index), Demux::TimeWait(index));
        self.shared.counters.time_wait_entered += 1;
        self.shared.events.push_back(Event::Closed(h));
        self.maybe_free(h);
    }
}

/// The tuple of the record a demux entry points at.
fn record_tuple<'r>(
    conns: &'r Slab<ConnSlot>,
    half_opens: &'r Slab<HalfOpen>,
    time_waits: &'r Slab<TimeWait>,
    d: Demux,
) -> Option<&'r FourTuple> {
    match d {
        Demux::Conn(i) => conns.at(i).map(|c| &c.tuple),
        Demux::HalfOpen(i) => half_opens.at(i).map(|e| &e.tuple),
        Demux::TimeWait(i) => time_waits.at(i).map(|r| &r.tuple),
    }
}

/// `after_conn` on the connection already in hand: reschedules its timer and queues it for
/// output; true when it has reached TIME-WAIT or CLOSED and `after_conn_ended` must follow.
#[inline(always)]
fn settle(pending: &mut Vec<TimerRef>, dirty: &mut Fifo<ConnHandle>, conn: &mut ConnSlot, h: ConnHandle) -> bool {
    reschedule(pending, conn, h);
    if !conn.in_dirty && conn.wants_output() {
        conn.in_dirty = true;
        dirty.push_back(h);
    }
    matches!(conn.state, State::TimeWait | State::Closed)
}

/// Queues a connection whose timers may have changed for the heap's next update.
fn reschedule(pending: &mut Vec<TimerRef>, conn: &mut ConnSlot, h: ConnHandle) {
    if !conn.timer_pending {
        conn.timer_pending = true;
        pending.push(TimerRef::Conn(h.index, h.generation));
    }
}

/// `size_of` the per-connection records, for the memory figures in docs/BENCHMARKS.md.
pub fn record_sizes() -> RecordSizes {
    RecordSizes {
        half_open: std::mem::size_of::<HalfOpen>(),
        time_wait: std::mem::size_of::<TimeWait>(),
        connection: std::mem::size_of::<ConnSlot>(),
    }
}

/// Bytes of each record an endpoint keeps (buffers not included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordSizes {
    /// A half-open (SYN-RECEIVED) entry.
    pub half_open: usize,
    /// A TIME-WAIT record.
    pub time_wait: usize,
    /// A connection without its buffers.
    pub connection: usize,
}
