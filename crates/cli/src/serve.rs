//! `synack serve`: a TUN device, the kernel side's address on it, and a server on synack's side.
//! The socket table is printed every `--ss-interval` seconds, on SIGUSR1, and at Ctrl-C.

use crate::apps::{self, Mode};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::{Command, ExitCode};
use std::time::Duration;
use synack_engine::{format_ss_table, Config};
use synack_runtime::tap::{Faults, Tap};
use synack_runtime::{Stack, TcpListener};
use synack_tun::TunDevice;

pub struct ServeArgs {
    pub tun: String,
    pub addr: String,
    pub local: Option<IpAddr>,
    pub offload: bool,
    pub port: u16,
    pub mode: Mode,
    pub ss_interval: Option<f64>,
    pub trace: bool,
    pub pcap: Option<std::path::PathBuf>,
    pub faults: Faults,
    pub seed: u64,
}

/// `10.200.0.1/24` -> (10.200.0.1, 24).
fn parse_cidr(cidr: &str) -> Result<(IpAddr, u8), String> {
    let (ip, prefix) = cidr.split_once('/').ok_or_else(|| format!("'{cidr}' is not ADDRESS/PREFIX"))?;
    let ip: IpAddr = ip.parse().map_err(|_| format!("'{ip}' is not an IP address"))?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let prefix: u8 =
        prefix.parse().ok().filter(|&p| p <= max).ok_or_else(|| format!("'{prefix}' is not a prefix length"))?;
    Ok((ip, prefix))
}

/// synack's address when none is given: the one after the kernel side's.
fn next_address(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(Ipv4Addr::from(u32::from(v4).wrapping_add(1))),
        IpAddr::V6(v6) => IpAddr::V6(std::net::Ipv6Addr::from(u128::from(v6).wrapping_add(1))),
    }
}

/// synack's address: `local` if given (the kernel side's family, and not its address), else
/// the one after the kernel side's.
fn local_address(kernel_ip: IpAddr, local: Option<IpAddr>) -> Result<IpAddr, String> {
    let Some(local) = local else {
        let next = next_address(kernel_ip);
        return if next.is_unspecified() || next == kernel_ip {
            Err(format!("no address follows {kernel_ip}: give synack's with --local"))
        } else {
            Ok(next)
        };
    };
    if local.is_ipv4() != kernel_ip.is_ipv4() {
        return Err(format!("--local {local} and --addr {kernel_ip} are of different IP versions"));
    }
    if local == kernel_ip {
        return Err(format!("--local {local} is the kernel side's address; synack needs one of its own"));
    }
    if local.is_unspecified() || local.is_multicast() {
        return Err(format!("--local {local} cannot be a host's address"));
    }
    Ok(local)
}

fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip").args(args).output().map_err(|e| format!("cannot run ip: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("ip {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim()))
    }
}

pub fn serve(args: ServeArgs) -> ExitCode {
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("synack serve: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Packets the kernel may queue toward synack on the TUN device. Linux gives a TUN device 500,
/// which a burst from a busy server's clients overflows (`ab -c 1000`: the kernel dropped
/// thousands of SYNs and ACKs before synack could read them, and each cost its client a 1 s
/// retransmission); with 5,000 the same run dropped none.
const TUN_TX_QUEUE_PACKETS: &str = "5000";

/// Creates the TUN device and gives the kernel side `cidr`; returns synack's address.
pub(crate) fn setup_device(
    tun: &str,
    cidr: &str,
    local: Option<IpAddr>,
    offload: bool,
) -> Result<(TunDevice, IpAddr), String> {
    let (kernel_ip, _) = parse_cidr(cidr)?;
    let local = local_address(kernel_ip, local)?;
    let dev = if offload { TunDevice::open_with_offload(tun, 1500) } else { TunDevice::open(tun, 1500) };
    let dev = dev.map_err(|e| e.to_string())?;
    ip(&["addr", "add", cidr, "dev", tun])?;
    ip(&["link", "set", tun, "txqueuelen", TUN_TX_QUEUE_PACKETS])?;
    ip(&["link", "set", tun, "up"])?;
    Ok((dev, local))
}

/// How long `serve` (at Ctrl-C) and `connect` (at the end) let connections finish sending.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

/// Names the connections `Stack::close` had to reset, and what they had not delivered.
fn report_abandoned(report: &synack_runtime::CloseReport) {
    for a in &report.abandoned {
        eprintln!(
            "synack: reset {} -> {} in {} with {} bytes not acknowledged",
            a.local, a.peer, a.state, a.unacked_bytes
        );
    }
}

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))
}

