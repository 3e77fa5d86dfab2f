//! Prints `FRAME FIELD` for every anomaly of every TCP segment of a capture, FIELD being the
//! name of the `tshark -Y tcp.analysis.FIELD` flag with the same meaning: for comparing
//! synack's analysis with Wireshark's.
//!
//!     cargo run --release -p synack-capture --example anomalies -- FILE

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: anomalies FILE");
        std::process::exit(2);
    };
    let bytes = std::fs::read(&path).unwrap_or_else(|e| {
        eprintln!("{path}: {e}");
        std::process::exit(1)
    });
    let capture = synack_capture::read_capture(&bytes).unwrap_or_else(|e| {
        eprintln!("{path}: {e}");
        std::process::exit(1)
    });
    for conn in synack_capture::connections(&capture) {
        let ex = synack_capture::explain(&conn);
        for (seg, row) in conn.segments.iter().zip(&ex.rows) {
            for field in row.anomalies.iter().flat_map(|a| a.tshark_fields()) {
                println!("{} {field}", seg.number);
            }
        }
    }
}
