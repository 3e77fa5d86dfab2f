//! `PacketPipe`: two connected packet devices in one process, for stacks that talk to each
//! other without root, a TUN device or a network. Each end is a Unix `SOCK_SEQPACKET` socket
//! of a `socketpair(2)`: what one end sends, the other reads, one packet per message, in order.

use crate::device::PacketDevice;
use crate::{SendBatch, BATCH_HEADROOM};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// One end of a pair; see the module documentation.
pub struct PacketPipe {
    fd: OwnedFd,
    mtu: usize,
}

impl PacketPipe {
    /// Two connected ends with the given MTU.
    pub fn pair(mtu: usize) -> io::Result<(PacketPipe, PacketPipe)> {
        let mut fds = [0; 2];
        // SAFETY: socketpair writes two descriptors into `fds` on success.
        let r =
            unsafe { libc::socketpair(libc::AF_UNIX, libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC, 0, fds.as_mut_ptr()) };
        if r != 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: both descriptors are fresh and owned by nobody else.
        let (a, b) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        Ok((PacketPipe { fd: a, mtu }, PacketPipe { fd: b, mtu }))
    }

    fn recv_one(&self, buf: &mut [u8]) -> io::Result<usize> {
        // SAFETY: `buf` is valid for writes of its length.
        let n = unsafe { libc::recv(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(n as usize)
    }
}

impl AsRawFd for PacketPipe {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

// SAFETY: the OwnedFd is created with the value, never replaced, and closed on drop.
unsafe impl PacketDevice for PacketPipe {
    fn mtu(&self) -> usize {
        self.mtu
    }

    fn offload(&self) -> bool {
        false
    }

    fn set_nonblocking(&self, on: bool) -> io::Result<()> {
        let fd = self.fd.as_raw_fd();
        // SAFETY: F_GETFL and F_SETFL on a descriptor this value owns.
        unsafe {
            let flags = libc::fcntl(fd, libc::F_GETFL);
            let flags = if on { flags | libc::O_NONBLOCK } else { flags & !libc::O_NONBLOCK };
            if flags < 0 || libc::fcntl(fd, libc::F_SETFL, flags) != 0 {
                return Err(io::Error::last_os_error());
            }
        }
        Ok(())
    }

    fn send(&self, packet: &[u8]) -> io::Result<()> {
        // SAFETY: `packet` is valid for reads of its length.
        let n = unsafe { libc::send(self.fd.as_raw_fd(), packet.as_ptr().cast(), packet.len(), libc::MSG_NOSIGNAL) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    fn send_batch(&self, _: &mut SendBatch, bufs: &mut [Vec<u8>]) -> io::Result<()> {
        let mut result = Ok(());
        for buf in bufs.iter() {
            if let Err(e) = self.send(&buf[BATCH_HEADROOM..]) {
                result = Err(e);
            }
        }
        result
    }

    fn send_gso(&self, _: &mut [u8], _: u16) -> io::Result<()> {
        Err(io::Error::new(io::ErrorKind::Unsupported, "a packet pipe has no offload"))
    }

    fn recv_whole(&self, _: &mut [u8]) -> io::Result<(usize, bool)> {
        Err(io::Error::new(io::ErrorKind::Unsupported, "a packet pipe has no offload"))
    }

    fn recv_batch(&self, _: &mut [u8], bufs: &mut [Vec<u8>], sizes: &mut [usize]) -> io::Result<usize> {
        let mut count = 0;
        for (buf, size) in bufs.iter_mut().zip(sizes.iter_mut()) {
            match self.recv_one(buf) {
                Ok(n) => {
                    *size = n;
                    count += 1;
                }
                Err(e) if count == 0 => return Err(e),
                Err(_) => break, // WouldBlock after some: what was there is read
            }
        }
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_one_end_sends_the_other_reads_packet_by_packet() {
        let (a, b) = PacketPipe::pair(1500).unwrap();
        b.set_nonblocking(true).unwrap();
        a.send(b"first").unwrap();
        a.send(b"second packet").unwrap();
        let mut bufs = vec![vec![0u8; 1500]; 4];
        let mut sizes = vec![0; 4];
        assert_eq!(b.recv_batch(&mut [], &mut bufs, &mut sizes).unwrap(), 2);
        assert_eq!(&bufs[0][..sizes[0]], b"first");
        assert_eq!(&bufs[1][..sizes[1]], b"second packet");
        let e = b.recv_batch(&mut [], &mut bufs, &mut sizes).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
    }
}
