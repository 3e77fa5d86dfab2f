//! Runs one parsed script against a fresh endpoint in virtual time.
//!
//! Timeline rules (packetdrill's): an inbound packet, call or command happens at its time; an
//! outbound line expects synack's next segment within `--tolerance_usecs` of its time, and
//! that segment's actual time is what the next relative time counts from. Segments are
//! matched in the order synack sends them: one that no line expects is a failure at the next
//! outbound line (which it does not match); after the last outbound line, what synack sends
//! is not looked at, as packetdrill reads its device only for outbound lines.

use crate::ast::{Action, Event, OptSpec, PacketSpec, Script, SeqSpec, Time};
use crate::packet::{build_inbound, ecn_mismatch, Seen};
use crate::Profile;
use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;
use synack_engine::{ConnHandle, Endpoint, FourTuple, Instant, IpFields, ListenerHandle};
use synack_wire::{parse_segment, Ipv4Packet, TcpFlags, TcpPacket, IPV6_HEADER_LEN};

/// packetdrill's default addresses: synack is the "local" host, the script the "remote".
pub const LOCAL_V4: Ipv4Addr = Ipv4Addr::new(192, 168, 0, 1);
pub const REMOTE_V4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
pub const LOCAL_V6: Ipv6Addr = Ipv6Addr::new(0xfd3c, 0xfa7b, 0xd17d, 0, 0, 0, 0, 1);
pub const REMOTE_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
/// The port a script's `bind` gives and its `connect` goes to.
pub const SCRIPT_PORT: u16 = 8080;
/// The script side's port when it connects to a listener of synack's.
pub const REMOTE_CLIENT_PORT: u16 = 40000;
/// How long an outbound line with time `*` waits at most.
const ANY_TIME_LIMIT: Duration = Duration::from_secs(600);

/// Why a script failed: the line, the virtual time, and what differed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub line: usize,
    pub at: Instant,
    pub message: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {} at {}: {}", self.line, self.at, self.message)
    }
}

/// What a run did besides pass or fail: commands accepted as no-ops, for `--verbose`.
#[derive(Debug, Default, Clone)]
pub struct RunLog {
    pub ignored_commands: Vec<(usize, String)>,
    /// System calls whose result differed from the line's under `--non_fatal=syscall`.
    pub nonfatal_calls: Vec<(usize, String)>,
    /// Every segment in and out, in script space: `time < line` or `time > line`.
    pub trace: Vec<String>,
}

/// What an fd of the script names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sock {
    /// `socket()` done; not yet listening or connected.
    Fresh {
        bound: bool,
    },
    Listener(ListenerHandle),
    Conn(ConnHandle),
    /// `close()` done; the connection it named, if any, lives on in the endpoint (and
    /// `tcpi_state` still reports it, as the scripts' last socket).
    Closed(Option<ConnHandle>),
}

#[derive(Debug, Clone)]
pub(crate) struct Fd {
    pub sock: Sock,
    pub nonblocking: bool,
    /// `SO_ERROR` was read: the pending error is cleared.
    pub error_taken: bool,
    /// SO_RCVBUF set before the connection existed.
    pub recv_buffer: Option<usize>,
    /// SO_SNDBUF set before the connection existed.
    pub send_buffer: Option<usize>,
    /// TCP_NODELAY set before the connection existed.
    pub nodelay: bool,
    /// TCP_NOOPT set before the connection or listener existed.
    pub no_options: bool,
    /// TCP_MAXSEG set before connect or listen.
    pub max_segment: Option<u16>,
    /// TCP_KEEPINIT set before `connect`.
    pub connect_timeout: Option<Duration>,
    /// TCP_USER_TIMEOUT set before the connection existed.
    pub user_timeout: Option<Duration>,
    /// `shutdown(SHUT_RD)` was called: reads find the end of the stream once the data is read.
    pub read_shut: bool,
    /// IP_TTL and IP_TOS set before the connection or listener existed.
    pub ip: IpFields,
    /// IP_MTU_DISCOVER set before the connection existed (or on a listener).
    pub pmtu: Option<synack_engine::PmtuDiscovery>,
    /// The engine's bound socket (`Endpoint::bind`), until `listen`, `connect` or `close`.
    pub bound: Option<ListenerHandle>,
    /// TCP_KEEPIDLE, TCP_KEEPINTVL or TCP_KEEPCNT set on the socket.
    pub keepalive: Option<synack_engine::KeepaliveTiming>,
    /// SO_KEEPALIVE set before the connection existed.
    pub keepalive_on: bool,
    /// TCP_MD5SIG (FreeBSD's flag: sign with the host's key for the peer).
    pub md5: bool,
}

