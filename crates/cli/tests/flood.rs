//! `synack serve` under attack, on a real wire inside a network namespace the test creates
//! (and deletes): a SYN flood from spoofed addresses (hping3) while curl fetches pages, and a
//! ping. Nothing leaves the namespace (it has no route out; the spoofed sources' SYN-ACKs are
//! dropped by its kernel). Needs root, /dev/net/tun, ip, curl, hping3 and ping; skipped with
//! a reason otherwise, unless SYNACK_NO_SKIP=1.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use synack_sim::skip::require_root_tun_and_tools;
use synack_tun::netns::NetNs;

fn start_serve(ns: &NetNs) -> std::process::Child {
    let server = ns
        .command(env!("CARGO_BIN_EXE_synack"))
        .args(["serve", "--tun", "syn0", "--addr", "10.203.0.1/24", "--port", "8080", "--mode", "http"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("synack serve starts");
    // Until it answers.
    let deadline = Instant::now() + Duration::from_secs(15);
    while !fetch(ns, 3) {
        assert!(Instant::now() < deadline, "synack serve did not answer in 15 s");
        std::thread::sleep(Duration::from_millis(100));
    }
    server
}

/// One request, given `max_secs` to complete (room for SYN retransmissions at 1 and 3 s when
/// the device's queue drops a SYN, and for a machine busy with other tests).
fn fetch(ns: &NetNs, max_secs: u32) -> bool {
    let max = max_secs.to_string();
    ns.command("curl")
        .args(["-s", "--fail", "--max-time", &max, "-o", "/dev/null", "http://10.203.0.2:8080/bytes/2000"])
        .status()
        .is_ok_and(|s| s.success())
}

fn stop(server: std::process::Child) -> String {
    let pid = server.id().to_string();
    Command::new("pkill").args(["-INT", "-P", &pid]).status().ok();
    Command::new("kill").args(["-INT", &pid]).status().ok();
    let out = server.wait_with_output().expect("serve exits");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// As fast as hping3 sends spoofed SYNs (about 250,000 a second here) for 9 s: the SYN queue
/// fills at once, cookies answer the rest, and at least 95 % of the legitimate requests made
/// during the flood succeed (before SYN cookies, none did).
#[test]
fn legitimate_clients_get_through_a_syn_flood() {
    if !require_root_tun_and_tools("syn_flood", &["ip", "curl", "hping3", "timeout"]) {
        return;
    }
    let ns = NetNs::create(&format!("synack-flood-{}", std::process::id())).expect("namespace");
    let server = start_serve(&ns);
    let flood = ns
        .command("timeout")
        .args(["9", "hping3", "-S", "-p", "8080", "--flood", "--rand-source", "10.203.0.2"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("hping3 starts");
    std::thread::sleep(Duration::from_secs(1));
    let (mut ok, mut tried) = (0, 0);
    // A request may wait for a SYN retransmission (1 s) when the device's queue overflows.
    let until = Instant::now() + Duration::from_secs(6);
    while Instant::now() < until {
        tried += 1;
        ok += fetch(&ns, 10) as u32;
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = flood.wait_with_output();
    let stdout = stop(server);
    eprintln!("during the flood: {ok} of {tried} requests succeeded");
    assert!(tried >= 5, "only {tried} requests made");
    assert!(ok * 100 >= tried * 95, "{ok} of {tried} requests succeeded during the flood\n{stdout}");
    assert!(stdout.contains("syncookies_sent"), "the flood was answered with cookies: {stdout}");
}

/// A user's first check of a TUN stack: ping answers.
#[test]
fn serve_answers_ping() {
    if !require_root_tun_and_tools("ping", &["ip", "curl", "ping"]) {
        return;
    }
    let ns = NetNs::create(&format!("synack-ping-{}", std::process::id())).expect("namespace");
    let server = start_serve(&ns);
    let out = ns.command("ping").args(["-c", "3", "-i", "0.2", "-W", "2", "10.203.0.2"]).output().expect("ping runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let stdout = stop(server);
    assert!(out.status.success() && text.contains("3 received"), "{text}");
    assert!(stdout.contains("icmp_echo_replies 3"), "{stdout}");
}
