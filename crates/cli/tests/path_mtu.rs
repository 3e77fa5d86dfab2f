//! Path MTU discovery on a real wire (RFC 1191): a kernel client in one network namespace, and
//! `synack serve` in another whose kernel routes between synack's TUN device (MTU 1500) and a
//! veth link to the client with a smaller MTU (1200; the client's end keeps 1500, so its SYN
//! announces MSS 1460). synack's full-sized segments meet the narrow link; the kernel router
//! answers each with Fragmentation Needed, and the download completes only if synack shrinks
//! its segments and resends. Both namespaces are the test's own (deleted at the end), with no
//! route out. Needs root, /dev/net/tun, ip and curl; skipped with a reason otherwise, unless
//! SYNACK_NO_SKIP=1.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use synack_sim::skip::require_root_tun_and_tools;
use synack_tun::netns::NetNs;

const SIZE_BYTES: usize = 10_000_000;

#[test]
fn a_download_through_a_narrower_link_completes() {
    if !require_root_tun_and_tools("path_mtu", &["ip", "curl"]) {
        return;
    }
    let pid = std::process::id();
    let router = NetNs::create(&format!("synack-pmtu-r-{pid}")).expect("router namespace");
    let client = NetNs::create(&format!("synack-pmtu-c-{pid}")).expect("client namespace");
    let ip = |ns: &NetNs, cmd: &str| {
        let mut args = vec!["ip"];
        args.extend(cmd.split(' '));
        ns.exec_ok(&args).unwrap_or_else(|e| panic!("ip {cmd}: {e}"));
    };
    ip(&router, &format!("link add pmtu-r mtu 1200 type veth peer name pmtu-c netns {}", client.name()));
    ip(&router, "addr add 10.206.1.1/24 dev pmtu-r");
    ip(&router, "link set pmtu-r up");
    router.exec_ok(&["sysctl", "-qw", "net.ipv4.ip_forward=1"]).expect("forwarding on");
    ip(&client, "addr add 10.206.1.2/24 dev pmtu-c");
    ip(&client, "link set pmtu-c up");
    ip(&client, "route add 10.207.0.0/24 via 10.206.1.1");
    let server = router
        .command(env!("CARGO_BIN_EXE_synack"))
        .args(["serve", "--tun", "pmtu0", "--addr", "10.207.0.1/24", "--port", "8080", "--mode", "http"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("synack serve starts");
    let fetch = |path: &str, max_secs: &str| {
        client
            .command("curl")
            .args(["-s", "--fail", "--max-time", max_secs, "-o", "/dev/null", "-w", "%{size_download}"])
            .arg(format!("http://10.207.0.2:8080{path}"))
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
    };
    let deadline = Instant::now() + Duration::from_secs(15);
    while fetch("/bytes/10", "3").is_none() {
        assert!(Instant::now() < deadline, "synack serve did not answer through the router in 15 s");
        std::thread::sleep(Duration::from_millis(100));
    }
    let got = fetch(&format!("/bytes/{SIZE_BYTES}"), "60");
    let pid = server.id().to_string();
    Command::new("kill").args(["-INT", &pid]).status().ok();
    let out = server.wait_with_output().expect("serve exits");
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!(
        "{}",
        stdout
            .lines()
            .filter(|l| l.contains("pmtu") || l.contains("icmp") || l.contains("retransmitted"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert_eq!(got.as_deref(), Some(SIZE_BYTES.to_string().as_str()), "the download completed\n{stdout}");
    assert!(stdout.contains("pmtu_resends"), "Fragmentation Needed made synack resend smaller: {stdout}");
    assert!(stdout.contains("icmp_errors_in"), "{stdout}");
}