impl Fd {
    pub fn new(sock: Sock) -> Fd {
        Fd {
            sock,
            nonblocking: false,
            error_taken: false,
            recv_buffer: None,
            send_buffer: None,
            nodelay: false,
            no_options: false,
            max_segment: None,
            connect_timeout: None,
            user_timeout: None,
            read_shut: false,
            ip: IpFields::default(),
            pmtu: None,
            bound: None,
            keepalive: None,
            keepalive_on: false,
            md5: false,
        }
    }
}

/// The (source, destination) ports of a segment that travelled in UDP.
pub(crate) type UdpPorts = (u16, u16);

pub(crate) struct Runner {
    pub ep: Endpoint,
    pub now: Instant,
    pub ipv6: bool,
    pub fds: BTreeMap<i64, Fd>,
    /// The most recent socket (`tcp_info` blocks read it).
    pub last_fd: Option<i64>,
    /// The connection inbound packets are addressed to (the latest connect or listen).
    pub tuple: Option<FourTuple>,
    /// The tuple came from `listen` (inbound SYNs open new connections), not `connect`/`accept`.
    pub listening: bool,
    /// Some inbound packet used the current tuple.
    pub tuple_used: bool,
    /// synack's ISN in the current connection, learned from its SYN or SYN-ACK.
    pub iss: Option<u32>,
    /// Segments synack sent, not yet matched: when, the TCP/IP packet, and the UDP ports
    /// it came in (TCP over UDP), if it did.
    pub out: VecDeque<(Instant, Vec<u8>, Option<UdpPorts>)>,
    pub log: RunLog,
    pub line: usize,
    /// synack's TSval less the script's, learned from the first outbound line with a TS value.
    pub ts_offset: Option<u32>,
    /// Variables the script's code blocks assigned.
    pub vars: std::collections::HashMap<String, i64>,
    /// A blocking call that has not returned yet (`a...b` time).
    pub blocked: Option<crate::blocking::Blocked>,
    /// A failure found while time advanced (a blocking call that returned wrongly), reported
    /// at the next event.
    pub deferred: Option<Failure>,
    /// `Profile::doubles_socket_buffers`.
    pub doubles_socket_buffers: bool,
    /// Outbound lines may describe TSO super-segments (`Profile::tso`).
    pub tso: bool,
    /// New data goes out as super-segments (`Profile::gso`).
    pub gso: bool,
    /// Where relative paths in backtick commands resolve (the script's directory).
    pub script_dir: Option<std::path::PathBuf>,
    tolerance: Duration,
    /// `--non_fatal=syscall`: a call's unexpected result is noted in the log only.
    pub non_fatal_syscalls: bool,
    /// `--tcp_md5_secret`: the key of `md5` options (RFC 2385), both ways.
    pub md5_secret: Option<Vec<u8>>,
    /// `--udp_encapsulation=tcp`: the script's segments travel in UDP (`udp.rs`).
    pub udp_encapsulation: bool,
}

impl Runner {
    pub fn local_ip(&self) -> IpAddr {
        if self.ipv6 {
            IpAddr::V6(LOCAL_V6)
        } else {
            IpAddr::V4(LOCAL_V4)
        }
    }
    pub fn remote_ip(&self) -> IpAddr {
        if self.ipv6 {
            IpAddr::V6(REMOTE_V6)
        } else {
            IpAddr::V4(REMOTE_V4)
        }
    }

    pub fn fail<T>(&self, message: impl Into<String>) -> Result<T, Failure> {
        Err(Failure { line: self.line, at: self.now, message: message.into() })
    }

