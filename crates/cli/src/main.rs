//! The `synack` command. Thin: it parses arguments and prints; the work is in the libraries.

mod script;
mod serve;

use clap::{Parser, Subcommand};
use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use synack_sim::scenarios::{self, SCENARIOS};
use synack_sim::workload::{run_transfer, run_transfer_sim, swarm_spec, TransferSpec};
use synack_sim::{render_ladder, render_trace, write_pcap, LinkConfig, Sim, TraceOptions, PPM};

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
        /// Seed for everything random (ISNs, timestamps).
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Absolute sequence numbers, as `tcpdump -S`.
        #[arg(short = 'S', long = "absolute-tcp-sequence-numbers")]
        absolute: bool,
        /// Also write the packets to this pcap file (link type raw IP).
        #[arg(long)]
        pcap: Option<PathBuf>,
        /// List the scenarios and exit.
        #[arg(long)]
        list: bool,
    },
    /// Transfer data over a faulty simulated link and check that every byte arrives once, in
    /// order, and that every connection closes. Exits non-zero otherwise.
    Sim {
        #[command(flatten)]
        faults: FaultArgs,
        /// Percentage of packets with a flipped bit.
        #[arg(long, default_value_t = 0.0, value_parser = percent)]
        corrupt: f64,
        /// Both hosts ask for ECN (RFC 3168) in their SYNs.
        #[arg(long)]
        ecn: bool,
        /// Percentage of ECN-capable packets the link marks Congestion Experienced.
        #[arg(long, default_value_t = 0.0, value_parser = percent)]
        mark: f64,
        /// One-way delay in milliseconds.
        #[arg(long, default_value_t = 10)]
        delay: u64,
        /// Extra random delay up to this many milliseconds.
        #[arg(long, default_value_t = 0)]
        jitter: u64,
        /// Link rate in megabits per second (0: unlimited).
        #[arg(long, default_value_t = 100.0, value_parser = non_negative)]
        bandwidth: f64,
        /// Bytes each connection sends in each direction.
        #[arg(long, default_value_t = 1_000_000)]
        bytes: usize,
        /// Number of connections.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=20000))]
        connections: u16,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// IPv6 addresses instead of IPv4.
        #[arg(long)]
        ipv6: bool,
        /// Write every packet to this pcap file.
        #[arg(long)]
        pcap: Option<PathBuf>,
    },
    /// Serve on a real wire: create a TUN device, give the kernel side ADDR/PREFIX, and serve
    /// echo, discard or http (GET /bytes/N) on synack's side. Needs root; run it inside a
    /// network namespace (`ip netns exec NS synack serve ...`) to keep it apart.
    Serve {
        #[command(flatten)]
        device: TunArgs,
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// echo, discard or http.
        #[arg(long, default_value = "http")]
        mode: synack_runtime::apps::Mode,
        /// Print the socket table every SECONDS (SIGUSR1 prints it at any time).
        #[arg(long)]
        ss_interval: Option<f64>,
        /// Print every packet, both ways, in tcpdump's format.
        #[arg(long)]
        trace: bool,
        /// Write every packet, both ways, to this pcap file.
        #[arg(long)]
        pcap: Option<PathBuf>,
        /// Seeded faults on the packets, each way.
        #[command(flatten)]
        faults: FaultArgs,
        /// Milliseconds every packet is held, each way (a longer round trip).
        #[arg(long, default_value_t = 0.0, value_parser = non_negative)]
        delay: f64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Connect from a TUN device like `nc`: standard input goes out, what arrives goes to
    /// standard output, end of input half-closes. Needs root; best inside a network namespace.
    Connect {
        #[command(flatten)]
        device: TunArgs,
        /// Where to connect, e.g. 10.200.0.1:9000.
        to: std::net::SocketAddr,
    },
    /// Run packetdrill-dialect test scripts (files or directories of .pkt files) against the
    /// engine in virtual time. Prints pass or the first mismatch per script, then
    /// `N passed, M failed`; exits non-zero when any failed.
    Script {
        /// Scripts, or directories searched for .pkt files.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// The engine configuration the scripts expect: linux (the engine's defaults) or freebsd.
        #[arg(long, default_value = "linux")]
        profile: String,
        /// Define NAME for `#ifdef NAME` (repeatable), e.g. -D STANDARD.
        #[arg(short = 'D', value_name = "NAME")]
        define: Vec<String>,
        /// Also list the backtick commands that were accepted as no-ops.
        #[arg(long)]
        verbose: bool,
    },
    /// Run many seeds of random faults (up to 30 % loss, duplication, reordering, corruption)
    /// and check that every byte arrives once, in order, and every connection closes. For
    /// nightly use with large --seeds; a failure prints the seed that reproduces it.
    Swarm {
        /// First seed.
        #[arg(long, default_value_t = 0)]
        start: u64,
        /// Number of seeds.
        #[arg(long, default_value_t = 1000)]
        seeds: u64,
        /// Print one line per seed.
        #[arg(long)]
        verbose: bool,
    },
}

