//! `PacketDevice`: what a stack needs of a device that moves IP packets, whatever is behind it
//! (a Linux TUN device, or a `PacketPipe` to another stack in the same process).

use std::io;
use std::os::fd::AsRawFd;

/// A device that moves IP packets through a file descriptor, which an event loop waits on for
/// reading. Reads and writes are non-blocking once `set_nonblocking(true)` is called, and then
/// fail with `WouldBlock` when nothing waits (or there is no room).
///
/// Batches: a buffer of a batch holds its packet at `BATCH_HEADROOM..`, the room in front
/// being for a device's own header (TUN's virtio-net header with offload). Offload (`offload`
/// true) adds TCP super-packets both ways: `recv_whole` and `send_gso`; a device without it
/// answers them with `Unsupported`.
///
/// # Safety
///
/// `as_raw_fd` returns the same open descriptor for as long as the value lives, closed only
/// when it is dropped: an event loop registers that descriptor once and waits on it
/// (tokio's `AsyncFd::register_with_interest` relies on this).
pub unsafe trait PacketDevice: AsRawFd + Send + Sync + 'static {
    /// The largest plain packet, bytes.
    fn mtu(&self) -> usize;
    /// Whether TCP super-packets (GSO/GRO) go both ways.
    fn offload(&self) -> bool;
    /// Non-blocking mode: reads and writes fail with `WouldBlock` instead of waiting.
    fn set_nonblocking(&self, on: bool) -> io::Result<()>;
    /// Sends one IP packet.
    fn send(&self, packet: &[u8]) -> io::Result<()>;
    /// Sends the packets at `bufs[i][BATCH_HEADROOM..]` (a device may rewrite the buffers).
    fn send_batch(&self, state: &mut crate::SendBatch, bufs: &mut [Vec<u8>]) -> io::Result<()>;
    /// Sends one TCP super-segment at `buf[BATCH_HEADROOM..]`, cut into `gso_size`-byte
    /// segments by the device. Needs offload.
    fn send_gso(&self, buf: &mut [u8], gso_size: u16) -> io::Result<()>;
    /// Reads one packet whole (a super-packet of up to 64 KiB) at `buf[BATCH_HEADROOM..]`;
    /// returns its length and whether its checksum is to be trusted. Needs offload.
    fn recv_whole(&self, buf: &mut [u8]) -> io::Result<(usize, bool)>;
    /// Reads what is waiting, up to `bufs.len()` packets: packet `i` is `bufs[i][..sizes[i]]`
    /// (`scratch` is the device's to use). Returns how many; `WouldBlock` when none waits.
    fn recv_batch(&self, scratch: &mut [u8], bufs: &mut [Vec<u8>], sizes: &mut [usize]) -> io::Result<usize>;
}
