//! Option negotiation (RFC 9293 §3.7.1 MSS, RFC 7323 window scale and timestamps, RFC 2018
//! SACK), PAWS, ISNs (RFC 6528), and IPv6 beside IPv4 on one endpoint.

mod common;
use common::*;
use std::time::Duration;
use synack_engine::{Config, Endpoint, Instant, State};
use synack_wire::{SeqNum, TcpOptions};

fn full_config() -> Config {
    Config::default().with(|c| {
        c.rng_seed = 1;
        c.tcp_rmem.default = 256 * 1024;
    })
}

fn linux_syn_options(tsval: u32) -> TcpOptions {
    TcpOptions {
        mss: Some(1460),
        window_scale: Some(7),
        sack_permitted: true,
        timestamps: Some((tsval, 0)),
        ..TcpOptions::default()
    }
}

#[test]
fn syn_ack_answers_a_linux_syn_with_every_option_and_the_window_is_then_scaled() {
    let (mut h, l) = H::listening(full_config());
    h.inject(Seg::new(SYN, PEER_ISN, 0).opts(linux_syn_options(100)));
    let synack = h.output().remove(0);
    assert_eq!(synack.opts.mss, Some(1460));
    assert_eq!(synack.opts.window_scale, Some(7), "room for tcp_rmem's 6 MiB maximum needs a shift of 7");
    assert!(synack.opts.sack_permitted);
    assert_eq!(synack.opts.timestamps.map(|t| t.1), Some(100), "echoes the SYN's TSval");
    assert_eq!(synack.win, 64240, "unscaled in a SYN, a whole number of MSS");
    let tsval = synack.opts.timestamps.unwrap().0;
    let ts = TcpOptions { timestamps: Some((101, tsval)), ..TcpOptions::default() };
    h.inject(Seg::new(ACK, PEER_ISN + 1, h.iss + 1).win(10).opts(ts));
    let c = h.ep.accept(l).unwrap();
    let info = h.ep.conn_info(c).unwrap();
    assert_eq!(info.snd_wnd, 10 << 7, "the peer's window field is scaled by its shift");
    assert!(info.sack_ok && info.ts_ok);
    h.ep.send(h.now, c, b"x").unwrap();
    let data = h.output().remove(0);
    assert_eq!(data.opts.timestamps.map(|t| t.1), Some(101), "TSecr echoes the latest TSval");
    assert_eq!(data.win as u32, (256 * 1024) >> 7);
}

#[test]
fn a_peer_without_options_gets_none_back_and_mss_536() {
    let (mut h, l) = H::listening(full_config());
    h.inject(Seg::new(SYN, PEER_ISN, 0));
    let synack = h.output().remove(0);
    assert_eq!(synack.opts.window_scale, None);
    assert!(!synack.opts.sack_permitted);
    assert_eq!(synack.opts.timestamps, None);
    h.inject(Seg::new(ACK, PEER_ISN + 1, h.iss + 1));
    let c = h.ep.accept(l).unwrap();
    let info = h.ep.conn_info(c).unwrap();
    assert_eq!(info.snd_mss, 536, "RFC 9293 §3.7.1 default");
    assert!(!info.ts_ok && !info.sack_ok);
    assert_eq!(info.rcv_wscale, 0);
}

#[test]
fn paws_drops_a_segment_with_an_older_timestamp_and_acks() {
    let (mut h, l) = H::listening(full_config());
    h.inject(Seg::new(SYN, PEER_ISN, 0).opts(linux_syn_options(1000)));
    let tsval = h.output()[0].opts.timestamps.unwrap().0;
    let ts = |val| TcpOptions { timestamps: Some((val, tsval)), ..TcpOptions::default() };
    h.inject(Seg::new(ACK, PEER_ISN + 1, h.iss + 1).opts(ts(1001)));
    let c = h.ep.accept(l).unwrap();
    h.inject(Seg::new(ACK, PEER_ISN + 1, h.iss + 1).data(b"old").opts(ts(900)));
    assert_eq!(h.output().len(), 1, "an ACK answers the old duplicate");
    assert!(h.read_all(c).is_empty());
    assert_eq!(h.ep.counters().dropped_paws, 1);
}

/// The TSval of the last segment in `out`.
fn tsval(out: &[Seg]) -> u32 {
    out.last().and_then(|s| s.opts.timestamps).expect("a timestamp").0
}

