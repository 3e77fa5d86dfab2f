//! Segmentation offload (TSO/GSO and its receive side): `poll_transmit_gso` hands out new data
//! as super-segments with a partial checksum, and `handle_packet_offloaded` takes one whole.

mod common;
use common::*;
use synack_wire::{internet_checksum, parse_segment, parse_segment_with, pseudo_header_sum, TcpFlags};

const MSS: usize = 1460;

#[test]
fn new_data_leaves_as_super_segments_of_half_the_window_that_cut_into_mss_segments() {
    let (mut h, c) = H::established(plain_config());
    h.ep.conn_mut(h.now, c).unwrap().set_nodelay(true);
    h.ep.send(h.now, c, &vec![5u8; MSS * 10 + 100]).unwrap();
    let mut buf = vec![0u8; 65535];
    let t = h.ep.poll_transmit_gso(h.now, &mut buf, 44).expect("a super-segment");
    assert_eq!(t.gso_size, Some(MSS as u16));
    let packet = &mut buf[..t.len];
    assert!(parse_segment(packet).is_err(), "the checksum is partial, left to the device");
    let seg = parse_segment_with(packet, false).unwrap();
    // cwnd is 10 segments: a super-segment takes half, so that two are in flight.
    assert_eq!((seg.tcp.seq.0, seg.tcp.payload.len()), (h.iss + 1, MSS * 5));
    // Every super-segment carries PSH (the device leaves it on the last segment it cuts),
    // though the write goes on after it.
    assert!(seg.tcp.flags.contains(TcpFlags::PSH));
    let (src, dst) = (seg.ip.src, seg.ip.dst);
    // The partial checksum is the pseudo-header's sum: completing it gives a valid packet.
    let tcp = &mut packet[20..];
    let partial = u16::from_be_bytes([tcp[16], tcp[17]]);
    let pseudo = pseudo_header_sum(src, dst, 6, tcp.len());
    assert_eq!(partial, !internet_checksum(pseudo, &[]));
    tcp[16..18].copy_from_slice(&[0, 0]);
    let full = internet_checksum(pseudo, tcp);
    tcp[16..18].copy_from_slice(&full.to_be_bytes());
    assert!(parse_segment(packet).is_ok());
    let second = h.ep.poll_transmit_gso(h.now, &mut buf, 44).expect("the second half");
    let seg = parse_segment_with(&buf[..second.len], false).unwrap().tcp;
    assert_eq!((seg.seq.0, seg.payload.len()), (h.iss + 1 + 5 * MSS as u32, MSS * 5));
    // cwnd is full: the last 100 bytes wait, never a short segment tacked onto the second.
    assert!(h.ep.poll_transmit_gso(h.now, &mut buf, 44).is_none());
    assert_eq!(h.ep.counters().data_segments_out, 10);
}

#[test]
fn on_a_long_path_a_super_segment_holds_about_a_millisecond_of_data() {
    // 100 ms RTT, cwnd 10 segments: the rate is 2 x 10 x 1460 bytes per 100 ms, 292 bytes
    // a millisecond, so each super-segment is the floor of two segments (Linux's TSO
    // autosizing, tcp_min_tso_segs).
    let (mut h, c) = H::established_after(plain_config(), std::time::Duration::from_millis(100));
    h.ep.send(h.now, c, &vec![5u8; MSS * 6]).unwrap();
    let mut buf = vec![0u8; 65535];
    let mut sizes = Vec::new();
    while let Some(t) = h.ep.poll_transmit_gso(h.now, &mut buf, 44) {
        sizes.push(parse_segment_with(&buf[..t.len], false).unwrap().tcp.payload.len() / MSS);
    }
    assert_eq!(sizes, [2, 2, 2]);
}

#[test]
fn a_fin_rides_on_the_super_segment_that_completes_the_data_and_retransmissions_never_do() {
    let (mut h, c) = H::established(plain_config());
    h.ep.conn_mut(h.now, c).unwrap().set_nodelay(true);
    h.ep.send(h.now, c, &vec![5u8; MSS * 3]).unwrap();
    h.ep.close(h.now, c).unwrap();
    let mut buf = vec![0u8; 65535];
    let t = h.ep.poll_transmit_gso(h.now, &mut buf, 44).unwrap();
    assert_eq!(t.gso_size, Some(MSS as u16));
    let seg = parse_segment_with(&buf[..t.len], false).unwrap().tcp;
    assert!(seg.payload.len() == 3 * MSS && seg.flags.fin(), "the device leaves the FIN on the last segment");
    assert!(h.ep.poll_transmit_gso(h.now, &mut buf, 44).is_none(), "no FIN of its own");
    // The timeout resends one segment at a time.
    h.advance(std::time::Duration::from_millis(1100));
    let again = h.ep.poll_transmit_gso(h.now, &mut buf, 44).unwrap();
    assert_eq!(again.gso_size, None);
    assert_eq!(parse_segment(&buf[..again.len]).unwrap().tcp.payload.len(), MSS);
}

#[test]
fn an_offloaded_super_segment_is_taken_whole_unverified_and_acknowledged_at_once() {
    let (mut h, c) = H::established(plain_config());
    let data = vec![9u8; MSS * 8];
    let mut bytes = h.packet(&Seg::new(ACK, PEER_ISN + 1, h.iss + 1).data(&data), h.remote, h.local);
    bytes[20 + 16] ^= 0xff; // the checksum as a device leaves it: not what the data sums to
    h.ep.handle_packet(h.now, &bytes);
    assert_eq!(h.ep.counters().dropped_bad_checksum, 1, "handle_packet still checks");
    h.ep.handle_packet_offloaded(h.now, &bytes);
    assert_eq!(h.keys(), vec![(ACK, h.iss + 1, PEER_ISN + 1 + data.len() as u32, 0)], "eight segments: ACK at once");
    assert_eq!(h.read_all(c), data);
}
