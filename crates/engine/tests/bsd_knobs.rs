//! The `Config` knobs that reproduce the BSDs' choices where RFC 9293 leaves room or Linux
//! and FreeBSD differ (docs/ENGINE.md, "Knobs for other stacks' behaviour"). Each test shows
//! the default and the knob side by side.

mod common;
use common::*;
use std::time::Duration;
use synack_engine::{Config, Event, State};

fn bsd(config: Config) -> Config {
    config.with(|c| {
        c.compat.resend_fin_with_ack = true;
        c.compat.process_ack_of_old_segment = true;
    })
}

#[test]
fn the_ack_that_moves_fin_wait_1_to_closing_carries_the_fin_again_only_with_the_knob() {
    let (mut h, _) = H::fin_wait_1(plain_config());
    h.inject(Seg::new(FIN | ACK, PEER_ISN + 1, h.iss + 1));
    assert_eq!(h.keys(), vec![(ACK, h.iss + 2, PEER_ISN + 2, 0)], "default: a bare ACK at SND.MAX");

    let (mut h, _) = H::fin_wait_1(bsd(plain_config()));
    h.inject(Seg::new(FIN | ACK, PEER_ISN + 1, h.iss + 1));
    assert_eq!(h.keys(), vec![(FIN | ACK, h.iss + 1, PEER_ISN + 2, 0)], "BSD: the FIN at its own number");
    assert_eq!(h.table_state(), Some(State::Closing));
}

#[test]
fn a_challenge_ack_never_carries_the_fin() {
    let (mut h, _) = H::closing(bsd(plain_config()));
    h.inject(Seg::new(SYN, PEER_ISN + 2, 0));
    assert_eq!(h.keys(), vec![(ACK, h.iss + 2, PEER_ISN + 2, 0)]);
    assert_eq!(h.ep.counters().challenge_acks_sent, 1);
}

#[test]
fn a_syn_left_of_the_window_draws_a_challenge_ack_rfc5961() {
    let (mut h, c) = H::established(plain_config());
    h.inject(Seg::new(SYN, PEER_ISN - 1000, 0));
    assert_eq!(h.keys(), vec![(ACK, h.iss + 1, PEER_ISN + 1, 0)]);
    assert_eq!(h.ep.counters().challenge_acks_sent, 1);
    assert_eq!(h.state(c), State::Established);
}

#[test]
fn an_old_segment_that_acks_our_fin_ends_last_ack_only_with_the_knob() {
    // The peer's FIN (PEER_ISN + 1) is in; its ACK of ours arrives on a segment numbered
    // before RCV.NXT (PEER_ISN + 2).
    let (mut h, c) = H::last_ack(plain_config());
    h.inject(Seg::new(ACK, PEER_ISN + 1, h.iss + 2));
    assert_eq!(h.keys(), vec![(ACK, h.iss + 2, PEER_ISN + 2, 0)], "RFC 9293: ACK and drop");
    assert_eq!(h.state(c), State::LastAck);

    let (mut h, c) = H::last_ack(bsd(plain_config()));
    h.inject(Seg::new(ACK, PEER_ISN + 1, h.iss + 2));
    assert!(h.output().is_empty(), "the exchange is over: nothing to answer");
    assert_eq!(h.ep.state(c), None, "closed and freed");
    assert_eq!(h.ep.counters().old_segments_trimmed, 1);
}

#[test]
fn an_old_segment_still_gets_its_ack_and_its_text_is_not_delivered_again() {
    let (mut h, c) = H::established(bsd(plain_config()));
    h.inject(Seg::new(ACK | PSH, PEER_ISN + 1, h.iss + 1).data(b"abc"));
    h.advance(Duration::from_secs(1));
    h.output();
    assert_eq!(h.read_all(c), b"abc");
    h.inject(Seg::new(ACK | PSH, PEER_ISN + 1, h.iss + 1).data(b"abc"));
    assert_eq!(h.keys(), vec![(ACK, h.iss + 1, PEER_ISN + 4, 0)]);
    assert!(h.read_all(c).is_empty());
}

#[test]
fn the_rto_slop_is_added_to_every_computed_timeout() {
    for (slop_ms, expected_ms) in [(0, 300), (200, 500)] {
        let config = plain_config().with(|c| {
            c.rto_min = Duration::from_millis(30);
            c.compat.rto_slop = Duration::from_millis(slop_ms);
        });
        let (mut h, c) = H::syn_sent(config);
        h.advance(Duration::from_millis(100));
        h.inject(Seg::new(SYN | ACK, PEER_ISN, h.iss + 1));
        h.output();
        // One 100 ms sample: SRTT 100, RTTVAR 50, RTO = 100 + 4 * 50 (+ slop).
        h.ep.send(h.now, c, b"x").unwrap();
        h.output();
        let sent = h.advance_collect(Duration::from_millis(expected_ms + 10));
        assert_eq!(sent.len(), 1, "slop {slop_ms} ms");
        assert_eq!(sent[0].0.as_millis() - 100, expected_ms, "slop {slop_ms} ms");
    }
}

#[test]
fn drop_synfin_spares_time_wait_which_answers_as_rfc_9293_says() {
    let config = plain_config().with(|c| c.tcp_drop_synfin = true);
    let (mut h, _) = H::time_wait(config.clone());
    h.inject(Seg::new(SYN | FIN, PEER_ISN + 2, 0));
    assert_eq!(h.keys(), vec![(ACK, h.iss + 2, PEER_ISN + 2, 0)]);
    assert_eq!(h.ep.counters().dropped_syn_fin, 0);

    let (mut h, _) = H::listening(config);
    h.inject(Seg::new(SYN | FIN, PEER_ISN, 0));
    assert!(h.output().is_empty());
    assert_eq!(h.ep.counters().dropped_syn_fin, 1);
}

#[test]
fn text_on_a_syn_in_syn_sent_waits_for_established_rfc9293_3_10_7_3() {
    let (mut h, c) = H::syn_sent(plain_config());
    let x = h.iss;
    h.inject(Seg::new(SYN, PEER_ISN, 0).data(b"early"));
    assert_eq!(h.keys(), vec![(SYN | ACK, x, PEER_ISN + 1, 0)], "the SYN-ACK covers the SYN only");
    assert!(h.read_all(c).is_empty());
    // The peer's ACK of our SYN, numbered after its text.
    h.inject(Seg::new(ACK, PEER_ISN + 6, x + 1));
    assert_eq!(h.state(c), State::Established);
    assert!(h.events().contains(&Event::Readable(c)));
    assert_eq!(h.read_all(c), b"early");
    assert!(h.output().is_empty(), "acknowledged after the delayed-ACK wait");
    let sent = h.advance_collect(Duration::from_millis(50));
    assert_eq!(sent.iter().map(|(_, s)| s.key()).collect::<Vec<_>>(), vec![(ACK, x + 1, PEER_ISN + 6, 0)]);
}
