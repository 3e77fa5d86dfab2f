//! synack against the Linux kernel's TCP over a TUN device. Each test creates its own network
//! namespace, creates the TUN device inside it, gives the kernel side 10.200.0.1/24 and synack
//! 10.200.0.2, runs real programs (curl, python3) in the namespace against synack, checks, and
//! deletes the namespace. Without root, /dev/net/tun or a tool the test is skipped with a
//! reason, unless SYNACK_NO_SKIP=1 (as in CI) makes that a failure.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;
use synack_engine::Config;
// The server applications of `synack serve` (they live with the command, not in this library).
#[path = "../../cli/src/apps.rs"]
mod apps;
use apps::{body_byte, Mode};
use synack_runtime::{Stack, TcpListener};
use synack_tun::TunDevice;

mod common;
use common::{setup, PY_ECHO_CLIENT, SYNACK_ADDR};

/// Serves `mode` on port 8080 (what `synack serve` runs) in a thread until the returned flag
/// is set; the thread returns how many connections it accepted.
fn start_server(dev: TunDevice, mode: Mode) -> (Arc<AtomicBool>, JoinHandle<usize>) {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let thread = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        runtime.block_on(async move {
            let config = Config::default().with(|c| c.rng_seed = std::process::id() as u64);
            let stack = Stack::new(config, &[SYNACK_ADDR.parse().unwrap()], dev).expect("stack starts");
            let addr: SocketAddr = format!("{SYNACK_ADDR}:8080").parse().unwrap();
            let listener = TcpListener::bind(&stack, addr).await.expect("listen");
            let mut accepted = 0;
            while !flag.load(Ordering::Relaxed) {
                tokio::select! {
                    conn = listener.accept() => {
                        let (stream, _) = conn.expect("accept");
                        accepted += 1;
                        tokio::spawn(apps::handle(stream, mode));
                    }
                    _ = tokio::time::sleep(Duration::from_millis(50)) => {}
                }
            }
            accepted
        })
    });
    (stop, thread)
}

fn stop(server: (Arc<AtomicBool>, JoinHandle<usize>)) -> usize {
    server.0.store(true, Ordering::Relaxed);
    server.1.join().expect("server thread")
}

#[test]
fn curl_downloads_exact_bodies_from_the_http_server() {
    let Some((ns, dev)) = setup("curl_http", &["curl"]) else { return };
    let server = start_server(dev, Mode::Http);
    for size in [1024usize, 1 << 20, 50 << 20] {
        let out = ns
            .command("curl")
            .args(["-s", "--fail", "--max-time", "120", &format!("http://{SYNACK_ADDR}:8080/bytes/{size}")])
            .output()
            .expect("curl runs");
        assert!(out.status.success(), "curl failed for {size}: {}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(out.stdout.len(), size);
        assert!(out.stdout.iter().enumerate().all(|(i, &b)| b == body_byte(i)), "body of {size} bytes differs");
    }
    assert_eq!(stop(server), 3);
}

#[test]
fn nc_gets_10_mib_of_random_data_echoed_back_intact() {
    let Some((ns, dev)) = setup("nc_echo", &["nc", "sh"]) else { return };
    let server = start_server(dev, Mode::Echo);
    let dir = std::env::temp_dir().join(format!("synack-nc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (input, output) = (dir.join("in"), dir.join("out"));
    let mut state = 0x2545_f491_4f6c_dd1du64; // xorshift: random-looking, reproducible
    let data: Vec<u8> = (0..10 << 20)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    std::fs::write(&input, &data).unwrap();
    // nc -N: shut down the sending side at EOF of stdin (the half-close), keep reading.
    let script = format!("nc -N -w 30 {SYNACK_ADDR} 8080 < {} > {}", input.display(), output.display());
    let out = ns.command("sh").args(["-c", &script]).output().expect("nc runs");
    assert!(out.status.success(), "nc: {}", String::from_utf8_lossy(&out.stderr));
    let echoed = std::fs::read(&output).unwrap();
    assert_eq!(echoed.len(), data.len());
    assert!(echoed == data, "the echo differs");
    std::fs::remove_dir_all(dir).ok();
    assert_eq!(stop(server), 1);
}

#[test]
fn python_client_half_closes_first_and_still_gets_every_byte_echoed() {
    let Some((ns, dev)) = setup("py_echo", &["python3"]) else { return };
    let server = start_server(dev, Mode::Echo);
    let out = ns
        .command("python3")
        .args(["-c", PY_ECHO_CLIENT, SYNACK_ADDR, &(2 << 20).to_string()])
        .output()
        .expect("python3 runs");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "OK", "stderr: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(stop(server), 1);
}

#[test]
fn connecting_to_a_port_nobody_listens_on_is_refused() {
    let Some((ns, dev)) = setup("refused", &["python3"]) else { return };
    let server = start_server(dev, Mode::Discard);
    let script = r#"
import socket, sys
try:
    socket.create_connection((sys.argv[1], 9), timeout=10)
    print("CONNECTED")
except ConnectionRefusedError:
    print("REFUSED")
except Exception as e:
    print("OTHER", type(e).__name__)
"#;
    let out = ns.command("python3").args(["-c", script, SYNACK_ADDR]).output().expect("python3 runs");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "REFUSED");
    stop(server);
}

#[test]
fn when_the_kernel_closes_first_its_socket_waits_in_time_wait() {
    let Some((ns, dev)) = setup("kernel_first", &["python3", "ss"]) else { return };
    let server = start_server(dev, Mode::Echo);
    // The kernel client sends, reads the echo, and closes first: the active closer, it must
    // end in TIME-WAIT; synack (echo closes after the peer's FIN) goes LAST-ACK -> CLOSED.
    let script = r#"
import socket, sys
s = socket.create_connection((sys.argv[1], 8080), timeout=10)
s.sendall(b"ping")
assert s.recv(4) == b"ping"
s.close()
import time; time.sleep(0.3)
print("CLOSED")
"#;
    let out = ns.command("python3").args(["-c", script, SYNACK_ADDR]).output().expect("python3 runs");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "CLOSED", "{}", String::from_utf8_lossy(&out.stderr));
    let ss = ns.exec_ok(&["ss", "-tan"]).expect("ss runs");
    let line = ss.lines().find(|l| l.contains(&format!("{SYNACK_ADDR}:8080"))).unwrap_or("");
    assert!(line.starts_with("TIME-WAIT"), "ss -tan in the namespace:\n{ss}");
    assert_eq!(stop(server), 1);
}
