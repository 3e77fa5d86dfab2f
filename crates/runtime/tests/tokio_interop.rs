//! The tokio API against the Linux kernel's TCP, each test in its own network namespace with
//! the TUN device inside it (see tests/common). Skipped with a reason without root or a tool,
//! unless SYNACK_NO_SKIP=1.

mod common;
use common::{setup, setup_offload, KERNEL_ADDR, PY_ECHO_CLIENT, SYNACK_ADDR};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;
use synack_engine::{Config, State};
use synack_runtime::tap::{Faults, Tap};
use synack_runtime::{Stack, TcpListener, TcpStream};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const TEST_LIMIT: Duration = Duration::from_secs(60);

fn stack(dev: synack_tun::TunDevice) -> Stack {
    stack_with(dev, Tap::default())
}

fn stack_with(dev: synack_tun::TunDevice, tap: Tap) -> Stack {
    let config = Config::default().with(|c| c.rng_seed = std::process::id() as u64);
    Stack::with_tap(config, &[SYNACK_ADDR.parse().unwrap()], dev, tap).expect("stack starts")
}

fn synack_addr(port: u16) -> SocketAddr {
    format!("{SYNACK_ADDR}:{port}").parse().unwrap()
}

/// An echo server on the stack: every connection's bytes come back, then FIN after the peer's.
fn spawn_echo(listener: TcpListener) {
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (mut r, mut w) = stream.into_split();
                let _ = tokio::io::copy(&mut r, &mut w).await;
                let _ = w.shutdown().await;
            });
        }
    });
}

/// Runs a blocking command (a kernel-side client) without stalling the runtime.
async fn run(mut cmd: std::process::Command) -> std::process::Output {
    tokio::task::spawn_blocking(move || cmd.output().expect("command runs")).await.expect("join")
}