/// The TUN device of `serve` and `connect`, and the two ends' addresses on it.
#[derive(clap::Args)]
struct TunArgs {
    /// Name of the TUN device to create.
    #[arg(long)]
    tun: String,
    /// The kernel side's address and prefix on the device, e.g. 10.200.0.1/24.
    #[arg(long)]
    addr: String,
    /// synack's address (default: the one after the kernel side's).
    #[arg(long)]
    local: Option<std::net::IpAddr>,
    /// Turn off GSO/GRO offload (on by default: the kernel and synack exchange TCP
    /// super-packets of up to 64 KiB, so one system call carries many segments).
    #[arg(long)]
    no_offload: bool,
}

/// Faults both `sim` (on the simulated link) and `serve` (on the real one) can inject.
#[derive(clap::Args)]
struct FaultArgs {
    /// Percentage of packets lost (each direction).
    #[arg(long, default_value_t = 0.0, value_parser = percent)]
    loss: f64,
    /// Percentage of packets duplicated.
    #[arg(long, default_value_t = 0.0, value_parser = percent)]
    dup: f64,
    /// Percentage of packets reordered (held back so later ones overtake them).
    #[arg(long, default_value_t = 0.0, value_parser = percent)]
    reorder: f64,
}

fn percent(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("'{s}' is not a number"))?;
    if (0.0..=100.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{v} is not a percentage between 0 and 100"))
    }
}

fn non_negative(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("'{s}' is not a number"))?;
    if v >= 0.0 && v.is_finite() {
        Ok(v)
    } else {
        Err(format!("{v} must be zero or more"))
    }
}

fn to_ppm(pct: f64) -> u32 {
    (pct / 100.0 * PPM as f64).round() as u32
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Demo { scenario, seed, absolute, pcap, list } => {
            if list {
                for s in SCENARIOS {
                    println!("{:<20} {}", s.name, s.about);
                }
                return ExitCode::SUCCESS;
            }
            demo(&scenario, seed, absolute, pcap)
        }
        Command::Sim {
            faults: FaultArgs { loss, dup, reorder },
            corrupt,
            ecn,
            mark,
            delay,
            jitter,
            bandwidth,
            bytes,
            connections,
            seed,
            ipv6,
            pcap,
        } => {
            let link = LinkConfig {
                delay: Duration::from_millis(delay),
                jitter: Duration::from_millis(jitter),
                bandwidth_bps: (bandwidth * 1e6) as u64,
                loss_ppm: to_ppm(loss),
                duplicate_ppm: to_ppm(dup),
                reorder_ppm: to_ppm(reorder),
                corrupt_ppm: to_ppm(corrupt),
                ce_mark_ppm: to_ppm(mark),
            };
            let mut spec = TransferSpec::new(connections as usize, bytes, seed, link);
            if ecn {
                spec.config.tcp_ecn = synack_engine::EcnMode::On;
            }
            spec.ipv6 = ipv6;
            spec.record = pcap.is_some();
            simulate(&spec, pcap)
        }
        Command::Swarm { start, seeds, verbose } => swarm(start, seeds, verbose),
        Command::Script { paths, profile, define, verbose } => script::run(&paths, &profile, &define, verbose),
        Command::Connect { device: TunArgs { tun, addr, local, no_offload }, to } => {
            serve::connect(&tun, &addr, local, !no_offload, to)
        }
        Command::Serve {
            device: TunArgs { tun, addr, local, no_offload },
            port,
            mode,
            ss_interval,
            trace,
            pcap,
            faults: FaultArgs { loss, dup, reorder },
            delay,
            seed,
        } => {
            let faults = synack_runtime::tap::FaultConfig {
                loss_ppm: to_ppm(loss),
                duplicate_ppm: to_ppm(dup),
                reorder_ppm: to_ppm(reorder),
                delay: std::time::Duration::from_secs_f64(delay / 1000.0),
                seed,
            };
            serve::serve(serve::ServeArgs {
                tun,
                addr,
                local,
                offload: !no_offload,
                port,
                mode,
                ss_interval,
                trace,
                pcap,
                faults,
            })
        }
    }
}

