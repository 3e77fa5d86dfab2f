//! Packet devices for a stack: a Linux TUN device that moves raw IPv4 and IPv6 packets, a
//! `PacketPipe` pair that joins two stacks in one process (no root needed), the
//! `PacketDevice` trait both implement, and the network-namespace helper of the real-wire
//! tests. Nothing here knows about TCP.

#![deny(missing_docs)]

mod device;
pub mod netns;
mod pipe;

pub use device::PacketDevice;
pub use pipe::PacketPipe;

use std::io;
use std::os::fd::AsRawFd;

/// An open TUN device (no packet-information header: each read is one IP packet).
///
/// With offload (`open_with_offload`) the kernel hands over and takes TCP super-packets of up
/// to 64 KiB behind a virtio-net header (GSO/GRO, as wireguard-go does); `recv_batch` splits
/// them into MTU-sized packets with their checksums and `send_batch` coalesces consecutive
/// segments of a flow, so one system call carries many packets either way. Callers see plain
/// IP packets in both modes.
pub struct TunDevice {
    device: tun_rs::SyncDevice,
    name: String,
    mtu: usize,
    offload: bool,
}

/// Bytes `send_batch` wants free in front of each packet (for the virtio-net header).
pub const BATCH_HEADROOM: usize = tun_rs::VIRTIO_NET_HDR_LEN;
/// A good number of packets per `recv_batch` / `send_batch`.
pub const BATCH_SIZE: usize = tun_rs::IDEAL_BATCH_SIZE;

// virtio_net_hdr values (linux/virtio_net.h).
const VIRTIO_NET_HDR_F_NEEDS_CSUM: u8 = 1;
const VIRTIO_NET_HDR_F_DATA_VALID: u8 = 2;
const VIRTIO_NET_HDR_GSO_TCPV4: u8 = 1;
const VIRTIO_NET_HDR_GSO_TCPV6: u8 = 4;
const VIRTIO_NET_HDR_GSO_ECN: u8 = 0x80;

/// State `send_batch` keeps between calls (coalescing tables), reused to avoid allocations.
#[derive(Default)]
pub struct SendBatch {
    gro: tun_rs::GROTable,
}

impl TunDevice {
    /// Creates (or attaches to) the TUN device `name` with the given MTU, in the calling
    /// thread's network namespace. Needs root (CAP_NET_ADMIN) and /dev/net/tun.
    pub fn open(name: &str, mtu: u16) -> io::Result<TunDevice> {
        TunDevice::open_with(name, mtu, false)
    }

    /// Like `open`, with GSO/GRO offload (see the type's documentation).
    pub fn open_with_offload(name: &str, mtu: u16) -> io::Result<TunDevice> {
        TunDevice::open_with(name, mtu, true)
    }

    fn open_with(name: &str, mtu: u16, offload: bool) -> io::Result<TunDevice> {
        if !std::path::Path::new("/dev/net/tun").exists() {
            return Err(io::Error::new(io::ErrorKind::NotFound, "/dev/net/tun does not exist (no TUN support here)"));
        }
        let device = tun_rs::DeviceBuilder::new()
            .name(name)
            .mtu(mtu)
            .packet_information(false)
            .offload(offload)
            .build_sync()
            .map_err(|e| {
                let hint = if e.kind() == io::ErrorKind::PermissionDenied {
                    " (creating a TUN device needs root or CAP_NET_ADMIN)"
                } else {
                    ""
                };
                io::Error::new(e.kind(), format!("cannot create TUN device {name}: {e}{hint}"))
            })?;
        Ok(TunDevice { device, name: name.to_string(), mtu: mtu as usize, offload })
    }

    /// Whether the device was opened with GSO/GRO offload.
    pub fn offload(&self) -> bool {
        self.offload
    }

    /// The device's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The device's MTU.
    pub fn mtu(&self) -> usize {
        self.mtu
    }

    /// Sends one IP packet.
    pub fn send(&self, packet: &[u8]) -> io::Result<()> {
        if self.offload {
            // A plain packet still needs its (empty: no GSO, checksum done) virtio-net header.
            let header = [0u8; tun_rs::VIRTIO_NET_HDR_LEN];
            let parts = [std::io::IoSlice::new(&header), std::io::IoSlice::new(packet)];
            return self.device.send_vectored(&parts).map(|_| ());
        }
        self.device.send(packet).map(|_| ())
    }

    /// Sends a batch of IP packets, each at `bufs[i][BATCH_HEADROOM..]`; with offload,
    /// consecutive TCP segments of a flow go out coalesced (the buffers are rewritten).
    pub fn send_batch(&self, state: &mut SendBatch, bufs: &mut [Vec<u8>]) -> io::Result<()> {
        if self.offload {
            return self.device.send_multiple(&mut state.gro, bufs, BATCH_HEADROOM).map(|_| ());
        }
        let mut result = Ok(());
        for buf in bufs.iter() {
            if let Err(e) = self.device.send(&buf[BATCH_HEADROOM..]) {
                result = Err(e);
            }
        }
        result
    }

