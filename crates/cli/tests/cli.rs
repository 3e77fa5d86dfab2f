//! The `synack` command as a user runs it: good arguments work, bad ones get a clear message and
//! a non-zero exit, never a panic.

use std::process::{Command, Output};

fn synack(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_synack")).args(args).output().expect("the binary runs")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn demo_by_default_prints_the_classic_trace_ladder_and_counters() {
    let o = synack(&["demo"]);
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("IP 192.168.1.116.3337 > 192.168.1.123.7788: Flags [S], seq "));
    assert!(out.contains("client 192.168.1.116:3337  SYN-SENT -> ESTABLISHED  (rcvd SYN-ACK)"));
    assert!(out.contains("Flags [.], ack 58,"), "the client acknowledges 58");
    assert!(out.contains("TIME-WAIT -> CLOSED  (2MSL expired)"));
    assert!(out.contains("== Ladder diagram"));
    assert!(out.contains("== Counters"));
}

#[test]
fn demo_list_names_every_scenario() {
    let o = synack(&["demo", "--list"]);
    assert!(o.status.success());
    let out = text(&o);
    for name in [
        "classic",
        "half-close",
        "simultaneous-open",
        "simultaneous-close",
        "lost-syn",
        "lost-syn-ack",
        "lost-final-ack",
        "lost-last-ack",
        "half-open-timeout",
        "backlog-overflow",
        "closed-port",
        "reset",
    ] {
        assert!(out.contains(name), "{name} missing");
    }
}

