//! `synack serve` on a real wire, run the way a person would: inside a network namespace the
//! test creates (and deletes), with curl as the client and Ctrl-C (SIGINT) to stop it. Needs
//! root and /dev/net/tun; skipped with a reason otherwise, unless SYNACK_NO_SKIP=1.

// The servers `synack serve` runs: its body pattern is what the downloads are checked against.
#[allow(dead_code)]
#[path = "../src/apps.rs"]
mod apps;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use synack_sim::skip::require_root_tun_and_tools;
use synack_tun::netns::NetNs;

/// Starts `synack serve ARGS` in `ns` (kernel side 10.202.0.1) and fetches `/bytes/N` with
/// curl until it answers (at most 15 s). Returns the server, the body and curl's
/// `time_connect`.
const MARK: &str = "synack-test-time-connect=";

fn serve_and_fetch(ns: &NetNs, args: &[&str], bytes: usize) -> (std::process::Child, Vec<u8>, String) {
    let server = ns
        .command(env!("CARGO_BIN_EXE_synack"))
        .args(["serve", "--tun", "syn0", "--addr", "10.202.0.1/24", "--port", "8080", "--mode", "http"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("synack serve starts");
    let url = format!("http://10.202.0.2:8080/bytes/{bytes}");
    let deadline = Instant::now() + Duration::from_secs(15);
    let out = loop {
        let out = ns
            .command("curl")
            .args(["-s", "--fail", "--max-time", "30", "-w", &format!("\n{MARK}%{{time_connect}}"), &url])
            .output()
            .expect("curl runs");
        if out.status.success() || Instant::now() > deadline {
            break out.stdout;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let mark = format!("\n{MARK}");
    let split = out.windows(mark.len()).rposition(|w| w == mark.as_bytes()).unwrap_or(out.len());
    let info = String::from_utf8_lossy(out.get(split + mark.len()..).unwrap_or_default()).into_owned();
    (server, out[..split].to_vec(), info)
}

fn assert_body(body: &[u8], len: usize) {
    assert_eq!(body.len(), len);
    assert!(body.iter().enumerate().all(|(i, &b)| b == apps::body_byte(i)));
}

fn interrupt(server: &std::process::Child) {
    let pid = server.id().to_string();
    Command::new("pkill").args(["-INT", "-P", &pid]).status().ok();
    Command::new("kill").args(["-INT", &pid]).status().ok();
}

#[test]
fn serve_answers_curl_over_a_tun_device_and_stops_cleanly_on_ctrl_c() {
    if !require_root_tun_and_tools("serve_http", &["ip", "curl"]) {
        return;
    }
    let ns = NetNs::create(&format!("synack-serve-{}", std::process::id())).expect("namespace");
    let (server, body, _) = serve_and_fetch(&ns, &[], 100_000);
    assert_body(&body, 100_000);
    // SIGUSR1 prints the table; Ctrl-C exits cleanly with the final one.
    Command::new("kill").args(["-USR1", &server.id().to_string()]).status().ok();
    std::thread::sleep(Duration::from_millis(200));
    interrupt(&server);
    let out = server.wait_with_output().expect("serve exits");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "exit {:?}: {stdout} {}", out.status, String::from_utf8_lossy(&out.stderr));
    assert_eq!(stdout.matches("LISTEN").count(), 2, "once for SIGUSR1, once at exit: {stdout}");
    assert!(stdout.contains("passive_opens"), "{stdout}");
}

/// Bytes per packet the kernel counted on `syn0`'s receive side: each write synack makes to
/// the TUN device is one received packet there, a super-packet counted whole.
fn device_bytes_per_write(ns: &NetNs) -> f64 {
    let stat = |name: &str| -> f64 {
        let path = format!("/sys/class/net/syn0/statistics/{name}");
        ns.exec_ok(&["cat", &path]).expect("device statistics").trim().parse().expect("a number")
    };
    stat("rx_bytes") / stat("rx_packets").max(1.0)
}

#[test]
/// Offload is on by default: a download leaves synack as TSO super-packets, many segments per
/// write; `--no-offload` writes one segment at a time.
fn serve_offloads_a_download_into_super_packets_unless_told_not_to() {
    if !require_root_tun_and_tools("serve_offload", &["ip", "curl", "cat"]) {
        return;
    }
    for (args, offload) in [(&[][..], true), (&["--no-offload"][..], false)] {
        let ns = NetNs::create(&format!("synack-serveo-{}", std::process::id())).expect("namespace");
        let (server, body, _) = serve_and_fetch(&ns, args, 20 << 20);
        assert_body(&body, 20 << 20);
        let per_write = device_bytes_per_write(&ns);
        interrupt(&server);
        let out = server.wait_with_output().expect("serve exits");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        if offload {
            assert!(per_write > 8.0 * 1500.0, "offload on, yet {per_write:.0} bytes per device write");
        } else {
            assert!(per_write <= 1500.0, "offload off, yet {per_write:.0} bytes per device write");
        }
    }
}

#[test]
/// Offload (the default) with faults: reads are split into packets and writes coalesced, so
/// that the fault wrapper still sees every packet.
fn serve_with_delay_and_loss_still_answers_byte_exact() {
    if !require_root_tun_and_tools("serve_faults", &["ip", "curl"]) {
        return;
    }
    let ns = NetNs::create(&format!("synack-servef-{}", std::process::id())).expect("namespace");
    let (server, body, time_connect) =
        serve_and_fetch(&ns, &["--delay", "50", "--loss", "3", "--reorder", "3"], 1 << 20);
    assert_body(&body, 1 << 20);
    // The handshake crosses the delay twice (SYN in, SYN-ACK out): at least 100 ms.
    let connect_s: f64 = time_connect.trim().parse().expect("curl's time_connect");
    assert!(connect_s >= 0.1, "time_connect {connect_s} s with 50 ms each way");
    interrupt(&server);
    let out = server.wait_with_output().expect("serve exits");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

const PY_ECHO_SERVER: &str = r#"
import socket
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("0.0.0.0", 9000)); srv.listen(1)
print("READY", flush=True)
c, _ = srv.accept()
while True:
    b = c.recv(65536)
    if not b:
        break
    c.sendall(b)
c.shutdown(socket.SHUT_WR); c.close()
"#;

#[test]
fn connect_sends_stdin_and_prints_what_comes_back_like_nc() {
    if !require_root_tun_and_tools("connect_nc", &["ip", "python3", "sh"]) {
        return;
    }
    let ns = NetNs::create(&format!("synack-conn-{}", std::process::id())).expect("namespace");
    let mut server = ns
        .command("python3")
        .args(["-c", PY_ECHO_SERVER])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 starts");
    let mut ready = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(server.stdout.take().unwrap()), &mut ready).unwrap();
    assert_eq!(ready.trim(), "READY");
    let dir = std::env::temp_dir().join(format!("synack-connect-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let data: Vec<u8> = (0..1 << 20).map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    std::fs::write(dir.join("in"), &data).unwrap();
    let script = format!(
        "timeout 60 {} connect --tun syn0 --addr 10.203.0.1/24 10.203.0.1:9000 < {} > {}",
        env!("CARGO_BIN_EXE_synack"),
        dir.join("in").display(),
        dir.join("out").display()
    );
    let out = ns.command("sh").args(["-c", &script]).output().expect("synack connect runs");
    assert!(out.status.success(), "synack connect: {}", String::from_utf8_lossy(&out.stderr));
    assert!(std::fs::read(dir.join("out")).unwrap() == data, "what came back differs");
    let _ = server.wait();
    std::fs::remove_dir_all(dir).ok();
}
