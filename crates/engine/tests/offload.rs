//! Segmentation offload (TSO/GSO and its receive side): `poll_transmit_gso` hands out new data
//! as super-segments with a partial checksum, and `handle_packet_offloaded` takes one whole.

mod common;
use common::*;
use synack_wire::{internet_checksum, parse_segment, parse_segment_with, pseudo_header_sum, TcpFlags};

const MSS: usize = 1460;

#[test]
fn new_data_leaves_as_one_super_segment_that_cuts_into_mss_segments() {
    let (mut h, c) = H::established(plain_config());
    h.ep.conn_mut(h.now, c).unwrap().set_nodelay(true);
    h.ep.send(h.now, c, &vec![5u8; MSS * 10]).unwrap();
    let mut buf = vec![0u8; 65535];
    let t = h.ep.poll_transmit_gso(h.now, &mut buf, 44).expect("a super-segment");
    assert_eq!(t.gso_size, Some(MSS as u16));
    let packet = &mut buf[..t.len];
    assert!(parse_segment(packet).is_err(), "the checksum is partial, left to the device");
    let seg = parse_segment_with(packet, false).unwrap();
    assert_eq!((seg.tcp.seq.0, seg.tcp.payload.len()), (h.iss + 1, MSS * 10));
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
    assert_eq!(h.ep.counters().data_segments_out, 10);
}

#[test]
fn a_fin_and_retransmissions_never_ride_in_a_super_segment() {
    let (mut h, c) = H::established(plain_config());
    h.ep.conn_mut(h.now, c).unwrap().set_nodelay(true);
    h.ep.send(h.now, c, &vec![5u8; MSS * 3]).unwrap();
    h.ep.close(h.now, c).unwrap();
    let mut buf = vec![0u8; 65535];
    let t = h.ep.poll_transmit_gso(h.now, &mut buf, 44).unwrap();
    assert_eq!(t.gso_size, Some(MSS as u16));
    assert!(!parse_segment_with(&buf[..t.len], false).unwrap().tcp.flags.fin());
    let fin = h.ep.poll_transmit_gso(h.now, &mut buf, 44).unwrap();
    assert_eq!(fin.gso_size, None);
    let fin = parse_segment(&buf[..fin.len]).unwrap().tcp;
    assert!(fin.flags.fin() && fin.payload.is_empty());
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
