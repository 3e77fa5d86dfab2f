//! The `synack` command. Thin: it parses arguments and prints; the work is in the libraries.
//! Every numeric option has a range, checked before anything runs; a value outside it is
//! refused with the range in the message and exit code 2.

mod apps;
mod args;
mod explain;
mod scan;
mod script;
mod serve;
mod simulate;

use args::{bandwidth, percent, real, whole};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use synack_sim::scenarios::SCENARIOS;

/// The longest one-way delay and jitter, milliseconds, in `sim` and `serve` (10 s).
const MAX_DELAY_MS: u64 = 10_000;

#[derive(Parser)]
#[command(name = "synack", version, about = "A user-space TCP/IP stack: TCP connection management made visible")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Replay a TCP lifecycle scenario on a simulated network and show every segment, every
    /// state change, the socket table and a ladder diagram.
    Demo {
        /// Which scenario (see --list).
        #[arg(long, default_value = "classic")]
        scenario: String,
        /// Seed for everything random (ISNs, timestamps), 0 to 2^64-1: the same seed gives the
        /// same run, byte for byte.
        #[arg(long, default_value_t = 0, allow_negative_numbers = true, value_parser = whole(0, u64::MAX))]
        seed: u64,
        /// Absolute sequence numbers, as `tcpdump -S`.
        #[arg(short = 'S', long = "absolute-tcp-sequence-numbers")]
        absolute: bool,
        /// Also write the packets to this pcap file (link type raw IP); created before the run.
        #[arg(long)]
        pcap: Option<PathBuf>,
        /// Also draw the ladder as SVG in this file (as `synack explain --svg` draws a capture;
        /// lost segments dashed); created before the run.
        #[arg(long)]
        svg: Option<PathBuf>,
        /// List the scenarios and exit.
        #[arg(long)]
        list: bool,
    },
    /// Transfer data over a faulty simulated link and check that every byte arrives once, in
    /// order, and that every connection closes. Exits non-zero otherwise. On a terminal, a
    /// long run prints its progress.
    Sim(SimArgs),
    /// Serve on a real wire: create a TUN device, give the kernel side ADDR/PREFIX, and serve
    /// echo, discard or http (GET /bytes/N) on synack's side. Needs root; run it inside a
    /// network namespace (`ip netns exec NS synack serve ...`) to keep it apart.
    Serve {
        #[command(flatten)]
        device: TunArgs,
        /// The TCP port to serve on, 1 to 65535.
        #[arg(long, default_value_t = 8080, allow_negative_numbers = true, value_parser = whole(1, 65535))]
        port: u64,
        /// echo, discard or http.
        #[arg(long, default_value = "http")]
        mode: apps::Mode,
        /// Print the socket table every SECONDS, 0.1 to 86400 (SIGUSR1 prints it at any time).
        #[arg(long, allow_negative_numbers = true, value_parser = real(0.1, 86_400.0, " s"))]
        ss_interval: Option<f64>,
        /// Print every packet, both ways, in tcpdump's format (the device then moves one
        /// packet per system call, so that each is seen).
        #[arg(long)]
        trace: bool,
        /// Write every packet, both ways, to this pcap file (one packet per system call, as
        /// with --trace).
        #[arg(long)]
        pcap: Option<PathBuf>,
        /// Seeded faults on the packets, each way (any fault turns offload off).
        #[command(flatten)]
        faults: FaultArgs,
        /// Milliseconds every packet is held, each way (a longer round trip), 0 to 10000.
        #[arg(long, default_value_t = 0.0, allow_negative_numbers = true, value_parser = real(0.0, MAX_DELAY_MS as f64, " ms"))]
        delay: f64,
        /// Seed of the faults (0 to 2^64-1): the same seed picks the same packets.
        #[arg(long, default_value_t = 1, allow_negative_numbers = true, value_parser = whole(0, u64::MAX))]
        seed: u64,
    },
    /// Connect from a TUN device like `nc`: standard input goes out, what arrives goes to
    /// standard output, end of input half-closes. Needs root; best inside a network namespace.
    Connect {
        #[command(flatten)]
        device: TunArgs,
        /// Where to connect, e.g. 10.200.0.1:9000 (port 1 to 65535).
        to: std::net::SocketAddr,
    },
    /// Scan ports of TARGET from synack's side of a TUN device, as nmap does: a full connect
    /// (-sT), a SYN scan that never completes the handshake (-sS), or FIN, NULL and XMAS probes
    /// (-sF, -sN, -sX). Prints each port's state (open, closed, filtered, open|filtered) and
    /// the reason, in nmap's words. Needs root; best inside a network namespace.
    Scan {
        /// The TUN device and the two ends' addresses (offload is never used: every probe is
        /// its own packet).
        #[command(flatten)]
        device: TunAddrs,
        /// The host to scan (the kernel side's address, or one routed through it).
        target: std::net::IpAddr,
        /// Ports, e.g. 22,80,8000-8010 (1 to 65535).
        #[arg(long, value_parser = scan::parse_ports)]
        ports: std::vec::Vec<u16>,
        /// connect (nmap -sT), syn (-sS), fin (-sF), null (-sN) or xmas (-sX).
        #[arg(long, value_enum, default_value = "syn")]
        mode: scan::ScanMode,
        /// How long to wait for an answer to each probe, 10 to 60000 ms.
        #[arg(long, default_value_t = 1000, allow_negative_numbers = true, value_parser = whole(10, 60_000))]
        timeout: u64,
        /// Probes sent again to a silent port before its verdict, 0 to 10.
        #[arg(long, default_value_t = 1, allow_negative_numbers = true, value_parser = whole(0, 10))]
        retries: u64,
        /// At most this many probes a second, 1 to 100000.
        #[arg(long, default_value_t = 1000, allow_negative_numbers = true, value_parser = whole(1, 100_000))]
        rate: u64,
        /// Also draw the ladder of one probe per verdict.
        #[arg(long)]
        explain: bool,
    },
    /// Run packetdrill-dialect test scripts (files or directories of .pkt files) against the
    /// engine in virtual time. Prints pass or the first mismatch per script, then
    /// `N passed, M failed`; exits non-zero when any failed. A file that cannot be run (not a
    /// regular file, empty, larger than 1 MiB, not text) counts as failed, and the rest run on.
    Script {
        /// Scripts, or directories searched for .pkt files (symbolic links to directories
        /// inside them are not followed).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// The engine configuration the scripts expect: linux (the engine's defaults) or freebsd.
        #[arg(long, default_value = "linux", value_parser = clap::builder::PossibleValuesParser::new(synack_script::PROFILE_NAMES))]
        profile: String,
        /// Define NAME for `#ifdef NAME` (repeatable), e.g. -D STANDARD.
        #[arg(short = 'D', value_name = "NAME")]
        define: Vec<String>,
        /// Also list the backtick commands that were accepted as no-ops.
        #[arg(long)]
        verbose: bool,
    },
    /// Explain a capture (pcap or pcapng, as tcpdump -w and Wireshark write it): its TCP
    /// connections, and for one of them the ladder diagram with both sides' RFC 9293 states
    /// inferred from the segments, anomalies marked as Wireshark's tcp.analysis flags mean
    /// them, and the handshake, data and teardown in the seeds' terms (x, x+1, y+1). Without
    /// --list or a choice, the only connection, or the list when there are several.
    Explain {
        /// The capture file.
        file: PathBuf,
        /// List the connections: endpoints, duration, packets and bytes each way, final states,
        /// anomalies.
        #[arg(long)]
        list: bool,
        /// The connection to explain, by its number in the list (from 1).
        #[arg(long, allow_negative_numbers = true, value_parser = whole(1, u32::MAX as u64))]
        conn: Option<u64>,
        /// Only connections with this port on either side.
        #[arg(long, allow_negative_numbers = true, value_parser = whole(1, 65535))]
        port: Option<u64>,
        /// Only connections with this address on either side.
        #[arg(long)]
        host: Option<std::net::IpAddr>,
        /// Absolute sequence numbers, as tcpdump -S (default: x+n and y+n from the two ISNs).
        #[arg(short = 'S')]
        absolute: bool,
        /// Also write the ladder as SVG to this file.
        #[arg(long, value_name = "FILE")]
        svg: Option<PathBuf>,
        /// Also write the time-sequence graph (tcptrace style) as SVG to this file.
        #[arg(long, value_name = "FILE")]
        tsg: Option<PathBuf>,
    },
    /// Run many seeds of random faults (up to 30 % loss, duplication, reordering, corruption)
    /// and check that every byte arrives once, in order, and every connection closes. For
    /// nightly use with large --seeds; a failure prints the seed that reproduces it. On a
    /// terminal, progress is printed as it goes.
    Swarm {
        /// First seed, 0 to 2^64-1.
        #[arg(long, default_value_t = 0, allow_negative_numbers = true, value_parser = whole(0, u64::MAX))]
        start: u64,
        /// Number of seeds, at least 1; the last one (START + SEEDS - 1) must not pass 2^64-1.
        #[arg(long, default_value_t = 1000, allow_negative_numbers = true, value_parser = whole(1, u64::MAX))]
        seeds: u64,
        /// Print one line per seed.
        #[arg(long)]
        verbose: bool,
    },
}