/// `synack connect`: like `nc`. Standard input goes out, what arrives goes to standard output;
/// end of input half-closes (FIN), and the command ends when the peer has closed too.
pub fn connect(tun: &str, cidr: &str, local: Option<IpAddr>, offload: bool, to: SocketAddr) -> ExitCode {
    let result = (|| {
        if to.port() == 0 {
            return Err(format!("{to}: port 0 cannot be connected to (1 to 65535)"));
        }
        if to.ip().is_unspecified() || to.ip().is_multicast() {
            return Err(format!("{to}: not a host's address"));
        }
        let (dev, local) = setup_device(tun, cidr, local, offload)?;
        runtime()?.block_on(async move {
            use tokio::io::AsyncWriteExt;
            let stack = Stack::new(Config::default(), &[local], dev).map_err(|e| e.to_string())?;
            let stream =
                synack_runtime::TcpStream::connect(&stack, to).await.map_err(|e| format!("connect to {to}: {e}"))?;
            let (mut from_peer, mut to_peer) = stream.into_split();
            let upload = tokio::spawn(async move {
                let mut stdin = tokio::io::stdin();
                let copied = tokio::io::copy(&mut stdin, &mut to_peer).await;
                let _ = to_peer.shutdown().await; // EOF on stdin: half-close
                copied
            });
            let mut stdout = tokio::io::stdout();
            tokio::io::copy(&mut from_peer, &mut stdout).await.map_err(|e| e.to_string())?;
            stdout.flush().await.map_err(|e| e.to_string())?;
            upload.await.map_err(|e| e.to_string())?.map_err(|e| e.to_string())?;
            // The last ACK (of the peer's FIN) must leave before the process ends.
            report_abandoned(&stack.close(CLOSE_TIMEOUT).await);
            Ok::<(), String>(())
        })
    })();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("synack connect: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: ServeArgs) -> Result<(), String> {
    let mut tap = Tap::default().faults(args.faults, args.seed);
    if let Some(path) = &args.pcap {
        tap = tap.pcap(path).map_err(|e| format!("cannot write the pcap: {e}"))?;
    }
    if args.trace {
        tap = tap.trace();
    }
    let (dev, local) = setup_device(&args.tun, &args.addr, args.local, args.offload)?;
    runtime()?.block_on(async move {
        let stack = Stack::with_tap(Config::default(), &[local], dev, tap).map_err(|e| e.to_string())?;
        let addr = SocketAddr::new(local, args.port);
        let listener = TcpListener::bind(&stack, addr).await.map_err(|e| e.to_string())?;
        println!("synack serve: {:?} on {addr} via {} (kernel side {}); Ctrl-C stops", args.mode, args.tun, args.addr);
        let mode = args.mode;
        tokio::spawn(async move {
            while let Ok((stream, peer)) = listener.accept().await {
                tokio::spawn(async move {
                    if let Err(e) = apps::handle(stream, mode).await {
                        eprintln!("synack serve: {peer}: {e}");
                    }
                });
            }
        });
        if let Some(secs) = args.ss_interval.filter(|s| *s > 0.0) {
            let stack = stack.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_secs_f64(secs));
                loop {
                    tick.tick().await;
                    print!("{}", format_ss_table(&stack.sockets()));
                }
            });
        }
        // SIGUSR1 prints the socket table, as `ss -tan` would.
        let mut usr1 = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::user_defined1())
            .map_err(|e| format!("cannot catch SIGUSR1: {e}"))?;
        let table_stack = stack.clone();
        tokio::spawn(async move {
            while usr1.recv().await.is_some() {
                print!("{}", format_ss_table(&table_stack.sockets()));
            }
        });
        tokio::signal::ctrl_c().await.map_err(|e| e.to_string())?;
        print!("{}", format_ss_table(&stack.sockets()));
        report_abandoned(&stack.close(CLOSE_TIMEOUT).await);
        println!("counters: {}", stack.counters().nonzero_summary());
        Ok::<(), String>(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidrs_parse_and_bad_ones_say_why() {
        assert_eq!(parse_cidr("10.200.0.1/24"), Ok(("10.200.0.1".parse().unwrap(), 24)));
        assert!(parse_cidr("10.200.0.1").unwrap_err().contains("ADDRESS/PREFIX"));
        assert!(parse_cidr("10.200.0.1/33").unwrap_err().contains("prefix"));
        assert!(parse_cidr("nope/8").unwrap_err().contains("not an IP"));
        assert_eq!(next_address("10.200.0.1".parse().unwrap()), "10.200.0.2".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn a_local_address_of_the_other_family_or_the_kernels_is_refused() {
        let kernel: IpAddr = "10.200.0.1".parse().unwrap();
        assert_eq!(local_address(kernel, None), Ok("10.200.0.2".parse().unwrap()));
        assert!(local_address(kernel, Some("fd00::2".parse().unwrap())).unwrap_err().contains("different IP versions"));
        assert!(local_address(kernel, Some(kernel)).unwrap_err().contains("kernel side's address"));
        assert!(local_address(kernel, Some("0.0.0.0".parse().unwrap())).is_err());
        assert!(local_address("255.255.255.255".parse().unwrap(), None).is_err());
    }
}
