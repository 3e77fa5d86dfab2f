//! A listener: its address, its backlog, and the two queues of RFC 9293 §3.10.7.2 as real
//! stacks build them: the SYN queue (half-open entries, held in the endpoint's half-open table
//! and counted here) and the accept queue (established connections not yet accepted).

use crate::handle::ConnHandle;
use crate::IpFields;
use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};

/// A listening address as the endpoint's listener table keys it: integers. Keyed by
/// `SocketAddr`, a SYN's lookup built the address on the stack (a tag byte, then the
/// address) and the table's hash and comparison read it back in loads wider than those
/// stores, which wait for them to reach the cache; this key is read as it was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct ListenKey {
    /// An IPv4 address in the low 32 bits, an IPv6 address whole.
    ip: u128,
    /// The port, and bit 16 set for IPv6 (so that 0.0.0.1 and ::1 differ).
    port_and_family: u32,
}
// An IPv6 socket address's flow label and scope id are not part of the key: a packet carries
// neither, so a listener is found by address and port alone (keyed by `SocketAddr`, one
// opened with a scope id was never found).

impl ListenKey {
    #[inline(always)]
    pub fn new(ip: &IpAddr, port: u16) -> ListenKey {
        match ip {
            IpAddr::V4(v4) => ListenKey { ip: u32::from(*v4) as u128, port_and_family: port as u32 },
            IpAddr::V6(v6) => ListenKey { ip: v6.to_bits(), port_and_family: 1 << 16 | port as u32 },
        }
    }

    pub fn of(addr: SocketAddr) -> ListenKey {
        ListenKey::new(&addr.ip(), addr.port())
    }
}

#[derive(Debug)]
pub(crate) struct Listener {
    pub addr: SocketAddr,
    /// Accept-queue bound: `listen`'s backlog capped by `somaxconn`, as `listen(2)` does.
    pub backlog: usize,
    /// Half-open entries of this listener (the SYN queue's length).
    pub syn_queue_len: usize,
    pub accept_queue: VecDeque<ConnHandle>,
    /// `TCP_NOOPT`: SYN-ACKs carry no options and the SYN's are ignored (but its MSS).
    pub no_options: bool,
    /// `TCP_MAXSEG`: the largest segment its connections announce and send.
    pub max_segment: Option<u16>,
    /// IP_TTL and IP_TOS, for its SYN-ACKs, RSTs and connections.
    pub ip: IpFields,
    /// TCP_MD5SIG: segments from a peer with a key are signed and must be (RFC 2385).
    pub md5: bool,
    /// False for a socket only bound (`Endpoint::bind`): it holds the address and answers
    /// as CLOSED does until `listen` turns it into a listener.
    pub listening: bool,
    /// When the listener last answered a SYN with a cookie: ACKs are checked for cookies
    /// only for a while after (`syncookie.rs`), as Linux's `tcp_synq_no_recent_overflow`.
    pub last_cookie: Option<crate::Instant>,
}

impl Listener {
    pub fn new(addr: SocketAddr, backlog: usize) -> Listener {
        Listener {
            addr,
            backlog,
            syn_queue_len: 0,
            accept_queue: VecDeque::new(),
            no_options: false,
            max_segment: None,
            ip: IpFields::default(),
            md5: false,
            listening: true,
            last_cookie: None,
        }
    }

    pub fn accept_queue_full(&self) -> bool {
        self.accept_queue.len() >= self.backlog
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_differ_exactly_when_the_addresses_do() {
        let addrs: Vec<SocketAddr> = [
            "0.0.0.1:80",
            "0.0.0.1:81",
            "10.0.0.1:80",
            "0.0.0.0:80",
            "[::1]:80",
            "[::]:80",
            "[::ffff:10.0.0.1]:80",
            "[::10.0.0.1]:80",
            "[fe80::1]:80",
            "[fe80::1]:65535",
        ]
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
        for a in &addrs {
            for b in &addrs {
                assert_eq!(ListenKey::of(*a) == ListenKey::of(*b), a == b, "{a} and {b}");
            }
        }
        let scoped = SocketAddr::V6(std::net::SocketAddrV6::new("fe80::1".parse().unwrap(), 80, 7, 3));
        assert_eq!(ListenKey::of(scoped), ListenKey::of("[fe80::1]:80".parse().unwrap()));
    }
}