/// `synack sim`'s options.
#[derive(clap::Args)]
struct SimArgs {
    #[command(flatten)]
    faults: FaultArgs,
    /// Percentage of packets with a flipped bit, 0 to 100.
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true, value_parser = percent)]
    corrupt: f64,
    /// Both hosts ask for ECN (RFC 3168) in their SYNs.
    #[arg(long)]
    ecn: bool,
    /// The congestion controller both hosts run: cubic (RFC 9438, the default) or reno
    /// (NewReno, RFC 5681/6582).
    #[arg(long, default_value = "cubic", value_parser = ["cubic", "reno"])]
    cc: String,
    /// Both hosts pace their data at the connection's rate (as Linux over the fq qdisc): 200 %
    /// of cwnd per RTT in slow start, 120 % after.
    #[arg(long)]
    pacing: bool,
    /// Percentage of ECN-capable packets the link marks Congestion Experienced, 0 to 100
    /// (needs --ecn: without it no packet is ECN-capable).
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true, value_parser = percent, requires = "ecn")]
    mark: f64,
    /// One-way delay in milliseconds, 0 to 10000.
    #[arg(long, default_value_t = 10, allow_negative_numbers = true, value_parser = whole(0, MAX_DELAY_MS))]
    delay: u64,
    /// Extra random delay per packet, up to this many milliseconds, 0 to 10000.
    #[arg(long, default_value_t = 0, allow_negative_numbers = true, value_parser = whole(0, MAX_DELAY_MS))]
    jitter: u64,
    /// Link rate in megabits per second: 0 for unlimited, or 0.01 to 1000000.
    #[arg(long, default_value_t = 100.0, allow_negative_numbers = true, value_parser = bandwidth)]
    bandwidth: f64,
    /// Bytes each connection sends in each direction, 0 to 10^10 (10 GB); all connections
    /// together at most 10^10 each way, and 10^8 with --pcap (every packet is kept in memory).
    #[arg(long, default_value_t = 1_000_000, allow_negative_numbers = true, value_parser = whole(0, simulate::MAX_TOTAL_BYTES))]
    bytes: u64,
    /// Number of connections, 1 to 20000 (the accept queue takes them all; SYN cookies answer
    /// the SYNs past the SYN queue).
    #[arg(long, default_value_t = 1, allow_negative_numbers = true, value_parser = whole(1, 20_000))]
    connections: u64,
    /// Seed for everything random (faults, ISNs), 0 to 2^64-1: a failure names the seed that
    /// reproduces it.
    #[arg(long, default_value_t = 1, allow_negative_numbers = true, value_parser = whole(0, u64::MAX))]
    seed: u64,
    /// IPv6 addresses instead of IPv4.
    #[arg(long)]
    ipv6: bool,
    /// A SYN flood while the transfer runs: this many spoofed SYNs a second at the server,
    /// 0 to 1000000 (IPv4); the report says how the real connections fared.
    #[arg(long, default_value_t = 0, allow_negative_numbers = true, value_parser = whole(0, 1_000_000), conflicts_with = "ipv6")]
    flood: u64,
    /// Write every packet to this pcap file (created before the run).
    #[arg(long)]
    pcap: Option<PathBuf>,
    /// Draw the first connection's ladder as SVG in this file (created before the run; every
    /// packet is kept in memory, as with --pcap).
    #[arg(long)]
    svg: Option<PathBuf>,
}

