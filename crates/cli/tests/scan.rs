//! `synack scan` against nmap on a real wire: in a network namespace the test creates (and
//! deletes), the kernel host has one listening port, one closed port, and one listening port
//! its firewall (nftables) drops. synack scans it from its TUN device in connect, SYN and FIN
//! mode; nmap scans the same address from inside the namespace with -sT, -sS and -sF; every
//! port's verdict must be the same. Nothing leaves the namespace. Needs root, /dev/net/tun,
//! ip, nft, nmap and python3; skipped with a reason otherwise, unless SYNACK_NO_SKIP=1.

use std::collections::BTreeMap;
use std::process::{Child, Stdio};
use synack_sim::skip::require_root_tun_and_tools;
use synack_tun::netns::NetNs;

const TARGET: &str = "10.218.0.1";
const PORTS: &str = "8080-8082";

/// `PORT/tcp STATE ...` lines (both synack's and nmap's output use them) as port -> state.
fn states(out: &str) -> BTreeMap<u16, String> {
    out.lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let port = words.next()?.strip_suffix("/tcp")?.parse().ok()?;
            Some((port, words.next()?.to_string()))
        })
        .collect()
}

struct Listeners(Child);

impl Drop for Listeners {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn scan_verdicts_agree_with_nmap() {
    if !require_root_tun_and_tools("scan", &["ip", "nft", "nmap", "python3"]) {
        return;
    }
    let ns = NetNs::create(&format!("synack-scan-{}", std::process::id())).expect("namespace");
    // The target lives on the namespace's loopback, so that both scanners reach the same
    // host: synack through its TUN device (the kernel accepts a packet for any of its
    // addresses), nmap over loopback.
    ns.exec_ok(&["ip", "addr", "add", &format!("{TARGET}/32"), "dev", "lo"]).expect("address");
    for rule in [
        "add table inet synack_scan",
        "add chain inet synack_scan input { type filter hook input priority 0 ; }",
        "add rule inet synack_scan input tcp dport 8082 drop",
    ] {
        ns.exec_line(&format!("nft {rule}")).unwrap_or_else(|e| panic!("nft {rule}: {e}"));
    }
    let listen = "import socket, sys, time\n\
        socks = []\n\
        for port in (8080, 8082):\n\
        \x20   s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n\
        \x20   s.bind(('0.0.0.0', port)); s.listen(64); socks.append(s)\n\
        print('ready', flush=True)\n\
        time.sleep(300)\n";
    let mut child = ns.command("python3").args(["-c", listen]).stdout(Stdio::piped()).spawn().expect("python3");
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.as_mut().unwrap()), &mut line).ok();
    assert_eq!(line.trim(), "ready");
    let _listeners = Listeners(child);
    let expected: BTreeMap<u16, String> =
        [(8080, "open"), (8081, "closed"), (8082, "filtered")].into_iter().map(|(p, s)| (p, s.to_string())).collect();
    for (mode, nmap_flag) in [("syn", "-sS"), ("connect", "-sT"), ("fin", "-sF")] {
        let ours = ns
            .command(env!("CARGO_BIN_EXE_synack"))
            .args(["scan", "--tun", "scan0", "--addr", "10.219.0.1/24", TARGET, "--ports", PORTS, "--mode", mode])
            .args(["--timeout", "500"])
            .output()
            .expect("synack scan runs");
        let ours_text = String::from_utf8_lossy(&ours.stdout).into_owned();
        assert!(ours.status.success(), "{mode}: {ours_text}{}", String::from_utf8_lossy(&ours.stderr));
        let nmap = ns
            .command("nmap")
            .args([nmap_flag, "-Pn", "-n", "--reason", "--max-retries", "1", "-p", PORTS, TARGET])
            .output()
            .expect("nmap runs");
        let nmap_text = String::from_utf8_lossy(&nmap.stdout).into_owned();
        let (ours, theirs) = (states(&ours_text), states(&nmap_text));
        eprintln!("{mode}: synack {ours:?}, nmap {nmap_flag} {theirs:?}");
        assert_eq!(ours, theirs, "synack scan --mode {mode} against nmap {nmap_flag}:\n{ours_text}\n{nmap_text}");
        if mode != "fin" {
            assert_eq!(ours, expected, "{ours_text}");
        } else {
            // FIN probes tell closed from the rest only (RFC 9293 §3.10.7.1).
            assert_eq!(ours[&8081], "closed");
            assert_eq!(ours[&8080], "open|filtered");
        }
    }
}
