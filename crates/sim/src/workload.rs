//! A bulk-transfer workload: K connections between a client and a server host; each side sends
//! N bytes of a known pattern, half-closes when done, checks every byte it receives (once, in
//! order), and closes after the peer's FIN. Used by `synack sim` and the swarm tests.

use crate::link::{Faults, LinkConfig, LinkStats};
use crate::net::{HostId, Sim};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;
use synack_engine::{Config, ConnHandle, Endpoint, Event, Instant, RecvError, SendError, State};
use synack_wire::SeqNum;

#[derive(Debug, Clone)]
pub struct TransferSpec {
    pub connections: usize,
    pub bytes: usize,
    pub seed: u64,
    /// The link in each direction (the seed decides the faults on it).
    pub link: LinkConfig,
    pub ipv6: bool,
    /// Virtual time after which the run is declared hung.
    pub time_limit: Duration,
    /// Engine configuration for both hosts (the seed is filled in per host).
    pub config: Config,
    /// Keep the log of packets and transitions (for traces and pcap).
    pub record: bool,
    /// Spoofed SYNs a second at the server, from addresses no host has, while the transfer
    /// runs (a SYN flood: the server answers past its SYN queue with cookies).
    pub flood_per_sec: u64,
}

impl TransferSpec {
    pub fn new(connections: usize, bytes: usize, seed: u64, link: LinkConfig) -> TransferSpec {
        TransferSpec {
            connections,
            bytes,
            seed,
            link,
            ipv6: false,
            time_limit: Duration::from_secs(24 * 3600),
            config: Config::default(),
            record: false,
            flood_per_sec: 0,
        }
    }
}

#[derive(Debug, Clone)]
pub struct TransferReport {
    /// Bytes that arrived intact, both directions, all connections.
    pub bytes_delivered: u64,
    pub bytes_expected: u64,
    /// Virtual time from the first SYN until the last byte was read.
    pub transfer_time: Duration,
    /// Virtual time until every connection and TIME-WAIT record was gone.
    pub total_time: Duration,
    pub retransmitted_segments: u64,
    /// ECN, both hosts: data segments that arrived marked CE, and window reductions for an echo.
    pub ce_marked_in: u64,
    pub ecn_reductions: u64,
    /// How losses were recovered, both hosts: fast retransmits, those undone as spurious,
    /// retransmissions lost and resent in SACK recovery, and retransmission timeouts.
    pub fast_retransmits: u64,
    pub spurious_retransmits_undone: u64,
    pub lost_retransmits: u64,
    pub rto_expirations: u64,
    /// Initial slow starts HyStart++ ended before a loss (RFC 9406), both hosts.
    pub hystart_exits: u64,
    pub link: LinkStats,
    /// Spoofed SYNs sent (`flood_per_sec`), and SYN cookies the server sent.
    pub flood_syns: u64,
    pub syncookies_sent: u64,
    /// Each client connection's handshake, connect to ESTABLISHED, sorted.
    pub handshakes: Vec<Duration>,
    /// Final state of every connection end, as (host name, state).
    pub final_states: Vec<(String, State)>,
    pub errors: Vec<String>,
}

impl TransferReport {
    pub fn ok(&self) -> bool {
        self.errors.is_empty()
    }
    /// Goodput over the transfer time, bits per second.
    pub fn goodput_bps(&self) -> f64 {
        let secs = self.transfer_time.as_secs_f64();
        if secs == 0.0 {
            0.0
        } else {
            self.bytes_delivered as f64 * 8.0 / secs
        }
    }
}

/// The byte at stream position `i` of connection `conn`, direction `dir`.
pub fn pattern_byte(seed: u64, conn: usize, dir: u8, i: usize) -> u8 {
    let x = (i as u64).wrapping_mul(131) ^ ((i as u64 >> 8).wrapping_mul(17)) ^ (i as u64 >> 16);
    (x ^ seed ^ (conn as u64).wrapping_mul(7) ^ (dir as u64).wrapping_mul(13)) as u8
}

