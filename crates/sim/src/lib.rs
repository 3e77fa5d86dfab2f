//! synack's simulator: hosts (each an `Endpoint`) joined by links with delay, jitter,
//! bandwidth, loss, duplication, reordering and corruption, all drawn from one seed; scripted
//! faults; a virtual clock that jumps to the next delivery or timer; and a log of every packet
//! and state transition, from which traces, ladder diagrams and pcap files are made.

mod ladder;
mod link;
mod net;
mod pcap;
pub mod scenarios;
pub mod skip;
mod trace;
pub mod workload;

pub use ladder::{render_ladder, segment_summary, transition_summary};
pub use link::{Faults, LinkConfig, LinkStats, PPM};
pub use net::{Fate, Fault, HostId, LogEntry, Sim};
pub use pcap::write_pcap;
pub use trace::{render_trace, TraceOptions};
