//! A device that refuses packets (a full queue, a qdisc that drops everything): nothing is
//! sent, what was refused is accounted as Linux's TCP accounts a local drop, and sending
//! resumes once the device takes packets again.

mod common;
use common::*;
use std::time::Duration;
use synack_engine::{ConnError, Event, State};

/// Data written while the device refuses stays unsent; the persist timer probes at the RTO
/// and then every 500 ms, not backed off; the data leaves at once when the device takes it.
#[test]
fn refused_data_is_probed_every_half_second_and_sent_when_the_device_takes_it() {
    let (mut h, c) = H::established_after(plain_config(), Duration::from_millis(100));
    let rto = h.ep.conn_info(c).unwrap().rto;
    h.ep.set_device_refusing(h.now, true);
    h.ep.send(h.now, c, b"hello").unwrap();
    let start = h.now;
    assert!(h.advance_collect(Duration::from_millis(1)).is_empty(), "the device takes nothing");
    let info = h.ep.conn_info(c).unwrap();
    assert_eq!(info.probes, 0);
    // Probes at the RTO, then at 500 ms intervals: four by RTO + 1.6 s.
    let sent = h.advance_collect(rto + Duration::from_millis(1_600) - (h.now - start));
    assert!(sent.is_empty());
    let info = h.ep.conn_info(c).unwrap();
    assert_eq!((info.probes, info.retransmits), (4, 0));
    assert!(h.ep.counters().transmits_refused >= 5);
    assert_eq!(h.ep.counters().retransmitted_segments, 0);
    h.ep.set_device_refusing(h.now, false);
    let sent = h.keys();
    assert_eq!(sent, [(ACK | PSH, h.iss + 1, PEER_ISN + 1, 5)], "sent as new data, once");
    h.inject(Seg::new(ACK, PEER_ISN + 1, h.iss + 6));
    assert_eq!(h.ep.conn_info(c).unwrap().probes, 0, "the spell of probes is over");
}

/// The user timeout (RFC 5482) ends a spell of refused probes, counted from its first probe.
#[test]
fn the_user_timeout_ends_probes_the_device_refuses() {
    let (mut h, c) = H::established_after(plain_config(), Duration::from_millis(100));
    let rto = h.ep.conn_info(c).unwrap().rto;
    h.ep.conn_mut(h.now, c).unwrap().set_user_timeout(Some(Duration::from_secs(3)));
    h.ep.set_device_refusing(h.now, true);
    h.ep.send(h.now, c, b"x").unwrap();
    h.output();
    // First probe at the RTO; six in the three seconds after it, then the timeout.
    assert!(h.advance_collect(rto + Duration::from_millis(2_990)).is_empty());
    assert_eq!(h.state(c), State::Established);
    assert_eq!(h.ep.conn_info(c).unwrap().probes, 6);
    h.advance_collect(Duration::from_millis(20));
    assert_eq!(h.state(c), State::Closed);
    assert!(h.events().contains(&Event::Error(c, ConnError::TimedOut)));
    assert_eq!(h.ep.conn_info(c).unwrap().retransmits, 0, "no backoff");
}

/// A retransmission the device refuses is not one: the lost segment stays to be resent, and
/// goes when the device takes packets again; an ACK owed meanwhile is lost.
#[test]
fn a_refused_retransmission_is_not_counted_and_goes_out_later() {
    let (mut h, c) = H::established_after(plain_config(), Duration::from_millis(100));
    h.ep.send(h.now, c, &[7u8; 100]).unwrap();
    assert_eq!(h.output().len(), 1);
    h.ep.set_device_refusing(h.now, true);
    assert!(h.advance_collect(Duration::from_secs(2)).is_empty());
    assert!(h.ep.counters().rto_expirations >= 1);
    h.inject(Seg::new(ACK, PEER_ISN + 1, h.iss + 1).data(b"abc"));
    assert!(h.output().is_empty(), "neither the retransmission nor the ACK of the data");
    assert_eq!(h.ep.counters().retransmitted_segments, 0);
    h.ep.set_device_refusing(h.now, false);
    let sent = h.keys();
    assert_eq!(sent, [(ACK | PSH, h.iss + 1, PEER_ISN + 4, 100)], "the retransmission, acknowledging the data");
    assert_eq!(h.ep.counters().retransmitted_segments, 1);
}

/// Control segments (here the RST for a closed port) are lost while the device refuses.
#[test]
fn control_segments_are_dropped_and_counted() {
    let mut h = H::new(plain_config());
    h.ep.set_device_refusing(h.now, true);
    h.inject(Seg::new(SYN, PEER_ISN, 0));
    assert!(h.output().is_empty());
    assert_eq!(h.ep.counters().transmits_refused, 1);
    h.ep.set_device_refusing(h.now, false);
    assert!(h.output().is_empty(), "a refused RST is not sent later");
}

/// Without a user timeout, a device that never takes the probes ends the connection after
/// `tcp_retries2` of them, as Linux's probe timer gives up.
#[test]
fn a_device_that_never_takes_the_probes_ends_the_connection() {
    let (mut h, c) = H::established_after(plain_config().with(|c| c.tcp_retries2 = 4), Duration::from_millis(100));
    h.ep.set_device_refusing(h.now, true);
    h.ep.send(h.now, c, b"x").unwrap();
    assert!(h.advance_collect(Duration::from_secs(10)).is_empty());
    assert_eq!(h.state(c), State::Closed);
    assert_eq!(h.ep.conn_info(c).unwrap().probes, 4);
    assert!(h.events().contains(&Event::Error(c, ConnError::TimedOut)));
}