/// The peer's FIN (TSval `peer_ts`, echoing `our_ts`) takes `h` into TIME-WAIT: the ACK that
/// enters it carries `our_ts`, and 2 s later the record answers the FIN again 2000 ms on.
fn fin_into_time_wait_keeps_the_clock(h: &mut H, peer_ts: u32, our_ts: u32) {
    let ts = |val| TcpOptions { timestamps: Some((val, our_ts)), ..TcpOptions::default() };
    h.inject(Seg::new(FIN | ACK, PEER_ISN + 1, h.iss + 2).opts(ts(peer_ts)));
    assert_eq!(h.table_state(), Some(State::TimeWait));
    assert_eq!(tsval(&h.output()), our_ts, "the ACK that enters TIME-WAIT");
    h.advance(Duration::from_secs(2));
    h.inject(Seg::new(FIN | ACK, PEER_ISN + 1, h.iss + 2).opts(ts(peer_ts + 1)));
    assert_eq!(tsval(&h.output()), our_ts + 2000, "the record's re-ACK, on the same clock");
}

#[test]
fn time_wait_acks_keep_the_connections_timestamp_clock_passive_and_active() {
    let ts = |val, ecr| TcpOptions { timestamps: Some((val, ecr)), ..TcpOptions::default() };
    // Passive: the server shuts down first (FIN-WAIT-2), then the peer's FIN.
    let (mut h, l) = H::listening(full_config());
    h.inject(Seg::new(SYN, PEER_ISN, 0).opts(linux_syn_options(1000)));
    let synack_ts = tsval(&h.output());
    h.inject(Seg::new(ACK, PEER_ISN + 1, h.iss + 1).opts(ts(1001, synack_ts)));
    let c = h.ep.accept(l).unwrap();
    h.now = h.now + Duration::from_millis(700);
    h.ep.shutdown(h.now, c).unwrap();
    assert_eq!(tsval(&h.output()), synack_ts + 700, "the FIN, 700 ms on");
    h.inject(Seg::new(ACK, PEER_ISN + 1, h.iss + 2).opts(ts(1002, synack_ts + 700)));
    h.now = h.now + Duration::from_millis(300);
    fin_into_time_wait_keeps_the_clock(&mut h, 1003, synack_ts + 1000);

    // Active: our SYN's TSval starts the clock.
    let mut h = H::new(full_config());
    let c = h.ep.connect(h.now, Some(h.local), h.remote).unwrap();
    let syn_ts = tsval(&h.output());
    h.inject(Seg::new(SYN | ACK, PEER_ISN, h.iss + 1).opts(linux_syn_options(2000)));
    h.output();
    h.now = h.now + Duration::from_millis(40);
    h.ep.close(h.now, c).unwrap();
    assert_eq!(tsval(&h.output()), syn_ts + 40, "the FIN, 40 ms on");
    fin_into_time_wait_keeps_the_clock(&mut h, 2001, syn_ts + 40);
}

#[test]
fn sack_blocks_report_out_of_order_data() {
    let (mut h, l) = H::listening(full_config());
    let sack_only = TcpOptions { mss: Some(1460), sack_permitted: true, ..TcpOptions::default() };
    h.inject(Seg::new(SYN, PEER_ISN, 0).opts(sack_only));
    h.output();
    h.inject(Seg::new(ACK, PEER_ISN + 1, h.iss + 1));
    h.ep.accept(l).unwrap();
    h.inject(Seg::new(ACK, PEER_ISN + 11, h.iss + 1).data(b"later"));
    let ack = h.output().remove(0);
    assert_eq!(ack.ack, PEER_ISN + 1);
    assert_eq!(ack.opts.sack.as_slice(), &[(SeqNum(PEER_ISN + 11), SeqNum(PEER_ISN + 16))]);
}

