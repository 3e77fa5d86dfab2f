//! The demo scenarios: each a short script over two simulated hosts that shows one thing the
//! articles synack started from explain. Client 192.168.1.116, server 192.168.1.123 (simulated
//! addresses: nothing leaves the process). Across the scenarios all eleven states appear.

use crate::link::LinkConfig;
use crate::net::{Fault, HostId, Sim};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;
use synack_engine::{Config, ConnHandle, Endpoint, Event, Instant, ListenerHandle, State};
use synack_wire::{emit_segment, IpHeader, SeqNum, TcpFlags, TcpOptions, TcpRepr};

pub struct ScenarioInfo {
    pub name: &'static str,
    pub about: &'static str,
    run: fn(&mut Demo) -> Result<(), String>,
}

pub const SCENARIOS: &[ScenarioInfo] = &[
    ScenarioInfo {
        name: "classic",
        about: "handshake, the server writes 9+9+28+11 bytes, the client ACKs 58, closes first; TIME-WAIT for 2MSL",
        run: classic,
    },
    ScenarioInfo {
        name: "half-close",
        about: "the client sends a request and shuts down its side; the server keeps sending through CLOSE-WAIT",
        run: half_close,
    },
    ScenarioInfo {
        name: "simultaneous-open",
        about: "both ends connect to each other at once: SYN-SENT -> SYN-RECEIVED -> ESTABLISHED on both",
        run: simultaneous_open,
    },
    ScenarioInfo {
        name: "simultaneous-close",
        about: "both ends close at once: FIN-WAIT-1 -> CLOSING -> TIME-WAIT on both",
        run: simultaneous_close,
    },
    ScenarioInfo {
        name: "lost-syn",
        about: "the first SYN is lost; the client retransmits it after the initial RTO (1 s)",
        run: lost_syn,
    },
    ScenarioInfo {
        name: "lost-syn-ack",
        about: "the first SYN-ACK is lost; the client's SYN and the server's SYN-ACK are both retransmitted",
        run: lost_syn_ack,
    },
    ScenarioInfo {
        name: "lost-final-ack",
        about: "the third handshake segment is lost: the client is ESTABLISHED, the server still SYN-RECEIVED",
        run: lost_final_ack,
    },
    ScenarioInfo {
        name: "lost-last-ack",
        about: "the last teardown ACK is lost: the server repeats its FIN and TIME-WAIT answers it (why 2MSL exists)",
        run: lost_last_ack,
    },
    ScenarioInfo {
        name: "half-open-timeout",
        about: "a client vanishes after its SYN: SYN-ACKs at doubling intervals, then the entry is removed",
        run: half_open_timeout,
    },
    ScenarioInfo {
        name: "backlog-overflow",
        about: "six clients, SYN queue 3, accept queue 2: SYNs and final ACKs dropped, clients retry and get in",
        run: backlog_overflow,
    },
    ScenarioInfo {
        name: "syn-flood",
        about: "spoofed SYNs fill the SYN queue; the server answers with SYN cookies and a real client still connects",
        run: syn_flood,
    },
    ScenarioInfo {
        name: "closed-port",
        about: "a SYN to a port nobody listens on is answered RST+ACK",
        run: closed_port,
    },
    ScenarioInfo {
        name: "reset",
        about: "abortive close: linger 0, close() sends RST, the peer sees a reset",
        run: reset,
    },
    ScenarioInfo {
        name: "connect-scan",
        about: "a full connect scan (nmap -sT): a completed handshake then close means open; RST to the SYN means closed",
        run: connect_scan,
    },
    ScenarioInfo {
        name: "syn-scan",
        about: "a SYN (half-open) scan (nmap -sS): a raw SYN; the SYN-ACK means open and the scanner's kernel resets it, so the handshake never completes; RST means closed",
        run: syn_scan,
    },
];

pub fn find(name: &str) -> Option<&'static ScenarioInfo> {
    SCENARIOS.iter().find(|s| s.name == name)
}

pub const CLIENT_IP: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 116);
pub const SERVER_IP: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 123);
pub const CLIENT_PORT: u16 = 3337;
pub const SERVER_PORT: u16 = 7788;
/// One-way delay of the demo link.
pub const LINK_DELAY: Duration = Duration::from_millis(5);

/// The two hosts of a demo and helpers to script them.
pub struct Demo {
    pub sim: Sim,
    seed: u64,
    pub client: HostId,
    pub server: HostId,
}

