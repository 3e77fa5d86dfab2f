//! SYN cookies (RFC 4987 §3.6, Linux's `tcp_syncookies`).

mod common;

use common::*;
use std::net::SocketAddr;
use std::time::Duration;
use synack_engine::{Config, State};
use synack_wire::TcpOptions;

/// A listener whose SYN queue holds one record: the next SYNs get cookies.
fn flooded(config: Config) -> (H, synack_engine::ListenerHandle) {
    let (mut h, l) = H::listening(config.with(|c| c.tcp_max_syn_backlog = 1));
    let spoofed: SocketAddr = "10.0.0.99:1".parse().unwrap();
    let bytes = h.packet(&Seg::new(SYN, 7, 0), spoofed, h.local);
    h.ep.handle_packet(h.now, &bytes);
    h.output();
    assert_eq!(h.ep.listener_queues(l), Some(queues(1, 0)));
    (h, l)
}

fn linux_syn(tsval: u32) -> TcpOptions {
    TcpOptions {
        mss: Some(1460),
        sack_permitted: true,
        timestamps: Some((tsval, 0)),
        window_scale: Some(7),
        ..TcpOptions::default()
    }
}

/// A cookie round trip with timestamps: no record while the SYN-ACK is out, and the final
/// ACK makes a connection with everything the SYN offered (the MSS from the cookie, window
/// scale and SACK from the TS echo).
#[test]
fn a_cookie_round_trip_with_timestamps_keeps_every_option() {
    let (mut h, l) = flooded(Config::default().with(|c| c.rng_seed = 3));
    h.inject(Seg::new(SYN, PEER_ISN, 0).opts(linux_syn(100)));
    let synack = h.output().remove(0);
    assert_eq!(synack.flags, SYN | ACK);
    assert_eq!(h.ep.counters().syncookies_sent, 1);
    assert_eq!(h.ep.listener_queues(l), Some(queues(1, 0)), "no record kept");
    let tsval = synack.opts.timestamps.unwrap().0;
    h.advance(Duration::from_millis(30));
    let ts = TcpOptions { timestamps: Some((101, tsval)), ..TcpOptions::default() };
    h.inject(Seg::new(ACK, PEER_ISN + 1, synack.seq + 1).win(100).opts(ts));
    let c = h.ep.accept(l).expect("the cookie made a connection");
    assert_eq!(h.ep.counters().syncookies_recv, 1);
    let info = h.ep.conn_info(c).unwrap();
    assert_eq!(info.state, State::Established);
    assert_eq!(info.snd_mss, 1460);
    assert_eq!(info.snd_wscale, 7, "from the TS echo");
    assert!(info.sack_ok && info.ts_ok);
    assert_eq!(info.snd_wnd, 100 << 7);
    h.ep.send(h.now, c, b"hello").unwrap();
    assert_eq!(h.output()[0].seq, synack.seq + 1, "data follows the cookie ISN");
}

/// Without timestamps the cookie keeps only the MSS (rounded down to its table).
#[test]
fn a_cookie_round_trip_without_timestamps_keeps_the_mss() {
    let (mut h, l) = flooded(Config::default());
    h.inject(Seg::new(SYN, PEER_ISN, 0).opts(TcpOptions { mss: Some(1400), ..mss(1400) }));
    let synack = h.output().remove(0);
    h.inject(Seg::new(ACK, PEER_ISN + 1, synack.seq + 1).win(1000));
    let c = h.ep.accept(l).unwrap();
    let info = h.ep.conn_info(c).unwrap();
    assert_eq!(info.snd_mss, 1360, "the largest table entry not above 1400");
    assert!(!info.sack_ok && !info.ts_ok && info.snd_wscale == 0);
}

/// A forged cookie (wrong ISN echoed, or a right one for another peer ISN) makes nothing and
/// is answered with RST, counted as failed.
#[test]
fn a_forged_cookie_is_rejected() {
    let (mut h, l) = flooded(Config::default());
    h.inject(Seg::new(SYN, PEER_ISN, 0).opts(mss(1460)));
    let synack = h.output().remove(0);
    h.inject(Seg::new(ACK, PEER_ISN + 1, synack.seq + 2));
    h.inject(Seg::new(ACK, PEER_ISN + 2, synack.seq + 1));
    assert!(h.ep.accept(l).is_none());
    assert_eq!(h.ep.counters().syncookies_failed, 2);
    assert!(h.output().iter().all(|s| s.flags == RST));
}

/// A cookie is good for its 64-second period and the next, not later; and a listener that
/// sent none for two minutes checks no ACK for one.
#[test]
fn an_old_cookie_has_expired() {
    // The record that fills the queue lives on (SYN-ACKs retried for half an hour).
    let (mut h, l) = flooded(Config::default().with(|c| c.tcp_synack_retries = 10));
    h.inject(Seg::new(SYN, PEER_ISN, 0).opts(mss(1460)));
    let synack = h.output().remove(0);
    // Another client's SYN at 100 s: the listener still checks ACKs for cookies at 130 s.
    h.advance(Duration::from_secs(100));
    let other = h.packet(&Seg::new(SYN, 9, 0), "10.0.0.77:2".parse().unwrap(), h.local);
    h.ep.handle_packet(h.now, &other);
    h.output();
    h.advance(Duration::from_secs(30));
    h.inject(Seg::new(ACK, PEER_ISN + 1, synack.seq + 1));
    assert!(h.ep.accept(l).is_none());
    assert_eq!(h.ep.counters().syncookies_failed, 1);
}

/// `tcp_syncookies = 2`: every SYN gets a cookie, none a record; 0: a full queue drops.
#[test]
fn cookies_always_or_never() {
    let (mut h, l) = H::listening(Config::default().with(|c| c.tcp_syncookies = 2));
    h.inject(Seg::new(SYN, PEER_ISN, 0).opts(mss(1460)));
    let synack = h.output().remove(0);
    assert_eq!(h.ep.listener_queues(l), Some(queues(0, 0)));
    h.inject(Seg::new(ACK, PEER_ISN + 1, synack.seq + 1));
    assert!(h.ep.accept(l).is_some());
    let (mut h, _) = flooded(Config::default().with(|c| c.tcp_syncookies = 0));
    h.inject(Seg::new(SYN, PEER_ISN, 0).opts(mss(1460)));
    assert!(h.output().is_empty());
    assert_eq!(h.ep.counters().syn_queue_overflows, 1);
}

/// Under a flood of spoofed SYNs, memory stays flat (no record past the queue) and a
/// legitimate client still connects.
#[test]
fn a_legitimate_client_connects_through_a_flood() {
    let (mut h, l) = flooded(Config::default());
    for i in 0..10_000u32 {
        let spoofed = SocketAddr::from(([10, 1, (i >> 8) as u8, i as u8], 1024 + (i % 50_000) as u16));
        let bytes = h.packet(&Seg::new(SYN, i, 0), spoofed, h.local);
        h.ep.handle_packet(h.now, &bytes);
        if i % 64 == 0 {
            h.output();
        }
    }
    h.output();
    assert_eq!(h.ep.population().half_open, 1, "only the record from before the flood");
    h.inject(Seg::new(SYN, PEER_ISN, 0).opts(linux_syn(5)));
    let synack = h.output().remove(0);
    let ts = TcpOptions { timestamps: Some((6, synack.opts.timestamps.unwrap().0)), ..TcpOptions::default() };
    h.inject(Seg::new(ACK, PEER_ISN + 1, synack.seq + 1).opts(ts));
    assert!(h.ep.accept(l).is_some());
    assert_eq!(h.ep.counters().syncookies_sent, 10_001);
}
