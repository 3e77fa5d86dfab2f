//! `synack serve` on a real wire, run the way a person would: inside a network namespace the
//! test creates (and deletes), with curl as the client and Ctrl-C (SIGINT) to stop it. Needs
//! root and /dev/net/tun; skipped with a reason otherwise, unless SYNACK_NO_SKIP=1.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use synack_sim::skip::require_root_tun_and_tools;
use synack_tun::netns::NetNs;

#[test]
fn serve_answers_curl_over_a_tun_device_and_stops_cleanly_on_ctrl_c() {
    if !require_root_tun_and_tools("serve_http", &["ip", "curl"]) {
        return;
    }
    let ns = NetNs::create(&format!("synack-serve-{}", std::process::id())).expect("namespace");
    let server = ns
        .command(env!("CARGO_BIN_EXE_synack"))
        .args(["serve", "--tun", "syn0", "--addr", "10.202.0.1/24", "--port", "8080", "--mode", "http"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("synack serve starts");
    // Wait (bounded) until it answers.
    let deadline = Instant::now() + Duration::from_secs(15);
    let body = loop {
        let out = ns
            .command("curl")
            .args(["-s", "--fail", "--max-time", "10", "http://10.202.0.2:8080/bytes/100000"])
            .output()
            .expect("curl runs");
        if out.status.success() || Instant::now() > deadline {
            break out.stdout;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(body.len(), 100_000);
    assert!(body.iter().enumerate().all(|(i, &b)| b == synack_runtime::apps::body_byte(i)));
    // SIGUSR1 prints the table; Ctrl-C exits cleanly with the final one.
    let pid = server.id().to_string();
    Command::new("kill").args(["-USR1", &pid]).status().ok();
    std::thread::sleep(Duration::from_millis(200));
    Command::new("pkill").args(["-INT", "-P", &pid]).status().ok();
    Command::new("kill").args(["-INT", &pid]).status().ok();
    let out = server.wait_with_output().expect("serve exits");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "exit {:?}: {stdout} {}", out.status, String::from_utf8_lossy(&out.stderr));
    assert_eq!(stdout.matches("LISTEN").count(), 2, "once for SIGUSR1, once at exit: {stdout}");
    assert!(stdout.contains("passive_opens"), "{stdout}");
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