/// RFC 2883 D-SACK: a duplicate is reported once, in the first block of the next ACK; data
/// already held out of order is followed by the block that holds it; `tcp_dsack` off or SACK
/// not agreed: no D-SACK.
#[test]
fn duplicates_are_reported_once_in_a_dsack_block_rfc2883() {
    let sack = |a: u32, b: u32| (SeqNum(PEER_ISN + a), SeqNum(PEER_ISN + b));
    let open = |config: Config| {
        let (mut h, l) = H::listening(config);
        let sack_only = TcpOptions { mss: Some(1460), sack_permitted: true, ..TcpOptions::default() };
        h.inject(Seg::new(SYN, PEER_ISN, 0).opts(sack_only));
        h.output();
        h.inject(Seg::new(ACK, PEER_ISN + 1, h.iss + 1));
        h.ep.accept(l).unwrap();
        h
    };
    let mut h = open(full_config());
    h.inject(Seg::new(ACK, PEER_ISN + 1, h.iss + 1).data(&[1; 100]));
    h.inject(Seg::new(ACK, PEER_ISN + 201, h.iss + 1).data(&[2; 100]));
    assert_eq!(h.output().last().unwrap().opts.sack.as_slice(), &[sack(201, 301)]);
    // Wholly below RCV.NXT: the whole segment, then the held block.
    h.inject(Seg::new(ACK, PEER_ISN + 21, h.iss + 1).data(&[1; 30]));
    let ack = h.output().remove(0);
    assert_eq!(ack.ack, PEER_ISN + 101);
    assert_eq!(ack.opts.sack.as_slice(), &[sack(21, 51), sack(201, 301)]);
    // Again out of order over the held block: its duplicate part, then the block holding it.
    h.inject(Seg::new(ACK, PEER_ISN + 251, h.iss + 1).data(&[2; 100]));
    assert_eq!(h.output().remove(0).opts.sack.as_slice(), &[sack(251, 301), sack(201, 351)]);
    // Filling the gap over part of the held data: the first duplicate part.
    h.inject(Seg::new(ACK, PEER_ISN + 101, h.iss + 1).data(&[3; 150]));
    let ack = h.output().remove(0);
    assert_eq!(ack.ack, PEER_ISN + 351);
    assert_eq!(ack.opts.sack.as_slice(), &[sack(201, 251)]);
    // Reported once: the next ACK has none.
    h.inject(Seg::new(ACK, PEER_ISN + 401, h.iss + 1).data(&[4; 10]));
    assert_eq!(h.output().remove(0).opts.sack.as_slice(), &[sack(401, 411)]);

    let mut off = open(full_config().with(|c| c.tcp_dsack = false));
    off.inject(Seg::new(ACK, PEER_ISN + 1, off.iss + 1).data(&[1; 100]));
    off.output();
    off.inject(Seg::new(ACK, PEER_ISN + 1, off.iss + 1).data(&[1; 100]));
    assert!(off.output().remove(0).opts.sack.is_empty(), "tcp_dsack off");
}

#[test]
fn isns_differ_per_connection_and_advance_with_time_rfc6528() {
    let mut ep = Endpoint::new(plain_config(), &["10.0.0.1".parse().unwrap()]);
    let remote: std::net::SocketAddr = "10.0.0.2:80".parse().unwrap();
    let mut buf = [0u8; 1500];
    let mut isn = |ep: &mut Endpoint, now: Instant, port: u16| {
        ep.connect(now, Some(std::net::SocketAddr::new("10.0.0.1".parse().unwrap(), port)), remote).unwrap();
        let t = ep.poll_transmit(now, &mut buf).unwrap();
        synack_wire::parse_segment(&buf[..t.len]).unwrap().tcp.seq
    };
    let a = isn(&mut ep, Instant::ZERO, 1000);
    let b = isn(&mut ep, Instant::ZERO, 1001);
    assert_ne!(a, b);
    let mut other = Endpoint::new(plain_config().with(|c| c.rng_seed = 2), &["10.0.0.1".parse().unwrap()]);
    let c = isn(&mut other, Instant::ZERO, 1000);
    assert_ne!(a, c, "the secret comes from the seed");
}

#[test]
fn ipv6_and_ipv4_connections_live_side_by_side_on_one_endpoint() {
    let v4: std::net::SocketAddr = "10.0.0.1:80".parse().unwrap();
    let v6: std::net::SocketAddr = "[fd00::1]:80".parse().unwrap();
    let mut h = H::with_addrs(plain_config(), v6, "[fd00::2]:5000".parse().unwrap());
    h.ep = Endpoint::new(plain_config(), &[v4.ip(), v6.ip()]);
    let l6 = h.ep.listen(v6, 8).unwrap();
    let l4 = h.ep.listen(v4, 8).unwrap();
    h.inject(Seg::new(SYN, PEER_ISN, 0).opts(mss(1440)));
    let synack = h.output().remove(0);
    assert_eq!(synack.opts.mss, Some(1440), "MTU 1500 less 60 bytes of IPv6 and TCP headers");
    h.inject(Seg::new(ACK, PEER_ISN + 1, h.iss + 1).data(b"over v6"));
    let c = h.ep.accept(l6).unwrap();
    assert_eq!(h.read_all(c), b"over v6");
    assert_eq!(h.state(c), State::Established);
    let v4_peer: std::net::SocketAddr = "10.0.0.2:5000".parse().unwrap();
    let syn4 = h.packet(&Seg::new(SYN, 1, 0), v4_peer, v4);
    h.ep.handle_packet(h.now, &syn4);
    assert_eq!(h.output()[0].flags, SYN | ACK);
    assert_eq!(h.ep.listener_queues(l4), Some(queues(1, 0)));
}

