//! `synack explain` on real captures: tcpdump records kernel-to-kernel traffic over a veth pair
//! between two network namespaces (Ethernet link type; curl against a small server, a
//! connection reset, a half-closed one, a SYN to a closed port), and `synack serve` behind its
//! own fault tap with loss and reordering over its TUN device (raw IP link type, a 200-byte
//! snaplen). Each capture is also converted to pcapng, and the veth traffic is captured on
//! `any` too (Linux cooked capture, nanosecond timestamps). Checked: the connections found, both
//! sides' final states, every anomaly flag against `tshark -Y tcp.analysis.<flag>` frame by
//! frame, and the SVG ladder parsed as XML with an arrow per segment. The namespaces are the
//! test's own (deleted at the end) and have no route out. Needs root, ip, tcpdump, tshark,
//! editcap, curl and python3; skipped with a reason otherwise, unless SYNACK_NO_SKIP=1.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;
use synack_capture::{connections, explain, read_capture, Connection, Explanation};
use synack_engine::State;
use synack_sim::skip::require_root_tun_and_tools;
use synack_tun::netns::NetNs;

const TOOLS: &[&str] = &["ip", "tcpdump", "tshark", "editcap", "curl", "python3"];

/// The tshark flags compared.
const FLAGS: &[&str] = &[
    "retransmission",
    "fast_retransmission",
    "spurious_retransmission",
    "out_of_order",
    "lost_segment",
    "duplicate_ack",
    "zero_window",
    "zero_window_probe",
    "window_full",
    "window_update",
    "keep_alive",
    "ack_lost_segment",
];

/// A directory of this test's own for its captures (removed when the test passes).
fn dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("synack-explain-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// tcpdump inside `ns`, one per (interface, file, extra flags), while `work` runs; returns
/// when the files are complete.
fn capture(ns: &NetNs, dumps: &[(&str, &Path, &[&str])], snaplen: &str, work: impl FnOnce()) {
    let mut running: Vec<_> = dumps
        .iter()
        .map(|(iface, file, extra)| {
            ns.command("tcpdump")
                .args(["-i", iface, "-U", "-B", "32768", "-s", snaplen])
                .args(*extra)
                .arg("-w")
                .arg(file)
                .arg("tcp")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("tcpdump starts")
        })
        .collect();
    // Time for tcpdump to open the interface before the traffic starts.
    std::thread::sleep(Duration::from_millis(1000));
    work();
    std::thread::sleep(Duration::from_millis(1000));
    for dump in &mut running {
        Command::new("kill").args(["-INT", &dump.id().to_string()]).status().ok();
        let _ = dump.wait();
    }
}

fn explained(file: &Path) -> Vec<(Connection, Explanation)> {
    let bytes = std::fs::read(file).expect("capture written");
    let capture = read_capture(&bytes).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    connections(&capture)
        .into_iter()
        .map(|c| {
            let ex = explain(&c);
            (c, ex)
        })
        .collect()
}

/// Every tshark flag marks the same frames as synack's analysis does.
fn agrees_with_tshark(file: &Path) {
    let ours = explained(file);
    for flag in FLAGS {
        let out = Command::new("tshark")
            .args(["-r"])
            .arg(file)
            .args(["-Y", &format!("tcp.analysis.{flag}"), "-T", "fields", "-e", "frame.number"])
            .output()
            .expect("tshark runs");
        let theirs: BTreeSet<usize> =
            String::from_utf8_lossy(&out.stdout).lines().filter_map(|l| l.trim().parse().ok()).collect();
        let mine: BTreeSet<usize> = ours
            .iter()
            .flat_map(|(c, ex)| {
                c.segments
                    .iter()
                    .zip(&ex.rows)
                    .filter(|(_, row)| row.anomalies.iter().any(|a| a.tshark_fields().contains(flag)))
                    .map(|(s, _)| s.number)
            })
            .collect();
        assert_eq!(mine, theirs, "{}: tcp.analysis.{flag}: synack's frames vs tshark's", file.display());
    }
}

/// The ladder of connection `n` as SVG, through the command, parsed by Python's XML parser:
/// returns the number of segment arrows.
fn svg_arrows(file: &Path, n: usize) -> usize {
    let svg = file.with_extension(format!("{n}.svg"));
    let out = Command::new(env!("CARGO_BIN_EXE_synack"))
        .arg("explain")
        .arg(file)
        .args(["--conn", &n.to_string(), "--svg"])
        .arg(&svg)
        .output()
        .expect("synack explain runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let parse = Command::new("python3")
        .args([
            "-c",
            "import sys, xml.etree.ElementTree as E; t = E.parse(sys.argv[1]); \
             print(len([g for g in t.iter('{http://www.w3.org/2000/svg}g') if g.get('class') == 'segment']))",
        ])
        .arg(&svg)
        .output()
        .expect("python3 runs");
    assert!(parse.status.success(), "the SVG is not well-formed XML: {}", String::from_utf8_lossy(&parse.stderr));
    String::from_utf8_lossy(&parse.stdout).trim().parse().expect("a count")
}

fn pcapng_of(file: &Path) -> PathBuf {
    let ng = file.with_extension("pcapng");
    let ok = Command::new("editcap").args(["-F", "pcapng"]).arg(file).arg(&ng).status().is_ok_and(|s| s.success());
    assert!(ok, "editcap converts {}", file.display());
    ng
}

const SERVER: &str = r#"
import socket, struct, sys, threading
def serve(port, handle):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("10.213.0.1", port)); s.listen(8)
    def loop():
        while True:
            c, _ = s.accept(); handle(c)
    threading.Thread(target=loop, daemon=True).start()
def http(c):
    c.recv(4096); c.sendall(b"HTTP/1.0 200 OK\r\n\r\n" + b"x" * 2000); c.close()
def reset(c):
    c.recv(4096); c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)); c.close()
