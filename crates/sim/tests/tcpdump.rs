//! The trace lines are exactly what `tcpdump -nn -r` (and `-S`) prints for the pcap of the same
//! run, and tshark finds no malformed packet and no bad checksum in it.

use std::process::Command;
use synack_sim::scenarios::{self, SCENARIOS};
use synack_sim::skip::require_tool;
use synack_sim::{render_trace, write_pcap, TraceOptions};

/// The tcpdump part of each packet line: the text after the time column.
fn packet_lines(trace: &str) -> Vec<String> {
    trace
        .lines()
        .filter_map(|l| {
            let (time, rest) = l.trim_start().split_once(' ')?;
            let is_time = time.contains('.') && time.chars().all(|c| c.is_ascii_digit() || c == '.');
            (is_time && (rest.starts_with("IP ") || rest.starts_with("IP6 "))).then(|| rest.to_string())
        })
        .collect()
}

fn tcpdump_lines(pcap: &std::path::Path, absolute: bool) -> Vec<String> {
    let mut cmd = Command::new("tcpdump");
    cmd.args(["-nn", "-t", "-r"]).arg(pcap);
    if absolute {
        cmd.arg("-S");
    }
    let out = cmd.output().expect("tcpdump runs");
    assert!(out.status.success(), "tcpdump failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("tcpdump prints text").lines().map(str::to_string).collect()
}

fn scenario_pcap(name: &str, dir: &std::path::Path) -> (synack_sim::Sim, std::path::PathBuf) {
    let sim = scenarios::run(name, 7).expect("scenario runs");
    let path = dir.join(format!("{name}.pcap"));
    write_pcap(&sim, std::fs::File::create(&path).expect("temp file")).expect("pcap written");
    (sim, path)
}

fn temp_dir(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("synack-test-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn trace_lines_match_tcpdump_on_the_pcap_of_every_scenario() {
    if !require_tool("trace_lines_match_tcpdump", "tcpdump") {
        return;
    }
    let dir = temp_dir("tcpdump");
    for s in SCENARIOS {
        let (sim, pcap) = scenario_pcap(s.name, &dir);
        for absolute in [false, true] {
            let ours = packet_lines(&render_trace(&sim, TraceOptions { absolute }));
            let theirs = tcpdump_lines(&pcap, absolute);
            assert!(!ours.is_empty(), "{}: no packet lines", s.name);
            assert_eq!(ours, theirs, "scenario {} (absolute {absolute}) differs from tcpdump", s.name);
        }
    }
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn tshark_finds_no_malformed_packet_and_no_bad_checksum() {
    if !require_tool("tshark_finds_no_malformed_packet", "tshark") {
        return;
    }
    let dir = temp_dir("tshark");
    for s in SCENARIOS {
        let (sim, pcap) = scenario_pcap(s.name, &dir);
        let problems = Command::new("tshark")
            .args(["-o", "tcp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE", "-r"])
            .arg(&pcap)
            .args([
                "-Y",
                "_ws.malformed || _ws.expert.severity >= error || tcp.checksum.status == 0 || ip.checksum.status == 0",
            ])
            .output()
            .expect("tshark runs");
        assert!(problems.status.success(), "tshark failed: {}", String::from_utf8_lossy(&problems.stderr));
        assert_eq!(String::from_utf8_lossy(&problems.stdout), "", "scenario {}: tshark reports problems", s.name);
        // And it read every packet.
        let count = Command::new("tshark").arg("-r").arg(&pcap).output().expect("tshark runs");
        let n = String::from_utf8_lossy(&count.stdout).lines().count();
        assert_eq!(n, packet_lines(&render_trace(&sim, TraceOptions::default())).len(), "scenario {}", s.name);
    }
    std::fs::remove_dir_all(dir).ok();
}