    /// Writes one TCP super-segment (`Endpoint::poll_transmit_gso`: partial checksum) at
    /// `buf[BATCH_HEADROOM..]` for the kernel to cut into `gso_size`-byte segments (or take
    /// whole, for a local socket). Needs offload.
    pub fn send_gso(&self, buf: &mut [u8], gso_size: u16) -> io::Result<()> {
        if !self.offload {
            return Err(io::Error::new(io::ErrorKind::Unsupported, "send_gso needs a device opened with offload"));
        }
        let packet = &buf[BATCH_HEADROOM..];
        let (ip_len, gso_type) = match packet.first().map(|b| b >> 4) {
            Some(4) => (((packet[0] & 0x0f) as usize) * 4, VIRTIO_NET_HDR_GSO_TCPV4),
            Some(6) => (40, VIRTIO_NET_HDR_GSO_TCPV6),
            _ => return Err(io::Error::new(io::ErrorKind::InvalidInput, "not an IP packet")),
        };
        let Some(&offset_byte) = packet.get(ip_len + 12) else {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "no TCP header"));
        };
        let tcp_len = ((offset_byte >> 4) as usize) * 4;
        let cwr = packet.get(ip_len + 13).is_some_and(|f| f & 0x80 != 0);
        // struct virtio_net_hdr, little-endian (TUN's default on little-endian hosts).
        let mut header = [0u8; BATCH_HEADROOM];
        header[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
        header[1] = gso_type | if cwr { VIRTIO_NET_HDR_GSO_ECN } else { 0 };
        header[2..4].copy_from_slice(&((ip_len + tcp_len) as u16).to_le_bytes());
        header[4..6].copy_from_slice(&gso_size.to_le_bytes());
        header[6..8].copy_from_slice(&(ip_len as u16).to_le_bytes());
        header[8..10].copy_from_slice(&16u16.to_le_bytes()); // the TCP checksum's offset
        buf[..BATCH_HEADROOM].copy_from_slice(&header);
        self.device.send(buf).map(|_| ())
    }

    /// Reads one packet as the kernel gave it, without splitting (offload only): it is at
    /// `buf[BATCH_HEADROOM..BATCH_HEADROOM + len]` and may be a TCP super-packet of up to
    /// 64 KiB. Returns its length and whether its checksum is to be trusted rather than
    /// checked (the kernel left it partial, or vouched for it).
    pub fn recv_whole(&self, buf: &mut [u8]) -> io::Result<(usize, bool)> {
        if !self.offload {
            return Err(io::Error::new(io::ErrorKind::Unsupported, "recv_whole needs a device opened with offload"));
        }
        let n = self.device.recv(buf)?;
        if n <= BATCH_HEADROOM {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "a read shorter than the virtio-net header"));
        }
        let (flags, gso_type) = (buf[0], buf[1]);
        let trusted = flags & (VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID) != 0 || gso_type != 0;
        Ok((n - BATCH_HEADROOM, trusted))
    }

    /// Reads what one system call gives: with offload, a super-packet split into MTU-sized
    /// packets (`scratch` holds it: at least 64 KiB plus `BATCH_HEADROOM`); otherwise one
    /// packet. Packet `i` is `bufs[i][..sizes[i]]`; returns how many. `WouldBlock` in
    /// non-blocking mode when nothing waits.
    pub fn recv_batch(&self, scratch: &mut [u8], bufs: &mut [Vec<u8>], sizes: &mut [usize]) -> io::Result<usize> {
        if self.offload {
            return self.device.recv_multiple(scratch, bufs, sizes, 0);
        }
        let (Some(buf), Some(size)) = (bufs.first_mut(), sizes.first_mut()) else { return Ok(0) };
        *size = self.device.recv(buf)?;
        Ok(1)
    }

    /// Non-blocking mode, for event loops (reads then fail with `WouldBlock`).
    pub fn set_nonblocking(&self, on: bool) -> io::Result<()> {
        self.device.set_nonblocking(on)
    }

    /// Reads one packet; in non-blocking mode `WouldBlock` when none is waiting. Not with
    /// offload (a read may be a super-packet): use `recv_batch`.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        if self.offload {
            return Err(io::Error::new(io::ErrorKind::Unsupported, "recv on an offload device: use recv_batch"));
        }
        self.device.recv(buf)
    }
}

// SAFETY: the device owns its descriptor for as long as it lives (it closes it on drop and
// never replaces it).
unsafe impl PacketDevice for TunDevice {
    fn mtu(&self) -> usize {
        TunDevice::mtu(self)
    }
    fn offload(&self) -> bool {
        TunDevice::offload(self)
    }
    fn set_nonblocking(&self, on: bool) -> io::Result<()> {
        TunDevice::set_nonblocking(self, on)
    }
    fn send(&self, packet: &[u8]) -> io::Result<()> {
        TunDevice::send(self, packet)
    }
    fn send_batch(&self, state: &mut SendBatch, bufs: &mut [Vec<u8>]) -> io::Result<()> {
        TunDevice::send_batch(self, state, bufs)
    }
    fn send_gso(&self, buf: &mut [u8], gso_size: u16) -> io::Result<()> {
        TunDevice::send_gso(self, buf, gso_size)
    }
    fn recv_whole(&self, buf: &mut [u8]) -> io::Result<(usize, bool)> {
        TunDevice::recv_whole(self, buf)
    }
    fn recv_batch(&self, scratch: &mut [u8], bufs: &mut [Vec<u8>], sizes: &mut [usize]) -> io::Result<usize> {
        TunDevice::recv_batch(self, scratch, bufs, sizes)
    }
}

impl AsRawFd for TunDevice {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.device.as_raw_fd()
    }
}