fn swarm(start: u64, seeds: u64, verbose: bool) -> ExitCode {
    let (mut bytes, mut retransmits, mut lost, mut sent, mut failed) = (0u64, 0u64, 0u64, 0u64, Vec::new());
    for seed in start..start.saturating_add(seeds) {
        let spec = swarm_spec(seed);
        let report = match std::panic::catch_unwind(|| run_transfer(&spec)) {
            Ok(r) => r,
            Err(_) => {
                println!("seed {seed}: PANIC (reproduce with `synack swarm --start {seed} --seeds 1`)");
                failed.push(seed);
                continue;
            }
        };
        bytes += report.bytes_delivered;
        retransmits += report.retransmitted_segments;
        lost += report.link.dropped;
        sent += report.link.sent;
        if verbose || !report.ok() {
            println!(
                "seed {seed}: {} conn x {} B, loss {:.1}%, {} retransmits, {:.1} s virtual: {}",
                spec.connections,
                spec.bytes,
                spec.link.loss_ppm as f64 / 1e4,
                report.retransmitted_segments,
                report.total_time.as_secs_f64(),
                if report.ok() { "ok".to_string() } else { report.errors.join("; ") }
            );
        }
        if !report.ok() {
            failed.push(seed);
        }
    }
    println!(
        "swarm: {} seeds from {start}: {} bytes delivered, {sent} packets sent, {lost} lost, {retransmits} retransmitted segments",
        seeds, bytes
    );
    println!("{} passed, {} failed", seeds - failed.len() as u64, failed.len());
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        println!("failing seeds: {failed:?} (reproduce with `synack swarm --start SEED --seeds 1 --verbose`)");
        ExitCode::FAILURE
    }
}

fn save_pcap(sim: &Sim, path: &PathBuf) -> Result<(), String> {
    let file = File::create(path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    write_pcap(sim, BufWriter::new(file))
}

fn demo(name: &str, seed: u64, absolute: bool, pcap: Option<PathBuf>) -> ExitCode {
    let Some(info) = scenarios::find(name) else {
        eprintln!("synack: no scenario named '{name}'; `synack demo --list` shows them");
        return ExitCode::from(2);
    };
    let sim = match scenarios::run(name, seed) {
        Ok(sim) => sim,
        Err(e) => {
            eprintln!("synack: scenario {name} failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("synack demo: {} (seed {seed})", info.name);
    println!("{}", info.about);
    println!(
        "client {}  <->  server {}, one-way delay {} ms; simulated, nothing leaves the process",
        scenarios::CLIENT_IP,
        scenarios::SERVER_IP,
        scenarios::LINK_DELAY.as_millis()
    );
    println!();
    println!(
        "== Segments (tcpdump -nn{} format, virtual time), state changes, socket tables",
        if absolute { " -S" } else { "" }
    );
    print!("{}", render_trace(&sim, TraceOptions { absolute }));
    println!();
    println!("== Ladder diagram (sequence numbers relative to each side's ISN)");
    print!("{}", render_ladder(&sim));
    println!();
    println!("== Counters (like netstat -s; only those above zero)");
    for host in sim.hosts() {
        let counters: Vec<String> =
            host.endpoint.counters().iter().filter(|(_, v)| *v > 0).map(|(k, v)| format!("{k} {v}")).collect();
        println!("{:<7} {}", host.name, counters.join(", "));
    }
    if let Some(path) = pcap {
        if let Err(e) = save_pcap(&sim, &path) {
            eprintln!("synack: {e}");
            return ExitCode::FAILURE;
        }
        println!();
        println!("pcap written to {} (read it with `tcpdump -nn -r` or Wireshark)", path.display());
    }
    ExitCode::SUCCESS
}

fn simulate(spec: &TransferSpec, pcap: Option<PathBuf>) -> ExitCode {
    let (report, sim) = run_transfer_sim(spec);
    let l = &report.link;
    println!("synack sim: {} connection(s), {} bytes each way, seed {}", spec.connections, spec.bytes, spec.seed);
    println!("bytes delivered intact: {} of {}", report.bytes_delivered, report.bytes_expected);
    println!(
        "virtual time: {:.3} s to transfer, {:.3} s until all closed (TIME-WAIT included)",
        report.transfer_time.as_secs_f64(),
        report.total_time.as_secs_f64()
    );
    println!("goodput: {:.2} Mbit/s (both directions)", report.goodput_bps() / 1e6);
    println!("retransmitted segments: {}", report.retransmitted_segments);
    println!(
        "loss recovery: {} fast retransmits ({} undone as spurious), {} retransmissions lost and resent, {} timeouts",
        report.fast_retransmits, report.spurious_retransmits_undone, report.lost_retransmits, report.rto_expirations
    );
    println!(
        "ecn: {} segments arrived marked CE, {} window reductions for the echo",
        report.ce_marked_in, report.ecn_reductions
    );
    println!(
        "link: {} sent, {} lost, {} duplicated, {} reordered, {} corrupted, {} marked CE",
        l.sent, l.dropped, l.duplicated, l.reordered, l.corrupted, l.ce_marked
    );
    let mut states: Vec<String> = report.final_states.iter().map(|(h, s)| format!("{h} {s}")).collect();
    states.sort();
    states.dedup_by(|a, b| a == b);
    println!("final states: {}", states.join(", "));
    if let Some(path) = pcap {
        if let Err(e) = save_pcap(&sim, &path) {
            eprintln!("synack: {e}");
            return ExitCode::FAILURE;
        }
        println!("pcap written to {}", path.display());
    }
    if report.ok() {
        println!("result: OK");
        ExitCode::SUCCESS
    } else {
        for e in &report.errors {
            println!("error: {e}");
        }
        println!("result: FAILED (reproduce with --seed {})", spec.seed);
        ExitCode::FAILURE
    }
}
