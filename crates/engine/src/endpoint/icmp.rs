//! ICMP at the endpoint: errors about our segments go to the connection they concern (RFC
//! 5927; `conn/icmp.rs` decides), and echo requests to our addresses are answered (ping),
//! within `icmp_msgs_per_sec` as Linux limits what it sends.

use super::{ConnHandle, Demux, Endpoint};
use crate::{FourTuple, Instant};
use std::net::IpAddr;
use synack_wire::WireError;

/// Echo replies waiting for `poll_transmit` at most (more are dropped and counted).
pub(super) const MAX_ECHO_REPLIES: usize = 64;
/// Packets kept for `poll_other_packet` at most (more are dropped and counted).
pub(super) const MAX_OTHER_PACKETS: usize = 256;

impl Endpoint {
    /// Not TCP: an echo request to us is answered; an ICMP or ICMPv6 error about one of our
    /// connections is handed to it (RFC 5927); any other protocol (UDP, ...) is kept for the
    /// application if it asked (`keep_other_packets`), else counted and dropped.
    #[cold]
    pub(super) fn handle_non_tcp(&mut self, now: Instant, bytes: &[u8]) {
        // FreeBSD's TCP over UDP: a datagram to the tunneling port carries a segment.
        let port = self.shared.config.tcp_udp_tunneling_port;
        if port != 0 {
            match synack_wire::decapsulate_udp(bytes, port) {
                Ok(Some(d)) => return self.handle_tunneled(now, d),
                Ok(None) => {}
                Err(WireError::BadChecksum) => return self.shared.counters.dropped_bad_checksum += 1,
                Err(_) => return self.shared.counters.dropped_malformed += 1,
            }
        }
        let counters = &mut self.shared.counters;
        let error = match synack_wire::parse_icmp_error(bytes) {
            Ok(Some(error)) => error,
            // Not an error: an echo request is answered, any other message dropped.
            Ok(None) => {
                if !self.answer_echo(now, bytes) {
                    self.shared.counters.dropped_icmp += 1;
                }
                return;
            }
            Err(WireError::BadChecksum) => return counters.dropped_bad_checksum += 1,
            Err(WireError::Unsupported(_)) => return self.keep_other_packet(bytes),
            Err(_) => return counters.dropped_malformed += 1,
        };
        let q = error.quoted;
        let tuple = FourTuple { local_ip: q.src, remote_ip: q.dst, local_port: q.src_port, remote_port: q.dst_port };
        let taken = match self.lookup(&tuple) {
            Some(Demux::Conn(index)) => {
                let h = ConnHandle { index, generation: self.conns.generation(index) };
                self.with_conn(now, h, false, |c, ctx| c.on_icmp_error(ctx, error.kind, q.seq))
            }
            // A half-open entry or TIME-WAIT record has nothing an error could change.
            _ => false,
        };
        if taken {
            self.shared.counters.icmp_errors_in += 1;
        } else {
            self.shared.counters.dropped_icmp += 1;
        }
    }

    /// A packet the endpoint has no use for: kept for the application if it asked and there
    /// is room, else dropped; counted either way.
    fn keep_other_packet(&mut self, bytes: &[u8]) {
        match &mut self.other_packets {
            Some(queue) if queue.len() < MAX_OTHER_PACKETS => {
                queue.push_back(bytes.to_vec());
                self.shared.counters.other_packets_kept += 1;
            }
            _ => self.shared.counters.dropped_unsupported += 1,
        }
    }

    /// Keep the packets that are neither TCP nor ICMP the endpoint acts on (UDP, other
    /// protocols, IP fragments), up to 256 of them, for `poll_other_packet`,
    /// as a tun2socks-style application wants them; off (the default), they are dropped and
    /// counted as `dropped_unsupported`. Turning it off drops what was kept.
    pub fn keep_other_packets(&mut self, on: bool) {
        self.other_packets = on.then(Default::default);
    }

    /// The oldest packet kept by `keep_other_packets`, as it arrived (the IP header on).
    pub fn poll_other_packet(&mut self) -> Option<Vec<u8>> {
        self.other_packets.as_mut()?.pop_front()
    }

    /// An ICMP message that is not an error (its checksum checked): if it is an echo request
    /// to one of our addresses, its reply is queued for `poll_transmit`; true when it was an
    /// echo request (answered or counted), false for any other message.
    fn answer_echo(&mut self, now: Instant, bytes: &[u8]) -> bool {
        let mut reply = vec![0u8; bytes.len()];
        let Ok(Some(len)) = synack_wire::icmp_echo_reply(bytes, &mut reply) else { return false };
        reply.truncate(len);
        let Some((src, dst)) = addresses_of(&reply) else { return false };
        let counters = &mut self.shared.counters;
        if !self.addresses.contains(&src) {
            counters.dropped_not_our_address += 1;
            return true;
        }
        let second = now.as_micros() / 1_000_000;
        if self.icmp_budget.0 != second {
            self.icmp_budget = (second, 0);
        }
        if self.icmp_budget.1 >= self.shared.config.icmp_msgs_per_sec || self.echo_replies.len() >= MAX_ECHO_REPLIES {
            counters.dropped_icmp += 1;
            return true;
        }
        self.icmp_budget.1 += 1;
        counters.icmp_echo_replies += 1;
        self.echo_replies.push_back((reply, src, dst));
        true
    }
}

/// The source and destination of an IP packet the endpoint built.
fn addresses_of(packet: &[u8]) -> Option<(IpAddr, IpAddr)> {
    match packet.first()? >> 4 {
        4 => {
            let p = synack_wire::Ipv4Packet::new_checked(packet).ok()?;
            Some((p.src_addr().into(), p.dst_addr().into()))
        }
        _ => {
            let p = synack_wire::Ipv6Packet::new_checked(packet).ok()?;
            Some((p.src_addr().into(), p.dst_addr().into()))
        }
    }
}
