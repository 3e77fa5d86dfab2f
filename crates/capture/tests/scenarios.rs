//! The observer against the truth: every demo scenario runs on the simulated network, its
//! capture (the pcap `synack demo --pcap` writes, lost packets included and known as lost) is
//! explained, and each side's inferred final state is compared with the state the simulated
//! host itself reached through segments (its timers' transitions, such as TIME-WAIT's end,
//! leave nothing on the wire to infer them from).

use synack_capture::{connections, explain_with_losses, read_capture};
use synack_engine::Cause;
use synack_sim::scenarios::{run, SCENARIOS};
use synack_sim::{Fate, LogEntry};

/// Causes that no segment shows: timers and the application's own calls ending a record.
fn timer_cause(cause: Cause) -> bool {
    matches!(
        cause,
        Cause::TimeWaitExpired
            | Cause::SynRetriesExhausted
            | Cause::SynAckRetriesExhausted
            | Cause::RetransmissionsExhausted
            | Cause::ConnectTimeout
            | Cause::UserTimeout
            | Cause::KeepaliveTimeout
            | Cause::FinWait2Timeout
            | Cause::ListenerClosed
    )
}

#[test]
fn inferred_final_states_match_the_hosts_own() {
    let mut compared = 0;
    for scenario in SCENARIOS {
        let sim = run(scenario.name, 0).unwrap_or_else(|e| panic!("{}: {e}", scenario.name));
        let mut pcap = Vec::new();
        synack_sim::write_pcap(&sim, &mut pcap).expect("pcap");
        let capture = read_capture(&pcap).expect("the simulator's pcap reads");
        // Frame n of the pcap is the nth packet of the log; the simulator knows which were lost.
        let lost: Vec<bool> = sim
            .log
            .iter()
            .filter_map(|e| match e {
                LogEntry::Packet { fate, .. } => Some(matches!(fate, Fate::Lost | Fate::Dropped)),
                _ => None,
            })
            .collect();
        for conn in connections(&capture) {
            // The state each host reached last through a segment or a call, for this tuple.
            let truth = [(conn.client, conn.server), (conn.server, conn.client)].map(|(local, remote)| {
                sim.log.iter().rev().find_map(|e| match e {
                    LogEntry::Transition { transition: t, .. }
                        if t.tuple.local() == local && t.tuple.remote() == remote && !timer_cause(t.cause) =>
                    {
                        Some(t.to)
                    }
                    _ => None,
                })
            });
            let ex = explain_with_losses(&conn, |frame| lost[frame - 1]);
            for side in [0, 1] {
                // A side with no record of its own (a closed port, a forged or vanished
                // peer) has no state to compare.
                let Some(want) = truth[side] else { continue };
                assert_eq!(
                    ex.final_states[side], want,
                    "{}: connection {} ({} -> {}), side {side}",
                    scenario.name, conn.id, conn.client, conn.server
                );
                compared += 1;
            }
        }
    }
    assert!(compared >= 2 * SCENARIOS.len() - 4, "only {compared} sides compared");
}