/// How long any scenario may run in virtual time before it is declared stuck.
const LIMIT: Instant = Instant::from_secs(600);

/// Runs a scenario by name; the simulation holds its log.
pub fn run(name: &str, seed: u64) -> Result<Sim, String> {
    let info = find(name).ok_or_else(|| format!("no scenario named '{name}' (see --list)"))?;
    let mut demo = Demo::new(seed, |_| {});
    (info.run)(&mut demo)?;
    Ok(demo.sim)
}

fn client_addr() -> SocketAddr {
    SocketAddr::new(CLIENT_IP.into(), CLIENT_PORT)
}
fn server_addr() -> SocketAddr {
    SocketAddr::new(SERVER_IP.into(), SERVER_PORT)
}

impl Demo {
    pub fn new(seed: u64, tweak: impl Fn(&mut Config)) -> Demo {
        let mut sim = Sim::new(seed);
        sim.set_default_link(LinkConfig::with_delay(LINK_DELAY));
        let config = |n: u64| {
            let mut c = Config::default().with(|c| c.rng_seed = seed.wrapping_mul(31).wrapping_add(n));
            tweak(&mut c);
            c
        };
        let client = sim.add_host("client", Endpoint::new(config(1), &[IpAddr::V4(CLIENT_IP)]));
        let server = sim.add_host("server", Endpoint::new(config(2), &[IpAddr::V4(SERVER_IP)]));
        Demo { sim, seed, client, server }
    }

    fn listen(&mut self, backlog: usize) -> Result<ListenerHandle, String> {
        self.sim.endpoint(self.server).listen(server_addr(), backlog).map_err(|e| format!("listen: {e}"))
    }

    fn connect_from(&mut self, port: u16) -> Result<ConnHandle, String> {
        let now = self.sim.now();
        let local = SocketAddr::new(CLIENT_IP.into(), port);
        self.sim.endpoint(self.client).connect(now, Some(local), server_addr()).map_err(|e| format!("connect: {e}"))
    }

    /// Runs until `done`, failing with `what` if it never happens.
    fn wait(&mut self, what: &str, done: impl FnMut(&mut Sim) -> bool) -> Result<(), String> {
        if self.sim.run_until(LIMIT, done) {
            Ok(())
        } else {
            Err(format!("scenario stuck at {}: {what} never happened", self.sim.now()))
        }
    }

    fn wait_state(&mut self, host: HostId, h: ConnHandle, state: State) -> Result<(), String> {
        self.wait(&format!("{state}"), |s| s.endpoint(host).state(h) == Some(state))
    }

    /// Waits for a connection in the listener's accept queue and accepts it.
    fn accept(&mut self, l: ListenerHandle) -> Result<ConnHandle, String> {
        let server = self.server;
        self.wait("an incoming connection", |s| {
            s.endpoint(server).listener_queues(l).is_some_and(|q| q.accept_queue > 0)
        })?;
        self.sim.take_event(server, |e| matches!(e, Event::Incoming(_)));
        self.sim.endpoint(server).accept(l).ok_or_else(|| "accept queue empty".to_string())
    }

    /// Reads until `len` bytes have arrived.
    fn read_exact(&mut self, host: HostId, h: ConnHandle, len: usize) -> Result<Vec<u8>, String> {
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        self.wait("data", |s| {
            let now = s.now();
            while let Ok(n) = s.endpoint(host).recv(now, h, &mut buf) {
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
            }
            got.len() >= len
        })?;
        Ok(got)
    }

    /// Waits for the end of the stream (the peer's FIN, all data read).
    fn read_to_end(&mut self, host: HostId, h: ConnHandle) -> Result<Vec<u8>, String> {
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        self.wait("end of stream", |s| loop {
            let now = s.now();
            match s.endpoint(host).recv(now, h, &mut buf) {
                Ok(0) => return true,
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(_) => return false,
            }
        })?;
        Ok(got)
    }

    /// Each write goes out before the next (the demo server sets no-delay, so each is a segment).
    fn write_each(&mut self, host: HostId, h: ConnHandle, chunks: &[&[u8]]) -> Result<(), String> {
        for chunk in chunks {
            let now = self.sim.now();
            self.sim.endpoint(host).send(now, h, chunk).map_err(|e| format!("send: {e}"))?;
            self.sim.flush();
        }
        Ok(())
    }

    fn close(&mut self, host: HostId, h: ConnHandle) -> Result<(), String> {
        let now = self.sim.now();
        self.sim.endpoint(host).close(now, h).map_err(|e| format!("close: {e}"))
    }