/// One end of one connection as the application sees it.
struct AppEnd {
    conn: usize,
    dir: u8,
    handle: ConnHandle,
    sent: usize,
    received: usize,
    shut: bool,
    eof: bool,
    closed: bool,
    /// How many bytes to offer the next `send`.
    chunk: usize,
}

/// The smallest offer to `send`.
const MIN_CHUNK: usize = 1024;

pub const CLIENT_PORT_BASE: u16 = 40000;
pub const SERVER_PORT: u16 = 7788;

pub fn run_transfer(spec: &TransferSpec) -> TransferReport {
    run_transfer_sim(spec).0
}

/// How far a run has come, for a progress line.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub bytes_delivered: u64,
    pub bytes_expected: u64,
    pub now: Instant,
}

/// `run_transfer`, also returning the simulation (its log, when `spec.record`).
pub fn run_transfer_sim(spec: &TransferSpec) -> (TransferReport, Sim) {
    run_transfer_sim_with_progress(spec, &mut |_| {})
}

/// Simulation steps between two calls of the progress callback.
const PROGRESS_EVERY_STEPS: u64 = 4096;

/// `run_transfer_sim`, calling `progress` every few thousand steps of the simulation.
pub fn run_transfer_sim_with_progress(
    spec: &TransferSpec,
    progress: &mut dyn FnMut(Progress),
) -> (TransferReport, Sim) {
    let mut sim = Sim::new(spec.seed);
    sim.record = spec.record;
    sim.set_default_link(spec.link);
    let (client_ip, server_ip): (IpAddr, IpAddr) = if spec.ipv6 {
        (Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1).into(), Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 2).into())
    } else {
        (Ipv4Addr::new(10, 0, 0, 1).into(), Ipv4Addr::new(10, 0, 0, 2).into())
    };
    let host_config =
        |n: u64| spec.config.clone().with(|c| c.rng_seed = spec.seed.wrapping_mul(0x9e37_79b9).wrapping_add(n));
    let client = sim.add_host("client", Endpoint::new(host_config(1), &[client_ip]));
    // A burst of K SYNs arrives together: past the 256-entry SYN queue they are answered with
    // SYN cookies (the default `tcp_syncookies`), and the accept queue holds every connection
    // of the run at once.
    let mut server_config = host_config(2);
    server_config.somaxconn = server_config.somaxconn.max(spec.connections);
    let server = sim.add_host("server", Endpoint::new(server_config, &[server_ip]));
    let mut errors = Vec::new();
    let listener = sim
        .endpoint(server)
        .listen(SocketAddr::new(server_ip, SERVER_PORT), spec.connections.max(1))
        .expect("a fresh endpoint can listen");
    let mut app = Apps::default();
    let mut conn_of_port: HashMap<u16, usize> = HashMap::new();
    for i in 0..spec.connections {
        let port = CLIENT_PORT_BASE + i as u16;
        let local = SocketAddr::new(client_ip, port);
        let h = sim.endpoint(client).connect(Instant::ZERO, Some(local), SocketAddr::new(server_ip, SERVER_PORT));
        match h {
            Ok(handle) => {
                conn_of_port.insert(port, i);
                app.add(client, new_end(i, 0, handle));
            }
            Err(e) => errors.push(format!("connect {i}: {e}")),
        }
    }
    let limit = Instant::ZERO + spec.time_limit;
    let mut buf = vec![0u8; 64 * 1024];
    let mut transfer_done_at = None;
    let expected_ends = 2 * spec.connections;
    let bytes_expected = (expected_ends * spec.bytes) as u64;
    let mut limit_reached = false;
    let (mut flood_syns, mut handshakes) = (0u64, Vec::new());
    for step in 1u64.. {
        if step % PROGRESS_EVERY_STEPS == 0 {
            let bytes_delivered = app.ends.iter().map(|(_, e)| e.received as u64).sum();
            progress(Progress { bytes_delivered, bytes_expected, now: sim.now() });
        }
        // The applications react to what happened: only the ends an event names are pumped,
        // so that a step costs what happened in it, not the number of connections.
        for host in [client, server] {
            for event in std::mem::take(&mut sim.host_mut(host).events) {
                match event {
                    Event::Incoming(l) if l == listener => {
                        while let Some(h) = sim.endpoint(server).accept(l) {
                            let port = sim.endpoint(server).peer_addr(h).map_or(0, |a| a.port());
                            match conn_of_port.get(&port) {
                                Some(&i) => app.add(server, new_end(i, 1, h)),
                                None => errors.push(format!("accepted unknown peer port {port}")),
                            }
                        }
                    }
                    Event::Connected(h) => {
                        if host == client {
                            handshakes.push(sim.now() - Instant::ZERO);
                        }
                        app.mark(host, h)
                    }
                    Event::Readable(h)
                    | Event::Writable(h)
                    | Event::PeerClosed(h)
                    | Event::Error(h, _)
                    | Event::Closed(h) => app.mark(host, h),
                    Event::Incoming(_) => {}
                }
            }
        }
        while let Some(i) = app.dirty.pop() {
            app.queued[i] = false;
            let (host, end) = &mut app.ends[i];
            let was_done = end.eof && end.shut;
            pump(&mut sim, *host, end, spec, &mut buf, &mut errors);
            app.done += usize::from(!was_done && end.eof && end.shut);
        }
        if transfer_done_at.is_none() && app.ends.len() == expected_ends && app.done == expected_ends {
            transfer_done_at = Some(sim.now());
        }
        if !errors.is_empty() {
            break;
        }
        // The flood: every spoofed SYN due by now, until the transfer is done.
        if spec.flood_per_sec > 0 && transfer_done_at.is_none() {
            let due = (sim.now().as_micros() as u128 * spec.flood_per_sec as u128 / 1_000_000) as u64;
            while flood_syns <= due {
                let i = flood_syns;
                let from = SocketAddr::new(
                    IpAddr::V4(Ipv4Addr::new(198, 18, (i >> 8) as u8, i as u8)),
                    1024 + (i % 60_000) as u16,
                );
                let to = SocketAddr::new(server_ip, SERVER_PORT);
                if server_ip.is_ipv4() {
                    sim.inject(crate::scenarios::forged_syn(from, to, SeqNum((i as u32).wrapping_mul(2_654_435_761))));
                }
                flood_syns += 1;
            }
        }
        if !sim.step(limit) {
            limit_reached = sim.next_event_time().is_some_and(|at| at > limit);
            break;
        }
    }
    if limit_reached {
        errors.push(format!(
            "the run reached its virtual time limit of {} s with work left (a slower link or longer delay needs fewer bytes)",
            spec.time_limit.as_secs()
        ));
    }
    let ends = app.ends;
    let mut final_states = Vec::new();
    for (host, end) in &ends {
        let state = sim.endpoint(*host).state(end.handle).unwrap_or(State::Closed);
        final_states.push((sim.host(*host).name.clone(), state));
        if !end.eof || end.received != spec.bytes {
            errors.push(format!(
                "connection {} at {}: received {} of {} bytes{}",
                end.conn,
                sim.host(*host).name,
                end.received,
                spec.bytes,
                if end.eof { "" } else { ", no FIN" }
            ));
        }
    }
    if ends.len() != expected_ends && errors.is_empty() {
        errors.push(format!("{} of {} connection ends were established", ends.len(), expected_ends));
    }
    for h in [client, server] {
        let synack_engine::Population { connections: conns, half_open, time_wait } = sim.endpoint(h).population();
        if conns + half_open + time_wait > 0 {
            errors.push(format!(
                "{} still holds {conns} connections, {half_open} half-open, {time_wait} TIME-WAIT at {}",
                sim.host(h).name,
                sim.now()
            ));
        }
    }
    let delivered: u64 = ends.iter().map(|(_, e)| e.received as u64).sum();
    let mut sum = |f: fn(&synack_engine::Counters) -> u64| -> u64 {
        [client, server].iter().map(|&h| f(sim.endpoint(h).counters())).sum()
    };
    let retransmitted = sum(|c| c.retransmitted_segments);
    let fast_retransmits = sum(|c| c.fast_retransmits);
    let spurious_retransmits_undone = sum(|c| c.spurious_retransmits_undone);
    let lost_retransmits = sum(|c| c.lost_retransmits);
    let rto_expirations = sum(|c| c.rto_expirations);
    let hystart_exits = sum(|c| c.hystart_exits);
    let ce_marked_in = sum(|c| c.ce_marked_in);
    let ecn_reductions = sum(|c| c.ecn_reductions);
    let report = TransferReport {
        bytes_delivered: delivered,
        bytes_expected,
        transfer_time: transfer_done_at.unwrap_or(sim.now()) - Instant::ZERO,
        total_time: sim.now() - Instant::ZERO,
        retransmitted_segments: retransmitted,
        fast_retransmits,
        spurious_retransmits_undone,
        lost_retransmits,
        rto_expirations,
        hystart_exits,
        ce_marked_in,
        ecn_reductions,
        link: sim.stats,
        flood_syns,
        syncookies_sent: sim.endpoint(server).counters().syncookies_sent,
        handshakes: {
            handshakes.sort();
            handshakes
        },
        final_states,
        errors,
    };
    (report, sim)
}

