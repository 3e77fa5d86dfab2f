use siphasher::sip::SipHasher13;
use std::fmt;
use std::hash::{BuildHasher, Hash, Hasher};
use std::net::{IpAddr, SocketAddr};

/// A connection's identity seen from this endpoint: local and remote address and port.
/// 38 bytes with no padding, so that the small records that hold one stay small.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct FourTuple {
    pub local_ip: IpAddr,
    pub remote_ip: IpAddr,
    pub local_port: u16,
    pub remote_port: u16,
}

impl FourTuple {
    pub fn new(local: SocketAddr, remote: SocketAddr) -> FourTuple {
        FourTuple { local_ip: local.ip(), remote_ip: remote.ip(), local_port: local.port(), remote_port: remote.port() }
    }
    pub fn local(&self) -> SocketAddr {
        SocketAddr::new(self.local_ip, self.local_port)
    }
    pub fn remote(&self) -> SocketAddr {
        SocketAddr::new(self.remote_ip, self.remote_port)
    }
}

impl Hash for FourTuple {
    /// A few whole words instead of field by field: demultiplexing hashes every packet's
    /// tuple, and each `write` into SipHash has a fixed cost.
    fn hash<H: Hasher>(&self, h: &mut H) {
        let ports = (self.local_port as u64) << 16 | self.remote_port as u64;
        match (self.local_ip, self.remote_ip) {
            (IpAddr::V4(l), IpAddr::V4(r)) => {
                h.write_u64((u32::from(l) as u64) << 32 | u32::from(r) as u64);
                h.write_u64(ports);
            }
            (l, r) => {
                let words = |ip: IpAddr| match ip {
                    IpAddr::V4(v4) => v4.to_ipv6_mapped().to_bits(),
                    IpAddr::V6(v6) => v6.to_bits(),
                };
                h.write_u128(words(l));
                h.write_u128(words(r));
                h.write_u64(ports | 1 << 32);
            }
        }
    }
}

/// The hasher of the endpoint's tables: SipHash-1-3 (what std uses) with keys drawn from the
/// seeded config instead of the operating system, so that runs stay deterministic. Keep
/// `rng_seed` secret where peers are untrusted: the keys are what defeat hash flooding.
#[derive(Clone, Copy, Debug)]
pub struct SeededState {
    k0: u64,
    k1: u64,
}

impl SeededState {
    pub fn new(k0: u64, k1: u64) -> SeededState {
        SeededState { k0, k1 }
    }
}

impl BuildHasher for SeededState {
    type Hasher = SipHasher13;
    fn build_hasher(&self) -> SipHasher13 {
        SipHasher13::new_with_keys(self.k0, self.k1)
    }
}

impl fmt::Debug for FourTuple {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} <-> {}", self.local(), self.remote())
    }
}