    /// Collects what the endpoint sends now.
    pub fn drain(&mut self) {
        let mut buf = vec![0u8; 65_600];
        // The endpoint sends super-segments as to a device with segmentation offload, and
        // they are seen as that device cuts them up (packetdrill's Linux tun sees what Linux
        // sizes its GSO packets to, whatever the device offloads: Linux always does GSO).
        let gso_segments = if self.gso { 64 } else { 1 };
        while let Some(t) = self.ep.poll_transmit_gso(self.now, &mut buf, gso_segments) {
            let pieces = match t.gso_size {
                Some(size) => crate::gso::segment(&buf[..t.len], size as usize),
                None => vec![buf[..t.len].to_vec()],
            };
            for bytes in pieces {
                self.take_sent(bytes);
            }
        }
        while self.ep.poll_event().is_some() {}
    }

    /// One segment the endpoint sent, logged and queued for the script's lines.
    fn take_sent(&mut self, bytes: Vec<u8>) {
        let (bytes, udp) = match crate::udp::unwrap(&bytes) {
            Some((ports, inner)) => (inner, Some(ports)),
            None => (bytes, None),
        };
        let text = self.describe(&bytes) + &crate::udp::suffix(udp);
        // Like packetdrill, segments of connections the script no longer addresses (an
        // earlier remote port) are not matched against its lines.
        if !self.on_current_tuple(&bytes) {
            self.log.trace.push(format!("{} > {text} (another connection: not matched)", self.now));
            return;
        }
        self.log.trace.push(format!("{} > {text}", self.now));
        self.out.push_back((self.now, bytes, udp));
    }

    fn on_current_tuple(&self, bytes: &[u8]) -> bool {
        let (Some(tuple), Ok(seg)) = (self.tuple, parse_segment(bytes)) else { return true };
        (seg.tcp.src_port, seg.tcp.dst_port) == (tuple.local().port(), tuple.remote().port())
    }

    /// Runs the endpoint's timers up to `until`.
    fn advance_to(&mut self, until: Instant) {
        while let Some(deadline) = self.ep.poll_timeout() {
            if deadline > until {
                break;
            }
            self.now = self.now.max(deadline);
            self.ep.handle_timeout(self.now);
            self.drain();
            self.retry_blocked();
        }
        self.now = self.now.max(until);
    }

    /// The next deadline at or before `limit`, if the endpoint has one.
    pub(crate) fn step_before(&mut self, limit: Instant) -> bool {
        match self.ep.poll_timeout() {
            Some(deadline) if deadline <= limit => {
                self.now = self.now.max(deadline);
                self.ep.handle_timeout(self.now);
                self.drain();
                self.retry_blocked();
                true
            }
            _ => false,
        }
    }

    fn describe(&self, bytes: &[u8]) -> String {
        match parse_segment(bytes) {
            Ok(_) => self.seen(bytes, self.iss.unwrap_or(0)).to_script(),
            Err(e) => format!("(unparsable: {e})"),
        }
    }

    /// The TCP segment of packet `bytes` as the script writes it, sequence numbers from
    /// `iss`; a signature is `md5 valid` when it checks under the script's key.
    fn seen(&self, bytes: &[u8], iss: u32) -> Seen {
        let mut seen = Seen::from_tcp(&tcp_of(bytes), iss);
        if let (Ok(options), Some(secret)) = (&mut seen.options, &self.md5_secret) {
            let valid = synack_wire::check_tcp_md5(bytes, secret) == synack_wire::Md5Check::Valid;
            for o in options.iter_mut().filter(|o| matches!(o, OptSpec::Md5 { .. })) {
                *o = OptSpec::Md5 { valid };
            }
        }
        seen
    }

    /// A new SYN to a listener after other packets starts a new connection from a new
    /// remote port, as packetdrill's script side does; what synack sent to the old port is
    /// no longer matched.
    fn next_remote_port_for(&mut self, spec: &PacketSpec) {
        let Some(tuple) = self.tuple else { return };
        if self.listening && self.tuple_used && spec.flags.syn() && !spec.flags.ack() {
            let remote = SocketAddr::new(tuple.remote().ip(), tuple.remote().port().wrapping_add(1));
            self.tuple = Some(FourTuple::new(tuple.local(), remote));
            self.iss = None;
            self.tuple_used = false;
            let stale: Vec<_> = self.out.drain(..).collect();
            for (at, bytes, udp) in stale {
                if self.on_current_tuple(&bytes) {
                    self.out.push_back((at, bytes, udp));
                } else {
                    let text = self.describe(&bytes);
                    self.log.trace.push(format!("{at} > {text} (another connection: not matched)"));
                }
            }
        }
    }

