//! Every demo scenario end to end: the exact segments (flags, relative seq and ack) and state
//! transitions, and the timings that matter (retransmission backoff, half-open lifetime, 2MSL).

use std::collections::BTreeSet;
use synack_engine::{Instant, State};
use synack_sim::scenarios::{self, SCENARIOS};
use synack_sim::{segment_summary, transition_summary, LogEntry, Sim};

fn run(name: &str) -> Sim {
    scenarios::run(name, 0).unwrap_or_else(|e| panic!("scenario {name}: {e}"))
}

fn assert_lines(actual: Vec<String>, expected: &[&str]) {
    let actual: Vec<&str> = actual.iter().map(String::as_str).collect();
    assert_eq!(actual, expected);
}

/// Send times (seconds, as the trace prints them) of the segments whose summary matches.
fn times_of(sim: &Sim, host: usize, flags: &str) -> Vec<String> {
    let summary = segment_summary(sim);
    let mut times = Vec::new();
    let mut i = 0;
    for e in &sim.log {
        if let LogEntry::Packet { at, from, .. } = e {
            let side = if *from == usize::MAX { 0 } else { *from };
            if side > 1 {
                continue;
            }
            let line = &summary[i];
            i += 1;
            if side == host && line.split(' ').nth(2) == Some(flags) {
                times.push(at.to_string());
            }
        }
    }
    times
}

#[test]
fn classic_handshake_data_and_teardown_follow_the_articles() {
    let sim = run("classic");
    assert_lines(
        segment_summary(&sim),
        &[
            "client > S seq 0",
            "server > S. seq 0 ack 1",
            "client > . ack 1",
            "server > P. seq 1:10 ack 1",
            "server > P. seq 10:19 ack 1",
            "server > P. seq 19:47 ack 1",
            "server > P. seq 47:58 ack 1",
            "client > . ack 58",
            "client > F. seq 1 ack 58",
            "server > . ack 2",
            "server > F. seq 58 ack 2",
            "client > . ack 59",
        ],
    );
    assert_lines(
        transition_summary(&sim),
        &[
            "client CLOSED -> SYN-SENT (connect())",
            "server LISTEN -> SYN-RECEIVED (rcvd SYN)",
            "client SYN-SENT -> ESTABLISHED (rcvd SYN-ACK)",
            "server SYN-RECEIVED -> ESTABLISHED (rcvd ACK)",
            "client ESTABLISHED -> FIN-WAIT-1 (close())",
            "server ESTABLISHED -> CLOSE-WAIT (rcvd FIN)",
            "server CLOSE-WAIT -> LAST-ACK (close())",
            "client FIN-WAIT-1 -> FIN-WAIT-2 (rcvd ACK of FIN)",
            "client FIN-WAIT-2 -> TIME-WAIT (rcvd FIN)",
            "server LAST-ACK -> CLOSED (rcvd ACK of FIN)",
            "client TIME-WAIT -> CLOSED (2MSL expired)",
        ],
    );
}

#[test]
fn classic_time_wait_lasts_two_msl_after_the_last_ack() {
    let sim = run("classic");
    let at = |from: State, to: State| {
        sim.log.iter().find_map(|e| match e {
            LogEntry::Transition { transition: t, .. } if t.from == from && t.to == to => Some(t.at),
            _ => None,
        })
    };
    let entered = at(State::FinWait2, State::TimeWait).expect("client entered TIME-WAIT");
    let left = at(State::TimeWait, State::Closed).expect("TIME-WAIT ended");
    assert_eq!(left.saturating_since(entered).as_secs(), 60);
}

#[test]
fn classic_handshake_numbers_are_x_plus_1_and_y_plus_1_in_absolute_terms() {
    use synack_wire::parse_segment;
    let sim = run("classic");
    let segs: Vec<_> = sim
        .log
        .iter()
        .filter_map(|e| match e {
            LogEntry::Packet { bytes, .. } => Some(parse_segment(bytes).expect("valid").tcp),
            _ => None,
        })
        .take(3)
        .map(|t| (t.seq, t.ack, t.flags))
        .collect();
    let (x, _, syn) = segs[0];
    let (y, ack1, synack) = segs[1];
    let (seq3, ack3, ack_flags) = segs[2];
    assert!(syn.syn() && !syn.ack());
    assert!(synack.syn() && synack.ack());
    assert_eq!(ack1, x + 1, "SYN+ACK acknowledges x+1");
    assert!(ack_flags.ack() && !ack_flags.syn());
    assert_eq!((seq3, ack3), (x + 1, y + 1), "the third segment is seq=x+1 ack=y+1");
}