def half(c):
    data = b""
    while True:
        d = c.recv(4096)
        if not d: break
        data += d
    c.sendall(b"got " + str(len(data)).encode()); c.close()
serve(8080, http); serve(8081, reset); serve(8082, half)
print("ready", flush=True)
sys.stdin.read()
"#;

const CLIENTS: &str = r#"
import socket, time
s = socket.create_connection(("10.213.0.1", 8081)); s.sendall(b"hello"); time.sleep(0.2)
try: s.recv(100)
except ConnectionResetError: pass
s.close(); time.sleep(0.2)
s = socket.create_connection(("10.213.0.1", 8082)); s.sendall(b"nine bytes"); s.shutdown(socket.SHUT_WR)
while s.recv(100): pass
s.close(); time.sleep(0.2)
try: socket.create_connection(("10.213.0.1", 8083))
except ConnectionRefusedError: pass
time.sleep(0.2)
"#;

/// Kernel to kernel over veth: an HTTP fetch, a reset, a half-close, a refused connect.
#[test]
fn captures_of_kernel_connections_over_ethernet_are_explained() {
    if !require_root_tun_and_tools("explain_veth", TOOLS) {
        return;
    }
    let pid = std::process::id();
    let server = NetNs::create(&format!("synack-exs-{pid}")).expect("namespace");
    let client = NetNs::create(&format!("synack-exc-{pid}")).expect("namespace");
    let ip = |ns: &NetNs, cmd: &str| {
        ns.exec_line(&format!("ip {cmd}")).unwrap_or_else(|e| panic!("ip {cmd}: {e}"));
    };
    ip(&server, &format!("link add ex-s type veth peer name ex-c netns {}", client.name()));
    ip(&server, "addr add 10.213.0.1/24 dev ex-s");
    ip(&server, "link set ex-s up");
    ip(&client, "addr add 10.213.0.2/24 dev ex-c");
    ip(&client, "link set ex-c up");
    let mut servers = server
        .command("python3")
        .args(["-c", SERVER])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 servers");
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(servers.stdout.as_mut().unwrap()), &mut line).ok();
    assert_eq!(line.trim(), "ready");
    let file = dir("veth").join("veth.pcap");
    // The same traffic on `any` as well: Linux cooked capture, nanosecond timestamps.
    let any = file.with_file_name("any.pcap");
    let dumps: [(&str, &Path, &[&str]); 2] = [("ex-s", &file, &[]), ("any", &any, &["--time-stamp-precision=nano"])];
    capture(&server, &dumps, "262144", || {
        let fetched = client
            .command("curl")
            .args(["-s", "--max-time", "5", "-o", "/dev/null", "-w", "%{size_download}", "http://10.213.0.1:8080/"])
            .output()
            .expect("curl");
        assert_eq!(String::from_utf8_lossy(&fetched.stdout), "2000");
        let clients = client.command("python3").args(["-c", CLIENTS]).status().expect("python3 clients");
        assert!(clients.success());
    });
    drop(servers.stdin.take());
    let _ = servers.kill();
    let _ = servers.wait();
    for file in [file.clone(), pcapng_of(&file), any] {
        let conns = explained(&file);
        let summary: Vec<(u16, [State; 2])> = conns.iter().map(|(c, ex)| (c.server.port(), ex.final_states)).collect();
        use State::*;
        assert_eq!(
            summary,
            vec![
                (8080, [Closed, TimeWait]), // the server closed first (HTTP/1.0)
                (8081, [Closed, Closed]),   // the server reset it
                (8082, [TimeWait, Closed]), // the client half-closed first
                (8083, [Closed, Closed]),   // refused: RST to the SYN
            ],
            "{}",
            file.display()
        );
        let (http, ex) = &conns[0];
        assert_eq!(ex.bytes[1], 2000 + 19, "the response's bytes");
        let syn_ack = http.segments.iter().position(|s| s.flags.syn() && s.flags.ack()).expect("a SYN-ACK");
        assert_eq!(ex.rows[syn_ack].states, [Some(State::Established), Some(State::SynReceived)]);
        let (half, ex) = &conns[2];
        assert_eq!(ex.bytes[0], 10);
        assert!(half
            .segments
            .iter()
            .zip(&ex.rows)
            .any(|(s, r)| s.flags.fin() && r.states[1] == Some(State::CloseWait)));
        assert_eq!(svg_arrows(&file, 1), http.segments.len());
        agrees_with_tshark(&file);
    }
    let _ = std::fs::remove_dir_all(file.parent().expect("in a dir"));
}

