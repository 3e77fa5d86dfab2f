use std::fmt;
use std::net::{IpAddr, SocketAddr};

/// A connection's identity seen from this endpoint: local and remote address and port.
/// 38 bytes with no padding, so that the small records that hold one stay small.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
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

impl fmt::Debug for FourTuple {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} <-> {}", self.local(), self.remote())
    }
}
