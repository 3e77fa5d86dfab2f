//! The Internet checksum (RFC 1071) and the TCP pseudo-header sums (RFC 9293 §3.1, RFC 8200 §8.1).

use std::net::IpAddr;

/// One's-complement sum of `data` as big-endian 16-bit words, folded to 16 bits (returned in
/// a u32 so that callers can add further sums before the final fold).
///
/// The sum is byte-order independent (RFC 1071 §2 (B)): it adds the bytes as native 32-bit
/// words, two 16-bit words at a time ("parallel summation", §2 (C)), into 64 bits (which no
/// packet's words can overflow; 2^32 is 1 modulo 2^16 - 1), folds, and swaps the two bytes of
/// the result on a little-endian machine. The compiler may add the words two at a time in
/// 8-byte loads. A load that spans two stores made just before cannot be forwarded from them
/// and waits, and the emitter stores headers as 32-bit words: the plain IPv4 parse, which
/// reads a packet the moment it is written in this project's benchmark, sums the header and
/// the usual options apart, a word at a time (`sum_fixed`), and this loop only the payload,
/// which a copy writes in wide stores.
#[inline(always)]
pub(crate) fn sum_words(data: &[u8]) -> u32 {
    u16::from_be(fold16(fold64(sum_native(data)))) as u32
}

/// The sum `sum_words` folds: `data` added as native 32-bit words, a last pair and a last odd
/// byte as `sum_words` takes them, unfolded.
#[inline(always)]
pub(crate) fn sum_native(data: &[u8]) -> u64 {
    let (sum, rest) = sum_quads(data);
    let mut tail = 0u64;
    let mut pairs = rest.chunks_exact(2);
    for p in &mut pairs {
        tail += u16::from_ne_bytes([p[0], p[1]]) as u64;
    }
    // An odd last byte is the first (high-order) byte of its word, zero-padded.
    if let [last] = pairs.remainder() {
        tail += u16::from_ne_bytes([*last, 0]) as u64;
    }
    sum + tail
}

/// The words of `data`, a known number of them, added as native 32-bit words: a sum the
/// compiler writes out in full, without `sum_quads`' loop.
#[inline(always)]
pub(crate) fn sum_fixed<const N: usize>(data: &[u8; N]) -> u64 {
    let mut sum = 0;
    for q in data.chunks_exact(4) {
        sum += u32::from_ne_bytes([q[0], q[1], q[2], q[3]]) as u64;
    }
    sum
}

/// The whole 32-bit words of `data` added (native order), unfolded, and the bytes after them.
#[inline(always)]
fn sum_quads(data: &[u8]) -> (u64, &[u8]) {
    let mut sum = 0u64;
    let mut quads = data.chunks_exact(4);
    for q in &mut quads {
        sum += u32::from_ne_bytes([q[0], q[1], q[2], q[3]]) as u64;
    }
    (sum, quads.remainder())
}

/// The checksum of an IPv4 header, a whole number of 32-bit words (IHL counts them): the
/// words alone, without `sum_words`'s tails of pairs and odd bytes.
pub(crate) fn header_checksum(header: &[u8]) -> u16 {
    debug_assert!(header.len() % 4 == 0);
    // Nearly every header has no options: of a length known here, the loop unrolls into one
    // add-with-carry chain.
    let sum = match <&[u8; 20]>::try_from(header) {
        Ok(h) => sum_quads(h).0,
        Err(_) => sum_quads(header).0,
    };
    !u16::from_be(fold16(fold64(sum)))
}

/// Folds a sum of big-endian words of any width (each word's value is congruent to the sum of
/// its 16-bit halves modulo 2^16 - 1) to the 16-bit one's-complement sum.
pub(crate) fn fold(sum: u64) -> u16 {
    fold16(fold64(sum))
}

/// Folds a 64-bit one's-complement sum to 32 bits: the two halves added with the carry out
/// added back in (end-around carry), which cannot carry again. Branch-free.
fn fold64(sum: u64) -> u32 {
    let (s, carry) = (sum as u32).overflowing_add((sum >> 32) as u32);
    s + carry as u32
}

/// Folds a 32-bit one's-complement sum to 16 bits, as `fold64` does.
fn fold16(sum: u32) -> u16 {
    let (s, carry) = (sum as u16).overflowing_add((sum >> 16) as u16);
    s + carry as u16
}

