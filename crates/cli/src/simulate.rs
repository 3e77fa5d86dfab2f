//! `synack demo`, `synack sim` and `synack swarm`: runs on the simulated network.

use crate::args::to_ppm;
use crate::SimArgs;
use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;
use synack_sim::scenarios;
use synack_sim::workload::{run_transfer, run_transfer_sim_with_progress, swarm_spec, Progress, TransferSpec};
use synack_sim::{render_ladder, render_trace, write_pcap, Faults, LinkConfig, Sim, TraceOptions};

/// The most bytes `sim` moves each way, all connections together (10 GB: about a minute).
pub const MAX_TOTAL_BYTES: u64 = 10_000_000_000;
/// With `--pcap` every packet is kept in memory until the end: at most this many bytes.
pub const MAX_PCAP_BYTES: u64 = 100_000_000;

/// Exit code for arguments refused before anything runs (as clap uses).
const BAD_ARGUMENTS: u8 = 2;

fn refuse(message: String) -> ExitCode {
    eprintln!("synack: {message}");
    ExitCode::from(BAD_ARGUMENTS)
}

/// Creates the pcap file before the run, so that a bad path is reported at once.
fn create_pcap(path: &Path) -> Result<File, String> {
    File::create(path).map_err(|e| format!("cannot create {}: {e}", path.display()))
}

