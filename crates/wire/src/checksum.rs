//! The Internet checksum (RFC 1071) and the TCP pseudo-header sums (RFC 9293 §3.1, RFC 8200 §8.1).

use std::net::IpAddr;

/// One's-complement sum of `data` as big-endian 16-bit words, folded to 16 bits (returned in
/// a u32 so that callers can add further sums before the final fold).
///
/// The sum is byte-order independent (RFC 1071 §2 (B)): it adds the bytes as native 64-bit
/// words with end-around carry, folds, and swaps the two bytes of the result on a
/// little-endian machine. Eight bytes per add ("parallel summation", RFC 1071 §2 (C)) instead
/// of two: a header with options is a handful of adds.
fn sum_words(data: &[u8]) -> u32 {
    let mut sum: u64 = 0;
    let mut words = data.chunks_exact(8);
    for w in &mut words {
        let (s, carry) = sum.overflowing_add(u64::from_ne_bytes(w.try_into().expect("eight bytes")));
        sum = s + carry as u64;
    }
    // The tail, 0 to 7 bytes, as native words too; it starts at an even offset, so a last odd
    // byte is the first (high-order) byte of its 16-bit word, zero-padded.
    let rest = words.remainder();
    let mut tail: u64 = 0;
    let (four, rest) = rest.split_at(rest.len() & 4);
    if let Ok(w) = <[u8; 4]>::try_from(four) {
        tail += u32::from_ne_bytes(w) as u64;
    }
    let (two, rest) = rest.split_at(rest.len() & 2);
    if let Ok(w) = <[u8; 2]>::try_from(two) {
        tail += u16::from_ne_bytes(w) as u64;
    }
    if let [last] = rest {
        tail += u16::from_ne_bytes([*last, 0]) as u64;
    }
    let (s, carry) = sum.overflowing_add(tail);
    sum = s + carry as u64;
    u16::from_be(fold16(fold64(sum))) as u32
}

fn fold64(mut sum: u64) -> u32 {
    while sum > 0xffff_ffff {
        sum = (sum & 0xffff_ffff) + (sum >> 32);
    }
    sum as u32
}

fn fold16(mut sum: u32) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

/// The sum of the pseudo-header that the TCP checksum covers, unfolded.
/// IPv4: source, destination, zero, protocol, TCP length. IPv6: source, destination,
/// 32-bit upper-layer length, three zero bytes, next header.
pub fn pseudo_header_sum(src: IpAddr, dst: IpAddr, protocol: u8, tcp_len: usize) -> u32 {
    let mut sum: u64 = 0;
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            // A 32-bit address counts as the sum of its two 16-bit halves.
            let (s, d) = (u32::from(s) as u64, u32::from(d) as u64);
            sum += (s >> 16) + (s & 0xffff) + (d >> 16) + (d & 0xffff);
        }
        (s, d) => {
            sum += sum_words(&to_v6_octets(s)) as u64;
            sum += sum_words(&to_v6_octets(d)) as u64;
        }
    }
    sum += protocol as u64;
    sum += (tcp_len as u64 >> 16) + (tcp_len as u64 & 0xffff);
    fold64(sum)
}

fn to_v6_octets(ip: IpAddr) -> [u8; 16] {
    match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => v6.octets(),
    }
}

/// The checksum over `data` with `initial` (an unfolded sum, e.g. a pseudo-header) added:
/// the one's complement of the folded one's-complement sum.
pub fn internet_checksum(initial: u32, data: &[u8]) -> u16 {
    let sum = initial as u64 + sum_words(data) as u64;
    !fold16(fold64(sum))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1071_example_sums_to_the_known_value() {
        // RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to ddf2; the checksum is its complement.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(internet_checksum(0, &data), !0xddf2);
    }

    #[test]
    fn odd_length_pads_with_a_zero_byte() {
        assert_eq!(internet_checksum(0, &[0x12]), !0x1200);
    }

    #[test]
    fn word_sums_agree_with_a_plain_16_bit_sum_for_every_length_and_start() {
        let data: Vec<u8> = (0..200u32).map(|i| (i * 37 + 11) as u8).collect();
        for start in 0..9 {
            for end in start..data.len() {
                let slice = &data[start..end];
                let plain: u64 =
                    slice.chunks(2).map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]) as u64).sum();
                assert_eq!(fold16(fold64(plain)), fold16(sum_words(slice)), "bytes {start}..{end}");
            }
        }
    }

    #[test]
    fn data_with_its_checksum_verifies_to_zero() {
        let mut data = vec![0x45, 0x00, 0x00, 0x1c, 0xab, 0xcd, 0x00, 0x00, 0x40, 0x06, 0, 0];
        let c = internet_checksum(0, &data);
        data[10..12].copy_from_slice(&c.to_be_bytes());
        assert_eq!(internet_checksum(0, &data), 0);
    }
}
