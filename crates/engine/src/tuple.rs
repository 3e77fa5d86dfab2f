use crate::SplitMix64;
use std::fmt;
use std::hash::{BuildHasher, Hash, Hasher};
use std::net::{IpAddr, SocketAddr};

/// A connection's identity seen from this endpoint: local and remote address and port.
/// 38 bytes with no padding, so that the small records that hold one stay small.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FourTuple {
    /// Our address.
    pub local_ip: IpAddr,
    /// The peer's address.
    pub remote_ip: IpAddr,
    /// Our port.
    pub local_port: u16,
    /// The peer's port.
    pub remote_port: u16,
}

impl FourTuple {
    /// The tuple of a connection from `local` to `remote`.
    pub fn new(local: SocketAddr, remote: SocketAddr) -> FourTuple {
        FourTuple { local_ip: local.ip(), remote_ip: remote.ip(), local_port: local.port(), remote_port: remote.port() }
    }
    /// Our address and port.
    pub fn local(&self) -> SocketAddr {
        SocketAddr::new(self.local_ip, self.local_port)
    }
    /// The peer's address and port.
    pub fn remote(&self) -> SocketAddr {
        SocketAddr::new(self.remote_ip, self.remote_port)
    }
}

impl FourTuple {
    /// The message the tuple's SipHash is taken over, as little-endian 64-bit words, and its
    /// length in bytes: both addresses (IPv4 as two 4-byte values in one word, otherwise both
    /// in their IPv6 form, low word first), then both ports in 4 bytes. The lengths (12 and
    /// 36 bytes) keep the two layouts apart. An IPv4 tuple is one block and a tail that also
    /// holds the length: two compressions, where whole words and a length block were three.
    // The addresses matched by reference: an IPv4 one is then read as its 4 bytes. A tuple is
    // often hashed right after it was built, and a copy of a whole `IpAddr` loads 8-byte words
    // across the 4-byte store of its address, which waits for that store to reach the cache.
    #[inline(always)]
    fn sip_message(&self) -> ([u64; 5], usize) {
        let ports = (self.local_port as u64) << 16 | self.remote_port as u64;
        match (&self.local_ip, &self.remote_ip) {
            (IpAddr::V4(l), IpAddr::V4(r)) => {
                ([(u32::from(*l) as u64) << 32 | u32::from(*r) as u64, ports, 0, 0, 0], 12)
            }
            (&l, &r) => {
                let bits = |ip: IpAddr| match ip {
                    IpAddr::V4(v4) => v4.to_ipv6_mapped().to_bits(),
                    IpAddr::V6(v6) => v6.to_bits(),
                };
                let (l, r) = (bits(l), bits(r));
                ([l as u64, (l >> 64) as u64, r as u64, (r >> 64) as u64, ports], 36)
            }
        }
    }

    /// SipHash-2-4 of the tuple's message under the key (k0, k1) (`siphasher`).
    pub(crate) fn siphash_2_4(&self, k0: u64, k1: u64) -> u64 {
        use std::hash::Hasher;
        let (words, len) = self.sip_message();
        let mut bytes = [0u8; 40];
        for (chunk, w) in bytes.chunks_exact_mut(8).zip(words) {
            chunk.copy_from_slice(&w.to_le_bytes());
        }
        let mut h = siphasher::sip::SipHasher24::new_with_keys(k0, k1);
        h.write(&bytes[..len]);
        h.finish()
    }
}

/// The keyed hash of the endpoint's tables (the demultiplexing table and the listeners by
/// address): folded multiplications (a 64 x 64 -> 128-bit product with its halves xored, as
/// foldhash and wyhash use) under four keys drawn from the seeded config, so that runs stay
/// deterministic. Like Linux's connection tables (jhash under a boot-time secret) it is keyed
/// but not cryptographic: without the keys a peer cannot aim its tuples at one bucket, and
/// an IPv4 tuple costs two multiplications where SipHash-1-3 cost six rounds. Keep
/// `rng_seed` secret where peers are untrusted. Sequence numbers, which a peer must not be
/// able to predict, stay with SipHash-2-4 (`IsnGenerator`).
#[derive(Clone, Copy, Debug)]
pub struct SeededState {
    keys: [u64; 4],
}

