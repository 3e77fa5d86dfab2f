//! The simulated network: hosts, links, the event queue and the virtual clock.

use crate::link::{Faults, LinkConfig, LinkState, LinkStats};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::net::IpAddr;
use synack_engine::{Endpoint, Event, Instant, SocketInfo, SplitMix64, Transition};
use synack_wire::{parse_segment, set_ecn, Ecn, TcpRepr};

pub type HostId = usize;

/// A packet on its way: (arrival time, tie-breaking sequence, destination host, bytes).
type Delivery = (Instant, u64, HostId, Vec<u8>);

/// More packets than this from one host at one instant is an engine bug.
const RUNAWAY_PACKETS: usize = 100_000;

/// What became of one transmitted packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    Delivered,
    /// Lost at random on the link.
    Lost,
    /// Dropped by a scripted fault.
    Dropped,
    /// Delivered twice.
    Duplicated,
    /// Delivered with a flipped bit (at least one copy).
    Corrupted,
    /// No host owns the destination address.
    Unroutable,
}

/// One entry of the run's log, in time order.
#[derive(Debug, Clone)]
pub enum LogEntry {
    /// A packet as it left `from` (what a capture on the sender's interface sees).
    Packet {
        at: Instant,
        from: HostId,
        to: Option<HostId>,
        bytes: Vec<u8>,
        fate: Fate,
    },
    Transition {
        host: HostId,
        transition: Transition,
    },
    Note {
        at: Instant,
        text: String,
    },
    Table {
        at: Instant,
        title: String,
        rows: Vec<(HostId, SocketInfo)>,
    },
}

/// A scripted fault: drop matching segments sent by `from`, the `nth` match (1-based) and
/// the `count - 1` matches after it.
pub struct Fault {
    pub from: HostId,
    pub matches: fn(&TcpRepr) -> bool,
    pub nth: usize,
    pub count: usize,
    seen: usize,
}

impl Fault {
    pub fn drop_nth(from: HostId, nth: usize, matches: fn(&TcpRepr) -> bool) -> Fault {
        Fault { from, matches, nth, count: 1, seen: 0 }
    }
    /// Drops every match from the `nth` on.
    pub fn drop_from_nth(from: HostId, nth: usize, matches: fn(&TcpRepr) -> bool) -> Fault {
        Fault { from, matches, nth, count: usize::MAX, seen: 0 }
    }
}

pub struct Host {
    pub name: String,
    pub endpoint: Endpoint,
    /// Events not yet taken by the application driving this host.
    pub events: VecDeque<Event>,
}

pub struct Sim {
    now: Instant,
    hosts: Vec<Host>,
    addr_to_host: HashMap<IpAddr, HostId>,
    links: HashMap<(HostId, HostId), LinkState>,
    default_link: LinkConfig,
    queue: BinaryHeap<Reverse<Delivery>>,
    next_seq: u64,
    rng: SplitMix64,
    faults: Vec<Fault>,
    /// Keep a log (traces, pcap); swarms turn it off.
    pub record: bool,
    pub log: Vec<LogEntry>,
    pub stats: LinkStats,
    tx_buf: Vec<u8>,
}

impl Sim {
    pub fn new(seed: u64) -> Sim {
        Sim {
            now: Instant::ZERO,
            hosts: Vec::new(),
            addr_to_host: HashMap::new(),
            links: HashMap::new(),
            default_link: LinkConfig::default(),
            queue: BinaryHeap::new(),
            next_seq: 0,
            rng: SplitMix64::new(seed ^ 0x5eed_0f51),
            faults: Vec::new(),
            record: true,
            log: Vec::new(),
            stats: LinkStats::default(),
            tx_buf: vec![0; 65536],
        }
    }

    pub fn now(&self) -> Instant {
        self.now
    }

    /// Adds a host; its endpoint's state changes are traced into the log (when `record`).
    pub fn add_host(&mut self, name: &str, mut endpoint: Endpoint) -> HostId {
        endpoint.trace_transitions(true);
        let id = self.hosts.len();
        for &addr in endpoint.addresses() {
            self.addr_to_host.insert(addr, id);
        }
        self.hosts.push(Host { name: name.to_string(), endpoint, events: VecDeque::new() });
        id
    }

