//! No text makes the parser or the runner panic: it parses or names the line it cannot.

use proptest::prelude::*;
use synack_script::{parse_script, run_script, Profile};

proptest! {
    #[test]
    fn arbitrary_text_parses_or_is_an_error(text in "\\PC{0,300}") {
        let _ = parse_script(&text, &[]);
    }

    #[test]
    fn script_like_lines_never_panic_the_runner(lines in proptest::collection::vec(prop_oneof![
        Just("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3".to_string()),
        Just("+0 bind(3, ..., ...) = 0".to_string()),
        Just("+0 listen(3, 1) = 0".to_string()),
        Just("+0 accept(3, ..., ...) = 4".to_string()),
        Just("+0 close(3) = 0".to_string()),
        Just("+0 fcntl(3, F_SETFL, O_RDWR | O_NONBLOCK) = 0".to_string()),
        Just("+0 connect(3, ..., ...) = -1 EINPROGRESS".to_string()),
        (0u32..5, 0u32..5, 0u8..64).prop_map(|(s, a, f)| format!("+0.1 < {} {s}:{s}(0) ack {a} win 1000", flags(f))),
        (0u32..5, 0u8..64).prop_map(|(s, f)| format!("+0.1 > {} {s}:{s}(0) win 1000", flags(f))),
        Just("+0 read(3, ..., 10) = 0".to_string()),
        Just("+0 write(3, ..., 10) = 10".to_string()),
        Just("+0 `sockstat -4 -P tcp -s | grep -c SYN_RCVD | grep 1`".to_string()),
        Just("+0 %{ assert tcpi_state == TCPI_LISTEN }%".to_string()),
    ], 0..12)) {
        if let Ok(script) = parse_script(&lines.join("\n"), &[]) {
            let _ = run_script(&script, &Profile::freebsd());
        }
    }
}

fn flags(bits: u8) -> String {
    let mut s: String =
        [(1, 'F'), (2, 'S'), (4, 'R'), (8, 'P')].iter().filter(|(b, _)| bits & b != 0).map(|(_, c)| *c).collect();
    s.push('.');
    s
}
