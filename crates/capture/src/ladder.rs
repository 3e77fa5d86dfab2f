//! A connection as text: the listing line (`--list`), and the ladder diagram of the seeds, time
//! flowing down, the client on the left and the server on the right, each arrow labelled with
//! its flags (tcpdump's letters) and numbers, each side's state written where it changes,
//! anomalies at the end of the row; then the handshake, the data and the teardown told in the
//! seeds' terms (x and y the two ISNs: SYN seq=x, SYN-ACK seq=y ack=x+1, ACK ack=y+1).

use crate::{Anomaly, Connection, Explanation, Segment};
use std::fmt::Write;
use synack_wire::tcpdump::flag_letters;
use synack_wire::SeqNum;

const STATE_W: usize = 12;
const ARROW_W: usize = 50;

/// How numbers are written: relative to the ISNs as x+n and y+n, or absolute (`-S`).
#[derive(Debug, Clone, Copy)]
pub struct Numbers {
    isn: [Option<SeqNum>; 2],
    absolute: bool,
}

impl Numbers {
    /// Relative to `isn` (x the client's, y the server's) unless `absolute`.
    pub fn new(isn: [Option<SeqNum>; 2], absolute: bool) -> Numbers {
        Numbers { isn, absolute }
    }

    /// A sequence number of `side`'s space.
    pub fn of(&self, side: usize, n: SeqNum) -> String {
        match self.isn[side] {
            Some(isn) if !self.absolute => {
                let name = ["x", "y"][side];
                match n.since(isn) {
                    0 => name.to_string(),
                    d if d < 1 << 31 => format!("{name}+{d}"),
                    d => format!("{name}-{}", d.wrapping_neg()),
                }
            }
            _ => n.0.to_string(),
        }
    }
}

/// The label of a segment sent by `side`: flags, seq (a range when it carries data), ack,
/// the length, and a zero window.
pub fn label(numbers: &Numbers, side: usize, seg: &Segment) -> String {
    let mut label = flag_letters(seg.flags);
    if seg.len > 0 {
        let _ = write!(label, " seq={}:{}", numbers.of(side, seg.seq), numbers.of(side, seg.seq + seg.len));
    } else {
        let _ = write!(label, " seq={}", numbers.of(side, seg.seq));
    }
    if seg.flags.ack() {
        let _ = write!(label, " ack={}", numbers.of(1 - side, seg.ack));
    }
    if seg.len > 0 {
        let _ = write!(label, " ({})", seg.len);
    }
    if seg.window == 0 && !seg.flags.rst() {
        label.push_str(" win=0");
    }
    label
}

/// One line for `--list`: number, endpoints, duration, packets and bytes each way, final
/// states, anomalies.
pub fn list_line(conn: &Connection, ex: &Explanation) -> String {
    let first = conn.segments.first().map(|s| s.time).unwrap_or_default();
    let last = conn.segments.last().map(|s| s.time).unwrap_or_default();
    let packets = [0, 1].map(|side| ex.rows.iter().filter(|r| r.side == side).count());
    format!(
        "{:>3}  {} -> {}  {:.6} s  {}/{} packets  {}/{} bytes  {}/{}  {}",
        conn.id,
        conn.client,
        conn.server,
        last.saturating_sub(first).as_secs_f64(),
        packets[0],
        packets[1],
        ex.bytes[0],
        ex.bytes[1],
        ex.final_states[0],
        ex.final_states[1],
        anomaly_summary(ex)
    )
}

/// `retransmission 2, dup ACK 3`, or `no anomalies`.
pub fn anomaly_summary(ex: &Explanation) -> String {
    if ex.counts.is_empty() {
        return "none".into();
    }
    let parts: Vec<String> = ex
        .counts
        .iter()
        .map(|(kind, n)| {
            let name = if let Anomaly::DuplicateAck(_) = kind { "dup ACK".into() } else { kind.name() };
            format!("{name} {n}")
        })
        .collect();
    parts.join(", ")
}