/// A TUN device to create and the two ends' addresses on it (`serve`, `connect`, `scan`).
#[derive(clap::Args)]
struct TunAddrs {
    /// Name of the TUN device to create (1 to 15 characters, no '/', ':' or spaces).
    #[arg(long, value_parser = args::interface_name)]
    tun: String,
    /// The kernel side's address and prefix on the device, e.g. 10.200.0.1/24.
    #[arg(long)]
    addr: String,
    /// synack's address (default: the one after the kernel side's); the same family as
    /// --addr and not equal to it.
    #[arg(long)]
    local: Option<std::net::IpAddr>,
}

/// The TUN device of `serve` and `connect`: its addresses, and whether it offloads.
#[derive(clap::Args)]
struct TunArgs {
    #[command(flatten)]
    addrs: TunAddrs,
    /// Turn off GSO/GRO offload (on by default: the kernel and synack exchange TCP
    /// super-packets of up to 64 KiB, so one system call carries many segments).
    #[arg(long)]
    no_offload: bool,
}

/// Faults both `sim` (on the simulated link) and `serve` (on the real one) can inject.
#[derive(clap::Args)]
struct FaultArgs {
    /// Percentage of packets lost (each direction), 0 to 100.
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true, value_parser = percent)]
    loss: f64,
    /// Percentage of packets duplicated, 0 to 100.
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true, value_parser = percent)]
    dup: f64,
    /// Percentage of packets reordered (held back so later ones overtake them), 0 to 100.
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true, value_parser = percent)]
    reorder: f64,
}