/// The application ends of a run, and which of them have something to do.
#[derive(Default)]
struct Apps {
    ends: Vec<(HostId, AppEnd)>,
    by_handle: HashMap<(HostId, ConnHandle), usize>,
    /// Ends to pump at the next round, each listed once (`queued`).
    dirty: Vec<usize>,
    queued: Vec<bool>,
    /// Ends that have read the peer's FIN and sent their own.
    done: usize,
}

impl Apps {
    fn add(&mut self, host: HostId, end: AppEnd) {
        let i = self.ends.len();
        self.by_handle.insert((host, end.handle), i);
        self.ends.push((host, end));
        self.queued.push(false);
        self.queue(i);
    }
    fn mark(&mut self, host: HostId, h: ConnHandle) {
        if let Some(&i) = self.by_handle.get(&(host, h)) {
            self.queue(i);
        }
    }
    fn queue(&mut self, i: usize) {
        if !self.queued[i] {
            self.queued[i] = true;
            self.dirty.push(i);
        }
    }
}

fn new_end(conn: usize, dir: u8, handle: ConnHandle) -> AppEnd {
    AppEnd { conn, dir, handle, sent: 0, received: 0, shut: false, eof: false, closed: false, chunk: MIN_CHUNK }
}

/// Writes what fits, reads what is there (checking it), half-closes after the last byte and
/// closes after the peer's FIN.
fn pump(sim: &mut Sim, host: HostId, end: &mut AppEnd, spec: &TransferSpec, buf: &mut [u8], errors: &mut Vec<String>) {
    if end.closed {
        return;
    }
    let now = sim.now();
    let ep = sim.endpoint(host);
    while end.sent < spec.bytes {
        // Offer about what the send buffer took last time: making up bytes it refuses (64 KiB
        // offered for the few segments an ACK frees) would cost more than the whole engine.
        let n = (spec.bytes - end.sent).min(end.chunk).min(buf.len());
        for (k, b) in buf[..n].iter_mut().enumerate() {
            *b = pattern_byte(spec.seed, end.conn, end.dir, end.sent + k);
        }
        match ep.send(now, end.handle, &buf[..n]) {
            Ok(written) => {
                end.sent += written;
                if written < n {
                    end.chunk = written.max(MIN_CHUNK);
                    break; // the send buffer is full
                }
                end.chunk = (2 * end.chunk).min(buf.len());
            }
            Err(SendError::WouldBlock) | Err(SendError::NotConnected) => break,
            Err(e) => {
                errors.push(format!("connection {} dir {}: send: {e}", end.conn, end.dir));
                end.closed = true;
                return;
            }
        }
    }
    if end.sent == spec.bytes && !end.shut && ep.state(end.handle).is_some_and(|s| s.is_synchronized()) {
        let _ = ep.shutdown(now, end.handle);
        end.shut = true;
    }
    loop {
        match ep.recv(now, end.handle, buf) {
            Ok(0) => {
                end.eof = true;
                break;
            }
            Ok(n) => {
                for (k, &b) in buf[..n].iter().enumerate() {
                    let at = end.received + k;
                    if at >= spec.bytes || b != pattern_byte(spec.seed, end.conn, 1 - end.dir, at) {
                        errors.push(format!("connection {} dir {}: wrong byte at offset {at}", end.conn, 1 - end.dir));
                        end.closed = true;
                        return;
                    }
                }
                end.received += n;
            }
            Err(RecvError::WouldBlock) | Err(RecvError::NotConnected) => break,
            Err(e) => {
                errors.push(format!("connection {} dir {}: recv: {e}", end.conn, end.dir));
                end.closed = true;
                return;
            }
        }
    }
    if end.eof && end.shut {
        let _ = ep.close(now, end.handle);
        end.closed = true;
    }
}