    fn describe_inbound(&self, bytes: &[u8]) -> String {
        let mut seen = self.seen(bytes, 0);
        let iss = self.iss.unwrap_or(0);
        seen.ack = seen.ack.wrapping_sub(iss);
        // Its SACK blocks in script space too, as the line wrote them.
        if let Ok(opts) = &mut seen.options {
            *opts = crate::packet::shift_sack_blocks(opts, iss.wrapping_neg());
            // And its TS echo on the script's clock, as written.
            let offset = self.ts_offset.unwrap_or(0);
            for o in opts.iter_mut() {
                if let OptSpec::Timestamp { ecr, .. } = o {
                    if *ecr != 0 {
                        *ecr = ecr.wrapping_sub(offset);
                    }
                }
            }
        }
        seen.to_script()
    }

    fn inbound(&mut self, spec: &PacketSpec) -> Result<(), Failure> {
        let Some(tuple) = self.tuple else {
            return self.fail("an inbound packet before any socket is bound or connected");
        };
        self.refuse_what_the_engine_lacks(spec)?;
        self.tuple_used = true;
        let echoed = self.map_ts_echo(spec);
        let spec = echoed.as_ref().unwrap_or(spec);
        let mut bytes = match build_inbound(spec, tuple.remote(), tuple.local(), self.iss.unwrap_or(0)) {
            Ok(bytes) => bytes,
            Err(e) => return self.fail(e),
        };
        // `md5 valid` is signed with the script's key, `md5 invalid` with another.
        if let (Some(Some(list)), Some(secret)) = (&spec.options, &self.md5_secret) {
            if let Some(&OptSpec::Md5 { valid }) = list.iter().find(|o| matches!(o, OptSpec::Md5 { .. })) {
                let wrong: Vec<u8> = secret.iter().chain(b"!").copied().collect();
                synack_wire::sign_tcp_md5(&mut bytes, if valid { secret } else { &wrong });
            }
        }
        let text = self.describe_inbound(&bytes) + &crate::udp::suffix(self.inbound_udp_ports(spec));
        let bytes = match self.wrap_inbound(spec, bytes) {
            Ok(bytes) => bytes,
            Err(e) => return self.fail(e),
        };
        self.log.trace.push(format!("{} < {text}", self.now));
        self.ep.handle_packet(self.now, &bytes);
        self.drain();
        Ok(())
    }

    /// An ICMP error about synack's segment on the current connection.
    fn inbound_icmp(&mut self, spec: &crate::ast::IcmpSpec) -> Result<(), Failure> {
        let Some(tuple) = self.tuple else {
            return self.fail("an ICMP error before any socket is bound or connected");
        };
        let seq = spec.seq.wrapping_add(self.iss.unwrap_or(0));
        let bytes = match crate::packet::build_icmp(spec, tuple.local(), tuple.remote(), seq) {
            Ok(bytes) => bytes,
            Err(e) => return self.fail(e),
        };
        self.log.trace.push(format!("{} < icmp {} {} [{}]", self.now, spec.icmp_type, spec.code, spec.seq));
        self.ep.handle_packet(self.now, &bytes);
        self.drain();
        Ok(())
    }

    /// packetdrill's timestamp mapping: the first outbound line that writes a TS value ties
    /// the script's clock to synack's (the difference is kept); inbound echoes are then moved
    /// onto synack's clock, so that an echo of the script's "100" is synack's own TSval and
    /// the RTT it gives is real.
    fn learn_ts_offset(&mut self, spec: &PacketSpec, seen: &Seen) {
        if self.ts_offset.is_some() {
            return;
        }
        let written = spec.options.iter().flatten().flatten().find_map(|o| match *o {
            OptSpec::Timestamp { val, .. } => Some(val),
            _ => None,
        });
        let actual = seen.options.iter().flatten().find_map(|o| match *o {
            OptSpec::Timestamp { val, .. } => Some(val),
            _ => None,
        });
        if let (Some(written), Some(actual)) = (written, actual) {
            self.ts_offset = Some(actual.wrapping_sub(written));
        }
    }

