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

impl FourTuple {
    /// The tuple as the 64-bit words its hash is taken over: IPv4 addresses and ports in two
    /// words; otherwise both addresses in their IPv6 form (low word first, as `write_u128`
    /// feeds them) and the ports marked apart from the IPv4 layout.
    fn words(&self) -> ([u64; 5], usize) {
        let ports = (self.local_port as u64) << 16 | self.remote_port as u64;
        match (self.local_ip, self.remote_ip) {
            (IpAddr::V4(l), IpAddr::V4(r)) => ([(u32::from(l) as u64) << 32 | u32::from(r) as u64, ports, 0, 0, 0], 2),
            (l, r) => {
                let bits = |ip: IpAddr| match ip {
                    IpAddr::V4(v4) => v4.to_ipv6_mapped().to_bits(),
                    IpAddr::V6(v6) => v6.to_bits(),
                };
                let (l, r) = (bits(l), bits(r));
                ([l as u64, (l >> 64) as u64, r as u64, (r >> 64) as u64, ports | 1 << 32], 5)
            }
        }
    }

    /// SipHash-c-d of the tuple under the key (k0, k1): the same value as feeding `Hash` to
    /// `siphasher`'s hasher, computed on the words directly (no byte buffering, which cost
    /// more than the rounds themselves).
    pub(crate) fn siphash<const C: usize, const D: usize>(&self, k0: u64, k1: u64) -> u64 {
        let (words, n) = self.words();
        siphash_words::<C, D>(k0, k1, &words[..n])
    }
}

impl Hash for FourTuple {
    fn hash<H: Hasher>(&self, h: &mut H) {
        let (words, n) = self.words();
        for &w in &words[..n] {
            h.write_u64(w);
        }
    }
}

/// SipHash-c-d (Aumasson and Bernstein) of a message of whole little-endian 64-bit words.
fn siphash_words<const C: usize, const D: usize>(k0: u64, k1: u64, words: &[u64]) -> u64 {
    let mut v = [
        k0 ^ 0x736f_6d65_7073_6575,
        k1 ^ 0x646f_7261_6e64_6f6d,
        k0 ^ 0x6c79_6765_6e65_7261,
        k1 ^ 0x7465_6462_7974_6573,
    ];
    let round = |v: &mut [u64; 4]| {
        v[0] = v[0].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(13) ^ v[0];
        v[0] = v[0].rotate_left(32);
        v[2] = v[2].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(16) ^ v[2];
        v[0] = v[0].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(21) ^ v[0];
        v[2] = v[2].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(17) ^ v[2];
        v[2] = v[2].rotate_left(32);
    };
    // The last block holds the message length in bytes (mod 256) in its top byte; a message
    // of whole words has no other bytes in it.
    let last = ((words.len() * 8) as u64) << 56;
    for &m in words.iter().chain([&last]) {
        v[3] ^= m;
        for _ in 0..C {
            round(&mut v);
        }
        v[0] ^= m;
    }
    v[2] ^= 0xff;
    for _ in 0..D {
        round(&mut v);
    }
    v[0] ^ v[1] ^ v[2] ^ v[3]
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

    /// The hash of a tuple, the same as `hash_one(t)`, faster.
    pub fn hash_tuple(&self, t: &FourTuple) -> u64 {
        t.siphash::<1, 3>(self.k0, self.k1)
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

#[cfg(test)]
mod tests {
    use super::*;
    use siphasher::sip::SipHasher24;

    fn tuples() -> Vec<FourTuple> {
        let v4 = |a: [u8; 4], port| SocketAddr::from((a, port));
        let v6 = |a: [u16; 8], port| SocketAddr::from((a, port));
        vec![
            FourTuple::new(v4([10, 0, 0, 1], 7788), v4([10, 0, 0, 2], 1024)),
            FourTuple::new(v4([192, 168, 1, 123], 65535), v4([255, 255, 255, 254], 1)),
            FourTuple::new(v6([0xfe80, 0, 0, 0, 1, 2, 3, 4], 443), v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 9], 50000)),
            FourTuple::new(v4([10, 0, 0, 1], 80), v6([0, 0, 0, 0, 0, 0xffff, 0x0a00, 2], 80)),
        ]
    }

    #[test]
    fn siphash_of_the_words_equals_the_crates_over_the_same_bytes() {
        for (k0, k1) in [(0, 0), (1, 2), (0x0706_0504_0302_0100, 0x0f0e_0d0c_0b0a_0908), (u64::MAX, 7)] {
            for t in tuples() {
                let mut h13 = SipHasher13::new_with_keys(k0, k1);
                t.hash(&mut h13);
                assert_eq!(t.siphash::<1, 3>(k0, k1), h13.finish(), "SipHash-1-3 of {t:?}");
                let mut h24 = SipHasher24::new_with_keys(k0, k1);
                t.hash(&mut h24);
                assert_eq!(t.siphash::<2, 4>(k0, k1), h24.finish(), "SipHash-2-4 of {t:?}");
            }
        }
    }

    #[test]
    fn siphash_2_4_matches_the_reference_vector() {
        // The reference implementation's vectors (vectors.h) for key 00 01 .. 0f and the
        // messages 00 01 .. of each length: the empty and the 8-byte one are whole words.
        let (k0, k1) = (0x0706_0504_0302_0100, 0x0f0e_0d0c_0b0a_0908);
        assert_eq!(siphash_words::<2, 4>(k0, k1, &[]), 0x726f_db47_dd0e_0e31);
        assert_eq!(siphash_words::<2, 4>(k0, k1, &[0x0706_0504_0302_0100]), 0x93f5_f579_9a93_2462);
    }
}
