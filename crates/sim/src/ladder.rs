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
    let _ = writeln!(
        out,
        "{:>11}  {:<sw$} {:^aw$} {}",
        "",
        format!("{} {}", hosts[0].name, addr(0)),
        "",
        format!("{} {}", hosts[1].name, addr(1)),
        sw = STATE_W,
        aw = ARROW_W
    );
    // Each side's ISN, learned from its SYN, for relative numbers.
    let mut isn: HashMap<usize, SeqNum> = HashMap::new();
    let mut pending: [Option<(Instant, String)>; 2] = [None, None];
    let flush = |out: &mut String, pending: &mut [Option<(Instant, String)>; 2], arrow: &str, at: Option<Instant>| {
        let when = at.or(pending[0].as_ref().map(|p| p.0)).or(pending[1].as_ref().map(|p| p.0));
        let Some(when) = when else { return };
        let left = pending[0].take().map(|p| p.1).unwrap_or_default();
        let right = pending[1].take().map(|p| p.1).unwrap_or_default();
        let _ = writeln!(out, "{}  {:<sw$} {:<aw$} {}", time(when), left, arrow, right, sw = STATE_W, aw = ARROW_W);
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
            LogEntry::Packet { at, from, bytes, fate, .. } if *from < 2 => {
                if pending.iter().flatten().any(|(t, _)| t != at) {
                    flush(&mut out, &mut pending, "", None);
                }
                let Ok(seg) = parse_segment(bytes) else { continue };
                let tcp = seg.tcp;
                if tcp.flags.syn() {
                    isn.entry(*from).or_insert(tcp.seq);
                }
                let mut label = format!("{} ", flag_letters(tcp.flags));
                let rel = |side: usize, n: SeqNum| isn.get(&side).map_or(n.0, |base| n.since(*base));
                let len = tcp.payload.len() as u32;
                if len > 0 {
                    let s = rel(*from, tcp.seq);
                    let _ = write!(label, "seq {}:{} ", s, s.wrapping_add(len));
                } else if tcp.flags.syn() || tcp.flags.fin() || tcp.flags.rst() {
                    let _ = write!(label, "seq {} ", rel(*from, tcp.seq));
                }
                if tcp.flags.ack() {
                    let _ = write!(label, "ack {} ", rel(1 - *from, tcp.ack));
                }
                let label = label.trim_end();
                let lost = matches!(fate, Fate::Lost | Fate::Dropped);
                let arrow = arrow(label, *from == 0, lost);
                flush(&mut out, &mut pending, &arrow, Some(*at));
            }
            _ => {}
        }
    }
    flush(&mut out, &mut pending, "", None);
    out
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
