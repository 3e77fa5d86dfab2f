//! A Linux TUN device that moves raw IPv4 and IPv6 packets, and the network-namespace helper
//! the real-wire tests use. It knows nothing about TCP.

pub mod netns;

use std::io;
use std::os::fd::AsRawFd;

/// An open TUN device (no packet-information header: each read is one IP packet).
pub struct TunDevice {
    device: tun_rs::SyncDevice,
    name: String,
    mtu: usize,
}

impl TunDevice {
    /// Creates (or attaches to) the TUN device `name` with the given MTU, in the calling
    /// thread's network namespace. Needs root (CAP_NET_ADMIN) and /dev/net/tun.
    pub fn open(name: &str, mtu: u16) -> io::Result<TunDevice> {
        if !std::path::Path::new("/dev/net/tun").exists() {
            return Err(io::Error::new(io::ErrorKind::NotFound, "/dev/net/tun does not exist (no TUN support here)"));
        }
        let device =
            tun_rs::DeviceBuilder::new().name(name).mtu(mtu).packet_information(false).build_sync().map_err(|e| {
                let hint = if e.kind() == io::ErrorKind::PermissionDenied {
                    " (creating a TUN device needs root or CAP_NET_ADMIN)"
                } else {
                    ""
                };
                io::Error::new(e.kind(), format!("cannot create TUN device {name}: {e}{hint}"))
            })?;
        Ok(TunDevice { device, name: name.to_string(), mtu: mtu as usize })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn mtu(&self) -> usize {
        self.mtu
    }

    /// Sends one IP packet.
    pub fn send(&self, packet: &[u8]) -> io::Result<()> {
        self.device.send(packet).map(|_| ())
    }

    /// Non-blocking mode, for event loops (reads then fail with `WouldBlock`).
    pub fn set_nonblocking(&self, on: bool) -> io::Result<()> {
        self.device.set_nonblocking(on)
    }

    /// Reads one packet; in non-blocking mode `WouldBlock` when none is waiting.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.device.recv(buf)
    }
}

impl AsRawFd for TunDevice {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.device.as_raw_fd()
    }
}
