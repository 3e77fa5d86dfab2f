//! Any byte string given to the wire parsers returns Ok or Err, never panics; what parses
//! re-emits and parses to the same thing; what the plain IPv4 fast path takes, the general
//! parse takes as the same segment (unverified checksums, so that the fuzzer reaches past them).
#![no_main]

use libfuzzer_sys::fuzz_target;
use synack_wire::{emit_segment, parse_plain_ipv4, parse_segment, parse_segment_general, tcpdump, Segment, TcpOptions};

fuzz_target!(|data: &[u8]| {
    let _ = TcpOptions::parse(data);
    for verify in [false, true] {
        if let Ok(fast) = parse_plain_ipv4(data, verify) {
            assert_eq!(Ok(Segment::from(fast)), parse_segment_general(data, verify));
        }
    }
    if let Ok(seg) = parse_segment(data) {
        let _ = tcpdump::Formatter::new(false).format(data);
        let mut buf = vec![0u8; data.len() + 64];
        if let Ok(len) = emit_segment(&seg.ip, &seg.tcp, 0, &mut buf) {
            let again = parse_segment(&buf[..len]).expect("an emitted segment parses");
            assert_eq!(again.tcp.seq, seg.tcp.seq);
            assert_eq!(again.tcp.ack, seg.tcp.ack);
            assert_eq!(again.tcp.flags, seg.tcp.flags);
            assert_eq!(again.tcp.payload, seg.tcp.payload);
        }
    }
});