    /// The usual start: listen, connect from 3337, accept; both ESTABLISHED.
    fn establish(&mut self) -> Result<(ListenerHandle, ConnHandle, ConnHandle), String> {
        let l = self.listen(128)?;
        let c = self.connect_from(CLIENT_PORT)?;
        let s = self.accept(l)?;
        self.wait_state(self.client, c, State::Established)?;
        let now = self.sim.now();
        self.sim.endpoint(self.server).conn_mut(now, s).ok_or("the accepted connection is gone")?.set_nodelay(true);
        Ok((l, c, s))
    }

    /// Lets everything due happen (delayed ACKs, TIME-WAIT expiry) and checks all is closed.
    fn finish(&mut self) -> Result<(), String> {
        self.sim.run_to_idle(LIMIT);
        self.sim.snapshot("at the end");
        for h in [self.client, self.server] {
            let synack_engine::Population { connections: conns, half_open, time_wait } =
                self.sim.endpoint(h).population();
            if conns + half_open + time_wait > 0 {
                return Err(format!("{} still holds connections at the end", self.sim.host(h).name));
            }
        }
        Ok(())
    }
}

/// Payload of the classic example: 9 + 9 + 28 + 11 = 57 bytes.
pub const CLASSIC_WRITES: [&[u8]; 4] =
    [b"synack 1\n", b"synack 2\n", b"twenty-eight bytes of data.\n", b"goodbye :)\n"];

fn classic(d: &mut Demo) -> Result<(), String> {
    let (_, c, s) = d.establish()?;
    d.sim.snapshot("after the three-way handshake");
    d.write_each(d.server, s, &CLASSIC_WRITES)?;
    let got = d.read_exact(d.client, c, 57)?;
    d.sim.note(format!("client read {} bytes", got.len()));
    // Let the client's delayed ACK (ack 58) go out before it closes.
    d.sim.advance_to(d.sim.now() + Duration::from_millis(100));
    d.close(d.client, c)?;
    d.read_to_end(d.server, s)?;
    d.close(d.server, s)?;
    let client = d.client;
    d.wait("client TIME-WAIT", |sim| sim.endpoint(client).sockets().iter().any(|r| r.state == State::TimeWait))?;
    d.sim.advance_to(d.sim.now() + Duration::from_millis(20));
    d.sim.snapshot("the client waits 2MSL in TIME-WAIT");
    d.finish()
}

fn half_close(d: &mut Demo) -> Result<(), String> {
    let (_, c, s) = d.establish()?;
    d.write_each(d.client, c, &[b"GET /report\n"])?;
    let now = d.sim.now();
    d.sim.endpoint(d.client).shutdown(now, c).map_err(|e| e.to_string())?;
    let request = d.read_to_end(d.server, s)?;
    d.sim.note(format!("server read the {}-byte request and the client's FIN", request.len()));
    d.sim.snapshot("the client has shut down its side: FIN-WAIT-2 / CLOSE-WAIT");
    d.write_each(d.server, s, &[b"report part 1\n", b"report part 2\n", b"report part 3\n"])?;
    d.close(d.server, s)?;
    let reply = d.read_to_end(d.client, c)?;
    d.sim.note(format!("client read {} bytes after its own FIN, then the server's FIN", reply.len()));
    d.close(d.client, c)?;
    d.finish()
}

fn simultaneous_open(d: &mut Demo) -> Result<(), String> {
    let now = d.sim.now();
    let c = d.connect_from(CLIENT_PORT)?;
    let s = d
        .sim
        .endpoint(d.server)
        .connect(now, Some(server_addr()), client_addr())
        .map_err(|e| format!("connect: {e}"))?;
    d.wait_state(d.client, c, State::Established)?;
    d.wait_state(d.server, s, State::Established)?;
    d.sim.snapshot("both ends opened actively and are connected");
    d.close(d.client, c)?;
    d.read_to_end(d.server, s)?;
    d.close(d.server, s)?;
    d.finish()
}

fn simultaneous_close(d: &mut Demo) -> Result<(), String> {
    let (_, c, s) = d.establish()?;
    d.sim.flush();
    d.sim.advance_to(d.sim.now() + Duration::from_millis(100));
    d.sim.note("both applications close at the same instant");
    let now = d.sim.now();
    d.sim.endpoint(d.client).close(now, c).map_err(|e| e.to_string())?;
    d.sim.endpoint(d.server).close(now, s).map_err(|e| e.to_string())?;
    d.sim.flush();
    let (client, server) = (d.client, d.server);
    d.wait("both in TIME-WAIT", |sim| {
        [client, server].iter().all(|&h| sim.endpoint(h).sockets().iter().any(|r| r.state == State::TimeWait))
    })?;
    d.sim.snapshot("both ends in TIME-WAIT");
    d.finish()
}

