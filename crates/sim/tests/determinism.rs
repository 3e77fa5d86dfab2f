//! One seed, one run: the same seed gives the same trace and the same pcap, byte for byte.

use std::time::Duration;
use synack_sim::scenarios::{self, SCENARIOS};
use synack_sim::workload::{run_transfer_sim, TransferSpec};
use synack_sim::{render_trace, write_pcap, LinkConfig, TraceOptions, PPM};

fn pcap_bytes(sim: &synack_sim::Sim) -> Vec<u8> {
    let mut out = Vec::new();
    write_pcap(sim, &mut out).expect("pcap to memory");
    out
}

#[test]
fn every_scenario_gives_the_same_bytes_for_the_same_seed() {
    for s in SCENARIOS {
        let a = scenarios::run(s.name, 42).expect("runs");
        let b = scenarios::run(s.name, 42).expect("runs");
        assert_eq!(render_trace(&a, TraceOptions::default()), render_trace(&b, TraceOptions::default()), "{}", s.name);
        assert_eq!(pcap_bytes(&a), pcap_bytes(&b), "{}", s.name);
    }
}

#[test]
fn different_seeds_give_different_initial_sequence_numbers() {
    let a = render_trace(&scenarios::run("classic", 1).expect("runs"), TraceOptions { absolute: true });
    let b = render_trace(&scenarios::run("classic", 2).expect("runs"), TraceOptions { absolute: true });
    assert_ne!(a, b);
}

#[test]
fn a_faulty_transfer_replays_identically_from_its_seed() {
    let faults = synack_sim::Faults {
        loss_ppm: PPM / 10,
        duplicate_ppm: PPM / 20,
        reorder_ppm: PPM / 20,
        corrupt_ppm: PPM / 50,
        jitter: Duration::from_millis(3),
        ..LinkConfig::default().faults
    };
    let link = LinkConfig { faults, ..LinkConfig::default() };
    let mut spec = TransferSpec::new(2, 50_000, 99, link);
    spec.record = true;
    let (ra, a) = run_transfer_sim(&spec);
    let (rb, b) = run_transfer_sim(&spec);
    assert!(ra.ok(), "{:?}", ra.errors);
    assert_eq!(pcap_bytes(&a), pcap_bytes(&b));
    assert_eq!(ra.total_time, rb.total_time);
}