fn main() -> ExitCode {
    // Rust ignores SIGPIPE, so a write to a closed pipe (`synack demo | head`) became a panic
    // in `println!`; with the default disposition the command ends quietly, as cat does.
    // SAFETY: setting a signal's disposition to SIG_DFL before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    match Cli::parse().command {
        Command::Demo { scenario, seed, absolute, pcap, svg, list } => {
            if list {
                for s in SCENARIOS {
                    println!("{:<20} {}", s.name, s.about);
                }
                return ExitCode::SUCCESS;
            }
            simulate::demo(&scenario, seed, absolute, pcap, svg)
        }
        Command::Sim(args) => simulate::sim(args),
        Command::Swarm { start, seeds, verbose } => simulate::swarm(start, seeds, verbose),
        Command::Script { paths, profile, define, verbose } => script::run(&paths, &profile, &define, verbose),
        Command::Explain { file, list, conn, port, host, absolute, svg, tsg } => explain::run(explain::ExplainArgs {
            file,
            list,
            conn: conn.map(|n| n as usize),
            port: port.map(|p| p as u16),
            host,
            absolute,
            svg,
            tsg,
        }),
        Command::Scan {
            device: TunAddrs { tun, addr, local },
            target,
            ports,
            mode,
            timeout,
            retries,
            rate,
            explain,
        } => scan::scan(scan::ScanArgs {
            tun,
            addr,
            local,
            target,
            ports,
            mode,
            timeout: std::time::Duration::from_millis(timeout),
            retries: retries as u8,
            rate: rate as u32,
            explain,
        }),
        Command::Connect { device: TunArgs { addrs: TunAddrs { tun, addr, local }, no_offload }, to } => {
            serve::connect(&tun, &addr, local, !no_offload, to)
        }
        Command::Serve {
            device: TunArgs { addrs: TunAddrs { tun, addr, local }, no_offload },
            port,
            mode,
            ss_interval,
            trace,
            pcap,
            faults: FaultArgs { loss, dup, reorder },
            delay,
            seed,
        } => {
            let faults = synack_runtime::tap::Faults {
                loss_ppm: args::to_ppm(loss),
                duplicate_ppm: args::to_ppm(dup),
                reorder_ppm: args::to_ppm(reorder),
                delay: std::time::Duration::from_secs_f64(delay / 1000.0),
                ..Default::default()
            };
            serve::serve(serve::ServeArgs {
                tun,
                addr,
                local,
                offload: !no_offload,
                port: port as u16,
                mode,
                ss_interval,
                trace,
                pcap,
                faults,
                seed,
            })
        }
    }
}