fn is_syn(t: &TcpRepr) -> bool {
    t.flags.syn() && !t.flags.ack()
}
fn is_syn_ack(t: &TcpRepr) -> bool {
    t.flags.syn() && t.flags.ack()
}
fn is_bare_ack(t: &TcpRepr) -> bool {
    t.flags == TcpFlags::ACK && t.payload.is_empty()
}

fn lost_syn(d: &mut Demo) -> Result<(), String> {
    d.sim.add_fault(Fault::drop_nth(d.client, 1, is_syn));
    let (_, c, s) = d.establish()?;
    d.sim.note("connected after one SYN retransmission");
    d.close(d.client, c)?;
    d.read_to_end(d.server, s)?;
    d.close(d.server, s)?;
    d.finish()
}

fn lost_syn_ack(d: &mut Demo) -> Result<(), String> {
    d.sim.add_fault(Fault::drop_nth(d.server, 1, is_syn_ack));
    let (_, c, s) = d.establish()?;
    d.close(d.client, c)?;
    d.read_to_end(d.server, s)?;
    d.close(d.server, s)?;
    d.finish()
}

fn lost_final_ack(d: &mut Demo) -> Result<(), String> {
    d.sim.add_fault(Fault::drop_nth(d.client, 1, is_bare_ack));
    let l = d.listen(128)?;
    let c = d.connect_from(CLIENT_PORT)?;
    d.wait_state(d.client, c, State::Established)?;
    d.sim.advance_to(d.sim.now() + Duration::from_millis(1));
    d.sim.snapshot("the client is ESTABLISHED; the server's entry is still SYN-RECEIVED");
    let s = d.accept(l)?;
    d.sim.note("the server's SYN-ACK retransmission drew a new ACK");
    d.close(d.client, c)?;
    d.read_to_end(d.server, s)?;
    d.close(d.server, s)?;
    d.finish()
}

fn lost_last_ack(d: &mut Demo) -> Result<(), String> {
    let (_, c, s) = d.establish()?;
    d.close(d.client, c)?;
    d.read_to_end(d.server, s)?;
    // The ACK of the server's FIN is the client's first bare ACK from here on.
    d.sim.add_fault(Fault::drop_nth(d.client, 1, is_bare_ack));
    d.close(d.server, s)?;
    d.sim.advance_to(d.sim.now() + Duration::from_millis(20));
    d.sim.snapshot("the client's last ACK was lost: the server waits in LAST-ACK");
    let server = d.server;
    d.wait("server CLOSED", |sim| sim.endpoint(server).population().connections == 0)?;
    d.sim.note("TIME-WAIT answered the repeated FIN; without it the server would have got a RST");
    d.finish()
}

fn half_open_timeout(d: &mut Demo) -> Result<(), String> {
    d.listen(128)?;
    // A SYN from the client's address that the client itself never sent: its SYN-ACKs go
    // nowhere (the client has vanished), and nothing answers them.
    let ghost = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(192, 168, 1, 200)), CLIENT_PORT);
    d.sim.note(format!("a SYN arrives from {ghost}, a host that is gone"));
    d.sim.inject(forged_syn(ghost, server_addr(), SeqNum(1_000_000)));
    let server = d.server;
    d.wait("the half-open entry", |sim| sim.endpoint(server).population().half_open == 1)?;
    d.sim.snapshot("the half-open entry in the SYN queue");
    d.wait("the half-open entry to expire", |sim| sim.endpoint(server).population().half_open == 0)?;
    let config = d.sim.endpoint(d.server).config().clone();
    d.sim.note(format!(
        "half-open lifetime {} s: initial RTO 1 s doubled over tcp_synack_retries = {} retransmissions (1+2+4+8+16+32)",
        config.half_open_lifetime().as_secs(),
        config.tcp_synack_retries
    ));
    d.finish()
}

