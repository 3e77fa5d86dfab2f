//! `synack scan`: port scans from synack's side of a TUN device, the way the articles explain
//! scanners use the handshake, with nmap's verdicts and wording.
//!
//! - `connect` (nmap -sT): a full handshake through synack's own stack, then a reset (SO_LINGER
//!   0, as nmap closes); completed: open; refused: closed; no answer: filtered.
//! - `syn` (nmap -sS): a SYN built here and written to the device raw; SYN-ACK: open (answered
//!   with RST, so the handshake never completes); RST: closed; silence after the retries, or an
//!   ICMP unreachable: filtered.
//! - `fin`, `null`, `xmas` (nmap -sF, -sN, -sX): a segment with FIN, no flags, or FIN+PSH+URG;
//!   RST: closed; silence: open|filtered (RFC 9293 §3.10.7.1 has a closed port reset anything
//!   without RST, and an open one drop a segment without SYN, RST or ACK); ICMP unreachable:
//!   filtered.

use crate::serve::{runtime, setup_device};
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::AsRawFd;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use synack_capture::{ladder, Capture, Frame};
use synack_engine::Config;
use synack_runtime::Stack;
use synack_tun::TunDevice;
use synack_wire::{
    emit_segment, parse_icmp_error, parse_segment_general, Ecn, IpHeader, SeqNum, TcpFlags, TcpOptions, TcpRepr,
};

/// How `synack scan` probes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ScanMode {
    /// A full connect (nmap -sT).
    Connect,
    /// SYN, never completing the handshake (nmap -sS).
    Syn,
    /// FIN alone (nmap -sF).
    Fin,
    /// No flags at all (nmap -sN).
    Null,
    /// FIN, PSH and URG (nmap -sX).
    Xmas,
}

pub struct ScanArgs {
    pub tun: String,
    pub addr: String,
    pub local: Option<IpAddr>,
    pub target: IpAddr,
    pub ports: Vec<u16>,
    pub mode: ScanMode,
    pub timeout: Duration,
    pub retries: u8,
    pub rate: u32,
    pub explain: bool,
}

/// A port's verdict and the reason, in nmap's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Verdict {
    state: &'static str,
    reason: &'static str,
}

/// Parses `22,80,8000-8010` into sorted distinct ports (1 to 65535).
pub fn parse_ports(list: &str) -> Result<Vec<u16>, String> {
    let mut ports = std::collections::BTreeSet::new();
    for part in list.split(',') {
        let port = |s: &str| {
            s.trim().parse::<u16>().ok().filter(|&p| p > 0).ok_or_else(|| format!("'{s}' is not a port (1 to 65535)"))
        };
        match part.split_once('-') {
            Some((lo, hi)) => {
                let (lo, hi) = (port(lo)?, port(hi)?);
                if lo > hi {
                    return Err(format!("'{part}': the range runs backwards"));
                }
                ports.extend(lo..=hi);
            }
            None => {
                ports.insert(port(part)?);
            }
        }
    }
    Ok(ports.into_iter().collect())
}

