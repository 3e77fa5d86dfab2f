//! The README's tokio example, run the way a user runs it: as a program whose `main` returns
//! (its runtime, and so the stack, dies with it) while the kernel's client is still reading.
//! The echo and the FIN must reach the client all the same: the example ends with
//! `Stack::close`. Needs root and /dev/net/tun (skipped with a reason otherwise, unless
//! SYNACK_NO_SKIP=1); the namespace is made and deleted here.

use std::time::Duration;
use synack_sim::skip::require_root_tun_and_tools;
use synack_tun::netns::NetNs;

// README BEGIN
use synack_runtime::{Stack, TcpListener};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn readme_main() -> Result<(), Box<dyn std::error::Error>> {
    // A TUN device (root or CAP_NET_ADMIN); give the kernel side its address with `ip`.
    let dev = synack_tun::TunDevice::open("syn0", 1500)?; // or open_with_offload: GSO/GRO
    let stack = Stack::new(synack_engine::Config::default(), &["10.200.0.2".parse()?], dev)?;
    let listener = TcpListener::bind(&stack, "10.200.0.2:8080".parse()?).await?;
    let (mut stream, peer) = listener.accept().await?;
    let mut buf = [0u8; 1024];
    let n = stream.read(&mut buf).await?;
    stream.write_all(&buf[..n]).await?;
    stream.shutdown().await?; // FIN; reading goes on (half-close)
    println!("{peer}: {:?}", stack.sockets()); // like `ss -tan`

    // The stack lives in this process: let the echo and the FIN be acknowledged before
    // `main` returns, or they are lost with it.
    let report = stack.close(std::time::Duration::from_secs(5)).await;
    println!("{} finished, {} abandoned", report.finished, report.abandoned.len());
    Ok(())
}
// README END

/// The kernel's client: sends a line, half-closes, and prints what comes back until EOF.
const PY_CLIENT: &str = r#"
import socket, sys
s = socket.create_connection(("10.200.0.2", 8080), timeout=10)
s.sendall(b"hello, synack\n")
s.shutdown(socket.SHUT_WR)
got = b""
while True:
    chunk = s.recv(1024)
    if not chunk:
        break
    got += chunk
sys.stdout.write(got.decode())
"#;

#[test]
fn the_readme_example_delivers_its_echo_though_main_returns_at_once() {
    if !require_root_tun_and_tools("readme_example", &["ip", "python3"]) {
        return;
    }
    let ns = NetNs::create(&format!("synack-readme-{}", std::process::id())).expect("namespace");
    std::thread::scope(|scope| {
        // The "program": its own runtime, in the namespace, dropped as soon as main returns.
        let program = scope.spawn(|| {
            ns.enter(|| {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                let bounded = async { tokio::time::timeout(Duration::from_secs(30), readme_main()).await };
                rt.block_on(bounded).map_err(|_| "timed out".to_string())?.map_err(|e| e.to_string())
            })
        });
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while ns.exec_ok(&["ip", "link", "show", "syn0"]).is_err() {
            assert!(std::time::Instant::now() < deadline, "the example never opened its device");
            std::thread::sleep(Duration::from_millis(20));
        }
        ns.exec_ok(&["ip", "addr", "add", "10.200.0.1/24", "dev", "syn0"]).expect("address");
        ns.exec_ok(&["ip", "link", "set", "syn0", "up"]).expect("link up");
        let out = ns.command("timeout").args(["20", "python3", "-c", PY_CLIENT]).output().expect("python3 runs");
        let result = program.join().expect("the program thread").expect("enter the namespace");
        assert_eq!(result, Ok(()));
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "hello, synack\n",
            "the echo, then EOF: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success());
    });
}

#[test]
fn the_readme_shows_this_example() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let this = std::fs::read_to_string(file!())
        .or_else(|_| std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/readme_example.rs")))
        .unwrap();
    let example = this.split("// README BEGIN\n").nth(1).unwrap().split("// README END").next().unwrap();
    let example = example.replace("async fn readme_main()", "#[tokio::main]\nasync fn main()");
    assert!(readme.contains(&example), "README.md's tokio example differs from tests/readme_example.rs:\n{example}");
}