    /// An inbound line with its TS echo on synack's clock (None when nothing changes).
    fn map_ts_echo(&self, spec: &PacketSpec) -> Option<PacketSpec> {
        let offset = self.ts_offset?;
        let Some(Some(list)) = &spec.options else { return None };
        let mapped: Vec<OptSpec> = list
            .iter()
            .map(|o| match *o {
                OptSpec::Timestamp { val, ecr } if ecr != 0 => {
                    OptSpec::Timestamp { val, ecr: ecr.wrapping_add(offset) }
                }
                other => other,
            })
            .collect();
        (mapped != *list).then(|| PacketSpec { options: Some(Some(mapped)), ..spec.clone() })
    }

    /// Lines that need what synack does not do: a difference of the engine, named at its line.
    fn refuse_what_the_engine_lacks(&self, spec: &PacketSpec) -> Result<(), Failure> {
        if spec.udp_ports.is_some() && self.ep.config().tcp_udp_tunneling_port == 0 {
            return self.fail("a `/udp(...)` segment needs net.inet.tcp.udp_tunneling_port set");
        }
        if let Some(Some(list)) = &spec.options {
            if self.md5_secret.is_none() && list.iter().any(|o| matches!(o, OptSpec::Md5 { .. })) {
                return self.fail("an `md5` option needs the key: --tcp_md5_secret=KEY");
            }
        }
        Ok(())
    }

    fn outbound(&mut self, spec: &PacketSpec, lo: Instant, hi: Instant) -> Result<Instant, Failure> {
        self.refuse_what_the_engine_lacks(spec)?;
        loop {
            if let Some((at, bytes, udp)) = self.out.pop_front() {
                let text = self.describe(&bytes) + &crate::udp::suffix(udp);
                if at < lo || at > hi {
                    let when = if at < lo { "early" } else { "late" };
                    return Err(Failure {
                        line: self.line,
                        at,
                        message: format!("segment {text} sent too {when} (expected between {lo} and {hi})"),
                    });
                }
                if let Err(message) = self.check_udp_ports(spec, udp) {
                    return Err(Failure { line: self.line, at, message: format!("{message}: sent {text}") });
                }
                return self.match_outbound(spec, at, &bytes, text);
            }
            if !self.step_before(hi) {
                self.now = self.now.max(hi);
                return self.fail(format!("expected segment not sent by {hi}"));
            }
        }
    }

    fn match_outbound(
        &mut self,
        spec: &PacketSpec,
        at: Instant,
        bytes: &[u8],
        text: String,
    ) -> Result<Instant, Failure> {
        let line = self.line;
        let fail = |message: String| Err(Failure { line, at, message });
        let seg = match parse_segment(bytes) {
            Ok(seg) => seg,
            Err(e) => return fail(format!("synack sent an unparsable packet: {e}")),
        };
        if seg.ip.src != self.local_ip() || seg.ip.dst != self.remote_ip() {
            return fail(format!("segment to {} instead of the script's address", seg.ip.dst));
        }
        let tcp = tcp_of(bytes);
        // synack's ISN is learned from its SYN (or SYN-ACK): where the script writes it, the
        // script's number maps onto it; `...` leaves it as it is.
        if spec.flags.syn() {
            let start = match spec.seq {
                SeqSpec::Range { start, .. } => start,
                SeqSpec::Any { .. } => 0,
            };
            self.iss = Some(tcp.seq_number().0.wrapping_sub(start));
        }
        let iss = if spec.absolute_seq { 0 } else { self.iss.unwrap_or(0) };
        let mut seen = self.seen(bytes, iss);
        if self.tso && !spec.flags.syn() {
            self.merge_super_segment(&mut seen, spec, at);
        }
        if let Some(tuple) = self.tuple {
            let ports = (seg.tcp.src_port, seg.tcp.dst_port);
            if ports != (tuple.local().port(), tuple.remote().port()) {
                return fail(format!("segment {text} on ports {}>{}, not the script's connection", ports.0, ports.1));
            }
        }
        let ip_mismatch = spec.ip_field.as_ref().and_then(|(name, want)| {
            let actual = crate::packet::ip_field(bytes, name) as u32;
            (actual != *want).then(|| match name.as_str() {
                "ttl" | "hlim" => format!("{name} {actual} instead of {want}"),
                _ => format!("{name} {actual:#x} instead of {want:#x}"),
            })
        });
        match seen.mismatch(spec).or(ip_mismatch).or_else(|| ecn_mismatch(spec.ecn.as_deref(), seg.ip.ecn)) {
            Some(why) => fail(format!("{why}: sent {}", seen.to_script())),
            None => {
                self.learn_ts_offset(spec, &seen);
                Ok(at)
            }
        }
    }
}