/// The sum of the pseudo-header that the TCP checksum covers, unfolded.
/// IPv4: source, destination, zero, protocol, TCP length. IPv6: source, destination,
/// 32-bit upper-layer length, three zero bytes, next header. Each big-endian word's value is
/// congruent to the sum of its 16-bit halves modulo 2^16 - 1, so addresses, protocol and
/// length are added whole.
#[inline]
pub fn pseudo_header_sum(src: IpAddr, dst: IpAddr, protocol: u8, tcp_len: usize) -> u32 {
    let addresses = match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => u32::from(s) as u64 + u32::from(d) as u64,
        (s, d) => word_sum_128(v6_bits(s)) + word_sum_128(v6_bits(d)),
    };
    fold64(addresses + protocol as u64 + tcp_len as u64)
}

/// An address as IPv6 (IPv4 mapped), as a number.
fn v6_bits(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().into(),
        IpAddr::V6(v6) => v6.into(),
    }
}

/// The sum of a 128-bit address's four 32-bit words.
fn word_sum_128(address: u128) -> u64 {
    (0..4).map(|i| (address >> (32 * i)) as u32 as u64).sum()
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
    fn header_checksums_agree_with_the_general_checksum_for_every_header_length() {
        let data: Vec<u8> = (0..60u32).map(|i| (i * 151 + 7) as u8).collect();
        for words in 5..=15 {
            let header = &data[..words * 4];
            assert_eq!(header_checksum(header), internet_checksum(0, header), "{words} words");
        }
        // All ones: the carries out of the 32-bit sum are what make the result.
        assert_eq!(header_checksum(&[0xff; 60]), internet_checksum(0, &[0xff; 60]));
    }

    #[test]
    fn folds_keep_the_value_modulo_the_ones_complement_modulus() {
        // A one's-complement sum is its value modulo 2^k - 1, with 0 written as 0 or 2^k - 1.
        for sum in
            [0u64, 1, 0xffff, 0x1_0000, 0xffff_ffff, 0x1_0000_0000, 0x1_ffff_fffe, u64::MAX, 0x8000_0001_8000_0001]
        {
            let folded = fold64(sum) as u64;
            assert_eq!(folded % 0xffff_ffff, sum % 0xffff_ffff, "fold64({sum:#x})");
            let folded16 = fold16(fold64(sum)) as u64;
            assert_eq!(folded16 % 0xffff, sum % 0xffff, "fold16(fold64({sum:#x}))");
        }
        for sum in [0u32, 0xffff, 0x1_0000, 0x1_fffe, u32::MAX] {
            assert_eq!(fold16(sum) as u32 % 0xffff, sum % 0xffff, "fold16({sum:#x})");
        }
    }

    #[test]
    fn pseudo_header_sums_equal_the_sum_of_the_pseudo_header_bytes() {
        use std::net::{Ipv4Addr, Ipv6Addr};
        let v4 = |a, b, c, d| IpAddr::V4(Ipv4Addr::new(a, b, c, d));
        let v6 = |x: u128| IpAddr::V6(Ipv6Addr::from(x));
        let cases = [
            (v4(192, 168, 1, 116), v4(192, 168, 1, 123), 40),
            (v4(255, 255, 255, 255), v4(255, 255, 255, 254), 65_535),
            (v6(0xfe80 << 112 | 0x1234_5678), v6(u128::MAX - 7), 70_000),
            (v4(10, 0, 0, 1), v6(0x2001_0db8 << 96 | 9), 32),
        ];
        for (src, dst, len) in cases {
            // RFC 9293 §3.1 and RFC 8200 §8.1, written out byte by byte.
            let bytes: Vec<u8> = match (src, dst) {
                (IpAddr::V4(s), IpAddr::V4(d)) => {
                    [&s.octets()[..], &d.octets(), &[0, 6], &(len as u16).to_be_bytes()].concat()
                }
                _ => [
                    &v6_bits(src).to_be_bytes()[..],
                    &v6_bits(dst).to_be_bytes(),
                    &(len as u32).to_be_bytes(),
                    &[0, 0, 0, 6],
                ]
                .concat(),
            };
            let plain: u64 = bytes.chunks(2).map(|c| u16::from_be_bytes([c[0], c[1]]) as u64).sum();
            assert_eq!(fold16(pseudo_header_sum(src, dst, 6, len)), fold16(fold64(plain)), "{src} -> {dst}, {len}");
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