/// Echoes 10 MiB to the kernel's Python client (which half-closes first) and checks every
/// byte came back; returns the stack for more checks.
async fn echo_10_mib(ns: &synack_tun::netns::NetNs, dev: synack_tun::TunDevice) -> Stack {
    let stack = stack(dev);
    spawn_echo(TcpListener::bind(&stack, synack_addr(8080)).await.unwrap());
    let mut cmd = ns.command("python3");
    cmd.args(["-c", PY_ECHO_CLIENT, SYNACK_ADDR, &(10 << 20).to_string()]);
    let out = tokio::time::timeout(TEST_LIMIT, run(cmd)).await.expect("in time");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "OK", "{}", String::from_utf8_lossy(&out.stderr));
    stack
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_echo_server_returns_10_mib_to_a_kernel_client_that_half_closes_first() {
    let Some((ns, dev)) = setup("tk_echo", &["python3"]) else { return };
    echo_10_mib(&ns, dev).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
/// With GSO/GRO offload the kernel writes 64 KiB super-packets that the device splits, and
/// synack's segments leave coalesced: the bytes must still come back exact, both ways.
async fn with_tun_offload_10_mib_still_echo_back_intact() {
    let Some((ns, dev)) = setup_offload("tk_offload", &["python3"]) else { return };
    assert!(dev.offload());
    let c = echo_10_mib(&ns, dev).await.counters();
    assert_eq!(c.dropped_bad_checksum + c.dropped_malformed, 0, "split packets are whole: {c:?}");
}

const PY_SERVER: &str = r#"
import hashlib, socket, sys
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((sys.argv[1], 9000)); srv.listen(8)
print("READY", flush=True)
for _ in range(2):
    c, _ = srv.accept()
    f = c.makefile("rb")
    cmd, n = f.readline().split()
    n = int(n)
    if cmd == b"GET":
        c.sendall(bytes((i * 13 + (i >> 10)) % 256 for i in range(n)))
    else:
        h = hashlib.sha256(); left = n
        while left:
            b = f.read(min(left, 65536))
            if not b: break
            h.update(b); left -= len(b)
        c.sendall(h.hexdigest().encode())
    c.shutdown(socket.SHUT_WR)   # makefile() holds the socket: close() alone sends no FIN
    f.close(); c.close()
"#;

/// synack as the client of a kernel server (PY_SERVER): downloads 10 MiB and checks every
/// byte, uploads 10 MiB and compares the server's SHA-256 of it, each within `limit`.
async fn download_and_upload_10_mib(ns: &synack_tun::netns::NetNs, stack: &Stack, limit: Duration) {
    let mut server = ns
        .command("python3")
        .args(["-c", PY_SERVER, KERNEL_ADDR])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 server starts");
    let mut ready = String::new();
    BufReader::new(server.stdout.take().unwrap()).read_line(&mut ready).unwrap();
    assert_eq!(ready.trim(), "READY");
    let kernel: SocketAddr = format!("{KERNEL_ADDR}:9000").parse().unwrap();
    let n = 10 << 20;
    let body = tokio::time::timeout(limit, async {
        let mut s = TcpStream::connect(stack, kernel).await.expect("connect");
        s.write_all(format!("GET {n}\n").as_bytes()).await.unwrap();
        let mut body = Vec::new();
        s.read_to_end(&mut body).await.unwrap();
        body
    })
    .await;
    let body = body.unwrap_or_else(|_| panic!("download not done in time; sockets {:?}", stack.sockets()));
    assert_eq!(body.len(), n);
    assert!(body.iter().enumerate().all(|(i, &b)| b == ((i * 13 + (i >> 10)) % 256) as u8), "download differs");
    let upload: Vec<u8> = (0..n).map(|i| (i * 5 + (i >> 12)) as u8).collect();
    let digest = tokio::time::timeout(limit, async {
        let mut s = TcpStream::connect(stack, kernel).await.expect("connect");
        s.write_all(format!("PUT {n}\n").as_bytes()).await.unwrap();
        s.write_all(&upload).await.unwrap();
        s.shutdown().await.unwrap();
        let mut reply = String::new();
        s.read_to_string(&mut reply).await.unwrap();
        reply
    })
    .await
    .expect("upload in time");
    let expected = {
        let mut cmd = std::process::Command::new("python3");
        cmd.args(["-c", "import hashlib,sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())"]);
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        use std::io::Write;
        child.stdin.take().unwrap().write_all(&upload).unwrap();
        String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap().trim().to_string()
    };
    assert_eq!(digest, expected, "the kernel received the upload intact");
    let _ = server.wait();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn synack_client_downloads_and_uploads_10_mib_against_a_kernel_server() {
    let Some((ns, dev)) = setup("tk_client", &["python3"]) else { return };
    download_and_upload_10_mib(&ns, &stack(dev), TEST_LIMIT).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
/// The same through synack's fault wrapper: 5 % loss and 5 % reordering each way.
async fn synack_client_10_mib_down_and_up_arrive_intact_with_5_percent_loss_and_reordering() {
    let Some((ns, dev)) = setup("tk_clientf", &["python3"]) else { return };
    let faults = Faults { loss_ppm: 50_000, reorder_ppm: 50_000, ..Faults::default() };
    let stack = stack_with(dev, Tap::default().faults(faults, 12));
    download_and_upload_10_mib(&ns, &stack, Duration::from_secs(120)).await;
    assert!(stack.counters().retransmitted_segments > 0, "losses were repaired by retransmission");
}

const PY_MANY: &str = r#"
import socket, sys, threading
ok = 0; lock = threading.Lock()
def one(i):
    global ok
    try:
        s = socket.create_connection((sys.argv[1], 8080), timeout=60)
        msg = (b"%03d" % i) * 50
        s.sendall(msg)
        got = b""
        while len(got) < len(msg):
            c = s.recv(4096)
            if not c: break
            got += c
        s.close()
        if got == msg:
            with lock: ok += 1
    except Exception as e:
        print("error", i, e, file=sys.stderr)
ts = [threading.Thread(target=one, args=(i,)) for i in range(200)]
[t.start() for t in ts]; [t.join() for t in ts]
print(ok)
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_kernel_connections_all_complete_with_backlog_128() {
    let Some((ns, dev)) = setup("tk_many", &["python3"]) else { return };
    let stack = stack(dev);
    spawn_echo(TcpListener::bind_with_backlog(&stack, synack_addr(8080), 128).unwrap());
    let mut cmd = ns.command("python3");
    cmd.args(["-c", PY_MANY, SYNACK_ADDR]);
    let out = tokio::time::timeout(TEST_LIMIT, run(cmd)).await.expect("in time");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "200", "{}", String::from_utf8_lossy(&out.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connecting_to_a_kernel_port_nobody_listens_on_is_connection_refused() {
    let Some((_ns, dev)) = setup("tk_refused", &[]) else { return };
    let stack = stack(dev);
    let kernel: SocketAddr = format!("{KERNEL_ADDR}:9").parse().unwrap();
    let err = tokio::time::timeout(TEST_LIMIT, TcpStream::connect(&stack, kernel)).await.expect("in time").err();
    assert_eq!(err.map(|e| e.kind()), Some(std::io::ErrorKind::ConnectionRefused));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stack_lists_its_sockets_like_ss() {
    let Some((ns, dev)) = setup("tk_ss", &["python3"]) else { return };
    let stack = stack(dev);
    let listener = TcpListener::bind(&stack, synack_addr(8080)).await.unwrap();
    let mut cmd = ns.command("python3");
    cmd.args([
        "-c",
        "import socket,sys,time; s=socket.create_connection((sys.argv[1],8080)); time.sleep(1.5)",
        SYNACK_ADDR,
    ]);
    let client = tokio::spawn(run(cmd));
    let (stream, peer) = tokio::time::timeout(TEST_LIMIT, listener.accept()).await.expect("in time").unwrap();
    assert_eq!(peer.ip().to_string(), KERNEL_ADDR);
    assert_eq!(stream.local_addr().unwrap(), synack_addr(8080));
    let rows = stack.sockets();
    assert!(rows.iter().any(|r| r.state == State::Listen && r.local == synack_addr(8080)));
    assert!(rows.iter().any(|r| r.state == State::Established && r.remote == Some(peer)));
    let _ = client.await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
/// 10 MiB echoed (10 MiB each way) through synack's fault wrapper: 5 % loss and 5 %
/// reordering in each direction, against the kernel's TCP. About 20 s on this machine.
async fn a_transfer_still_arrives_intact_with_5_percent_loss_and_reordering_both_ways() {
    let Some((ns, dev)) = setup("tk_faults", &["python3"]) else { return };
    let faults = Faults { loss_ppm: 50_000, reorder_ppm: 50_000, ..Faults::default() };
    let stack = stack_with(dev, Tap::default().faults(faults, 11));
    spawn_echo(TcpListener::bind(&stack, synack_addr(8080)).await.unwrap());
    let mut cmd = ns.command("python3");
    cmd.args(["-c", PY_ECHO_CLIENT, SYNACK_ADDR, &(10 << 20).to_string()]);
    let out = tokio::time::timeout(Duration::from_secs(120), run(cmd)).await;
    let c = stack.counters();
    let out = out.unwrap_or_else(|_| {
        panic!(
            "not done in time; counters {:?}; sockets {:?}",
            c.iter().filter(|x| x.1 > 0).collect::<Vec<_>>(),
            stack.sockets()
        )
    });
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "OK", "{}", String::from_utf8_lossy(&out.stderr));
    assert!(c.retransmitted_segments > 0, "losses were repaired by retransmission: {c:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pcap_tap_records_both_directions_in_a_file_tcpdump_reads() {
    let Some((ns, dev)) = setup("tk_pcap", &["python3", "tcpdump"]) else { return };
    let path = std::env::temp_dir().join(format!("synack-tap-{}.pcap", std::process::id()));
    let stack = stack_with(dev, Tap::default().pcap(&path).unwrap());
    spawn_echo(TcpListener::bind(&stack, synack_addr(8080)).await.unwrap());
    let mut cmd = ns.command("python3");
    cmd.args(["-c", PY_ECHO_CLIENT, SYNACK_ADDR, "1000"]);
    let out = tokio::time::timeout(TEST_LIMIT, run(cmd)).await.expect("in time");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "OK");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let td = std::process::Command::new("tcpdump").args(["-nn", "-r"]).arg(&path).output().expect("tcpdump runs");
    let lines = String::from_utf8_lossy(&td.stdout);
    assert!(
        lines.contains(&format!("{KERNEL_ADDR}.")) && lines.contains(&format!("> {SYNACK_ADDR}.8080: Flags [S]")),
        "{lines}"
    );
    assert!(lines.contains(&format!("{SYNACK_ADDR}.8080 > ")), "our own packets are in it too: {lines}");
    std::fs::remove_file(path).ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_any_ip_listener_accepts_connections_to_three_destinations_and_reports_each() {
    let Some((ns, dev)) = setup("tk_anyip", &["python3"]) else { return };
    // Everything in 10.50.0.0/16 is routed into the TUN device, as a tun2socks tool would do.
    ns.exec_ok(&["ip", "route", "add", "10.50.0.0/16", "dev", "syn0"]).expect("route");
    let stack = stack(dev);
    let listener = TcpListener::bind_any(&stack, 128).unwrap();
    let destinations = ["10.50.1.1:80", "10.50.2.2:443", "10.50.3.3:8080"];
    let script = r#"
import socket, sys
for d in sys.argv[1:]:
    host, port = d.split(":")
    s = socket.create_connection((host, int(port)), timeout=10)
    s.sendall(d.encode()); s.shutdown(socket.SHUT_WR)
    s.recv(1); s.close()
print("DONE")
"#;
    let mut cmd = ns.command("python3");
    cmd.args(["-c", script]).args(destinations);
    let client = tokio::spawn(run(cmd));
    for expected in destinations {
        let (mut stream, _) = tokio::time::timeout(TEST_LIMIT, listener.accept()).await.expect("in time").unwrap();
        let mut said = String::new();
        stream.read_to_string(&mut said).await.unwrap();
        assert_eq!(said, expected, "the client's own words");
        assert_eq!(stream.local_addr().unwrap().to_string(), expected, "the original destination");
    }
    let out = client.await.unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "DONE");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_synack_closes_first_it_waits_in_time_wait_and_the_kernel_socket_is_gone() {
    let Some((ns, dev)) = setup("tk_first", &["python3", "ss"]) else { return };
    let stack = stack(dev);
    let listener = TcpListener::bind(&stack, synack_addr(8080)).await.unwrap();
    // The kernel client waits for our FIN, then closes (the passive closer: LAST-ACK, CLOSED).
    let script = r#"
import socket, sys
s = socket.create_connection((sys.argv[1], 8080), timeout=10)
assert s.recv(10) == b"bye"
assert s.recv(10) == b""
s.close()
print("CLOSED")
"#;
    let mut cmd = ns.command("python3");
    cmd.args(["-c", script, SYNACK_ADDR]);
    let client = tokio::spawn(run(cmd));
    let (mut stream, peer) = tokio::time::timeout(TEST_LIMIT, listener.accept()).await.expect("in time").unwrap();
    stream.write_all(b"bye").await.unwrap();
    drop(stream); // synack closes first: FIN
    let out = client.await.unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "CLOSED", "{}", String::from_utf8_lossy(&out.stderr));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let ours = stack.sockets();
    assert!(
        ours.iter().any(|r| r.state == State::TimeWait && r.remote == Some(peer)),
        "synack's side is in TIME-WAIT: {ours:?}"
    );
    let ss = ns.exec_ok(&["ss", "-tan"]).expect("ss runs");
    assert!(!ss.contains(&format!("{SYNACK_ADDR}:8080")), "the kernel's socket is gone:\n{ss}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delay_fault_holds_packets_both_ways_and_transfers_still_complete() {
    let Some((ns, dev)) = setup("tk_delay", &["python3"]) else { return };
    let faults = Faults { delay: Duration::from_millis(25), ..Faults::default() };
    let stack = stack_with(dev, Tap::default().faults(faults, 3));
    spawn_echo(TcpListener::bind(&stack, synack_addr(8080)).await.unwrap());
    let started = std::time::Instant::now();
    let mut cmd = ns.command("python3");
    cmd.args(["-c", PY_ECHO_CLIENT, SYNACK_ADDR, &(256 << 10).to_string()]);
    let out = tokio::time::timeout(TEST_LIMIT, run(cmd)).await.expect("in time");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "OK", "{}", String::from_utf8_lossy(&out.stderr));
    // The handshake alone crosses the delay twice (SYN-ACK out, ACK in after the SYN in).
    assert!(started.elapsed() >= Duration::from_millis(100), "took {:?}", started.elapsed());
}

/// A kernel server that accepts, never reads, and holds the connection for a few seconds.
const PY_STALLED_SERVER: &str = r#"
import socket, time
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
srv.bind(("0.0.0.0", 9300)); srv.listen(1)
print("READY", flush=True)
c, _ = srv.accept()
time.sleep(5)
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
/// `Stack::close` waits for what can finish and, at its timeout, resets what cannot and says
/// so: here a peer that never reads, with more queued than its window takes.
async fn close_reports_and_resets_a_connection_whose_peer_never_reads() {
    let Some((ns, dev)) = setup("tk_close", &["python3"]) else { return };
    let stack = stack(dev);
    let mut server = ns.command("python3");
    server.args(["-c", PY_STALLED_SERVER]).stdout(Stdio::piped()).stderr(Stdio::null());
    let mut server = server.spawn().expect("python3 starts");
    let mut ready = String::new();
    BufReader::new(server.stdout.take().unwrap()).read_line(&mut ready).unwrap();
    assert_eq!(ready.trim(), "READY");
    let peer: SocketAddr = format!("{KERNEL_ADDR}:9300").parse().unwrap();
    let mut stream = TcpStream::connect(&stack, peer).await.expect("connects");
    let mut queued = 0;
    let chunk = vec![7u8; 64 * 1024];
    // Write until the send buffer is full (the peer's window closed behind it).
    while let Ok(Ok(n)) = tokio::time::timeout(Duration::from_millis(500), stream.write(&chunk)).await {
        queued += n;
    }
    assert!(queued > 0);
    let report = tokio::time::timeout(TEST_LIMIT, stack.close(Duration::from_secs(1))).await.expect("in time");
    assert_eq!(report.abandoned.len(), 1, "{report:?}");
    let gave_up = &report.abandoned[0];
    assert_eq!(gave_up.peer, peer);
    assert!(gave_up.unacked_bytes > 0, "{report:?}");
    assert!(stack.sockets().iter().all(|s| s.remote != Some(peer)), "reset: {:?}", stack.sockets());
    let _ = server.kill();
    let _ = server.wait();
}
