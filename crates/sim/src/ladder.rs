//! An ASCII ladder diagram of the exchange between two hosts: the hosts as columns, each
//! segment an arrow labelled with its flags and (relative) numbers, each state change written
//! on its side at the time it happened.

use crate::net::{Fate, LogEntry, Sim};
use crate::trace::time;
use std::collections::HashMap;
use std::fmt::Write;
use synack_engine::Instant;
use synack_wire::{parse_segment, tcpdump::flag_letters, SeqNum};

const STATE_W: usize = 13;
const ARROW_W: usize = 44;

/// The ladder of the first two hosts (`left` = host 0, `right` = host 1).
pub fn render_ladder(sim: &Sim) -> String {
    let hosts = sim.hosts();
    if hosts.len() < 2 {
        return String::new();
    }
    let mut out = String::new();
    let addr = |id: usize| hosts[id].endpoint.addresses().first().map(|a| a.to_string()).unwrap_or_default();
    let (left, right) = (format!("{} {}", hosts[0].name, addr(0)), format!("{} {}", hosts[1].name, addr(1)));
    let _ = writeln!(out, "{:>11}  {left:<w$}{right}", "", w = STATE_W + ARROW_W + 2);
    // Each side's ISN, learned from its SYN, for relative numbers.
    let mut isn = Isns::new();
    let mut pending: [Option<(Instant, String)>; 2] = [None, None];
    let flush = |out: &mut String, pending: &mut [Option<(Instant, String)>; 2], arrow: &str, at: Option<Instant>| {
        let when = at.or(pending[0].as_ref().map(|p| p.0)).or(pending[1].as_ref().map(|p| p.0));
        let Some(when) = when else { return };
        let left = pending[0].take().map(|p| p.1).unwrap_or_default();
        let right = pending[1].take().map(|p| p.1).unwrap_or_default();
        let row = format!("{}  {:<sw$} {:<aw$} {}", time(when), left, arrow, right, sw = STATE_W, aw = ARROW_W);
        let _ = writeln!(out, "{}", row.trim_end());
    };
    for entry in &sim.log {
        match entry {
            LogEntry::Transition { host, transition } if *host < 2 => {
                // A row holds one instant: flush what is pending from another time, or a
                // second change of the same side.
                let side = *host;
                let other_time = pending.iter().flatten().any(|(at, _)| *at != transition.at);
                if other_time || pending[side].is_some() {
                    flush(&mut out, &mut pending, "", None);
                }
                pending[side] = Some((transition.at, transition.to.name().to_string()));
            }
            LogEntry::Packet { at, from, bytes, fate, .. } if *from < 2 || *from == usize::MAX => {
                // A packet injected from outside (a forged or vanished peer) draws from the left.
                let from = &if *from == usize::MAX { 0 } else { *from };
                if pending.iter().flatten().any(|(t, _)| t != at) {
                    flush(&mut out, &mut pending, "", None);
                }
                let Some(label) = label(&mut isn, *from, bytes) else { continue };
                let lost = matches!(fate, Fate::Lost | Fate::Dropped);
                let arrow = arrow(&label, *from == 0, lost);
                flush(&mut out, &mut pending, &arrow, Some(*at));
            }
            _ => {}
        }
    }
    flush(&mut out, &mut pending, "", None);
    out
}

/// `flags seq s[:e] ack a` with numbers relative to each side's ISN (learned from its SYN).
/// Each sender's ISN per connection, keyed by (sender, its port, the peer's port).
type Isns = HashMap<(usize, u16, u16), SeqNum>;

fn label(isn: &mut Isns, from: usize, bytes: &[u8]) -> Option<String> {
    let tcp = parse_segment(bytes).ok()?.tcp;
    let ours = (from, tcp.src_port, tcp.dst_port);
    let theirs = (1 - from.min(1), tcp.dst_port, tcp.src_port);
    if tcp.flags.syn() {
        isn.entry(ours).or_insert(tcp.seq);
    }
    let mut label = flag_letters(tcp.flags);
    let rel = |key, n: SeqNum| isn.get(&key).map_or(n.0, |base: &SeqNum| n.since(*base));
    let len = tcp.payload.len() as u32;
    if len > 0 {
        let s = rel(ours, tcp.seq);
        let _ = write!(label, " seq {}:{}", s, s.wrapping_add(len));
    } else if tcp.flags.syn() || tcp.flags.fin() || tcp.flags.rst() {
        let _ = write!(label, " seq {}", rel(ours, tcp.seq));
    }
    if tcp.flags.ack() {
        let _ = write!(label, " ack {}", rel(theirs, tcp.ack));
    }
    Some(label)
}

/// The exchange between hosts 0 and 1 in one line per segment, for tests:
/// `client > S seq 0`, `server > S. seq 0 ack 1`, ... with `(lost)` after a lost one.
pub fn segment_summary(sim: &Sim) -> Vec<String> {
    let mut isn = HashMap::new();
    let mut out = Vec::new();
    for entry in &sim.log {
        if let LogEntry::Packet { from, bytes, fate, .. } = entry {
            let side = if *from == usize::MAX { 0 } else { *from };
            if side > 1 {
                continue;
            }
            let Some(label) = label(&mut isn, side, bytes) else { continue };
            let lost = if matches!(fate, Fate::Lost | Fate::Dropped) { " (lost)" } else { "" };
            out.push(format!("{} > {label}{lost}", sim.hosts()[side].name));
        }
    }
    out
}

/// Every state transition as `host FROM -> TO (cause)`, in order.
pub fn transition_summary(sim: &Sim) -> Vec<String> {
    sim.log
        .iter()
        .filter_map(|e| match e {
            LogEntry::Transition { host, transition: t } => {
                Some(format!("{} {} -> {} ({})", sim.hosts()[*host].name, t.from, t.to, t.cause))
            }
            _ => None,
        })
        .collect()
}

fn arrow(label: &str, rightward: bool, lost: bool) -> String {
    let body = format!(" {label} ");
    let before = 3;
    let after = ARROW_W.saturating_sub(body.len() + before + 1);
    if rightward {
        let head = if lost { "X" } else { ">" };
        format!("{}{}{}{}", "-".repeat(before), body, "-".repeat(after), head)
    } else {
        let head = if lost { "X" } else { "<" };
        format!("{}{}{}{}", head, "-".repeat(before), body, "-".repeat(after))
    }
}