#[test]
fn half_close_lets_data_flow_through_close_wait_after_the_clients_fin() {
    let sim = run("half-close");
    assert_lines(
        segment_summary(&sim),
        &[
            "client > S seq 0",
            "server > S. seq 0 ack 1",
            "client > . ack 1",
            "client > P. seq 1:13 ack 1",
            "client > F. seq 13 ack 1",
            "server > . ack 14",
            "server > P. seq 1:15 ack 14",
            "server > P. seq 15:29 ack 14",
            "server > P. seq 29:43 ack 14",
            "server > F. seq 43 ack 14",
            "client > . ack 44",
        ],
    );
    let t = transition_summary(&sim);
    assert!(t.contains(&"client ESTABLISHED -> FIN-WAIT-1 (shutdown())".to_string()));
    assert!(t.contains(&"client FIN-WAIT-2 -> TIME-WAIT (rcvd FIN)".to_string()));
}

#[test]
fn simultaneous_open_goes_through_syn_received_on_both_sides() {
    let sim = run("simultaneous-open");
    assert_lines(
        segment_summary(&sim)[..6].to_vec(),
        &[
            "client > S seq 0",
            "server > S seq 0",
            "client > S. seq 0 ack 1",
            "server > S. seq 0 ack 1",
            "client > . ack 1",
            "server > . ack 1",
        ],
    );
    let t = transition_summary(&sim);
    for host in ["client", "server"] {
        assert!(t.contains(&format!("{host} SYN-SENT -> SYN-RECEIVED (rcvd SYN)")), "{t:?}");
        assert!(t.contains(&format!("{host} SYN-RECEIVED -> ESTABLISHED (rcvd SYN-ACK)")), "{t:?}");
    }
}

#[test]
fn simultaneous_close_goes_through_closing_to_time_wait_on_both_sides() {
    let sim = run("simultaneous-close");
    assert_lines(
        segment_summary(&sim)[3..].to_vec(),
        &["client > F. seq 1 ack 1", "server > F. seq 1 ack 1", "client > . ack 2", "server > . ack 2"],
    );
    let t = transition_summary(&sim);
    for host in ["client", "server"] {
        for step in [
            "ESTABLISHED -> FIN-WAIT-1 (close())",
            "FIN-WAIT-1 -> CLOSING (rcvd FIN)",
            "CLOSING -> TIME-WAIT (rcvd ACK of FIN)",
            "TIME-WAIT -> CLOSED (2MSL expired)",
        ] {
            assert!(t.contains(&format!("{host} {step}")), "{host} {step} missing in {t:?}");
        }
    }
}

#[test]
fn lost_syn_is_retransmitted_after_the_initial_rto_of_one_second() {
    let sim = run("lost-syn");
    assert_eq!(segment_summary(&sim)[..3], ["client > S seq 0 (lost)", "client > S seq 0", "server > S. seq 0 ack 1"]);
    assert_eq!(times_of(&sim, 0, "S"), ["0.000000", "1.000000"]);
}

#[test]
fn lost_syn_ack_is_repeated_by_the_server_and_drawn_again_by_the_clients_syn() {
    let sim = run("lost-syn-ack");
    let s = segment_summary(&sim);
    assert_eq!(s[1], "server > S. seq 0 ack 1 (lost)");
    assert_eq!(times_of(&sim, 0, "S"), ["0.000000", "1.000000"]);
    // One answers the retransmitted SYN, one is the server's own timer (1 s after the first).
    assert_eq!(times_of(&sim, 1, "S."), ["0.005000", "1.005000", "1.005000"]);
}

#[test]
fn lost_final_ack_leaves_the_server_half_open_until_its_syn_ack_retransmission() {
    let sim = run("lost-final-ack");
    assert_eq!(
        segment_summary(&sim)[..5],
        [
            "client > S seq 0",
            "server > S. seq 0 ack 1",
            "client > . ack 1 (lost)",
            "server > S. seq 0 ack 1",
            "client > . ack 1"
        ]
    );
    let table = sim.log.iter().find_map(|e| match e {
        LogEntry::Table { title, rows, .. } if title.contains("still SYN-RECEIVED") => Some(rows.clone()),
        _ => None,
    });
    let rows = table.expect("snapshot taken");
    assert!(rows.iter().any(|(h, r)| *h == 0 && r.state == State::Established));
    assert!(rows.iter().any(|(h, r)| *h == 1 && r.state == State::SynReceived));
}

#[test]
fn lost_last_ack_makes_the_server_repeat_its_fin_and_time_wait_answers() {
    let sim = run("lost-last-ack");
    assert_eq!(
        segment_summary(&sim)[5..],
        ["server > F. seq 1 ack 2", "client > . ack 2 (lost)", "server > F. seq 1 ack 2", "client > . ack 2"]
    );
    assert_eq!(sim.host(0).endpoint.counters().time_wait_reacks, 1);
    let t = transition_summary(&sim);
    assert!(t.contains(&"server LAST-ACK -> CLOSED (rcvd ACK of FIN)".to_string()));
}

#[test]
fn half_open_entry_gets_syn_acks_at_doubling_intervals_then_expires_after_63_seconds() {
    let sim = run("half-open-timeout");
    assert_eq!(times_of(&sim, 1, "S."), ["0.005000", "1.005000", "3.005000", "7.005000", "15.005000", "31.005000"]);
    let expired = sim.log.iter().find_map(|e| match e {
        LogEntry::Transition { transition: t, .. } if t.to == State::Listen => Some(t.at),
        _ => None,
    });
    assert_eq!(expired, Some(Instant::from_millis(63_005)));
    assert_eq!(sim.host(1).endpoint.counters().half_open_expired, 1);
}