/// One swarm case: everything about it (faults and their strength, sizes, address family)
/// drawn from `seed`, TigerBeetle-style. Loss goes up to 30 % each way, with duplication,
/// reordering and corruption on top; half the cases run ECN with up to 10 % CE marks, half
/// NewReno instead of CUBIC, a quarter RFC 6675's loss count instead of RACK. The retry
/// limits are raised so that bad luck at 30 %
/// loss is not mistaken for a bug (a give-up after `tcp_syn_retries` is correct behaviour,
/// but not what the swarm checks).
pub fn swarm_spec(seed: u64) -> TransferSpec {
    let mut rng = synack_engine::SplitMix64::new(seed ^ 0x5a5a_5a5a);
    let pct = |rng: &mut synack_engine::SplitMix64, max: u64| (rng.below(max * 10_000 + 1)) as u32;
    let delay = Duration::from_micros(500 + rng.below(50_000));
    let jitter = Duration::from_micros(rng.below(5_000));
    let bandwidth_bps = if rng.chance(1, 2) { 0 } else { 1_000_000 + rng.below(99_000_000) };
    let faults = Faults {
        delay,
        jitter,
        loss_ppm: pct(&mut rng, 30),
        duplicate_ppm: pct(&mut rng, 10),
        reorder_ppm: pct(&mut rng, 10),
        corrupt_ppm: pct(&mut rng, 5),
        ce_mark_ppm: 0,
    };
    let link = LinkConfig { faults, bandwidth_bps };
    let connections = 1 + rng.below(3) as usize;
    let bytes = match rng.below(4) {
        0 => rng.below(100) as usize,
        _ => rng.below(40_000) as usize,
    };
    let mut spec = TransferSpec::new(connections, bytes, seed, link);
    spec.ipv6 = rng.chance(1, 3);
    spec.config.tcp_syn_retries = 30;
    spec.config.tcp_synack_retries = 30;
    spec.config.tcp_retries2 = 40;
    spec.config.tcp_rmem.default = [8 * 1024, 64 * 1024, 256 * 1024][rng.below(3) as usize];
    spec.config.tcp_wmem.default = [8 * 1024, 64 * 1024, 256 * 1024][rng.below(3) as usize];
    // Drawn last, so that the draws above mean what they meant before ECN was added.
    if rng.chance(1, 2) {
        spec.config.tcp_ecn = synack_engine::EcnMode::On;
        spec.link.faults.ce_mark_ppm = pct(&mut rng, 10);
    }
    // Both congestion controllers, and RFC 6675's count of SACKed segments in a quarter of
    // the cases where RACK would decide losses.
    if rng.chance(1, 2) {
        spec.config.tcp_congestion_control = synack_engine::CongestionAlgorithm::Reno;
    }
    if rng.chance(1, 4) {
        spec.config.tcp_recovery = 0;
    }
    // CUBIC in Linux's segment arithmetic, and pacing, each in a third of the cases.
    if rng.chance(1, 3) {
        spec.config.compat.cubic_in_segments = true;
    }
    if rng.chance(1, 3) {
        spec.config.pacing = true;
    }
    spec
}
