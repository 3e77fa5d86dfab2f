//! Path MTU discovery on a real wire (RFC 1191, RFC 8201): a kernel client in one network
//! namespace, and `synack serve` in another whose kernel routes between synack's TUN device
//! (MTU 1500) and a veth link to the client with a smaller MTU (1200 for IPv4, 1300 for IPv6;
//! the client's end keeps 1500, so its SYN announces the larger MSS). synack's full-sized
//! segments meet the narrow link; the kernel router answers each with Fragmentation Needed
//! (ICMPv6 Packet Too Big), and the download completes only if synack shrinks its segments and
//! resends. Both namespaces are the test's own (deleted at the end), with no route out. Needs
//! root, /dev/net/tun, ip and curl; skipped with a reason otherwise, unless SYNACK_NO_SKIP=1.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use synack_sim::skip::require_root_tun_and_tools;
use synack_tun::netns::NetNs;

const SIZE_BYTES: usize = 10_000_000;

/// The addresses and the narrow link's MTU of one IP version.
struct Plan {
    tag: &'static str,
    /// The narrow link's MTU (IPv6 needs at least 1280 on a link).
    mtu: u32,
    router_link: &'static str,
    client_link: &'static str,
    route: &'static str,
    forwarding: &'static str,
    tun_side: &'static str,
    url_host: &'static str,
}

#[test]
fn an_ipv4_download_through_a_narrower_link_completes() {
    download_through_narrow_link(Plan {
        tag: "4",
        mtu: 1200,
        router_link: "10.206.1.1/24",
        client_link: "10.206.1.2/24",
        route: "10.207.0.0/24 via 10.206.1.1",
        forwarding: "net.ipv4.ip_forward=1",
        tun_side: "10.207.0.1/24",
        url_host: "10.207.0.2",
    });
}

/// RFC 8201: the kernel router answers with ICMPv6 Packet Too Big.
#[test]
fn an_ipv6_download_through_a_narrower_link_completes() {
    download_through_narrow_link(Plan {
        tag: "6",
        mtu: 1300,
        router_link: "fd00:206::1/64",
        client_link: "fd00:206::2/64",
        route: "fd00:207::/64 via fd00:206::1",
        forwarding: "net.ipv6.conf.all.forwarding=1",
        tun_side: "fd00:207::1/64",
        url_host: "[fd00:207::2]",
    });
}

fn download_through_narrow_link(plan: Plan) {
    if !require_root_tun_and_tools(&format!("path_mtu_ipv{}", plan.tag), &["ip", "curl"]) {
        return;
    }
    let pid = std::process::id();
    let router = NetNs::create(&format!("synack-pmtu{}-r-{pid}", plan.tag)).expect("router namespace");
    let client = NetNs::create(&format!("synack-pmtu{}-c-{pid}", plan.tag)).expect("client namespace");
    let ip = |ns: &NetNs, cmd: &str| {
        ns.exec_line(&format!("ip {cmd}")).unwrap_or_else(|e| panic!("ip {cmd}: {e}"));
    };
    ip(&router, &format!("link add pmtu-r mtu {} type veth peer name pmtu-c netns {}", plan.mtu, client.name()));
    ip(&router, &format!("addr add {} dev pmtu-r nodad", plan.router_link));
    ip(&router, "link set pmtu-r up");
    router.exec_ok(&["sysctl", "-qw", plan.forwarding]).expect("forwarding on");
    ip(&client, &format!("addr add {} dev pmtu-c nodad", plan.client_link));
    ip(&client, "link set pmtu-c up");
    ip(&client, &format!("route add {}", plan.route));
    let server = router
        .command(env!("CARGO_BIN_EXE_synack"))
        .args(["serve", "--tun", "pmtu0", "--addr", plan.tun_side, "--port", "8080", "--mode", "http"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("synack serve starts");
    let fetch = |path: &str, max_secs: &str| {
        client
            .command("curl")
            .args(["-s", "--fail", "--max-time", max_secs, "-o", "/dev/null", "-w", "%{size_download}"])
            .arg(format!("http://{}:8080{path}", plan.url_host))
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
        "IPv{}: {}",
        plan.tag,
        stdout
            .lines()
            .filter(|l| l.contains("pmtu") || l.contains("icmp") || l.contains("retransmitted"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert_eq!(got.as_deref(), Some(SIZE_BYTES.to_string().as_str()), "the download completed\n{stdout}");
    assert!(stdout.contains("pmtu_resends"), "the ICMP error made synack resend smaller: {stdout}");
    assert!(stdout.contains("icmp_errors_in"), "{stdout}");
}
