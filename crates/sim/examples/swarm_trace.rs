//! Prints the trace of one swarm seed: `cargo run --example swarm_trace -- SEED`.
fn main() {
    let seed: u64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).expect("usage: swarm_trace SEED");
    let mut spec = synack_sim::workload::swarm_spec(seed);
    spec.record = true;
    let (report, sim) = synack_sim::workload::run_transfer_sim(&spec);
    print!("{}", synack_sim::render_trace(&sim, synack_sim::TraceOptions { absolute: true }));
    eprintln!("{spec:?}\n{report:?}");
    for h in sim.hosts() {
        eprintln!("{}: {:?}", h.name, h.endpoint.counters().iter().filter(|c| c.1 > 0).collect::<Vec<_>>());
    }
}
