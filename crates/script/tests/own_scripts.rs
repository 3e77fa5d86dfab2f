//! synack's own scripts (crates/script/scripts): what the public suite does not cover —
//! SYN-ACK retransmission and the half-open lifetime, accept-queue overflow, TIME-WAIT
//! re-ACK and expiry, simultaneous open and close, half-close, backoff, zero-window probes,
//! fast retransmit with NewReno. All run with the engine's defaults and must pass.

use std::path::PathBuf;
use synack_script::{collect_scripts, parse_script, run_file, run_script, Profile, Verdict};

#[test]
fn every_own_script_passes() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts");
    let files = collect_scripts(&[dir]).unwrap();
    assert!(files.len() >= 8, "{files:?}");
    let failures: Vec<String> = files
        .iter()
        .filter_map(|f| match run_file(f, &Profile::linux(), &[]).0 {
            Verdict::Pass => None,
            Verdict::Fail(e) => Some(format!("{}: {e}", f.display())),
            Verdict::Error(e) => Some(format!("{}: {e}", f.display())),
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The runner catches a wrong expectation, with its line and time: a script that is right
/// but for one number fails there.
#[test]
fn a_wrong_expectation_fails_at_its_line() {
    let text = "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n\
                +0 bind(3, ..., ...) = 0\n\
                +0 listen(3, 8) = 0\n\
                +0.5 < S 0:0(0) win 65535 <mss 1460>\n\
                +0 > S. 0:0(0) ack 2 win 64240 <mss 1460>\n";
    let script = parse_script(text, &[]).unwrap();
    let failure = run_script(&script, &Profile::linux()).0.unwrap_err();
    assert_eq!(failure.line, 5);
    assert_eq!(failure.at.as_micros(), 500_000);
    assert!(failure.message.contains("ack 1 instead of 2"), "{failure}");
    // The same with the right number passes.
    let fixed = parse_script(&text.replace("ack 2", "ack 1"), &[]).unwrap();
    assert!(run_script(&fixed, &Profile::linux()).0.is_ok());
}

/// A segment synack sends that no line expects fails the next outbound line (it is matched
/// in order, as packetdrill does); so does a missing one.
#[test]
fn unexpected_and_missing_segments_fail() {
    let unexpected = "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n\
                      +0 < S 0:0(0) win 65535\n\
                      +0.1 close(3) = 0\n\
                      +0 > S 0:0(0) <...>\n";
    let f = run_script(&parse_script(unexpected, &[]).unwrap(), &Profile::linux()).0.unwrap_err();
    assert!(f.message.starts_with("segment R. 0:0(0) ack 1 win 0 sent too early"), "{f}");
    let missing = "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n\
                   +0 bind(3, ..., ...) = 0\n\
                   +0 listen(3, 8) = 0\n\
                   +0 > S. 0:0(0) ack 1 win 64240\n";
    let f = run_script(&parse_script(missing, &[]).unwrap(), &Profile::linux()).0.unwrap_err();
    assert!(f.message.contains("not sent"), "{f}");
}

/// Timing is checked within the tolerance: a retransmission expected too early fails.
#[test]
fn timing_outside_the_tolerance_fails() {
    let text = "--tolerance_usecs=10000\n\
                0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n\
                +0 bind(3, ..., ...) = 0\n\
                +0 listen(3, 8) = 0\n\
                +0 < S 0:0(0) win 65535 <mss 1460>\n\
                +0 > S. 0:0(0) ack 1 win 64240 <mss 1460>\n\
                +0.9 > S. 0:0(0) ack 1 win 64240 <mss 1460>\n";
    let f = run_script(&parse_script(text, &[]).unwrap(), &Profile::linux()).0.unwrap_err();
    assert!(f.message.contains("too late") || f.message.contains("not sent"), "{f}");
}