#[test]
fn backlog_overflow_drops_syns_and_final_acks_and_every_client_still_gets_in() {
    let sim = run("backlog-overflow");
    let c = sim.host(1).endpoint.counters();
    assert_eq!(c.syn_queue_overflows, 4, "three SYNs at once, then one more when the queue refilled");
    assert!(c.listen_overflows >= 3, "retransmitted SYNs dropped while the accept queue was full");
    assert!(c.accept_queue_overflows >= 1, "a final ACK dropped while the accept queue was full");
    assert_eq!(c.passive_opens, 6);
    let snapshot = |needle: &str| {
        sim.log
            .iter()
            .find_map(|e| match e {
                LogEntry::Table { title, rows, .. } if title.contains(needle) => Some(rows.clone()),
                _ => None,
            })
            .expect("snapshot taken")
    };
    let first = snapshot("SYN queue full");
    let server_rows = |rows: &Vec<(usize, synack_engine::SocketInfo)>, s: State| {
        rows.iter().filter(|(h, r)| *h == 1 && r.state == s).count()
    };
    assert_eq!(server_rows(&first, State::Established), 2, "the accept queue holds two");
    assert_eq!(server_rows(&first, State::SynReceived), 1, "one entry's final ACK was dropped");
    let all = snapshot("all six");
    assert_eq!(server_rows(&all, State::Established), 6);
}

#[test]
fn closed_port_answers_a_syn_with_rst_ack_acknowledging_seq_plus_one() {
    let sim = run("closed-port");
    assert_lines(segment_summary(&sim), &["client > S seq 0", "server > R. seq 0 ack 1"]);
    assert_lines(
        transition_summary(&sim),
        &["client CLOSED -> SYN-SENT (connect())", "client SYN-SENT -> CLOSED (rcvd RST)"],
    );
}

#[test]
fn reset_scenario_sends_rst_and_the_peer_sees_a_reset() {
    let sim = run("reset");
    assert_eq!(segment_summary(&sim).last().map(String::as_str), Some("client > R. seq 1 ack 11"));
    let t = transition_summary(&sim);
    assert!(t.contains(&"client ESTABLISHED -> CLOSED (abort(): sent RST)".to_string()));
    assert!(t.contains(&"server ESTABLISHED -> CLOSED (rcvd RST)".to_string()));
}

#[test]
fn all_eleven_states_appear_across_the_scenarios() {
    let mut seen = BTreeSet::new();
    for s in SCENARIOS {
        for e in &run(s.name).log {
            if let LogEntry::Transition { transition: t, .. } = e {
                seen.insert(t.from);
                seen.insert(t.to);
            }
        }
    }
    let all: BTreeSet<State> = State::ALL.into_iter().collect();
    assert_eq!(seen, all);
}

#[test]
fn every_scenario_ends_with_nothing_left_open() {
    for s in SCENARIOS {
        let sim = run(s.name);
        for h in sim.hosts() {
            assert_eq!(h.endpoint.population(), Default::default(), "{}: {}", s.name, h.name);
        }
    }
}

/// nmap -sT against an open and a closed port: the open one completes the handshake and is
/// reset at once (SO_LINGER 0, as nmap closes); the closed one answers the SYN with RST.
#[test]
fn connect_scan_completes_the_handshake_on_the_open_port_only() {
    let sim = run("connect-scan");
    assert_lines(
        segment_summary(&sim),
        &[
            "client > S seq 0",
            "server > S. seq 0 ack 1",
            "client > . ack 1",
            "client > R. seq 1 ack 1",
            "client > S seq 0",
            "server > R. seq 0 ack 1",
        ],
    );
    let t = transition_summary(&sim);
    assert!(t.contains(&"server SYN-RECEIVED -> ESTABLISHED (rcvd ACK)".to_string()), "{t:?}");
    assert!(t.contains(&"client SYN-SENT -> CLOSED (rcvd RST)".to_string()), "{t:?}");
}

/// nmap -sS: a raw SYN; the open port's SYN-ACK is reset by the scanning host's own stack
/// (it has no such connection), so the server's entry goes back to LISTEN without ever being
/// ESTABLISHED; the closed port answers RST.
#[test]
fn syn_scan_never_completes_a_handshake() {
    let sim = run("syn-scan");
    assert_lines(
        segment_summary(&sim),
        &[
            "client > S seq 0",
            "server > S. seq 0 ack 1",
            "client > R seq 1",
            "client > S seq 0",
            "server > R. seq 0 ack 1",
        ],
    );
    let t = transition_summary(&sim);
    assert!(t.iter().all(|line| !line.contains("ESTABLISHED")), "no handshake completes: {t:?}");
    assert!(t.contains(&"server SYN-RECEIVED -> LISTEN (rcvd RST)".to_string()), "{t:?}");
}