/// The ladder diagram and the story of the connection.
pub fn render(conn: &Connection, ex: &Explanation, absolute: bool) -> String {
    let numbers = Numbers::new(ex.isn, absolute);
    let mut out = String::new();
    let _ = writeln!(out, "connection {}: {} (client) -> {} (server)", conn.id, conn.client, conn.server);
    if !absolute {
        let isn = |side: usize| ex.isn[side].map_or("not captured".to_string(), |n| n.0.to_string());
        let _ = writeln!(out, "x = {} (the client's ISN), y = {} (the server's ISN)", isn(0), isn(1));
    }
    let _ = writeln!(out);
    let left = format!("client {}", conn.client);
    let _ = writeln!(out, "{:>10}  {left:<w$}server {}", "", conn.server, w = STATE_W + ARROW_W + 2);
    let _ = writeln!(
        out,
        "{:>10}  {:<sw$} {:<aw$} {}",
        "",
        ex.initial[0].name(),
        "",
        ex.initial[1].name(),
        sw = STATE_W,
        aw = ARROW_W
    );
    let start = conn.segments.first().map(|s| s.time).unwrap_or_default();
    for (seg, row) in conn.segments.iter().zip(&ex.rows) {
        let label = label(&numbers, row.side, seg);
        let arrow = arrow(&label, row.side == 0);
        let state = |side: usize| row.states[side].map(|s| s.name()).unwrap_or("");
        let notes: Vec<String> = row.anomalies.iter().map(|a| a.name()).collect();
        let notes = if notes.is_empty() { String::new() } else { format!("  [{}]", notes.join(", ")) };
        let line = format!(
            "{:>10.6}  {:<sw$} {:<aw$} {:<sw$}{notes}",
            seg.time.saturating_sub(start).as_secs_f64(),
            state(0),
            arrow,
            state(1),
            sw = STATE_W,
            aw = ARROW_W
        );
        let _ = writeln!(out, "{}", line.trim_end());
    }
    let _ = writeln!(out);
    out.push_str(&story(conn, ex, &numbers));
    out
}

fn arrow(label: &str, rightward: bool) -> String {
    let body = format!(" {label} ");
    let after = ARROW_W.saturating_sub(body.len() + 4);
    if rightward {
        format!("---{body}{}>", "-".repeat(after))
    } else {
        format!("<---{body}{}", "-".repeat(after))
    }
}

/// The handshake, the data and the teardown in the seeds' words.
fn story(conn: &Connection, ex: &Explanation, numbers: &Numbers) -> String {
    let mut out = String::new();
    let name = ["client", "server"];
    let segs: Vec<(usize, &Segment)> = conn.segments.iter().map(|s| (conn.side_of(s), s)).collect();
    let syn = segs.iter().find(|(side, s)| *side == 0 && s.flags.syn() && !s.flags.ack());
    let syn_ack = segs.iter().find(|(side, s)| *side == 1 && s.flags.syn() && s.flags.ack());
    let third = syn_ack.and_then(|(_, sa)| {
        segs.iter().find(|(side, s)| *side == 0 && s.flags.ack() && !s.flags.syn() && s.ack == sa.seq + 1)
    });
    match (syn, syn_ack, third) {
        (Some((_, s)), Some((_, sa)), Some((_, a))) => {
            let _ = writeln!(
                out,
                "handshake: SYN seq={}; SYN-ACK seq={} ack={}; ACK ack={}",
                numbers.of(0, s.seq),
                numbers.of(1, sa.seq),
                numbers.of(0, sa.ack),
                numbers.of(1, a.ack)
            );
        }
        (Some(_), _, _) => {
            let _ = writeln!(out, "handshake: not completed in the capture");
        }
        _ => {
            let _ = writeln!(out, "handshake: not captured (the capture joined the connection later)");
        }
    }
    for side in [0, 1] {
        let highest_ack = segs
            .iter()
            .filter(|(s, seg)| *s == 1 - side && seg.flags.ack())
            .map(|(_, seg)| seg.ack)
            .reduce(|a, b| if b > a { b } else { a });
        let mut line = format!("{} sent {} bytes", name[side], ex.bytes[side]);
        if let (Some(ack), Some(isn)) = (highest_ack, ex.isn[side]) {
            let acked = ack.since(isn);
            let fin = segs.iter().any(|(s, seg)| *s == side && seg.flags.fin() && ack > seg.seq + seg.len);
            let controls = 1 + fin as u32;
            let _ = write!(
                line,
                "; the {} acknowledged up to ack={} = {} bytes + {}",
                name[1 - side],
                numbers.of(side, ack),
                acked.saturating_sub(controls),
                if fin { "2 (SYN and FIN)" } else { "1 (the SYN)" }
            );
        }
        let _ = writeln!(out, "{line}");
    }
    let closing: Vec<String> = segs
        .iter()
        .filter(|(_, s)| s.flags.fin() || s.flags.rst())
        .map(|(side, s)| {
            let what = if s.flags.rst() { "RST" } else { "FIN" };
            format!("{} {what} seq={}", name[*side], numbers.of(*side, s.seq + s.len))
        })
        .collect();
    if !closing.is_empty() {
        let _ = writeln!(out, "teardown: {}", closing.join(", "));
    }
    let _ = writeln!(out, "final states: client {}, server {}", ex.final_states[0], ex.final_states[1]);
    let _ = writeln!(out, "anomalies: {}", anomaly_summary(ex));
    out
}