impl Runner {
    /// A line longer than synack's segment is what a TSO device sends as one super-segment:
    /// as packetdrill sees it on such a device, the segments sent at the same time that
    /// continue `seen` are taken into it while they fit the line's length (PSH and FIN from
    /// the last one, as the device copies them onto the last segment it cuts).
    fn merge_super_segment(&mut self, seen: &mut Seen, spec: &PacketSpec, at: Instant) {
        let want = spec.seq.payload_len();
        let iss = self.iss.unwrap_or(0);
        while seen.len < want && !seen.flags.fin() {
            let Some((next_at, bytes, _)) = self.out.front() else { break };
            if *next_at != at || !self.on_current_tuple(bytes) {
                break;
            }
            let next = Seen::from_tcp(&tcp_of(bytes), iss);
            let same_kind = (next.flags ^ seen.flags) & !(TcpFlags::PSH | TcpFlags::FIN) == TcpFlags::NONE;
            let continues = next.seq == seen.seq.wrapping_add(seen.len) && next.len > 0;
            if !same_kind || !continues || seen.len + next.len > want {
                break;
            }
            seen.len += next.len;
            seen.flags = (seen.flags & !TcpFlags::PSH) | next.flags;
            seen.ack = next.ack;
            seen.window = next.window;
            self.out.pop_front();
        }
    }
}

/// Runs a parsed script with a profile; `Ok` means every line held.
pub fn run_script(script: &Script, profile: &Profile) -> (Result<(), Failure>, RunLog) {
    let ipv6 = match script.option("ip_version") {
        Some("ipv6") => true,
        Some("ipv4") | None => false,
        Some(other) => {
            let f = Failure { line: 0, at: Instant::ZERO, message: format!("--ip_version={other} is not supported") };
            return (Err(f), RunLog::default());
        }
    };
    // FreeBSD's TCP over UDP (net.inet.tcp.udp_tunneling_port): every segment in UDP.
    let udp_encapsulation = match script.option("udp_encapsulation") {
        None => false,
        Some("tcp") => true,
        Some(other) => {
            let message = format!("--udp_encapsulation={other}: only tcp is supported");
            return (Err(Failure { line: 0, at: Instant::ZERO, message }), RunLog::default());
        }
    };
    // packetdrill's `--non_fatal=syscall`: a call that returns other than the line says is
    // noted, not a failure.
    let non_fatal_syscalls = script.option("non_fatal").is_some_and(|v| v.split(',').any(|k| k.trim() == "syscall"));
    let tolerance_us = script.option("tolerance_usecs").and_then(|v| v.parse::<u64>().ok()).unwrap_or(4_000);
    let addresses = if ipv6 { vec![IpAddr::V6(LOCAL_V6)] } else { vec![IpAddr::V4(LOCAL_V4)] };
    let mut config = profile.config.clone();
    if let Some(mtu) = script.option("mtu") {
        match mtu.parse::<usize>() {
            Ok(mtu) if (68..=65535).contains(&mtu) => config.mtu = mtu,
            _ => {
                let f = Failure { line: 0, at: Instant::ZERO, message: format!("--mtu={mtu}: want 68 to 65535") };
                return (Err(f), RunLog::default());
            }
        }
    }
    let ep = Endpoint::new(config, &addresses);
    // Until a socket is bound or connected, inbound packets go to the script's port on a
    // closed host.
    let local = SocketAddr::new(addresses[0], SCRIPT_PORT);
    let remote_ip = if ipv6 { IpAddr::V6(REMOTE_V6) } else { IpAddr::V4(REMOTE_V4) };
    let tuple = Some(FourTuple::new(local, SocketAddr::new(remote_ip, REMOTE_CLIENT_PORT)));
    let mut r = Runner {
        ep,
        now: Instant::ZERO,
        ipv6,
        fds: BTreeMap::new(),
        last_fd: None,
        tuple,
        listening: false,
        tuple_used: false,
        iss: None,
        out: VecDeque::new(),
        log: RunLog::default(),
        line: 0,
        ts_offset: None,
        vars: Default::default(),
        blocked: None,
        deferred: None,
        tso: profile.tso,
        gso: profile.gso,
        doubles_socket_buffers: profile.doubles_socket_buffers,
        script_dir: script.dir.clone(),
        tolerance: Duration::from_micros(tolerance_us),
        non_fatal_syscalls,
        udp_encapsulation,
        md5_secret: script.option("tcp_md5_secret").map(|k| k.as_bytes().to_vec()),
    };
    if let Some(secret) = &r.md5_secret {
        // packetdrill signs with this key; the host's key for the remote address is the same
        // (the FreeBSD scripts install it with setkey, a command the runner does not run).
        r.ep.set_md5_key(remote_ip, Some(secret));
    }
    let result = r.run(&script.events);
    (result, r.log)
}