    pub fn host(&self, id: HostId) -> &Host {
        &self.hosts[id]
    }
    pub fn host_mut(&mut self, id: HostId) -> &mut Host {
        &mut self.hosts[id]
    }
    pub fn endpoint(&mut self, id: HostId) -> &mut Endpoint {
        &mut self.hosts[id].endpoint
    }
    pub fn hosts(&self) -> &[Host] {
        &self.hosts
    }

    /// Sets the link used between hosts that have no link of their own.
    pub fn set_default_link(&mut self, config: LinkConfig) {
        self.default_link = config;
    }
    /// Sets the one-way link `from -> to`.
    pub fn set_link(&mut self, from: HostId, to: HostId, config: LinkConfig) {
        self.links.insert((from, to), LinkState::new(config));
    }
    pub fn add_fault(&mut self, fault: Fault) {
        self.faults.push(fault);
    }

    pub fn note(&mut self, text: impl Into<String>) {
        if self.record {
            self.log.push(LogEntry::Note { at: self.now, text: text.into() });
        }
    }

    /// Logs an `ss`-style table of every host's sockets.
    pub fn snapshot(&mut self, title: &str) {
        let rows = self
            .hosts
            .iter()
            .enumerate()
            .flat_map(|(id, h)| h.endpoint.sockets().into_iter().map(move |s| (id, s)))
            .collect();
        self.log.push(LogEntry::Table { at: self.now, title: title.to_string(), rows });
    }

    /// Sends what every host has to send and collects their events. Call after user calls.
    pub fn flush(&mut self) {
        for id in 0..self.hosts.len() {
            // Events first: the state changes that led to a packet are logged before it.
            self.collect_events(id);
            for sent in 0.. {
                // An endpoint never has this much to send at one instant; more means a loop.
                assert!(
                    sent < RUNAWAY_PACKETS,
                    "host {} emitted {sent} packets at {} without end",
                    self.hosts[id].name,
                    self.now
                );
                let now = self.now;
                let Some(t) = self.hosts[id].endpoint.poll_transmit(now, &mut self.tx_buf[..1500]) else { break };
                let bytes = self.tx_buf[..t.len].to_vec();
                self.route(id, t.dst, t.ecn, bytes);
            }
            self.collect_events(id);
        }
    }

    fn collect_events(&mut self, id: HostId) {
        while let Some(t) = self.hosts[id].endpoint.poll_transition() {
            if self.record {
                self.log.push(LogEntry::Transition { host: id, transition: t });
            }
        }
        while let Some(ev) = self.hosts[id].endpoint.poll_event() {
            self.hosts[id].events.push_back(ev);
        }
    }

    /// Carries a packet `from` a host to whichever host owns `dst`; `ecn` is its IP header's
    /// codepoint (the engine's `Transmit` says both, so the bytes are not parsed again).
    fn route(&mut self, from: HostId, dst: IpAddr, ecn: Ecn, bytes: Vec<u8>) {
        let Some(&to) = self.addr_to_host.get(&dst) else {
            return self.log_packet(from, None, bytes, Fate::Unroutable);
        };
        if self.scripted_drop(from, &bytes) {
            self.stats.sent += 1;
            self.stats.dropped_by_script += 1;
            return self.log_packet(from, Some(to), bytes, Fate::Dropped);
        }
        let default = self.default_link;
        let link = self.links.entry((from, to)).or_insert_with(|| LinkState::new(default));
        let outcome = link.transmit(self.now, bytes.len(), &mut self.rng, &mut self.stats);
        let fate = if outcome.lost {
            Fate::Lost
        } else if outcome.arrivals.iter().any(|&(_, c)| c) {
            Fate::Corrupted
        } else if outcome.duplicated {
            Fate::Duplicated
        } else {
            Fate::Delivered
        };
        let faults = link.config.faults;
        let mut bytes = bytes;
        let ect = matches!(ecn, Ecn::Ect0 | Ecn::Ect1);
        if !outcome.lost && ect && faults.mark_ce(&mut self.rng) && set_ecn(&mut bytes, Ecn::Ce) {
            self.stats.ce_marked += 1;
        }
        for (at, corrupted) in outcome.arrivals {
            let mut copy = bytes.clone();
            if corrupted {
                Faults::corrupt(&mut copy, &mut self.rng);
            }
            self.next_seq += 1;
            self.queue.push(Reverse((at, self.next_seq, to, copy)));
        }
        self.log_packet(from, Some(to), bytes, fate);
    }

