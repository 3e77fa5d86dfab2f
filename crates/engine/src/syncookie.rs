//! SYN cookies (RFC 4987 §3.6): when a listener's SYN queue is full (or always, with
//! `tcp_syncookies` = 2), the SYN-ACK's ISN carries what the half-open record would have
//! kept, and no state is kept at all; a final ACK that echoes a valid cookie creates the
//! connection. The cookie is, from the high bits down:
//!
//! - 5 bits: a counter of 64-second periods (a cookie is good in its period and the next);
//! - 3 bits: the index of the peer's MSS in `MSS_TABLE` (the largest entry not above it);
//! - 24 bits: SipHash-2-4 of the 4-tuple, the peer's ISN and the full counter under a key
//!   derived from the endpoint's secret.
//!
//! With timestamps, the low 6 bits of our TSval carry the rest of what the SYN offered, as
//! Linux encodes it: the window-scale shift (4 bits, 15 for none), SACK-permitted and ECN; the
//! final ACK's echo brings them back, so a cookie connection loses nothing the client offered.
//! Without timestamps it has no window scaling, no SACK and no ECN.

use crate::FourTuple;
use std::hash::Hasher;
use synack_wire::SeqNum;

/// MSS values a cookie can name (3 bits), as Linux's table for IPv4 and IPv6 together.
pub(crate) const MSS_TABLE: [u16; 8] = [536, 1024, 1200, 1220, 1280, 1360, 1440, 1460];

/// Seconds per counter period.
const PERIOD_SECS: u64 = 64;

/// What a valid cookie ACK restores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CookieOptions {
    pub mss: u16,
    /// The peer's window-scale shift, when the SYN offered scaling (timestamps needed).
    pub wscale: Option<u8>,
    pub sack_ok: bool,
    pub ecn_ok: bool,
}

/// The endpoint's cookie secret.
#[derive(Clone)]
pub(crate) struct SynCookies {
    key: (u64, u64),
}

impl SynCookies {
    pub fn new(key: (u64, u64)) -> SynCookies {
        SynCookies { key }
    }

    fn hash24(&self, tuple: &FourTuple, peer_isn: SeqNum, counter: u64) -> u32 {
        let mut h = siphasher::sip::SipHasher24::new_with_keys(self.key.0, self.key.1);
        h.write_u64(tuple.siphash_2_4(self.key.1, self.key.0));
        h.write_u32(peer_isn.0);
        h.write_u64(counter);
        (h.finish() as u32) & 0x00ff_ffff
    }

    /// The ISN of a cookie SYN-ACK, at `now_secs`, for a SYN with `peer_isn` and `peer_mss`.
    pub fn make(&self, tuple: &FourTuple, peer_isn: SeqNum, peer_mss: u16, now_secs: u64) -> SeqNum {
        let counter = now_secs / PERIOD_SECS;
        let index = MSS_TABLE.iter().rposition(|&m| m <= peer_mss).unwrap_or(0) as u32;
        SeqNum(((counter as u32) & 0x1f) << 27 | index << 24 | self.hash24(tuple, peer_isn, counter))
    }

    /// The MSS a cookie names, if `cookie` (the final ACK's number less one) is one we made
    /// for this tuple and peer ISN in this period or the last.
    pub fn check(&self, tuple: &FourTuple, peer_isn: SeqNum, cookie: SeqNum, now_secs: u64) -> Option<u16> {
        let now = now_secs / PERIOD_SECS;
        let stamped = (cookie.0 >> 27) as u64;
        let counter = [now, now.wrapping_sub(1)].into_iter().find(|c| c & 0x1f == stamped)?;
        if self.hash24(tuple, peer_isn, counter) != cookie.0 & 0x00ff_ffff {
            return None;
        }
        Some(MSS_TABLE[((cookie.0 >> 24) & 7) as usize])
    }
}

/// Our TSval with the SYN's other options in its low 6 bits, never above `tsval` (so the
/// clock the peer sees does not jump ahead).
pub(crate) fn encode_ts(tsval: u32, wscale: Option<u8>, sack_ok: bool, ecn_ok: bool) -> u32 {
    let bits = wscale.map_or(0xf, |s| s.min(14) as u32) | (sack_ok as u32) << 4 | (ecn_ok as u32) << 5;
    let encoded = (tsval & !0x3f) | bits;
    if encoded > tsval {
        encoded.wrapping_sub(0x40)
    } else {
        encoded
    }
}

/// The options `encode_ts` put into an echoed TSval.
pub(crate) fn decode_ts(ecr: u32, mss: u16) -> CookieOptions {
    let shift = (ecr & 0xf) as u8;
    CookieOptions { mss, wscale: (shift != 0xf).then_some(shift), sack_ok: ecr & 0x10 != 0, ecn_ok: ecr & 0x20 != 0 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::SocketAddr;

    fn tuple(port: u16) -> FourTuple {
        FourTuple::new(SocketAddr::from(([10, 0, 0, 1], 80)), SocketAddr::from(([10, 0, 0, 2], port)))
    }

    #[test]
    fn a_cookie_checks_for_its_tuple_and_isn_in_its_period_and_the_next() {
        let c = SynCookies::new((7, 9));
        let t = tuple(5000);
        let cookie = c.make(&t, SeqNum(1000), 1460, 100);
        assert_eq!(c.check(&t, SeqNum(1000), cookie, 100), Some(1460));
        assert_eq!(c.check(&t, SeqNum(1000), cookie, 64 * 3 - 1), Some(1460), "the next period");
        assert_eq!(c.check(&t, SeqNum(1000), cookie, 64 * 3), None, "two periods on: expired");
        assert_eq!(c.check(&t, SeqNum(1001), cookie, 100), None, "another peer ISN");
        assert_eq!(c.check(&tuple(5001), SeqNum(1000), cookie, 100), None, "another tuple");
        assert_eq!(c.check(&t, SeqNum(1000), SeqNum(cookie.0 ^ 1), 100), None, "a forged hash");
        assert_eq!(SynCookies::new((7, 10)).check(&t, SeqNum(1000), cookie, 100), None, "another secret");
    }

    #[test]
    fn the_mss_is_the_largest_table_entry_not_above_the_peers() {
        let c = SynCookies::new((1, 2));
        let t = tuple(1);
        for (offered, named) in [(1460, 1460), (1459, 1440), (9000, 1460), (536, 536), (100, 536), (1300, 1280)] {
            let cookie = c.make(&t, SeqNum(5), offered, 0);
            assert_eq!(c.check(&t, SeqNum(5), cookie, 0), Some(named), "offered {offered}");
        }
    }

    #[test]
    fn options_ride_in_the_tsval_which_never_runs_ahead() {
        for tsval in [0u32, 63, 64, 1000, u32::MAX] {
            for (wscale, sack, ecn) in [(Some(7), true, false), (None, false, true), (Some(14), true, true)] {
                let ts = encode_ts(tsval, wscale, sack, ecn);
                assert!(ts <= tsval || tsval < 64, "{ts} after {tsval}");
                let o = decode_ts(ts, 1460);
                assert_eq!((o.wscale, o.sack_ok, o.ecn_ok), (wscale, sack, ecn));
            }
        }
    }
}
