//! Shared by the real-wire tests: a namespace with a TUN device inside it.
#![allow(dead_code)]

use synack_sim::skip::require_root_tun_and_tools;
use synack_tun::netns::NetNs;
use synack_tun::TunDevice;

pub const KERNEL_ADDR: &str = "10.200.0.1";
pub const SYNACK_ADDR: &str = "10.200.0.2";

/// A namespace with a TUN device inside it and the kernel's address on it; None if skipped.
pub fn setup(test: &str, tools: &[&str]) -> Option<(NetNs, TunDevice)> {
    setup_with(test, tools, false)
}

/// `setup` with the device's GSO/GRO offload on (super-packets split and coalesced).
pub fn setup_offload(test: &str, tools: &[&str]) -> Option<(NetNs, TunDevice)> {
    setup_with(test, tools, true)
}

fn setup_with(test: &str, tools: &[&str], offload: bool) -> Option<(NetNs, TunDevice)> {
    let mut needed = vec!["ip"];
    needed.extend_from_slice(tools);
    if !require_root_tun_and_tools(test, &needed) {
        return None;
    }
    let name = format!("synack-{}-{}", &test[..test.len().min(12)], std::process::id());
    let ns = NetNs::create(&name).expect("create the namespace");
    let open = move || if offload { TunDevice::open_with_offload("syn0", 1500) } else { TunDevice::open("syn0", 1500) };
    let dev = ns.enter(open).expect("enter the namespace").expect("open the TUN device");
    ns.exec_ok(&["ip", "addr", "add", &format!("{KERNEL_ADDR}/24"), "dev", "syn0"]).expect("address");
    ns.exec_ok(&["ip", "link", "set", "syn0", "up"]).expect("link up");
    Some((ns, dev))
}

/// A kernel-side echo client: sends argv[2] bytes to argv[1]:8080 while a thread reads the echo
/// (reading only after sending would let both sides' buffers fill and stall), half-closes
/// first, and prints OK if every byte came back in order.
pub const PY_ECHO_CLIENT: &str = r#"
import socket, sys, threading
data = bytes((i * 7 + (i >> 9)) % 256 for i in range(int(sys.argv[2])))
s = socket.create_connection((sys.argv[1], 8080), timeout=60)
got = bytearray()
def reader():                       # read while writing, or both sides' buffers fill and stall
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        got.extend(chunk)
t = threading.Thread(target=reader); t.start()
s.sendall(data)
s.shutdown(socket.SHUT_WR)          # half-close first: the tail must still come back
t.join()
print("OK" if bytes(got) == data else "MISMATCH %d of %d" % (len(got), len(data)))
"#;
