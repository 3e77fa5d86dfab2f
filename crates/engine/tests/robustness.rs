//! The engine never panics on any input from the network, in any state, and every packet it
//! does not use is counted.

mod common;
use common::*;
use proptest::prelude::*;
use synack_engine::Config;
use synack_wire::TcpFlags;

fn any_state(which: u8) -> H {
    let config = Config::default().with(|c| c.rng_seed = 3);
    match which % 9 {
        0 => H::listening(config).0,
        1 => H::syn_received(config).0,
        2 => H::syn_sent(config).0,
        3 => H::established(config).0,
        4 => H::fin_wait_1(config).0,
        5 => H::fin_wait_2(config).0,
        6 => H::close_wait(config).0,
        7 => H::last_ack(config).0,
        _ => H::time_wait(config).0,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic_and_are_counted(which in 0u8..9, bytes in proptest::collection::vec(any::<u8>(), 0..120)) {
        let mut h = any_state(which);
        let before = h.ep.counters().packets_in;
        h.ep.handle_packet(h.now, &bytes);
        h.output();
        prop_assert_eq!(h.ep.counters().packets_in, before + 1);
    }

    #[test]
    fn arbitrary_well_formed_segments_never_panic(
        which in 0u8..9,
        segs in proptest::collection::vec((any::<u8>(), any::<u32>(), any::<u32>(), any::<u16>(), 0usize..3000), 1..12),
        step_ms in 0u64..5000,
    ) {
        let mut h = any_state(which);
        for (flags, seq_delta, ack_delta, win, len) in segs {
            // Numbers near the live ones hit the interesting edges; far ones the rest.
            let seq = if seq_delta % 2 == 0 { PEER_ISN.wrapping_add(seq_delta % 4096) } else { seq_delta };
            let ack = if ack_delta % 2 == 0 { h.iss.wrapping_add(ack_delta % 4096) } else { ack_delta };
            let data = vec![0xab; len];
            h.inject(Seg::new(TcpFlags::from_bits_retain(flags), seq, ack).win(win).data(&data));
            h.output();
            h.advance(std::time::Duration::from_millis(step_ms));
            h.output();
        }
        let synack_engine::Population { connections: conns, half_open, time_wait } = h.ep.population();
        prop_assert!(conns <= 2 && half_open <= 2 && time_wait <= 1);
    }
}

#[test]
fn a_flood_at_a_closed_port_cannot_grow_the_queue_of_replies_past_its_bound() {
    let mut h = H::new(Config::default().with(|c| c.rng_seed = 3));
    // 10,000 SYNs from different ports, and nobody drains poll_transmit meanwhile.
    for port in 0..10_000u32 {
        let from = std::net::SocketAddr::new(h.remote.ip(), 1024 + (port % 60_000) as u16);
        let bytes = h.packet(&Seg::new(TcpFlags::SYN, port, 0), from, h.local);
        h.ep.handle_packet(h.now, &bytes);
    }
    assert_eq!(h.output().len(), 4096, "the queue holds 4096 replies");
    assert_eq!(h.ep.counters().control_queue_overflows, 10_000 - 4096);
    assert_eq!(h.ep.counters().resets_sent, 4096, "counted as they are sent");
}