/// The 128-bit product of `a` and `b` with its two halves xored together: every bit of
/// either factor reaches the middle bits of the product, and the fold brings those to both
/// ends of the result.
#[inline(always)]
fn folded_multiply(a: u64, b: u64) -> u64 {
    let full = a as u128 * b as u128;
    full as u64 ^ (full >> 64) as u64
}

impl SeededState {
    /// Keys drawn from SplitMix64 seeded with both seed words, so that small or equal seeds
    /// still give four unrelated keys; odd, so that none is zero.
    pub fn new(seed0: u64, seed1: u64) -> SeededState {
        let mut rng = SplitMix64::new(seed0 ^ seed1.rotate_left(32));
        let mut next = || rng.next_u64() | 1;
        SeededState { keys: [next(), next(), next(), next()] }
    }

    /// A word pair absorbed into the running hash.
    #[inline(always)]
    fn absorb(&self, acc: u64, a: u64, b: u64) -> u64 {
        folded_multiply(acc ^ a, b ^ self.keys[1])
    }

    /// The last mix: the tag takes the hash's top byte and the bucket its low bits.
    #[inline(always)]
    fn finish(&self, acc: u64) -> u64 {
        folded_multiply(acc ^ self.keys[2], self.keys[3])
    }

    /// The hash of a tuple, over the words of its SipHash message. An IPv4 tuple is two
    /// words, one pair; an IPv6 tuple is five, the last paired with the message's length.
    #[inline(always)]
    pub fn hash_tuple(&self, t: &FourTuple) -> u64 {
        let (words, len) = t.sip_message();
        // The IPv4 case whole and first: with the first pair absorbed before the branch, the
        // compiler builds all five words for both cases.
        if len == 12 {
            return self.finish(self.absorb(self.keys[0], words[0], words[1]));
        }
        let acc = self.absorb(self.keys[0], words[0], words[1]);
        let acc = self.absorb(acc, words[2], words[3]);
        self.finish(self.absorb(acc, words[4], len as u64))
    }
}

impl BuildHasher for SeededState {
    type Hasher = TableHasher;
    fn build_hasher(&self) -> TableHasher {
        TableHasher { state: *self, acc: self.keys[0] }
    }
}

/// `SeededState`'s hash through `Hasher` (for the listeners' `HashMap` by address and port):
/// each number written is one absorbed word, bytes go eight at a time.
pub struct TableHasher {
    state: SeededState,
    acc: u64,
}