fn save_pcap(sim: &Sim, file: File, path: &Path) -> Result<(), String> {
    write_pcap(sim, BufWriter::new(file)).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// The SVG ladder of a run's first connection from `client` (the run's own capture read back
/// as `synack explain` reads any capture, with the packets the link lost known as lost).
fn save_svg(sim: &Sim, client: std::net::IpAddr, file: File, path: &Path) -> Result<(), String> {
    use std::io::Write;
    let mut pcap = Vec::new();
    write_pcap(sim, &mut pcap)?;
    let capture = synack_capture::read_capture(&pcap).map_err(|e| e.to_string())?;
    let lost: Vec<bool> = sim
        .log
        .iter()
        .filter_map(|e| match e {
            synack_sim::LogEntry::Packet { fate, .. } => {
                Some(matches!(fate, synack_sim::Fate::Lost | synack_sim::Fate::Dropped))
            }
            _ => None,
        })
        .collect();
    let conns = synack_capture::connections(&capture);
    let Some(conn) = conns.iter().find(|c| c.client.ip() == client).or(conns.first()) else {
        return Err("the run sent no TCP segment to draw".into());
    };
    let ex = synack_capture::explain_with_losses(conn, |frame| lost.get(frame - 1).copied().unwrap_or(false));
    BufWriter::new(file)
        .write_all(synack_capture::svg::ladder_svg(conn, &ex, false).as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

pub fn demo(name: &str, seed: u64, absolute: bool, pcap: Option<PathBuf>, svg: Option<PathBuf>) -> ExitCode {
    let Some(info) = scenarios::find(name) else {
        return refuse(format!("no scenario named '{name}'; `synack demo --list` shows them"));
    };
    let pcap = match pcap.map(|p| create_pcap(&p).map(|f| (f, p))).transpose() {
        Ok(p) => p,
        Err(e) => return refuse(e),
    };
    let svg = match svg.map(|p| create_pcap(&p).map(|f| (f, p))).transpose() {
        Ok(p) => p,
        Err(e) => return refuse(e),
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
        println!("{:<7} {}", host.name, host.endpoint.counters().nonzero_summary());
    }
    if let Some((file, path)) = pcap {
        if let Err(e) = save_pcap(&sim, file, &path) {
            eprintln!("synack: {e}");
            return ExitCode::FAILURE;
        }
        println!();
        println!("pcap written to {} (read it with `tcpdump -nn -r` or Wireshark)", path.display());
    }
    if let Some((file, path)) = svg {
        let client = scenarios::CLIENT_IP.into();
        if let Err(e) = save_svg(&sim, client, file, &path) {
            eprintln!("synack: {e}");
            return ExitCode::FAILURE;
        }
        println!("SVG ladder written to {} (open it in a browser)", path.display());
    }
    ExitCode::SUCCESS
}

/// The transfer `args` describe, or why it cannot be run.
fn transfer_spec(args: &SimArgs) -> Result<TransferSpec, String> {
    let total = args.connections.saturating_mul(args.bytes);
    if total > MAX_TOTAL_BYTES {
        return Err(format!(
            "{} connections x {} bytes is {total} bytes each way; at most {MAX_TOTAL_BYTES} in all",
            args.connections, args.bytes
        ));
    }
    if (args.pcap.is_some() || args.svg.is_some()) && total > MAX_PCAP_BYTES {
        return Err(format!(
            "with --pcap or --svg every packet is kept in memory: at most {MAX_PCAP_BYTES} bytes each way in all, not {total}"
        ));
    }
    let faults = Faults {
        delay: Duration::from_millis(args.delay),
        jitter: Duration::from_millis(args.jitter),
        loss_ppm: to_ppm(args.faults.loss),
        duplicate_ppm: to_ppm(args.faults.dup),
        reorder_ppm: to_ppm(args.faults.reorder),
        corrupt_ppm: to_ppm(args.corrupt),
        ce_mark_ppm: to_ppm(args.mark),
    };
    let link = LinkConfig { faults, bandwidth_bps: (args.bandwidth * 1e6) as u64 };
    let mut spec = TransferSpec::new(args.connections as usize, args.bytes as usize, args.seed, link);
    spec.config.tcp_congestion_control =
        synack_engine::CongestionAlgorithm::from_name(&args.cc).unwrap_or(synack_engine::CongestionAlgorithm::Cubic);
    if args.ecn {
        spec.config.tcp_ecn = synack_engine::EcnMode::On;
    }
    spec.config.pacing = args.pacing;
    spec.ipv6 = args.ipv6;
    spec.flood_per_sec = args.flood;
    spec.record = args.pcap.is_some() || args.svg.is_some();
    // The least virtual time the transfer can take on a perfect link: the link's rate for all
    // bytes, or one window per round trip for each connection. Refused when it would not fit
    // in half the run's time limit (losses and slow start need the rest).
    let rate_s = if link.bandwidth_bps == 0 { 0.0 } else { total as f64 * 8.0 / link.bandwidth_bps as f64 };
    let rtt_s = 2.0 * (faults.delay + faults.jitter).as_secs_f64();
    let window = spec.config.tcp_wmem.default.min(spec.config.tcp_rmem.default) as f64;
    let least_s = rate_s.max(args.bytes as f64 / window * rtt_s);
    let allowed_s = spec.time_limit.as_secs_f64() / 2.0;
    if least_s > allowed_s {
        return Err(format!(
            "moving {} bytes per connection at {} Mbit/s with {} ms each way takes at least {least_s:.0} s of \
             virtual time, more than the {allowed_s:.0} s this run allows: fewer bytes, more bandwidth or less delay",
            args.bytes, args.bandwidth, args.delay
        ));
    }
    Ok(spec)
}

/// Prints a progress line on standard error, at most once a second, when it is a terminal.
struct ProgressLine {
    on_terminal: bool,
    last: std::time::Instant,
    shown: bool,
}

impl ProgressLine {
    fn new() -> ProgressLine {
        ProgressLine { on_terminal: std::io::stderr().is_terminal(), last: std::time::Instant::now(), shown: false }
    }
    fn show(&mut self, text: impl FnOnce() -> String) {
        if self.on_terminal && self.last.elapsed() >= Duration::from_secs(1) {
            self.last = std::time::Instant::now();
            self.shown = true;
            let mut err = std::io::stderr();
            let _ = write!(err, "\r\x1b[K{}", text());
            let _ = err.flush();
        }
    }
    fn clear(&self) {
        if self.shown {
            let _ = write!(std::io::stderr(), "\r\x1b[K");
        }
    }
}

pub fn sim(args: SimArgs) -> ExitCode {
    let spec = match transfer_spec(&args) {
        Ok(spec) => spec,
        Err(e) => return refuse(e),
    };
    let pcap = match args.pcap.clone().map(|p| create_pcap(&p).map(|f| (f, p))).transpose() {
        Ok(p) => p,
        Err(e) => return refuse(e),
    };
    let svg = match args.svg.clone().map(|p| create_pcap(&p).map(|f| (f, p))).transpose() {
        Ok(p) => p,
        Err(e) => return refuse(e),
    };
    let mut line = ProgressLine::new();
    let (report, sim) = run_transfer_sim_with_progress(&spec, &mut |p: Progress| {
        line.show(|| {
            let pct =
                if p.bytes_expected == 0 { 100.0 } else { p.bytes_delivered as f64 * 100.0 / p.bytes_expected as f64 };
            format!("synack sim: {pct:.1} % of the bytes delivered, virtual time {}", p.now)
        })
    });
    line.clear();
    let l = &report.link;
    println!(
        "synack sim: {} connection(s), {} bytes each way, seed {}, congestion control {}",
        spec.connections,
        spec.bytes,
        spec.seed,
        spec.config.tcp_congestion_control.name()
    );
    println!("bytes delivered intact: {} of {}", report.bytes_delivered, report.bytes_expected);
    println!(
        "virtual time: {:.3} s to transfer, {:.3} s until all closed (TIME-WAIT included)",
        report.transfer_time.as_secs_f64(),
        report.total_time.as_secs_f64()
    );
    if report.transfer_time.is_zero() {
        println!("goodput: not measured (the transfer took no virtual time: no delay and no rate limit)");
    } else {
        println!("goodput: {:.2} Mbit/s (both directions)", report.goodput_bps() / 1e6);
    }
    println!("retransmitted segments: {}", report.retransmitted_segments);
    println!(
        "loss recovery: {} fast retransmits ({} undone as spurious), {} retransmissions lost and resent, {} timeouts",
        report.fast_retransmits, report.spurious_retransmits_undone, report.lost_retransmits, report.rto_expirations
    );
    println!("slow start: {} ended by HyStart++ (RFC 9406) before a loss", report.hystart_exits);
    println!(
        "ecn: {} segments arrived marked CE, {} window reductions for the echo",
        report.ce_marked_in, report.ecn_reductions
    );
    println!(
        "link: {} sent, {} lost, {} duplicated, {} reordered, {} corrupted, {} marked CE",
        l.sent, l.dropped, l.duplicated, l.reordered, l.corrupted, l.ce_marked
    );
    if spec.flood_per_sec > 0 {
        let h = &report.handshakes;
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let (median, max) = (h.get(h.len() / 2).copied().unwrap_or_default(), h.last().copied().unwrap_or_default());
        println!(
            "flood: {} spoofed SYNs ({} a second); the server sent {} SYN cookies; {} of {} connections established, handshake median {:.1} ms, max {:.1} ms",
            report.flood_syns,
            spec.flood_per_sec,
            report.syncookies_sent,
            h.len(),
            spec.connections,
            ms(median),
            ms(max)
        );
    }
    let mut states: Vec<String> = report.final_states.iter().map(|(h, s)| format!("{h} {s}")).collect();
    states.sort();
    states.dedup_by(|a, b| a == b);
    println!("final states: {}", states.join(", "));
    if let Some((file, path)) = pcap {
        if let Err(e) = save_pcap(&sim, file, &path) {
            eprintln!("synack: {e}");
            return ExitCode::FAILURE;
        }
        println!("pcap written to {}", path.display());
    }
    if let Some((file, path)) = svg {
        let client = sim.hosts()[0].endpoint.addresses()[0];
        if let Err(e) = save_svg(&sim, client, file, &path) {
            eprintln!("synack: {e}");
            return ExitCode::FAILURE;
        }
        println!("SVG ladder of the first connection written to {}", path.display());
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

pub fn swarm(start: u64, seeds: u64, verbose: bool) -> ExitCode {
    let Some(last) = start.checked_add(seeds - 1) else {
        return refuse(format!(
            "--start {start} with --seeds {seeds} goes past the last seed ({}): at most {} seeds from {start}",
            u64::MAX,
            u64::MAX - start + 1
        ));
    };
    let (mut bytes, mut retransmits, mut lost, mut sent, mut failed) = (0u64, 0u64, 0u64, 0u64, Vec::new());
    let mut line = ProgressLine::new();
    let mut ran = 0u64;
    for seed in start..=last {
        line.show(|| format!("synack swarm: seed {seed}, {ran} of {seeds} run, {} failed", failed.len()));
        ran += 1;
        let spec = swarm_spec(seed);
        let report = match std::panic::catch_unwind(|| run_transfer(&spec)) {
            Ok(r) => r,
            Err(_) => {
                line.clear();
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
            line.clear();
            println!(
                "seed {seed}: {} conn x {} B, loss {:.1}%, {} retransmits, {:.1} s virtual: {}",
                spec.connections,
                spec.bytes,
                spec.link.faults.loss_ppm as f64 / 1e4,
                report.retransmitted_segments,
                report.total_time.as_secs_f64(),
                if report.ok() { "ok".to_string() } else { report.errors.join("; ") }
            );
        }
        if !report.ok() {
            failed.push(seed);
        }
    }
    line.clear();
    println!(
        "swarm: {ran} seeds from {start}: {bytes} bytes delivered, {sent} packets sent, {lost} lost, {retransmits} retransmitted segments"
    );
    println!("{} passed, {} failed", ran - failed.len() as u64, failed.len());
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        println!("failing seeds: {failed:?} (reproduce with `synack swarm --start SEED --seeds 1 --verbose`)");
        ExitCode::FAILURE
    }
}