impl Runner {
    fn run(&mut self, events: &[Event]) -> Result<(), Failure> {
        // The time the previous event happened; relative times count from it.
        let mut last = Instant::ZERO;
        for event in events {
            self.line = event.line;
            let at = |us: i64| Instant::from_micros(us.max(0) as u64);
            let (lo, hi, when) = match event.time {
                Time::Absolute(us) => (at(us), at(us), at(us)),
                Time::Relative(us) => {
                    let t = Instant::from_micros((last.as_micros() as i64 + us).max(0) as u64);
                    (t, t, t)
                }
                Time::Any => (self.now, self.now + ANY_TIME_LIMIT, self.now),
                Time::Range { start, end, relative } | Time::Blocking { start, end, relative } => {
                    let base = if relative { last.as_micros() as i64 } else { 0 };
                    (at(base + start), at(base + end), at(base + start))
                }
            };
            self.take_deferred()?;
            match &event.action {
                Action::Packet(spec) if !spec.inbound => {
                    let (lo, hi) = match event.time {
                        Time::Any | Time::Range { .. } => (lo, hi),
                        _ => (sub(lo, self.tolerance), hi + self.tolerance),
                    };
                    last = self.outbound(spec, lo, hi)?;
                    continue;
                }
                _ => {}
            }
            self.advance_to(when);
            if let Action::Packet(spec) = &event.action {
                self.next_remote_port_for(spec);
            }
            self.take_deferred()?;
            match (&event.action, event.time) {
                (Action::Call(call), Time::Blocking { .. }) => {
                    let window = (sub(hi, self.tolerance), hi + self.tolerance);
                    self.blocking_call(call, window)?;
                }
                (Action::Packet(spec), _) => self.inbound(spec)?,
                (Action::Icmp(spec), _) => self.inbound_icmp(spec)?,
                (Action::Call(call), _) => self.call(call)?,
                (Action::Command(cmd), _) => self.command(cmd)?,
                (Action::Code(stmts), _) => self.code(stmts)?,
            }
            self.retry_blocked();
            self.take_deferred()?;
            last = self.now;
            if let Time::Blocking { .. } = event.time {
                last = when; // the next relative time counts from the call's start
            }
        }
        self.finish_blocked()
    }
}

/// The TCP part of an IP packet the runner built or already parsed, located by the IP
/// header's own length (not by re-encoding the options, whose layout may differ).
fn tcp_of(bytes: &[u8]) -> TcpPacket<&[u8]> {
    let ip_len = if bytes[0] >> 4 == 4 { Ipv4Packet::new_unchecked(bytes).header_len() } else { IPV6_HEADER_LEN };
    TcpPacket::new_unchecked(&bytes[ip_len..])
}

fn sub(t: Instant, d: Duration) -> Instant {
    Instant::from_micros(t.as_micros().saturating_sub(d.as_micros() as u64))
}