pub fn scan(args: ScanArgs) -> ExitCode {
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("synack scan: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &ScanArgs) -> Result<(), String> {
    if args.target.is_unspecified() || args.target.is_multicast() {
        return Err(format!("{}: not a host's address", args.target));
    }
    let (dev, local) = setup_device(&args.tun, &args.addr, args.local, false)?;
    if local.is_ipv4() != args.target.is_ipv4() {
        return Err(format!("{} and synack's {local} are of different IP versions", args.target));
    }
    if args.target == local {
        return Err(format!("{} is synack's own address", args.target));
    }
    let started = Instant::now();
    let (verdicts, frames) = match args.mode {
        ScanMode::Connect => connect_scan(dev, local, args)?,
        _ => raw_scan(&dev, local, args)?,
    };
    let name = format!("{:?}", args.mode).to_lowercase();
    println!(
        "synack scan: {name} scan of {} from {local} over {}, {} port(s)",
        args.target,
        args.tun,
        args.ports.len()
    );
    println!("{:<10} {:<14} REASON", "PORT", "STATE");
    let mut tally: BTreeMap<&str, usize> = BTreeMap::new();
    for (&port, v) in &verdicts {
        println!("{:<10} {:<14} {}", format!("{port}/tcp"), v.state, v.reason);
        *tally.entry(v.state).or_insert(0) += 1;
    }
    let tally: Vec<String> = tally.iter().map(|(s, n)| format!("{n} {s}")).collect();
    println!("done: {} port(s) in {:.2} s ({})", verdicts.len(), started.elapsed().as_secs_f64(), tally.join(", "));
    if args.explain {
        explain_one_per_verdict(&verdicts, frames, local);
    }
    Ok(())
}

/// The ladder of one probe per verdict, from the frames the scan sent and received.
fn explain_one_per_verdict(verdicts: &BTreeMap<u16, Verdict>, frames: Vec<Frame>, local: IpAddr) {
    let capture = Capture { frames, skipped: 0, format: "scan" };
    let conns = synack_capture::connections(&capture);
    let mut shown = std::collections::BTreeSet::new();
    for (&port, v) in verdicts {
        if !shown.insert(v.state) {
            continue;
        }
        let Some(conn) = conns.iter().find(|c| c.client.ip() == local && c.server.port() == port) else { continue };
        println!();
        println!("== {port}/tcp {} ({})", v.state, v.reason);
        print!("{}", ladder::render(conn, &synack_capture::explain(conn), false));
    }
}

/// Probes built here and written raw; answers read from the device.
fn raw_scan(dev: &TunDevice, local: IpAddr, args: &ScanArgs) -> Result<(BTreeMap<u16, Verdict>, Vec<Frame>), String> {
    let flags = match args.mode {
        ScanMode::Syn => TcpFlags::SYN,
        ScanMode::Fin => TcpFlags::FIN,
        ScanMode::Null => TcpFlags::empty(),
        ScanMode::Xmas => TcpFlags::FIN | TcpFlags::PSH | TcpFlags::URG,
        ScanMode::Connect => unreachable!("connect scans go through the stack"),
    };
    // One source port and sequence number for the whole scan, as nmap uses, from the clock.
    let clock = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let src_port = 40000 + (clock.subsec_nanos() % 20000) as u16;
    let isn = SeqNum(clock.subsec_nanos().rotate_left(13));
    let ip = IpHeader { src: local, dst: args.target, ttl: 64, ecn: Ecn::NotEct };
    let packet = |port: u16, flags: TcpFlags, seq: SeqNum, ack: SeqNum| {
        let tcp = TcpRepr {
            src_port,
            dst_port: port,
            seq,
            ack,
            flags,
            window: if flags.contains(TcpFlags::RST) { 0 } else { 1024 },
            urgent: 0,
            options: TcpOptions { mss: flags.syn().then_some(1460), ..TcpOptions::default() },
            payload: &[],
        };
        let mut buf = vec![0u8; 128];
        let n = emit_segment(&ip, &tcp, 1, &mut buf).expect("a probe fits in 128 bytes");
        buf.truncate(n);
        buf
    };
    let start = Instant::now();
    let mut frames = Vec::new();
    let record = |frames: &mut Vec<Frame>, bytes: &[u8]| {
        let number = frames.len() + 1;
        frames.push(Frame { number, time: start.elapsed(), ip: bytes.to_vec() });
    };
    // Per port still open to question: (probes sent, when the last went out).
    let mut pending: BTreeMap<u16, (u8, Option<Instant>)> = args.ports.iter().map(|&p| (p, (0, None))).collect();
    let mut verdicts = BTreeMap::new();
    let gap = Duration::from_secs_f64(1.0 / args.rate as f64);
    let mut next_send = Instant::now();
    let mut buf = vec![0u8; 65536];
    while !pending.is_empty() {
        let now = Instant::now();
        // Send the next probe that is due (a first probe, or a retry after the timeout), at
        // the rate asked for.
        // How long to wait for an answer: until the next probe's turn when one went out or
        // waits for its turn (so that --rate, not the wait, sets the pace), else 10 ms.
        let mut wait = next_send.saturating_duration_since(now).min(IDLE_WAIT);
        if now >= next_send {
            wait = IDLE_WAIT;
            let due = pending
                .iter()
                .find(|(_, (sent, last))| last.is_none_or(|t| now >= t + args.timeout) && *sent <= args.retries);
            if let Some((&port, _)) = due {
                let p = packet(port, flags, isn, SeqNum(0));
                dev.send(&p).map_err(|e| format!("cannot write to {}: {e}", args.tun))?;
                record(&mut frames, &p);
                let entry = pending.get_mut(&port).expect("pending");
                *entry = (entry.0 + 1, Some(now));
                next_send = now + gap;
                wait = gap.min(IDLE_WAIT);
            }
        }
        // Ports whose last probe timed out with no retry left: silence.
        let silent: Vec<u16> = pending
            .iter()
            .filter(|(_, (sent, last))| *sent > args.retries && last.is_some_and(|t| now >= t + args.timeout))
            .map(|(&p, _)| p)
            .collect();
        for port in silent {
            pending.remove(&port);
            let state = if args.mode == ScanMode::Syn { "filtered" } else { "open|filtered" };
            verdicts.insert(port, Verdict { state, reason: "no-response" });
        }
        if pending.is_empty() {
            break;
        }
        if !readable(dev, wait) {
            continue;
        }
        let Ok(n) = dev.recv(&mut buf) else { continue };
        let bytes = &buf[..n];
        if let Ok(seg) = parse_segment_general(bytes, true) {
            let t = &seg.tcp;
            if seg.ip.src != args.target || seg.ip.dst != local || t.dst_port != src_port {
                continue;
            }
            if !pending.contains_key(&t.src_port) {
                continue;
            }
            record(&mut frames, bytes);
            let verdict = if t.flags.syn() && t.flags.ack() {
                // Open: reset it so that the handshake never completes (nmap leaves this to its
                // kernel, which knows no such connection; synack's side has no kernel stack).
                let rst = packet(t.src_port, TcpFlags::RST, t.ack, SeqNum(0));
                dev.send(&rst).map_err(|e| format!("cannot write to {}: {e}", args.tun))?;
                record(&mut frames, &rst);
                Verdict { state: "open", reason: "syn-ack" }
            } else if t.flags.rst() {
                Verdict { state: "closed", reason: "reset" }
            } else {
                continue;
            };
            pending.remove(&t.src_port);
            verdicts.insert(t.src_port, verdict);
        } else if let Ok(Some(error)) = parse_icmp_error(bytes) {
            let q = error.quoted;
            if q.src == local && q.dst == args.target && q.src_port == src_port && pending.contains_key(&q.dst_port) {
                pending.remove(&q.dst_port);
                let reason = match error.kind {
                    synack_wire::IcmpKind::PortUnreachable => "port-unreach",
                    synack_wire::IcmpKind::HostUnreachable => "host-unreach",
                    synack_wire::IcmpKind::NetUnreachable => "net-unreach",
                    synack_wire::IcmpKind::AdminProhibited => "admin-prohibited",
                    _ => "icmp-error",
                };
                verdicts.insert(q.dst_port, Verdict { state: "filtered", reason });
            }
        }
    }
    Ok((verdicts, frames))
}

/// The longest wait for an answer while no probe is due.
const IDLE_WAIT: Duration = Duration::from_millis(10);

/// Whether the device has a packet to read within `wait`.
fn readable(dev: &TunDevice, wait: Duration) -> bool {
    let mut fd = libc::pollfd { fd: dev.as_raw_fd(), events: libc::POLLIN, revents: 0 };
    // SAFETY: one valid pollfd for the duration of the call.
    let n = unsafe { libc::poll(&mut fd, 1, wait.as_millis().min(1000) as i32) };
    n > 0 && fd.revents & libc::POLLIN != 0
}

/// Full handshakes through synack's own stack, a few ports at a time; the tap records the
/// packets for `--explain`.
fn connect_scan(
    dev: TunDevice,
    local: IpAddr,
    args: &ScanArgs,
) -> Result<(BTreeMap<u16, Verdict>, Vec<Frame>), String> {
    let config = Config::default().with(|c| {
        c.tcp_syn_retries = args.retries;
        c.rto_initial = args.timeout;
    });
    let pcap = std::env::temp_dir().join(format!("synack-scan-{}.pcap", std::process::id()));
    let tap = synack_runtime::tap::Tap::default().pcap(&pcap).map_err(|e| format!("cannot record the scan: {e}"))?;
    let ports = args.ports.clone();
    let (target, wait, rate) = (args.target, args.timeout * (args.retries as u32 + 1), args.rate);
    let verdicts = runtime()?.block_on(async move {
        let stack = Stack::with_tap(config, &[local], dev, tap).map_err(|e| e.to_string())?;
        let mut verdicts = BTreeMap::new();
        let mut tasks = tokio::task::JoinSet::new();
        let gap = Duration::from_secs_f64(1.0 / rate as f64);
        for port in ports {
            let stack = stack.clone();
            tasks.spawn(async move {
                let to = SocketAddr::new(target, port);
                let verdict = match tokio::time::timeout(
                    wait + Duration::from_millis(500),
                    synack_runtime::TcpStream::connect(&stack, to),
                )
                .await
                {
                    Ok(Ok(stream)) => {
                        let _ = stream.set_linger(Some(Duration::ZERO));
                        drop(stream);
                        Verdict { state: "open", reason: "syn-ack" }
                    }
                    Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                        Verdict { state: "closed", reason: "conn-refused" }
                    }
                    Ok(Err(e)) if e.kind() == std::io::ErrorKind::HostUnreachable => {
                        Verdict { state: "filtered", reason: "host-unreach" }
                    }
                    Ok(Err(_)) | Err(_) => Verdict { state: "filtered", reason: "no-response" },
                };
                (port, verdict)
            });
            tokio::time::sleep(gap).await;
        }
        while let Some(done) = tasks.join_next().await {
            let (port, verdict) = done.map_err(|e| e.to_string())?;
            verdicts.insert(port, verdict);
        }
        stack.close(Duration::from_millis(500)).await;
        Ok::<_, String>(verdicts)
    })?;
    let frames = std::fs::read(&pcap)
        .ok()
        .and_then(|bytes| synack_capture::read_capture(&bytes).ok())
        .map(|c| c.frames)
        .unwrap_or_default();
    let _ = std::fs::remove_file(&pcap);
    Ok((verdicts, frames))
}