/// `[::]` takes connections to the endpoint's IPv4 and IPv6 addresses alike (dual stack), and
/// `0.0.0.0` comes before it for IPv4.
#[test]
fn the_ipv6_wildcard_listens_on_both_families_and_the_ipv4_wildcard_wins_for_ipv4() {
    let v4: std::net::SocketAddr = "10.0.0.1:80".parse().unwrap();
    let v6: std::net::SocketAddr = "[fd00::1]:80".parse().unwrap();
    let mut h = H::with_addrs(plain_config(), v6, "[fd00::2]:5000".parse().unwrap());
    h.ep = Endpoint::new(plain_config(), &[v4.ip(), v6.ip()]);
    let any6 = h.ep.listen("[::]:80".parse().unwrap(), 8).unwrap();
    // A SYN from `from` to `to`, answered; the listener whose SYN queue it joined.
    let syn_to = |h: &mut H, from: &str, to: std::net::SocketAddr| {
        let before = h.ep.listener_queues(any6);
        let syn = h.packet(&Seg::new(SYN, 1, 0), from.parse().unwrap(), to);
        h.ep.handle_packet(h.now, &syn);
        assert_eq!(h.output()[0].flags, SYN | ACK, "{from} to {to}");
        if h.ep.listener_queues(any6) != before {
            "[::]"
        } else {
            "0.0.0.0"
        }
    };
    assert_eq!(syn_to(&mut h, "[fd00::2]:5000", v6), "[::]");
    assert_eq!(syn_to(&mut h, "10.0.0.2:5000", v4), "[::]");
    let any4 = h.ep.listen("0.0.0.0:80".parse().unwrap(), 8).unwrap();
    assert_eq!(syn_to(&mut h, "10.0.0.2:5001", v4), "0.0.0.0");
    assert_eq!(syn_to(&mut h, "[fd00::2]:5001", v6), "[::]");
    assert_eq!(h.ep.listener_queues(any4), Some(queues(1, 0)));
    assert_eq!(h.ep.listener_queues(any6), Some(queues(3, 0)));
}

#[test]
fn record_sizes_stay_small() {
    let synack_engine::RecordSizes { half_open, time_wait, connection } = synack_engine::record_sizes();
    eprintln!("record sizes: half-open {half_open} B, TIME-WAIT {time_wait} B, connection {connection} B");
    assert!(half_open <= 96, "half-open record {half_open} B");
    assert!(time_wait <= 64, "TIME-WAIT record {time_wait} B");
    assert!(connection <= 512, "connection without buffers {connection} B");
}

#[test]
fn no_options_on_a_listener_answers_a_linux_syn_with_a_bare_syn_ack_tcp_noopt() {
    let (mut h, l) = H::listening(full_config());
    h.ep.set_listener_no_options(l, true).unwrap();
    h.inject(Seg::new(SYN, PEER_ISN, 0).opts(linux_syn_options(1000)));
    let synack = h.output().remove(0);
    assert_eq!(synack.opts, TcpOptions::default(), "not even MSS");
    h.inject(Seg::new(ACK, PEER_ISN + 1, h.iss + 1));
    let c = h.ep.accept(l).unwrap();
    let info = h.ep.conn_info(c).unwrap();
    assert!(!info.ts_ok && !info.sack_ok && info.snd_wscale == 0, "{info:?}");
    assert_eq!(info.snd_mss, 1460, "the peer's MSS still counts");
}

#[test]
fn no_options_on_a_connection_sends_a_bare_syn_and_ignores_the_peers_tcp_noopt() {
    let mut h = H::new(full_config());
    let c = h.ep.connect(h.now, Some(h.local), h.remote).unwrap();
    assert!(h.ep.conn_mut(h.now, c).unwrap().set_no_options(true));
    let syn = h.output().remove(0);
    assert_eq!(syn.opts, TcpOptions::default());
    assert!(!h.ep.conn_mut(h.now, c).unwrap().set_no_options(false), "too late once the SYN is out");
    h.inject(Seg::new(SYN | ACK, PEER_ISN, h.iss + 1).opts(linux_syn_options(1000)));
    assert!(h.output()[0].opts == TcpOptions::default(), "no timestamps on the ACK");
    let info = h.ep.conn_info(c).unwrap();
    assert!(!info.ts_ok && !info.sack_ok && info.snd_wscale == 0, "{info:?}");
}

