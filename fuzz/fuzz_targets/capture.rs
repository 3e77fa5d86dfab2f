//! `synack explain` on any bytes: the pcap/pcapng reader, the link-layer and TCP decoding, the
//! connection split, the observer, the anomaly analysis and every drawing must not panic.
//! The input is tried as a whole file, and as the frames of a raw-IP pcap (a 24-byte header
//! prepended, records cut at the input's own length prefixes), so that the fuzzer reaches the
//! decoder and the observer without first having to find a valid file header.

#![no_main]
use libfuzzer_sys::fuzz_target;
use synack_capture::{connections, explain, ladder, read_capture, svg};

fn explain_all(bytes: &[u8]) {
    if let Ok(capture) = read_capture(bytes) {
        for conn in connections(&capture) {
            let ex = explain(&conn);
            let _ = ladder::render(&conn, &ex, false);
            let _ = ladder::list_line(&conn, &ex);
            let _ = svg::ladder_svg(&conn, &ex, true);
            let _ = svg::time_sequence_svg(&conn, &ex);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    explain_all(data);
    // The same bytes as frames: each record's length is the input's next byte (+20).
    let mut pcap = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 101, 0, 0, 0];
    let mut rest = data;
    let mut t = 0u32;
    while let Some((&n, tail)) = rest.split_first() {
        let len = (n as usize + 20).min(tail.len());
        t += n as u32;
        pcap.extend_from_slice(&(t / 1000).to_le_bytes());
        pcap.extend_from_slice(&((t % 1000) * 1000).to_le_bytes());
        pcap.extend_from_slice(&(len as u32).to_le_bytes());
        pcap.extend_from_slice(&(len as u32).to_le_bytes());
        pcap.extend_from_slice(&tail[..len]);
        rest = &tail[len..];
    }
    explain_all(&pcap);
});
