//! Full TCP lifecycles per second on one core, synack against smoltcp 0.14 in the same run:
//! listen, connect, three-way handshake, 57 bytes from the server, the client closes, the server
//! closes, TIME-WAIT expires on the virtual clock. Then synack again with 100,000 other idle
//! established connections held by both endpoints, and with 100,000 held by the server alone.
//!
//! Run: `cargo bench -p synack-bench --bench lifecycle`. Figures: docs/BENCHMARKS.md.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use synack_bench::{smoltcp_side, synack_side};

fn lifecycles(c: &mut Criterion) {
    let synack_engine::RecordSizes { half_open, time_wait, connection } = synack_engine::record_sizes();
    eprintln!(
        "record sizes: half-open {half_open} B, TIME-WAIT {time_wait} B, connection without buffers {connection} B"
    );
    let mut group = c.benchmark_group("lifecycle");
    group.throughput(Throughput::Elements(1));

    let mut smol = smoltcp_side::Pair::new();
    group.bench_function("smoltcp", |b| b.iter(|| smol.lifecycle()));

    let mut ours = synack_side::Pair::new();
    group.bench_function("synack", |b| b.iter(|| ours.lifecycle()));

    let mut crowded = synack_side::Pair::new();
    crowded.add_idle(100_000);
    assert_eq!(crowded.client.population().connections, 100_000);
    group.bench_function("synack_with_100k_idle", |b| b.iter(|| crowded.lifecycle()));
    drop(crowded);

    let mut busy_server = synack_side::Pair::new();
    busy_server.add_idle_on_server(100_000);
    assert_eq!(busy_server.server.population().connections, 100_000);
    group.bench_function("synack_with_100k_idle_on_server", |b| b.iter(|| busy_server.lifecycle()));
    group.finish();
}

criterion_group!(benches, lifecycles);
criterion_main!(benches);