/// synack behind its own tap (3 % loss, 3 % reordering each way) over TUN, captured with a
/// 200-byte snaplen: the retransmissions, out-of-order segments, duplicate ACKs and window
/// updates found are tshark's, frame for frame.
#[test]
fn a_capture_through_synacks_faulty_tap_is_explained() {
    if !require_root_tun_and_tools("explain_tun", TOOLS) {
        return;
    }
    let ns = NetNs::create(&format!("synack-ext-{}", std::process::id())).expect("namespace");
    let mut server = ns
        .command(env!("CARGO_BIN_EXE_synack"))
        .args(["serve", "--tun", "ext0", "--addr", "10.214.0.1/24", "--mode", "http"])
        .args(["--loss", "3", "--reorder", "3", "--seed", "7"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("synack serve");
    let fetch = |size: &str| {
        ns.command("curl")
            .args(["-s", "--max-time", "20", "-o", "/dev/null", "-w", "%{size_download}"])
            .arg(format!("http://10.214.0.2:8080/bytes/{size}"))
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default()
    };
    for _ in 0..50 {
        if fetch("1") == "1" {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let file = dir("tun").join("tun.pcap");
    capture(&ns, &[("ext0", &file, &[])], "200", || assert_eq!(fetch("2000000"), "2000000"));
    Command::new("kill").args(["-INT", &server.id().to_string()]).status().ok();
    let _ = server.wait();
    for file in [file.clone(), pcapng_of(&file)] {
        let conns = explained(&file);
        assert_eq!(conns.len(), 1, "{}", file.display());
        let (conn, ex) = &conns[0];
        // synack closed first; its TIME-WAIT ends early if a repeated ACK (the tap reorders)
        // reaches the closed kernel socket and draws a RST (RFC 9293 §3.10.7.4).
        let reset_at_end = conn.segments.last().is_some_and(|s| s.flags.rst() && conn.side_of(s) == 0);
        let server_end = if reset_at_end { State::Closed } else { State::TimeWait };
        assert_eq!(ex.final_states, [State::Closed, server_end], "synack closed first");
        let kinds: Vec<String> = ex.counts.keys().map(|k| k.name()).collect();
        assert!(
            ex.counts.keys().any(|k| k.tshark_fields().contains(&"retransmission")),
            "losses were repaired: {kinds:?}"
        );
        assert_eq!(svg_arrows(&file, 1), conn.segments.len());
        agrees_with_tshark(&file);
    }
    let _ = std::fs::remove_dir_all(file.parent().expect("in a dir"));
}