    fn scripted_drop(&mut self, from: HostId, bytes: &[u8]) -> bool {
        if !self.faults.iter().any(|f| f.from == from) {
            return false;
        }
        let Ok(seg) = parse_segment(bytes) else { return false };
        let mut drop = false;
        for f in self.faults.iter_mut().filter(|f| f.from == from) {
            if (f.matches)(&seg.tcp) {
                f.seen += 1;
                if f.seen >= f.nth && f.seen - f.nth < f.count {
                    drop = true;
                }
            }
        }
        drop
    }

    fn log_packet(&mut self, from: HostId, to: Option<HostId>, bytes: Vec<u8>, fate: Fate) {
        if self.record {
            self.log.push(LogEntry::Packet { at: self.now, from, to, bytes, fate });
        }
    }

    /// Puts a packet on the wire from outside any host (a forged or vanished peer), delivered
    /// to whichever host owns its destination after the default link delay.
    pub fn inject(&mut self, bytes: Vec<u8>) {
        let Ok(seg) = parse_segment(&bytes) else { return };
        let Some(&to) = self.addr_to_host.get(&seg.ip.dst) else { return };
        let at = self.now + self.default_link.faults.delay;
        self.next_seq += 1;
        self.queue.push(Reverse((at, self.next_seq, to, bytes.clone())));
        if self.record {
            self.log.push(LogEntry::Packet {
                at: self.now,
                from: usize::MAX,
                to: Some(to),
                bytes,
                fate: Fate::Delivered,
            });
        }
    }

    /// The time of the next delivery or timer, if any.
    pub fn next_event_time(&mut self) -> Option<Instant> {
        let delivery = self.queue.peek().map(|Reverse((at, ..))| *at);
        let timer = self.hosts.iter_mut().filter_map(|h| h.endpoint.poll_timeout()).min();
        match (delivery, timer) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Advances the clock to the next event and processes everything due then. Returns false
    /// when nothing is left to happen (or the next event is past `limit`).
    pub fn step(&mut self, limit: Instant) -> bool {
        self.flush();
        let Some(at) = self.next_event_time() else { return false };
        if at > limit {
            return false;
        }
        self.now = self.now.max(at);
        while let Some(Reverse((t, ..))) = self.queue.peek() {
            if *t > self.now {
                break;
            }
            let Reverse((_, _, to, bytes)) = self.queue.pop().expect("peeked");
            self.stats.delivered += 1;
            let now = self.now;
            self.hosts[to].endpoint.handle_packet(now, &bytes);
        }
        for h in &mut self.hosts {
            h.endpoint.handle_timeout(self.now);
        }
        self.flush();
        true
    }

    /// Steps until `done` holds (checked after each step), nothing is left to happen, or the
    /// clock would pass `limit`. Returns whether `done` held.
    pub fn run_until(&mut self, limit: Instant, mut done: impl FnMut(&mut Sim) -> bool) -> bool {
        self.flush();
        loop {
            if done(self) {
                return true;
            }
            if !self.step(limit) {
                return done(self);
            }
        }
    }

    /// Runs until nothing is left to happen or `limit`.
    pub fn run_to_idle(&mut self, limit: Instant) {
        while self.step(limit) {}
    }

    /// Moves the clock forward to `at` (running everything due before it).
    pub fn advance_to(&mut self, at: Instant) {
        self.run_to_idle(at);
        self.now = self.now.max(at);
        for h in &mut self.hosts {
            h.endpoint.handle_timeout(self.now);
        }
        self.flush();
    }

    /// Takes the next event of `host` matching `pick`, leaving the others in order.
    pub fn take_event(&mut self, host: HostId, pick: impl Fn(&Event) -> bool) -> Option<Event> {
        let events = &mut self.hosts[host].events;
        let i = events.iter().position(pick)?;
        events.remove(i)
    }
}
