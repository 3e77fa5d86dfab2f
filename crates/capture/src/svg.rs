//! SVG drawings of a connection, readable in any browser: the ladder diagram (time flowing
//! down, the two hosts as vertical lines, an arrow per segment labelled as in the text ladder,
//! a lost one dashed and crossed out, each side's state written where it changes, anomalies in
//! red), and the time–sequence graph
//! of tcptrace and Stevens (the data segments of the busier direction as bars from their first
//! to their last sequence number, the ACK line, the receive window's edge, SACK blocks, and
//! retransmissions in red).

use crate::ladder::{label, Numbers};
use crate::{Anomaly, Connection, Explanation};
use std::fmt::Write;

const ROW_PX: usize = 30;
const TOP_PX: usize = 90;
const CLIENT_X: usize = 260;
const SERVER_X: usize = 700;
const WIDTH_PX: usize = 1100;

/// Text safe inside an SVG element.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The ladder diagram as an SVG document.
pub fn ladder_svg(conn: &Connection, ex: &Explanation, absolute: bool) -> String {
    let numbers = Numbers::new(ex.isn, absolute);
    let rows = conn.segments.len();
    let height = TOP_PX + (rows + 1) * ROW_PX + 40;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH_PX}" height="{height}" font-family="monospace" font-size="12">"#
    );
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        svg,
        r#"<defs><marker id="head" markerWidth="10" markerHeight="8" refX="10" refY="4" orient="auto"><path d="M0,0 L10,4 L0,8 z" fill="black"/></marker></defs>"#
    );
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="20" text-anchor="middle" font-size="14">connection {}: {} (client) → {} (server)</text>"#,
        WIDTH_PX / 2,
        conn.id,
        escape(&conn.client.to_string()),
        escape(&conn.server.to_string())
    );
    for (x, who, state) in [
        (CLIENT_X, format!("client {}", conn.client), ex.initial[0]),
        (SERVER_X, format!("server {}", conn.server), ex.initial[1]),
    ] {
        let _ =
            writeln!(svg, r#"<text x="{x}" y="45" text-anchor="middle" font-weight="bold">{}</text>"#, escape(&who));
        let _ = writeln!(svg, r#"<text x="{x}" y="62" text-anchor="middle" fill="navy">{}</text>"#, state.name());
        let _ = writeln!(svg, r#"<line x1="{x}" y1="70" x2="{x}" y2="{}" stroke="gray"/>"#, height - 30);
    }
    let start = conn.segments.first().map(|s| s.time).unwrap_or_default();
    for (i, (seg, row)) in conn.segments.iter().zip(&ex.rows).enumerate() {
        let y = TOP_PX + i * ROW_PX;
        let (from, to) = if row.side == 0 { (CLIENT_X, SERVER_X) } else { (SERVER_X, CLIENT_X) };
        let red = row.anomalies.iter().any(|a| !matches!(a, Anomaly::WindowUpdate | Anomaly::DuplicateAck(_)));
        let color = if red { "firebrick" } else { "black" };
        if row.lost {
            // Lost on the way: a dashed arrow that stops three quarters of the way, crossed out.
            let (mx, my) = ((from + 3 * to) / 4, y + 3 * ROW_PX / 8);
            let _ = writeln!(
                svg,
                r#"<g class="segment" data-frame="{}"><line x1="{from}" y1="{y}" x2="{mx}" y2="{my}" stroke="gray" stroke-dasharray="6,4"/><text x="{mx}" y="{}" text-anchor="middle" fill="firebrick" font-size="16">✕</text>"#,
                seg.number,
                my + 6
            );
        } else {
            let _ = writeln!(
                svg,
                r#"<g class="segment" data-frame="{}"><line x1="{from}" y1="{y}" x2="{to}" y2="{}" stroke="{color}" marker-end="url(#head)"/>"#,
                seg.number,
                y + ROW_PX / 2
            );
        }
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="middle" fill="{color}">{}</text></g>"#,
            (CLIENT_X + SERVER_X) / 2,
            y + ROW_PX / 4 - 2,
            escape(&label(&numbers, row.side, seg))
        );
        let _ = writeln!(
            svg,
            r#"<text x="10" y="{}" fill="gray">{:.6}</text>"#,
            y + 4,
            seg.time.saturating_sub(start).as_secs_f64()
        );
        if let Some(state) = row.states[0] {
            let _ = writeln!(
                svg,
                r#"<text x="{}" y="{}" text-anchor="end" fill="navy">{}</text>"#,
                CLIENT_X - 8,
                y + 4,
                state.name()
            );
        }
        if let Some(state) = row.states[1] {
            let _ = writeln!(svg, r#"<text x="{}" y="{}" fill="navy">{}</text>"#, SERVER_X + 8, y + 4, state.name());
        }
        if !row.anomalies.is_empty() {
            let notes: Vec<String> = row.anomalies.iter().map(|a| a.name()).collect();
            let _ = writeln!(
                svg,
                r#"<text x="{}" y="{}" fill="firebrick">{}</text>"#,
                SERVER_X + 120,
                y + 4,
                escape(&notes.join(", "))
            );
        }
    }
    svg.push_str("</svg>\n");
    svg
}

/// The time–sequence graph of the direction that carried more data, as an SVG document.
pub fn time_sequence_svg(conn: &Connection, ex: &Explanation) -> String {
    let side = if ex.bytes[1] > ex.bytes[0] { 1 } else { 0 };
    let (w, h, margin) = (1000.0f64, 600.0f64, 60.0f64);
    let start = conn.segments.first().map(|s| s.time).unwrap_or_default();
    let end = conn.segments.last().map(|s| s.time).unwrap_or_default();
    let span = end.saturating_sub(start).as_secs_f64().max(1e-6);
    let base = ex.isn[side].or_else(|| conn.segments.iter().find(|s| conn.side_of(s) == side).map(|s| s.seq));
    let Some(base) = base else {
        return format!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}"><text x="20" y="40">no data</text></svg>"#
        );
    };
    let rel = |n: synack_wire::SeqNum| n.since(base) as f64;
    // The scale: the data and the ACKs, with room above; a window edge higher than that (a
    // large window over little data) is drawn along the top.
    let mut top = 1.0f64;
    for (seg, row) in conn.segments.iter().zip(&ex.rows) {
        if row.side == side {
            top = top.max(rel(seg.seq + seg.len));
        } else if seg.flags.ack() {
            top = top.max(rel(seg.ack));
        }
    }
    let top = top * 1.25;
    let x = |t: std::time::Duration| margin + (t.saturating_sub(start).as_secs_f64() / span) * (w - 2.0 * margin);
    let y = |s: f64| h - margin - (s / top) * (h - 2.0 * margin);
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="monospace" font-size="12">"#
    );
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let who = ["client", "server"][side];
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="20" text-anchor="middle" font-size="14">connection {}: {who}'s data, sequence numbers over {span:.3} s</text>"#,
        w / 2.0,
        conn.id
    );
    let _ = writeln!(
        svg,
        r#"<line x1="{margin}" y1="{}" x2="{}" y2="{}" stroke="gray"/>"#,
        h - margin,
        w - margin,
        h - margin
    );
    let _ = writeln!(svg, r#"<line x1="{margin}" y1="{margin}" x2="{margin}" y2="{}" stroke="gray"/>"#, h - margin);
    let _ = writeln!(
        svg,
        r#"<text x="{margin}" y="{}" fill="gray">0</text><text x="4" y="{}" fill="gray">{top:.0}</text>"#,
        h - margin + 16.0,
        margin
    );
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="{}" fill="gray">data (black; retransmissions red) · ACK (green) · window edge (olive, held to the top) · SACK (blue)</text>"#,
        margin,
        h - 20.0
    );
    let (mut ack_points, mut window_points) = (Vec::new(), Vec::new());
    let window_scale = scale_of(conn, side);
    for (seg, row) in conn.segments.iter().zip(&ex.rows) {
        let t = x(seg.time);
        if row.side == side && seg.len > 0 {
            let resent = row.anomalies.iter().any(|a| {
                matches!(a, Anomaly::Retransmission | Anomaly::FastRetransmission | Anomaly::SpuriousRetransmission)
            });
            let color = if resent { "red" } else { "black" };
            let _ = writeln!(
                svg,
                r#"<line class="data" x1="{t:.1}" y1="{:.1}" x2="{t:.1}" y2="{:.1}" stroke="{color}" stroke-width="2"/>"#,
                y(rel(seg.seq)),
                y(rel(seg.seq + seg.len))
            );
        } else if row.side != side && seg.flags.ack() {
            let ack = rel(seg.ack);
            ack_points.push(format!("{t:.1},{:.1}", y(ack)));
            // RFC 7323 §2.2: a SYN's window is never scaled.
            let scale = if seg.flags.syn() { 1 } else { window_scale };
            let edge = (ack + seg.window as f64 * scale as f64).min(top);
            window_points.push(format!("{t:.1},{:.1}", y(edge)));
            for &(left, right) in seg.sack.as_slice() {
                let _ = writeln!(
                    svg,
                    r#"<line class="sack" x1="{t:.1}" y1="{:.1}" x2="{t:.1}" y2="{:.1}" stroke="blue" stroke-width="4" opacity="0.5"/>"#,
                    y(rel(left)),
                    y(rel(right))
                );
            }
        }
    }
    for (points, color) in [(ack_points, "green"), (window_points, "olive")] {
        if !points.is_empty() {
            let _ = writeln!(svg, r#"<polyline fill="none" stroke="{color}" points="{}"/>"#, points.join(" "));
        }
    }
    svg.push_str("</svg>\n");
    svg
}

/// The factor of the receiver's window field (RFC 7323: when both SYNs offered scaling).
fn scale_of(conn: &Connection, data_side: usize) -> u32 {
    let offers = [0, 1].map(|side| {
        conn.segments.iter().find(|s| conn.side_of(s) == side && s.flags.syn()).and_then(|s| s.window_scale)
    });
    match (offers[0], offers[1]) {
        (Some(_), Some(_)) => 1 << offers[1 - data_side].unwrap_or(0).min(14),
        _ => 1,
    }
}