#[test]
fn demo_writes_a_pcap_when_asked() {
    let path = std::env::temp_dir().join(format!("synack-cli-{}.pcap", std::process::id()));
    let o = synack(&["demo", "--scenario", "reset", "--pcap", path.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let bytes = std::fs::read(&path).expect("pcap written");
    let magic = &bytes[..4];
    assert!(magic == [0xd4, 0xc3, 0xb2, 0xa1] || magic == [0xa1, 0xb2, 0xc3, 0xd4], "pcap magic {magic:?}");
    assert!(bytes.len() > 24 + 16 * 5);
    std::fs::remove_file(path).ok();
}

#[test]
fn unknown_scenario_is_a_clear_error() {
    let o = synack(&["demo", "--scenario", "no-such-thing"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("no scenario named 'no-such-thing'"));
}

#[test]
fn bad_arguments_are_refused_with_a_message_not_a_panic() {
    for args in [
        &["sim", "--loss", "150"][..],
        &["sim", "--loss", "lots"],
        &["sim", "--connections", "0"],
        &["sim", "--bandwidth", "-3"],
        &["demo", "--seed", "-1"],
        &["frobnicate"],
        &["demo", "--pcap", "/nonexistent-dir/x.pcap"],
    ] {
        let o = synack(args);
        assert!(!o.status.success(), "{args:?} should fail");
        let out = text(&o);
        assert!(!out.contains("panicked"), "{args:?} panicked: {out}");
        assert!(!out.trim().is_empty(), "{args:?} gave no message");
    }
}

#[test]
fn sim_over_a_faulty_link_delivers_everything_and_exits_zero() {
    let o = synack(&[
        "sim",
        "--loss",
        "5",
        "--dup",
        "2",
        "--reorder",
        "2",
        "--corrupt",
        "1",
        "--bytes",
        "200000",
        "--connections",
        "3",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("bytes delivered intact: 1200000 of 1200000"), "{out}");
    assert!(out.contains("result: OK"));
    assert!(out.contains("final states: client CLOSED, server CLOSED"), "{out}");
}

/// With --pacing over a lossy link every byte still arrives, and the report says so.
#[test]
fn sim_with_pacing_delivers_everything_over_a_lossy_link() {
    let o = synack(&["sim", "--pacing", "--loss", "1", "--bytes", "500000", "--connections", "2"]);
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(out.contains("bytes delivered intact: 2000000 of 2000000"), "{out}");
    assert!(out.contains("result: OK"), "{out}");
}

#[test]
fn sim_with_ecn_marks_slows_the_sender_without_a_single_retransmission() {
    let o = synack(&["sim", "--ecn", "--mark", "3", "--bytes", "2000000", "--delay", "1", "--bandwidth", "1000"]);
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(out.contains("bytes delivered intact: 4000000 of 4000000"), "{out}");
    assert!(out.contains("retransmitted segments: 0"), "CE marks replace losses: {out}");
    let reductions: u64 = out
        .lines()
        .find_map(|l| l.strip_prefix("ecn: ")?.split(" window reductions").next()?.rsplit(' ').next()?.parse().ok())
        .expect("an ecn line");
    assert!(reductions > 0, "the sender reacted to the echoes: {out}");
}

#[test]
fn swarm_runs_seeds_and_reports_the_count() {
    let o = synack(&["swarm", "--seeds", "20"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("20 passed, 0 failed"));
}

#[test]
fn script_runs_the_own_scripts_and_reports_a_summary() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../script/scripts");
    let o = synack(&["script", dir]);
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(out.contains("pass  ") && out.contains(" passed, 0 failed"), "{out}");
}

#[test]
fn script_failures_and_parse_errors_exit_non_zero_with_the_line() {
    let dir = std::env::temp_dir().join(format!("synack-cli-script-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.pkt");
    std::fs::write(&bad, "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 < Q 0:0(0) win 1\n").unwrap();
    let wrong = dir.join("wrong.pkt");
    std::fs::write(&wrong, "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 4\n+0 close(3) = 0\n").unwrap();
    let o = synack(&["script", bad.to_str().unwrap(), wrong.to_str().unwrap()]);
    let out = text(&o);
    assert!(!o.status.success());
    assert!(out.contains("parse error: line 2: unknown TCP flag `Q`"), "{out}");
    assert!(out.contains("line 2 at 0.000000: close() returned -1 EBADF, expected 0"), "{out}");
    assert!(out.contains("0 passed, 2 failed"), "{out}");
    let o = synack(&["script", "--profile", "solaris", bad.to_str().unwrap()]);
    assert!(!o.status.success() && text(&o).contains("invalid value 'solaris'"), "{}", text(&o));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Each value that once panicked, hung or was taken silently: refused before anything runs,
/// with exit code 2 and a message naming the value and what is allowed.
#[test]
fn out_of_range_values_are_refused_up_front_with_the_range() {
    let tun = ["--tun", "synack-never", "--addr", "10.250.0.1/24"];
    let serve = |extra: &[&'static str]| [&["serve"][..], &tun[..], extra].concat();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (serve(&["--delay", "1e300"]), "allowed: 0 to 10000 ms"),
        (serve(&["--ss-interval", "1e-300"]), "allowed: 0.1 to 86400 s"),
        (serve(&["--ss-interval", "inf"]), "allowed: 0.1 to 86400 s"),
        (serve(&["--port", "0"]), "allowed: 1 to 65535"),
        (serve(&["--port", "-5"]), "-5 is out of range"),
        (serve(&["--local", "fd00::2"]), "different IP versions"),
        (vec!["serve", "--tun", "", "--addr", "10.250.0.1/24"], "not an interface name"),
        (vec!["serve", "--tun", "a/b", "--addr", "10.250.0.1/24"], "not an interface name"),
        (serve(&["--mode", "ftp"]), "echo, discard or http"),
        (vec!["sim", "--bytes", "1000000000000000"], "allowed: 0 to 10000000000"),
        (vec!["sim", "--bytes", "18446744073709551615"], "allowed: 0 to 10000000000"),
        (vec!["sim", "--delay", "99999999999"], "allowed: 0 to 10000"),
        (vec!["sim", "--jitter", "18446744073709551615"], "allowed: 0 to 10000"),
        (vec!["sim", "--bandwidth", "0.000001"], "0 for unlimited, or 0.01 to"),
        (vec!["sim", "--bandwidth", "0.0000001"], "0 for unlimited, or 0.01 to"),
        (vec!["sim", "--mark", "5"], "--ecn"),
        (vec!["sim", "--delay", "-5"], "-5 is out of range"),
        (vec!["sim", "--seed", "-1"], "-1 is out of range"),
        (vec!["sim", "--connections", "20001"], "allowed: 1 to 20000"),
        (vec!["sim", "--connections", "20000", "--bytes", "1000000"], "at most 10000000000 in all"),
        (vec!["sim", "--bytes", "200000000", "--pcap", "/tmp/x.pcap"], "kept in memory"),
        (vec!["sim", "--delay", "10000", "--bytes", "10000000000"], "virtual time"),
        (vec!["sim", "--pcap", "/nonexistent-dir/x.pcap"], "/nonexistent-dir/x.pcap"),
        (vec!["demo", "--pcap", "/nonexistent-dir/x.pcap"], "/nonexistent-dir/x.pcap"),
        (vec!["swarm", "--start", "18446744073709551610", "--seeds", "10"], "at most 6 seeds"),
        (vec!["swarm", "--seeds", "0"], "allowed: 1 to"),
        (vec!["swarm", "--seeds", "-5"], "-5 is out of range"),
        (vec!["connect", "--tun", "x", "--addr", "10.250.0.1/24", "10.250.0.1:0"], "port 0"),
    ];
    for (args, expected) in cases {
        let started = std::time::Instant::now();
        let o = synack(&args);
        let out = text(&o);
        assert!(!o.status.success(), "{args:?} was accepted: {out}");
        assert!(!out.contains("panicked") && !out.contains("synack sim:"), "{args:?} ran: {out}");
        assert!(out.contains(expected), "{args:?}: expected {expected:?} in: {out}");
        assert!(started.elapsed() < std::time::Duration::from_secs(10), "{args:?} took {:?}", started.elapsed());
    }
}

#[test]
fn sim_moves_20000_connections_on_a_perfect_link() {
    let o = synack(&["sim", "--connections", "20000", "--bytes", "1000"]);
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(out.contains("bytes delivered intact: 40000000 of 40000000"), "{out}");
}

/// Files that once crashed, aborted, looped or passed: each is a failure with its reason,
/// and the run goes on to the next.
#[test]
fn script_reports_every_bad_file_and_runs_the_rest() {
    let dir = std::env::temp_dir().join(format!("synack-cli-badscripts-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let setup = "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 bind(3, ..., ...) = 0\n+0 listen(3, 1) = 0\n\
                 +0 < S 0:0(0) win 65535 <mss 1460>\n+0 > S. 0:0(0) ack 1 <...>\n\
                 +0 < . 1:1(0) ack 1 win 65535\n+0 accept(3, ..., ...) = 4\n";
    std::fs::write(dir.join("a-huge-segment.pkt"), format!("{setup}+0 < P. 1:65501(65500) ack 1 win 65535\n")).unwrap();
    std::fs::write(
        dir.join("b-huge-read.pkt"),
        format!(
            "{setup}+0 < P. 1:11(10) ack 1 win 65535\n+0 > . 1:1(0) ack 11 <...>\n+0 read(4, ..., 100000000000) = 10\n"
        ),
    )
    .unwrap();
    std::fs::write(dir.join("c-empty.pkt"), "").unwrap();
    std::fs::write(dir.join("d-good.pkt"), format!("{setup}+0 close(4) = 0\n+0 > F. 1:1(0) ack 1 <...>\n")).unwrap();
    std::os::unix::fs::symlink("/", dir.join("e-link-to-root")).unwrap();
    let o = synack(&["script", dir.to_str().unwrap()]);
    let out = text(&o);
    assert!(!out.contains("panicked"), "{out}");
    assert!(out.contains("does not fit in one IPv4 packet"), "{out}");
    assert!(out.contains("pass  ") && out.contains("b-huge-read.pkt"), "the huge read returns what is there: {out}");
    assert!(out.contains("c-empty.pkt: the script has no events"), "{out}");
    assert!(out.contains("2 passed, 2 failed"), "{out}");
    for path in ["/dev/null", "/proc/self"] {
        let o = synack(&["script", path]);
        assert!(!o.status.success(), "{path} passed: {}", text(&o));
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn every_option_of_every_command_has_help_text() {
    for command in ["demo", "sim", "serve", "connect", "script", "swarm"] {
        let o = synack(&[command, "--help"]);
        assert!(o.status.success());
        let help = String::from_utf8_lossy(&o.stdout).into_owned();
        let options: Vec<&str> = help.lines().filter(|l| l.trim_start().starts_with('-')).collect();
        assert!(!options.is_empty(), "{command}: {help}");
        for line in options {
            // "  -x, --name <VALUE>  What it does": the option, then at least two spaces and text.
            // clap's own "[default: 1]" is not a description.
            let text = line.trim().split_once("  ").map_or("", |(_, text)| text.split('[').next().unwrap_or(""));
            let described = !text.trim().is_empty();
            assert!(described, "synack {command}: no help for `{}`", line.trim());
        }
    }
}

/// On a terminal a long run says how far it has come (a pseudo-terminal from util-linux's
/// `script`); piped, it prints only its results.
#[test]
fn a_long_run_shows_its_progress_on_a_terminal() {
    if !synack_sim::skip::require_tool("progress_on_a_terminal", "script") {
        return;
    }
    let command = format!("{} swarm --seeds 30000", env!("CARGO_BIN_EXE_synack"));
    let o = Command::new("script").args(["-qec", &command, "/dev/null"]).output().expect("script runs");
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(out.contains("synack swarm: seed "), "no progress line: {out}");
    assert!(out.contains("30000 passed, 0 failed"), "{out}");
    let piped = synack(&["swarm", "--seeds", "3000"]);
    assert!(!text(&piped).contains("synack swarm: seed "), "progress on a pipe");
}

/// `sim --flood`: a SYN flood while the transfer runs; every real connection still gets in,
/// through SYN cookies past the server's SYN queue.
#[test]
fn sim_under_a_syn_flood_still_connects_everyone() {
    let o = synack(&["sim", "--connections", "300", "--bytes", "1000", "--flood", "200000"]);
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(out.contains("300 of 300 connections established"), "{out}");
    let cookies: u64 =
        out.split("the server sent ").nth(1).and_then(|r| r.split(' ').next()).and_then(|n| n.parse().ok()).unwrap();
    assert!(cookies > 1000, "{out}");
    let o = synack(&["sim", "--flood", "1000", "--ipv6"]);
    assert!(!o.status.success());
}

/// `explain` on the demo's own capture (no root needed): the ladder with the seeds' numbers
/// and both sides' states; `--list`; and every bad file (missing, a directory, empty, not a
/// capture, cut inside a record) refused with a message and exit code 1, never a panic.
#[test]
fn explain_reads_the_demos_capture_and_refuses_bad_files() {
    let dir = std::env::temp_dir().join(format!("synack-cli-explain-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pcap = dir.join("classic.pcap");
    assert!(synack(&["demo", "--pcap", pcap.to_str().unwrap()]).status.success());
    let o = synack(&["explain", pcap.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("handshake: SYN seq=x; SYN-ACK seq=y ack=x+1; ACK ack=y+1"), "{out}");
    assert!(out.contains("server sent 57 bytes; the client acknowledged up to ack=y+59 = 57 bytes + 2"), "{out}");
    assert!(out.contains("final states: client TIME-WAIT, server CLOSED"), "{out}");
    let listed = text(&synack(&["explain", "--list", pcap.to_str().unwrap()]));
    assert!(listed.contains("1 TCP connections") && listed.contains("TIME-WAIT/CLOSED"), "{listed}");
    let o = synack(&["explain", "--port", "9", pcap.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("no connection matches"), "{}", text(&o));

    let bytes = std::fs::read(&pcap).unwrap();
    let cut = dir.join("cut.pcap");
    std::fs::write(&cut, &bytes[..bytes.len() - 10]).unwrap();
    let empty = dir.join("empty.pcap");
    std::fs::write(&empty, b"").unwrap();
    let text_file = dir.join("notes.txt");
    std::fs::write(&text_file, b"not a capture at all").unwrap();
    for (path, says) in [
        (dir.join("missing.pcap"), "No such file"),
        (dir.clone(), "not a regular file"),
        (empty, "not a capture"),
        (text_file, "not a capture"),
        (cut, "record 12: the file ends inside it"),
    ] {
        let o = synack(&["explain", path.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(1), "{}: {}", path.display(), text(&o));
        assert!(text(&o).contains(says) && !text(&o).contains("panicked"), "{}: {}", path.display(), text(&o));
    }
    std::fs::remove_dir_all(dir).ok();
}

/// `scan`'s port list is checked before anything runs (no root needed to be refused).
#[test]
fn scan_refuses_bad_port_lists() {
    for (ports, says) in
        [("0", "'0' is not a port"), ("10-5", "runs backwards"), ("80,x", "'x' is not a port"), ("70000", "not a port")]
    {
        let o = synack(&["scan", "--tun", "scan0", "--addr", "10.0.0.1/24", "10.0.0.1", "--ports", ports]);
        assert_eq!(o.status.code(), Some(2), "{ports}: {}", text(&o));
        assert!(text(&o).contains(says), "{ports}: {}", text(&o));
    }
}