/// TCP_MAXSEG (Linux's `user_mss`): set before connect, the SYN announces it and segments
/// are cut to it although the peer allows 1460; on a listener, its SYN-ACKs and connections
/// likewise; below Linux's 88 bytes it is refused.
#[test]
fn tcp_maxseg_clamps_the_announced_and_the_sent_segment_size() {
    let mut h = H::new(full_config());
    let c = h.ep.connect(h.now, Some(h.local), h.remote).unwrap();
    assert!(!h.ep.conn_mut(h.now, c).unwrap().set_max_segment(87), "below TCP_MIN_MSS");
    assert!(h.ep.conn_mut(h.now, c).unwrap().set_max_segment(1100));
    let syn = h.output().remove(0);
    assert_eq!(syn.opts.mss, Some(1100));
    h.inject(Seg::new(SYN | ACK, PEER_ISN, h.iss + 1).opts(linux_syn_options(1460)));
    let info = h.ep.conn_info(c).unwrap();
    assert_eq!((info.snd_mss, info.advmss), (1100, 1100));

    let (mut h, l) = H::listening(full_config());
    assert_eq!(h.ep.set_listener_max_segment(l, Some(40)), Ok(false));
    assert_eq!(h.ep.set_listener_max_segment(l, Some(1100)), Ok(true));
    assert_eq!(h.ep.listener_max_segment(l), Some(1100));
    h.inject(Seg::new(SYN, PEER_ISN, 0).opts(mss(1300)));
    let synack = h.output().remove(0);
    assert_eq!(synack.opts.mss, Some(1100));
    h.inject(Seg::new(ACK, PEER_ISN + 1, h.iss + 1));
    let c = h.ep.accept(l).unwrap();
    let info = h.ep.conn_info(c).unwrap();
    assert_eq!((info.snd_mss, info.advmss), (1100, 1100));
    h.ep.send(h.now, c, &[1u8; 3000]).unwrap();
    let lens: Vec<usize> = h.output().iter().map(|s| s.data.len()).collect();
    assert_eq!(lens, vec![1100, 1100, 800]);
}

/// `Transmit` says where each packet goes and its ECN codepoint, as its IP header does, for
/// both families and for data, control and ECN-capable segments.
#[test]
fn transmit_carries_the_ip_headers_addresses_and_ecn() {
    use synack_engine::{EcnMode, Event};
    use synack_wire::parse_segment;
    for (a, b) in [("10.0.0.1", "10.0.0.2"), ("fd00::1", "fd00::2")] {
        let config = full_config().with(|c| c.tcp_ecn = EcnMode::On);
        let (ia, ib) = (a.parse().unwrap(), b.parse().unwrap());
        let mut server = Endpoint::new(config.clone(), &[ia]);
        let mut client = Endpoint::new(config, &[ib]);
        let l = server.listen(std::net::SocketAddr::new(ia, 80), 8).unwrap();
        let c = client.connect(Instant::ZERO, None, std::net::SocketAddr::new(ia, 80)).unwrap();
        let mut buf = [0u8; 1500];
        let mut seen = 0;
        let mut check = |t: synack_engine::Transmit, buf: &[u8]| {
            let seg = parse_segment(&buf[..t.len]).unwrap();
            assert_eq!((t.src, t.dst, t.ecn), (seg.ip.src, seg.ip.dst, seg.ip.ecn));
            seen += 1;
        };
        for round in 0..4 {
            while let Some(t) = client.poll_transmit(Instant::ZERO, &mut buf) {
                check(t, &buf);
                server.handle_packet(Instant::ZERO, &buf[..t.len]);
            }
            while let Some(t) = server.poll_transmit(Instant::ZERO, &mut buf) {
                check(t, &buf);
                client.handle_packet(Instant::ZERO, &buf[..t.len]);
            }
            if round == 1 {
                while client.poll_event().is_some_and(|e| !matches!(e, Event::Connected(_))) {}
                client.send(Instant::ZERO, c, b"data").unwrap();
            }
        }
        assert!(server.accept(l).is_some());
        assert!(seen >= 4, "{seen} packets checked");
    }
}
