//! Cutting a super-segment into the segments a device with segmentation offload puts on the
//! wire: the same headers on each, the sequence number advanced, the lengths and checksums
//! made anew, CWR on the first segment only and PSH and FIN on the last only.

use synack_wire::{fill_tcp_checksum, internet_checksum, TcpFlags, IPV6_HEADER_LEN};

/// The segments of `packet`, a super-segment of `gso_size` payload bytes per segment whose
/// TCP checksum holds only the pseudo-header's sum. A packet that is not IPv4 or IPv6 with
/// a whole TCP header comes back as it is.
pub(crate) fn segment(packet: &[u8], gso_size: usize) -> Vec<Vec<u8>> {
    let Some((ip_len, tcp_len)) = header_lens(packet) else { return vec![packet.to_vec()] };
    let headers = ip_len + tcp_len;
    let payload = &packet[headers..];
    if gso_size == 0 || payload.is_empty() {
        return vec![packet.to_vec()];
    }
    let flags = TcpFlags::from_bits_truncate(packet[ip_len + 13]);
    let seq = u32::from_be_bytes(packet[ip_len + 4..ip_len + 8].try_into().unwrap());
    let pieces = payload.len().div_ceil(gso_size);
    payload
        .chunks(gso_size)
        .enumerate()
        .map(|(i, chunk)| {
            let mut out = Vec::with_capacity(headers + chunk.len());
            out.extend_from_slice(&packet[..headers]);
            out.extend_from_slice(chunk);
            let mut piece_flags = flags;
            if i > 0 {
                piece_flags.remove(TcpFlags::CWR);
            }
            if i + 1 < pieces {
                piece_flags.remove(TcpFlags::PSH | TcpFlags::FIN);
            }
            out[ip_len + 13] = piece_flags.bits();
            let piece_seq = seq.wrapping_add((i * gso_size) as u32);
            out[ip_len + 4..ip_len + 8].copy_from_slice(&piece_seq.to_be_bytes());
            finish_lengths_and_checksums(&mut out, ip_len);
            out
        })
        .collect()
}

/// The IP and TCP header lengths, if `packet` holds both whole.
fn header_lens(packet: &[u8]) -> Option<(usize, usize)> {
    let ip_len = match packet.first()? >> 4 {
        4 => ((packet[0] & 0x0f) as usize) * 4,
        6 => IPV6_HEADER_LEN,
        _ => return None,
    };
    let tcp_len = ((*packet.get(ip_len + 12)? >> 4) as usize) * 4;
    (tcp_len >= 20 && packet.len() >= ip_len + tcp_len).then_some((ip_len, tcp_len))
}

/// The IP length fields, the IPv4 header checksum and the full TCP checksum of one segment.
fn finish_lengths_and_checksums(out: &mut [u8], ip_len: usize) {
    if out[0] >> 4 == 4 {
        let total = out.len() as u16;
        out[2..4].copy_from_slice(&total.to_be_bytes());
        out[10..12].copy_from_slice(&[0, 0]);
        let sum = internet_checksum(0, &out[..ip_len]);
        out[10..12].copy_from_slice(&sum.to_be_bytes());
    } else {
        let tcp_total = out.len() - ip_len;
        out[4..6].copy_from_slice(&(tcp_total as u16).to_be_bytes());
    }
    fill_tcp_checksum(out);
}

#[cfg(test)]
mod tests {
    use super::*;
    use synack_wire::parse_segment;

    /// A super-segment of 2500 payload bytes in 1000-byte segments, built by hand with a
    /// partial checksum, with PSH and CWR set.
    fn super_segment() -> Vec<u8> {
        let payload: Vec<u8> = (0..2500u32).map(|i| i as u8).collect();
        let mut p = vec![0u8; 40];
        p[0] = 0x45;
        p[8] = 64;
        p[9] = 6;
        p[12..16].copy_from_slice(&[192, 168, 0, 1]);
        p[16..20].copy_from_slice(&[192, 0, 2, 1]);
        p[20..22].copy_from_slice(&8080u16.to_be_bytes());
        p[22..24].copy_from_slice(&40000u16.to_be_bytes());
        p[24..28].copy_from_slice(&1000u32.to_be_bytes());
        p[32] = 5 << 4;
        p[33] = (TcpFlags::ACK | TcpFlags::PSH | TcpFlags::CWR).bits();
        p.extend_from_slice(&payload);
        p
    }

    #[test]
    fn cuts_into_segments_with_psh_on_the_last_and_cwr_on_the_first() {
        let pieces = segment(&super_segment(), 1000);
        assert_eq!(pieces.len(), 3);
        let segs: Vec<_> = pieces.iter().map(|p| parse_segment(p).expect("valid checksums")).collect();
        let seqs: Vec<u32> = segs.iter().map(|s| s.tcp.seq.0).collect();
        assert_eq!(seqs, [1000, 2000, 3000]);
        let lens: Vec<usize> = segs.iter().map(|s| s.tcp.payload.len()).collect();
        assert_eq!(lens, [1000, 1000, 500]);
        assert!(segs[0].tcp.flags.cwr() && !segs[0].tcp.flags.psh());
        assert!(!segs[1].tcp.flags.cwr() && !segs[1].tcp.flags.psh());
        assert!(!segs[2].tcp.flags.cwr() && segs[2].tcp.flags.psh());
        assert_eq!(segs[2].tcp.payload[0], (2000u32 % 256) as u8);
    }
}
