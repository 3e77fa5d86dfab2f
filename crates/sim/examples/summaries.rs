//! Prints each scenario's segment and transition summaries (what tests/scenarios.rs asserts).
fn main() {
    for s in synack_sim::scenarios::SCENARIOS {
        let sim = synack_sim::scenarios::run(s.name, 0).expect("scenario runs");
        println!("=== {}", s.name);
        for l in synack_sim::segment_summary(&sim) {
            println!("  {l}");
        }
        for l in synack_sim::transition_summary(&sim) {
            println!("  # {l}");
        }
    }
}
