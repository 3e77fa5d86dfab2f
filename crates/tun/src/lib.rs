//! A Linux TUN device that moves raw IPv4 and IPv6 packets, and the network-namespace helper
//! the real-wire tests use. It knows nothing about TCP.

pub mod netns;

use std::io;
use std::os::fd::AsRawFd;
use std::time::Duration;

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

    /// Waits up to `timeout` (forever with None) for a packet; `Ok(None)` when none came.
    pub fn recv_timeout(&self, buf: &mut [u8], timeout: Option<Duration>) -> io::Result<Option<usize>> {
        let mut pfd = libc::pollfd { fd: self.device.as_raw_fd(), events: libc::POLLIN, revents: 0 };
        let ms = timeout.map_or(-1, |t| t.as_millis().min(i32::MAX as u128) as i32);
        // SAFETY: one valid pollfd for the duration of the call.
        let ready = unsafe { libc::poll(&mut pfd, 1, ms) };
        if ready < 0 {
            let err = io::Error::last_os_error();
            return if err.kind() == io::ErrorKind::Interrupted { Ok(None) } else { Err(err) };
        }
        if ready == 0 {
            return Ok(None);
        }
        self.device.recv(buf).map(Some)
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
