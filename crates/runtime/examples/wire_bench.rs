//! Real-wire figures for docs/BENCHMARKS.md, measured in one run (root; creates and deletes its
//! own network namespaces, talks only inside them):
//! - one connection's throughput kernel -> synack and synack -> kernel over the TUN device,
//! - beside kernel -> kernel over a veth pair between two namespaces,
//! - the time to accept 10,000 sequential connections.
//!
//! `cargo run --release -p synack-runtime --example wire_bench [MiB]` (default 200 MiB).

use std::process::Command;
use std::time::Duration;
use synack_engine::Config;
use synack_runtime::{Stack, TcpListener};
use synack_tun::netns::NetNs;
use synack_tun::TunDevice;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PY_SEND: &str = r#"
import socket, sys, time
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
buf = b"x" * (1 << 20)
s = socket.create_connection((host, port)); t = time.time()
for _ in range(n): s.sendall(buf)
s.shutdown(socket.SHUT_WR); s.recv(1); dt = time.time() - t
print("%.3f" % dt)
"#;

const PY_RECV: &str = r#"
import socket, sys, time
host, port = sys.argv[1], int(sys.argv[2])
s = socket.create_connection((host, port)); t = time.time(); total = 0
while True:
    b = s.recv(1 << 20)
    if not b: break
    total += len(b)
print("%.3f %d" % (time.time() - t, total))
"#;

const PY_SINK_SERVER: &str = r#"
import socket, sys
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((sys.argv[1], int(sys.argv[2]))); srv.listen(1); print("READY", flush=True)
c, _ = srv.accept()
while c.recv(1 << 20): pass
c.close()
"#;

const PY_ACCEPTS: &str = r#"
import socket, sys, time
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
t = time.time()
for _ in range(n):
    s = socket.create_connection((host, port)); s.close()
print("%.3f" % (time.time() - t))
"#;

/// synack's send and receive buffers.
const BUFFER: usize = 4 << 20;

fn mbit(mib: u64, secs: f64) -> f64 {
    (mib as f64) * 8.0 * 1.048576 / secs
}

fn main() {
    let mib: u64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(200);
    // The same MTU on the TUN device, synack's engine and the veth pair.
    let mtu: u16 = std::env::args().nth(2).and_then(|s| s.parse().ok()).unwrap_or(1500);
    // `offload`: the TUN device moves GSO/GRO super-packets (see synack_tun::TunDevice).
    let offload = std::env::args().nth(3).as_deref() == Some("offload");
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();

    // kernel <-> synack over TUN
    let ns = NetNs::create(&format!("synack-bench-{}", std::process::id())).expect("namespace (root?)");
    let dev = ns
        .enter(move || if offload { TunDevice::open_with_offload("syn0", mtu) } else { TunDevice::open("syn0", mtu) })
        .unwrap()
        .unwrap();
    ns.exec_ok(&["ip", "addr", "add", "10.210.0.1/24", "dev", "syn0"]).unwrap();
    ns.exec_ok(&["ip", "link", "set", "syn0", "up"]).unwrap();
    let (to_synack, from_synack, accept_secs) = runtime.block_on(async {
        // 4 MiB buffers: what Linux's autotuning reaches (tcp_wmem/tcp_rmem ceilings), so that
        // the window is not the limit at tens of Gbit/s.
        let config = Config::default().with(|c| {
            c.mtu = mtu as usize;
            c.tcp_wmem.default = BUFFER;
            c.tcp_rmem.default = BUFFER;
        });
        let stack = Stack::new(config, &["10.210.0.2".parse().unwrap()], dev).unwrap();
        let sink = TcpListener::bind(&stack, "10.210.0.2:8080".parse().unwrap()).await.unwrap();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = sink.accept().await {
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 1 << 16];
                    while s.read(&mut buf).await.unwrap_or(0) > 0 {}
                    let _ = s.shutdown().await;
                });
            }
        });
        let source = TcpListener::bind(&stack, "10.210.0.2:8081".parse().unwrap()).await.unwrap();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = source.accept().await {
                tokio::spawn(async move {
                    let buf = vec![b'y'; 1 << 20];
                    for _ in 0..mib {
                        if s.write_all(&buf).await.is_err() {
                            return;
                        }
                    }
                    let _ = s.shutdown().await;
                });
            }
        });
        let run = |script: &'static str, args: Vec<String>| {
            let mut c = ns.command("python3");
            c.args(["-c", script]).args(args);
            tokio::task::spawn_blocking(move || String::from_utf8_lossy(&c.output().unwrap().stdout).trim().to_string())
        };
        let t1: f64 =
            run(PY_SEND, vec!["10.210.0.2".into(), "8080".into(), mib.to_string()]).await.unwrap().parse().unwrap();
        let out = run(PY_RECV, vec!["10.210.0.2".into(), "8081".into()]).await.unwrap();
        let t2: f64 = out.split(' ').next().unwrap().parse().unwrap();
        let t3: f64 =
            run(PY_ACCEPTS, vec!["10.210.0.2".into(), "8080".into(), "10000".into()]).await.unwrap().parse().unwrap();
        (t1, t2, t3)
    });
    drop(ns);

    // kernel <-> kernel over veth, between two namespaces
    let a = NetNs::create(&format!("synack-bench-a-{}", std::process::id())).unwrap();
    let b = NetNs::create(&format!("synack-bench-b-{}", std::process::id())).unwrap();
    a.exec_ok(&["ip", "link", "add", "va", "type", "veth", "peer", "name", "vb", "netns", b.name()]).unwrap();
    a.exec_ok(&["ip", "addr", "add", "10.211.0.1/24", "dev", "va"]).unwrap();
    a.exec_ok(&["ip", "link", "set", "va", "mtu", &mtu.to_string(), "up"]).unwrap();
    b.exec_ok(&["ip", "addr", "add", "10.211.0.2/24", "dev", "vb"]).unwrap();
    b.exec_ok(&["ip", "link", "set", "vb", "mtu", &mtu.to_string(), "up"]).unwrap();
    let mut server = b.command("python3");
    server.args(["-c", PY_SINK_SERVER, "10.211.0.2", "9000"]).stdout(std::process::Stdio::piped());
    let mut server = server.spawn().unwrap();
    let mut ready = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(server.stdout.take().unwrap()), &mut ready).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let out = a.command("python3").args(["-c", PY_SEND, "10.211.0.2", "9000", &mib.to_string()]).output().unwrap();
    let veth: f64 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    let _ = server.wait();
    drop((a, b));
    let _ = Command::new("true").status();

    println!(
        "payload {mib} MiB per direction, one connection, MTU {mtu}, TUN offload {offload}, synack buffers {} KiB",
        BUFFER >> 10
    );
    println!("kernel -> synack over TUN : {:8.1} Mbit/s ({:.2} s)", mbit(mib, to_synack), to_synack);
    println!("synack -> kernel over TUN : {:8.1} Mbit/s ({:.2} s)", mbit(mib, from_synack), from_synack);
    println!("kernel -> kernel over veth: {:8.1} Mbit/s ({:.2} s)", mbit(mib, veth), veth);
    println!("ratios to veth: kernel->synack {:.2}, synack->kernel {:.2}", veth / to_synack, veth / from_synack);
    println!(
        "10,000 sequential connects accepted by synack: {accept_secs:.2} s ({:.0} per second)",
        10_000.0 / accept_secs
    );
}