impl Hasher for TableHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let word = u64::from_le_bytes(c.try_into().expect("eight bytes"));
            self.acc = self.state.absorb(self.acc, word, 0);
        }
        let mut last = [0u8; 8];
        last[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
        // The count tells a short tail from zero bytes.
        self.acc = self.state.absorb(self.acc, u64::from_le_bytes(last), bytes.len() as u64);
    }
    fn write_u64(&mut self, n: u64) {
        self.acc = self.state.absorb(self.acc, n, 0);
    }
    fn write_u128(&mut self, n: u128) {
        self.write_u64(n as u64);
        self.write_u64((n >> 64) as u64);
    }
    fn write_u32(&mut self, n: u32) {
        self.write_u64(n as u64);
    }
    fn write_u16(&mut self, n: u16) {
        self.write_u64(n as u64);
    }
    fn write_u8(&mut self, n: u8) {
        self.write_u64(n as u64);
    }
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
    fn finish(&self) -> u64 {
        self.state.finish(self.acc)
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
    use std::hash::Hasher;

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

    /// The ISN hash is SipHash-2-4 over the message's bytes, and the message holds every
    /// field: its words beyond its length are zero, and changing any field changes the hash.
    #[test]
    fn the_isn_hash_is_siphash_2_4_of_every_field() {
        let (k0, k1) = (0x0706_0504_0302_0100, 0x0f0e_0d0c_0b0a_0908);
        for t in tuples() {
            let (words, len) = t.sip_message();
            let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).take(len).collect();
            assert!(words.iter().flat_map(|w| w.to_le_bytes()).skip(len).all(|b| b == 0), "{t:?}");
            let mut h24 = SipHasher24::new_with_keys(k0, k1);
            h24.write(&bytes);
            assert_eq!(t.siphash_2_4(k0, k1), h24.finish(), "{t:?}");
            let mut other = t;
            other.remote_port ^= 1;
            assert_ne!(other.siphash_2_4(k0, k1), t.siphash_2_4(k0, k1));
            other = t;
            other.local_port ^= 1;
            assert_ne!(other.siphash_2_4(k0, k1), t.siphash_2_4(k0, k1));
        }
    }

    /// One client address, every remote port to one local port: the flood a single host can
    /// aim at a listener. Counted into 4,096 buckets (the demultiplexing table's low bits)
    /// and 256 tags (its top byte), no bucket or tag may hold much more than its share.
    #[test]
    fn table_hash_spreads_one_hosts_ports_evenly_under_any_keys() {
        for seed in [0, 1, 2, 0xdead_beef, u64::MAX] {
            let state = SeededState::new(seed, !seed);
            let (mut buckets, mut tags) = (vec![0u32; 4096], vec![0u32; 256]);
            for port in 0..=u16::MAX {
                let t = FourTuple::new(SocketAddr::from(([10, 0, 0, 1], 80)), SocketAddr::from(([10, 9, 8, 7], port)));
                let h = state.hash_tuple(&t);
                buckets[h as usize & 4095] += 1;
                tags[(h >> 56) as usize] += 1;
            }
            // Shares: 16 per bucket, 256 per tag. A uniform hash's largest bucket of 4,096
            // at this load is about 33; a clustered one would reach hundreds.
            let (max_bucket, max_tag) = (*buckets.iter().max().unwrap(), *tags.iter().max().unwrap());
            assert!(max_bucket <= 40, "seed {seed}: a bucket holds {max_bucket} of 65,536 tuples");
            assert!(max_tag <= 340, "seed {seed}: a tag covers {max_tag} of 65,536 tuples");
        }
    }

    #[test]
    fn table_hash_depends_on_the_keys_and_on_every_field() {
        let (a, b) = (SeededState::new(1, 2), SeededState::new(1, 3));
        for t in tuples() {
            assert_ne!(a.hash_tuple(&t), b.hash_tuple(&t), "{t:?}: other keys, same hash");
            let mut other = t;
            other.local_port ^= 1;
            assert_ne!(a.hash_tuple(&t), a.hash_tuple(&other), "{t:?}: local port ignored");
            other = t;
            other.remote_port ^= 0x100;
            assert_ne!(a.hash_tuple(&t), a.hash_tuple(&other), "{t:?}: remote port ignored");
            other = FourTuple { local_ip: t.remote_ip, remote_ip: t.local_ip, ..t };
            if other != t {
                assert_ne!(a.hash_tuple(&t), a.hash_tuple(&other), "{t:?}: addresses swapped, same hash");
            }
        }
    }

    #[test]
    fn socket_addresses_hash_apart_through_the_hasher() {
        let state = SeededState::new(5, 6);
        let addrs: Vec<SocketAddr> = vec![
            SocketAddr::from(([10, 0, 0, 1], 80)),
            SocketAddr::from(([10, 0, 0, 1], 81)),
            SocketAddr::from(([10, 0, 0, 2], 80)),
            SocketAddr::from(([0u16; 8], 80)),
            SocketAddr::from(([0u8; 4], 80)),
        ];
        let hashes: std::collections::HashSet<u64> = addrs.iter().map(|a| state.hash_one(a)).collect();
        assert_eq!(hashes.len(), addrs.len(), "two addresses hashed alike");
        assert_eq!(state.hash_one(addrs[0]), state.hash_one(addrs[0]), "a hash is a function");
    }
}
