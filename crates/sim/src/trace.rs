//! The run's log as text: one tcpdump-format line per packet (preceded by the virtual time),
//! the state transitions with their causes, notes, and `ss`-style tables.

use crate::net::{Fate, LogEntry, Sim};
use std::fmt::Write;
use synack_engine::Instant;
use synack_wire::tcpdump::Formatter;

#[derive(Debug, Clone, Copy, Default)]
pub struct TraceOptions {
    /// Absolute sequence numbers, as `tcpdump -S`.
    pub absolute: bool,
}

/// The width of the time column; packet lines are `time + ' ' + tcpdump line`.
pub const TIME_WIDTH: usize = 11;

pub fn render_trace(sim: &Sim, opts: TraceOptions) -> String {
    let mut fmt = Formatter::new(opts.absolute);
    let mut out = String::new();
    let name = |id: usize| sim.hosts()[id].name.as_str();
    for entry in &sim.log {
        match entry {
            LogEntry::Packet { at, bytes, fate, .. } => {
                let _ = writeln!(out, "{} {}", time(*at), fmt.format(bytes));
                let note = match fate {
                    Fate::Delivered => None,
                    Fate::Lost => Some("lost on the link"),
                    Fate::Dropped => Some("dropped (scripted fault)"),
                    Fate::Duplicated => Some("duplicated by the link"),
                    Fate::Corrupted => Some("corrupted on the link (a bit flipped)"),
                    Fate::Unroutable => Some("no host has that address"),
                };
                if let Some(note) = note {
                    let _ = writeln!(out, "{:width$}   ^ {note}", "", width = TIME_WIDTH);
                }
            }
            LogEntry::Transition { host, transition: t } => {
                let _ = writeln!(
                    out,
                    "{} {} {}  {} -> {}  ({})",
                    time(t.at),
                    name(*host),
                    t.tuple.local(),
                    t.from,
                    t.to,
                    t.cause
                );
            }
            LogEntry::Note { at, text } => {
                let _ = writeln!(out, "{} -- {text}", time(*at));
            }
            LogEntry::Table { at, title, rows } => {
                let _ = writeln!(out, "{} == {title}", time(*at));
                let header = format!(
                    "{:w$}   {:<7} {:<13} {:>6} {:>6}  {:<24} {:<24}",
                    "",
                    "Host",
                    "State",
                    "Recv-Q",
                    "Send-Q",
                    "Local Address:Port",
                    "Peer Address:Port",
                    w = TIME_WIDTH
                );
                let _ = writeln!(out, "{}", header.trim_end());
                for (host, r) in rows {
                    let peer = r.remote.map_or_else(|| "*:*".to_string(), |a| a.to_string());
                    let row = format!(
                        "{:w$}   {:<7} {:<13} {:>6} {:>6}  {:<24} {:<24}",
                        "",
                        name(*host),
                        r.state.name(),
                        r.recv_q,
                        r.send_q,
                        r.local.to_string(),
                        peer,
                        w = TIME_WIDTH
                    );
                    let _ = writeln!(out, "{}", row.trim_end());
                }
            }
        }
    }
    out
}

pub(crate) fn time(at: Instant) -> String {
    format!("{:>width$}", at.to_string(), width = TIME_WIDTH)
}