/// A SYN as Linux would send it, for a peer that is not simulated.
pub(crate) fn forged_syn(from: SocketAddr, to: SocketAddr, isn: SeqNum) -> Vec<u8> {
    let ip = IpHeader { src: from.ip(), dst: to.ip(), ttl: 64, ecn: synack_wire::Ecn::NotEct };
    let tcp = TcpRepr {
        src_port: from.port(),
        dst_port: to.port(),
        seq: isn,
        ack: SeqNum(0),
        flags: TcpFlags::SYN,
        window: 64240,
        urgent: 0,
        options: TcpOptions { mss: Some(1460), window_scale: Some(7), sack_permitted: true, ..Default::default() },
        payload: &[],
    };
    let mut buf = vec![0u8; 128];
    let len = emit_segment(&ip, &tcp, 1, &mut buf).expect("a SYN fits in 128 bytes");
    buf.truncate(len);
    buf
}

fn backlog_overflow(d: &mut Demo) -> Result<(), String> {
    // Without SYN cookies, to show the queues themselves (`syn-flood` shows the cookies).
    *d = Demo::new(d.sim_seed(), |c| {
        c.tcp_max_syn_backlog = 3;
        c.tcp_syncookies = 0;
    });
    let l = d.listen(2)?;
    d.sim.note(
        "listen(backlog 2) with tcp_max_syn_backlog 3 and tcp_syncookies 0; six clients connect; nobody accepts yet",
    );
    let mut clients = Vec::new();
    for i in 0..6 {
        clients.push(d.connect_from(CLIENT_PORT + i)?);
    }
    d.sim.flush();
    d.sim.advance_to(Instant::from_millis(20));
    d.sim.snapshot("SYN queue full (3): three SYNs dropped; accept queue full (2): one final ACK dropped");
    d.sim.advance_to(Instant::from_millis(2000));
    d.sim.snapshot("retransmitted SYNs are dropped while the accept queue is full");
    d.sim.note("the server accepts what is queued");
    let mut accepted = Vec::new();
    while let Some(h) = d.sim.endpoint(d.server).accept(l) {
        accepted.push(h);
    }
    let server = d.server;
    d.wait("all six clients accepted", |sim| {
        while let Some(h) = sim.endpoint(server).accept(l) {
            accepted.push(h);
        }
        accepted.len() == 6
    })?;
    let counters = d.sim.endpoint(d.server).counters().clone();
    d.sim.note(format!(
        "server counters: syn_queue_overflows {}, listen_overflows {}, accept_queue_overflows {}",
        counters.syn_queue_overflows, counters.listen_overflows, counters.accept_queue_overflows
    ));
    d.sim.snapshot("all six connections established");
    for &c in &clients {
        d.close(d.client, c)?;
    }
    for s in accepted {
        d.read_to_end(d.server, s)?;
        d.close(d.server, s)?;
    }
    d.finish()
}

fn syn_flood(d: &mut Demo) -> Result<(), String> {
    *d = Demo::new(d.sim_seed(), |c| c.tcp_max_syn_backlog = 4);
    let l = d.listen(128)?;
    d.sim.note("tcp_max_syn_backlog 4, tcp_syncookies 1: twenty SYNs from spoofed addresses that never answer");
    for i in 0..20u16 {
        let spoofed =
            SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 66, (i / 250) as u8, (i % 250) as u8 + 1)), 40000 + i);
        d.sim.inject(forged_syn(spoofed, server_addr(), SeqNum(7_000_000 + i as u32 * 1000)));
    }
    d.sim.advance_to(d.sim.now() + Duration::from_millis(10));
    let counters = d.sim.endpoint(d.server).counters().clone();
    d.sim.note(format!("{} SYNs were answered with cookies and left no state", counters.syncookies_sent));
    d.sim.snapshot("the SYN queue is full with 4 half-open records");
    d.sim.note("a real client connects: its SYN gets a cookie SYN-ACK, its ACK echoes the cookie");
    let c = d.connect_from(CLIENT_PORT)?;
    let s = d.accept(l)?;
    d.wait_state(d.client, c, State::Established)?;
    let counters = d.sim.endpoint(d.server).counters().clone();
    d.sim.note(format!(
        "server counters: syncookies_sent {}, syncookies_recv {}, syn_queue_overflows {}",
        counters.syncookies_sent, counters.syncookies_recv, counters.syn_queue_overflows
    ));
    d.close(d.client, c)?;
    d.read_to_end(d.server, s)?;
    d.close(d.server, s)?;
    d.finish()
}

impl Demo {
    fn sim_seed(&self) -> u64 {
        self.seed
    }
}

