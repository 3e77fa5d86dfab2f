//! The same five probes in every synchronized state (RFC 9293 §3.10.7.4 with RFC 5961):
//! out-of-window data is answered with an ACK and dropped; a RST outside the window is dropped
//! silently; a RST in the window but not exact draws a challenge ACK; a SYN draws a challenge
//! ACK; a RST at exactly RCV.NXT ends the connection. Each probe runs on a fresh connection.

mod common;
use common::*;
use synack_engine::{Config, ConnHandle, State};

/// One of the harness's ways to bring a connection into a state.
type Reach = fn(Config) -> (H, ConnHandle);

/// A connection in `state`, with the peer's next sequence number and ours.
fn in_state(state: State) -> (H, u32, u32) {
    // How to get there, and how far our FIN and the peer's FIN moved the numbers.
    let (reach, ours_sent, theirs_received): (Reach, u32, u32) = match state {
        State::Established => (H::established, 1, 1),
        State::FinWait1 => (H::fin_wait_1, 2, 1),
        State::FinWait2 => (H::fin_wait_2, 2, 1),
        State::CloseWait => (H::close_wait, 1, 2),
        State::Closing => (H::closing, 2, 2),
        State::LastAck => (H::last_ack, 2, 2),
        other => panic!("not a synchronized state: {other}"),
    };
    let (h, _) = reach(plain_config());
    let (rcv_nxt, snd_nxt) = (PEER_ISN + theirs_received, h.iss + ours_sent);
    assert_eq!(h.table_state(), Some(state));
    (h, rcv_nxt, snd_nxt)
}

const STATES: [State; 6] =
    [State::Established, State::FinWait1, State::FinWait2, State::CloseWait, State::Closing, State::LastAck];

#[test]
fn out_of_window_data_is_answered_with_an_ack_and_changes_nothing() {
    for state in STATES {
        let (mut h, rcv, snd) = in_state(state);
        h.inject(Seg::new(ACK, rcv + 200_000, snd).data(b"far away"));
        assert_eq!(h.keys(), vec![(ACK, snd, rcv, 0)], "{state}");
        assert_eq!(h.table_state(), Some(state), "{state}");
    }
}

#[test]
fn rst_outside_the_window_is_dropped_silently() {
    for state in STATES {
        let (mut h, rcv, _) = in_state(state);
        h.inject(Seg::new(RST, rcv.wrapping_sub(1), 0));
        h.inject(Seg::new(RST, rcv + 200_000, 0));
        assert!(h.output().is_empty(), "{state}");
        assert_eq!(h.table_state(), Some(state), "{state}");
    }
}

#[test]
fn rst_in_the_window_but_not_exact_draws_a_challenge_ack() {
    for state in STATES {
        let (mut h, rcv, snd) = in_state(state);
        h.inject(Seg::new(RST, rcv + 10, 0));
        assert_eq!(h.keys(), vec![(ACK, snd, rcv, 0)], "{state}");
        assert_eq!(h.table_state(), Some(state), "{state}");
    }
}

#[test]
fn syn_draws_a_challenge_ack() {
    for state in STATES {
        let (mut h, rcv, snd) = in_state(state);
        h.inject(Seg::new(SYN, rcv, 0));
        assert_eq!(h.keys(), vec![(ACK, snd, rcv, 0)], "{state}");
        assert_eq!(h.table_state(), Some(state), "{state}");
    }
}

#[test]
fn rst_at_exactly_rcv_nxt_ends_the_connection() {
    for state in STATES {
        let (mut h, rcv, _) = in_state(state);
        h.inject(Seg::new(RST, rcv, 0));
        assert!(h.output().is_empty(), "{state}");
        assert_eq!(h.table_state(), None, "{state}");
    }
}
