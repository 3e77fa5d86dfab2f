//! Initial sequence numbers per RFC 6528 §3: ISN = M + F(localip, localport, remoteip,
//! remoteport, secretkey), where M is a timer that ticks every 4 microseconds and F is a keyed
//! hash (SipHash-2-4 here) of the connection identity.

use crate::{FourTuple, Instant};
use synack_wire::SeqNum;

/// RFC 6528 initial sequence numbers under a secret key.
#[derive(Clone)]
pub struct IsnGenerator {
    key: (u64, u64),
}

impl IsnGenerator {
    /// A generator under the key (k0, k1).
    pub fn new(k0: u64, k1: u64) -> IsnGenerator {
        IsnGenerator { key: (k0, k1) }
    }

    /// One SipHash of the connection identity: the low half is F of RFC 6528, the high half
    /// the timestamp offset. One call per connection serves both.
    fn keyed_hash(&self, tuple: &FourTuple) -> u64 {
        tuple.siphash_2_4(self.key.0, self.key.1)
    }

    /// RFC 6528 §3 ISN, and the connection's TSval offset (RFC 7323 §7.1 recommends one so
    /// that timestamps do not reveal the host's uptime). `now` supplies M, the 4 µs clock.
    pub fn isn_and_ts_offset(&self, tuple: &FourTuple, now: Instant) -> (SeqNum, u32) {
        let m = (now.as_micros() / 4) as u32;
        let f = self.keyed_hash(tuple);
        (SeqNum(m.wrapping_add(f as u32)), (f >> 32) as u32)
    }

    /// A key for another use, derived from this one with the keyed hash (so that the two are
    /// independent and the seeded random stream is not drawn from again).
    pub(crate) fn derive_key(&self, label: u64) -> (u64, u64) {
        use std::hash::Hasher;
        let half = |i: u64| {
            let mut h = siphasher::sip::SipHasher24::new_with_keys(self.key.0, self.key.1);
            h.write_u64(label);
            h.write_u64(i);
            h.finish()
        };
        (half(0), half(1))
    }

    /// RFC 6528 §3 ISN alone.
    pub fn isn(&self, tuple: &FourTuple, now: Instant) -> SeqNum {
        self.isn_and_ts_offset(tuple, now).0
    }

    /// The TSval offset alone (the same as `isn_and_ts_offset` gives).
    pub fn ts_offset(&self, tuple: &FourTuple) -> u32 {
        (self.keyed_hash(tuple) >> 32) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::SocketAddr;

    fn tuple(port: u16) -> FourTuple {
        FourTuple::new(SocketAddr::from(([10, 0, 0, 1], port)), SocketAddr::from(([10, 0, 0, 2], 80)))
    }

    #[test]
    fn isn_advances_with_the_four_microsecond_clock() {
        let g = IsnGenerator::new(1, 2);
        let t = tuple(1000);
        let a = g.isn(&t, Instant::from_micros(0));
        let b = g.isn(&t, Instant::from_micros(4000));
        assert_eq!(b.since(a), 1000);
    }

    #[test]
    fn isn_differs_per_connection_and_per_key() {
        let g = IsnGenerator::new(1, 2);
        let now = Instant::ZERO;
        assert_ne!(g.isn(&tuple(1000), now), g.isn(&tuple(1001), now));
        assert_ne!(g.isn(&tuple(1000), now), IsnGenerator::new(3, 4).isn(&tuple(1000), now));
    }
}