fn closed_port(d: &mut Demo) -> Result<(), String> {
    d.listen(128)?;
    let now = d.sim.now();
    let target = SocketAddr::new(SERVER_IP.into(), 7799);
    d.sim.note(format!("connect to {target}, where nothing listens"));
    let c = d.sim.endpoint(d.client).connect(now, Some(client_addr()), target).map_err(|e| format!("connect: {e}"))?;
    let client = d.client;
    d.wait("the client's connection to fail", |sim| sim.endpoint(client).state(c) == Some(State::Closed))?;
    let err = d.sim.endpoint(d.client).conn_error(c);
    d.sim.note(format!("connect failed: {}", err.map_or("no error".to_string(), |e| e.to_string())));
    d.close(d.client, c)?;
    d.finish()
}

fn reset(d: &mut Demo) -> Result<(), String> {
    let (_, c, s) = d.establish()?;
    d.write_each(d.server, s, &[b"some data\n"])?;
    d.read_exact(d.client, c, 10)?;
    d.sim.advance_to(d.sim.now() + Duration::from_millis(100));
    d.sim.note("the client sets SO_LINGER to 0 and closes: an abortive close");
    let now = d.sim.now();
    d.sim.endpoint(d.client).conn_mut(now, c).ok_or("the connection is gone")?.set_linger(Some(Duration::ZERO));
    d.close(d.client, c)?;
    let server = d.server;
    d.wait("the server to see the reset", |sim| sim.endpoint(server).state(s) == Some(State::Closed))?;
    let err = d.sim.endpoint(d.server).conn_error(s);
    d.sim.note(format!("server: {}", err.map_or("no error".to_string(), |e| e.to_string())));
    d.close(d.server, s)?;
    d.finish()
}

/// The port the scan scenarios find closed.
const CLOSED_PORT: u16 = 7799;

/// nmap -sT: connect() to each port; a connection that completes is open (and reset at once,
/// SO_LINGER 0, as nmap closes it), ECONNREFUSED (a RST answering the SYN) is closed.
fn connect_scan(d: &mut Demo) -> Result<(), String> {
    d.listen(128)?;
    for port in [SERVER_PORT, CLOSED_PORT] {
        let now = d.sim.now();
        let target = SocketAddr::new(SERVER_IP.into(), port);
        d.sim.note(format!("connect() to {target}"));
        let c = d
            .sim
            .endpoint(d.client)
            .connect(now, Some(SocketAddr::new(CLIENT_IP.into(), 40000 + port % 1000)), target)
            .map_err(|e| format!("connect: {e}"))?;
        let client = d.client;
        d.wait("the connect to end", |sim| {
            matches!(sim.endpoint(client).state(c), Some(State::Established | State::Closed))
        })?;
        let open = d.sim.endpoint(d.client).state(c) == Some(State::Established);
        d.sim.note(if open {
            format!("{port}/tcp open (syn-ack): the handshake completed; the scanner closes at once with SO_LINGER 0 (a RST, no TIME-WAIT), as nmap does")
        } else {
            format!("{port}/tcp closed (conn-refused): RST answered the SYN")
        });
        let now = d.sim.now();
        if let Some(mut conn) = d.sim.endpoint(d.client).conn_mut(now, c) {
            conn.set_linger(Some(Duration::ZERO));
        }
        d.close(d.client, c)?;
        d.sim.advance_to(d.sim.now() + Duration::from_millis(50));
    }
    d.finish()
}

/// nmap -sS: a SYN the scanner builds itself (raw), from the client's address. The open port
/// answers SYN-ACK; the client's own stack knows no such connection and answers it with RST
/// (RFC 9293 §3.10.7.1), so the handshake never completes and the server's half-open entry
/// goes. The closed port answers the SYN with RST.
fn syn_scan(d: &mut Demo) -> Result<(), String> {
    d.listen(128)?;
    for (i, port) in [SERVER_PORT, CLOSED_PORT].into_iter().enumerate() {
        let from = SocketAddr::new(CLIENT_IP.into(), 45000);
        let target = SocketAddr::new(SERVER_IP.into(), port);
        d.sim.note(format!("a raw SYN to {target}"));
        d.sim.inject(forged_syn(from, target, SeqNum(3_000_000 + i as u32)));
        d.sim.advance_to(d.sim.now() + Duration::from_millis(50));
        let half_open = d.sim.endpoint(d.server).population().half_open;
        d.sim.note(if port == SERVER_PORT {
            format!("{port}/tcp open (syn-ack); the client's RST removed the half-open entry ({half_open} left)")
        } else {
            format!("{port}/tcp closed (reset)")
        });
    }
    d.finish()
}
