//! SYN cookies on one core: a SYN answered with a cookie SYN-ACK (no state kept) against the
//! same SYN answered with a half-open record (the anchor, measured in the same run), and an
//! ACK whose cookie is checked and found forged (answered with RST). Each batch is 1,000
//! SYNs from distinct spoofed sources into a fresh endpoint, its SYN-ACKs drained.
//!
//! Run: `cargo bench -p synack-bench --bench syncookies`. Figures: docs/BENCHMARKS.md.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use synack_engine::{Config, Endpoint, Instant};
use synack_wire::{emit_segment, Ecn, IpHeader, SeqNum, TcpFlags, TcpOptions, TcpRepr};

const BATCH: usize = 1000;
const SERVER: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 80);

fn packet(from: SocketAddr, flags: TcpFlags, seq: u32, ack: u32, options: TcpOptions) -> Vec<u8> {
    let ip = IpHeader { src: from.ip(), dst: SERVER.ip(), ttl: 64, ecn: Ecn::NotEct };
    let tcp = TcpRepr {
        src_port: from.port(),
        dst_port: SERVER.port(),
        seq: SeqNum(seq),
        ack: SeqNum(ack),
        flags,
        window: 65535,
        urgent: 0,
        options,
        payload: &[],
    };
    let mut buf = vec![0u8; 128];
    let n = emit_segment(&ip, &tcp, 0, &mut buf).unwrap();
    buf.truncate(n);
    buf
}

fn spoofed(i: usize) -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 9, (i >> 8) as u8, i as u8)), 1024 + (i % 60000) as u16)
}

/// A fresh listening endpoint and `BATCH` segments for it.
fn setup(syncookies: u8, flags: TcpFlags) -> (Endpoint, Vec<Vec<u8>>) {
    let config = Config::default().with(|c| {
        c.tcp_syncookies = syncookies;
        c.tcp_max_syn_backlog = BATCH;
    });
    let mut ep = Endpoint::new(config, &[SERVER.ip()]);
    ep.listen(SERVER, BATCH).unwrap(); // a SYN queue of BATCH records (twice the backlog, at most tcp_max_syn_backlog)
    if syncookies == 2 {
        // The listener has sent a cookie lately, so ACKs are checked for one.
        let syn = packet(spoofed(usize::MAX % 65536), TcpFlags::SYN, 1, 0, TcpOptions::default());
        ep.handle_packet(Instant::ZERO, &syn);
        let mut out = [0u8; 1500];
        while ep.poll_transmit(Instant::ZERO, &mut out).is_some() {}
    }
    let opts = TcpOptions {
        mss: Some(1460),
        sack_permitted: true,
        timestamps: Some((1, 0)),
        window_scale: Some(7),
        ..TcpOptions::default()
    };
    let segments = (0..BATCH)
        .map(|i| match flags {
            TcpFlags::SYN => packet(spoofed(i), flags, i as u32 * 7919, 0, opts),
            _ => packet(spoofed(i), flags, i as u32 * 7919 + 1, 0xdead_beef, TcpOptions::default()),
        })
        .collect();
    (ep, segments)
}

fn run(ep: &mut Endpoint, segments: &[Vec<u8>]) {
    let mut out = [0u8; 1500];
    for s in segments {
        ep.handle_packet(Instant::ZERO, s);
        while ep.poll_transmit(Instant::ZERO, &mut out).is_some() {}
    }
}

fn syncookies(c: &mut Criterion) {
    let mut group = c.benchmark_group("syn");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("syn_to_syn_ack_with_a_record", |b| {
        b.iter_batched_ref(|| setup(0, TcpFlags::SYN), |(ep, s)| run(ep, s), BatchSize::LargeInput)
    });
    group.bench_function("syn_to_cookie_syn_ack", |b| {
        b.iter_batched_ref(|| setup(2, TcpFlags::SYN), |(ep, s)| run(ep, s), BatchSize::LargeInput)
    });
    group.bench_function("forged_cookie_ack_checked_and_reset", |b| {
        b.iter_batched_ref(|| setup(2, TcpFlags::ACK), |(ep, s)| run(ep, s), BatchSize::LargeInput)
    });
    group.finish();
}

criterion_group!(benches, syncookies);
criterion_main!(benches);
