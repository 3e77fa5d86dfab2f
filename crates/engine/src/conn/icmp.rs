//! ICMP errors about a connection's segments (RFC 1122 §4.2.3.9, RFC 5927). An error counts
//! only if the sequence number it quotes is one we sent and is unacknowledged (RFC 5927
//! §4.1), so that a blind attacker must guess it. A hard error (the port or protocol is
//! unreachable, communication is prohibited, the TTL ran out) ends a connection still in
//! SYN-SENT when `icmp_may_rst` allows, as Linux and FreeBSD do; every other error is soft:
//! remembered, and reported as the reason if the connection then times out. A Packet Too
//! Big (Fragmentation Needed) lowers the segment size (path MTU discovery, `pmtu.rs`).

use super::{Connection, Ctx};
use crate::{Cause, ConnError, State};
use synack_wire::{IcmpKind, SeqNum};

impl Connection {
    /// An ICMP error quoting our segment with sequence number `seq`. Returns false when it
    /// was dropped (not about data in flight, or a kind with no meaning here).
    pub fn on_icmp_error(&mut self, ctx: &mut Ctx, kind: IcmpKind, seq: SeqNum) -> bool {
        // RFC 5927 §4.1: SND.UNA <= SEG.SEQ < SND.NXT (in SYN-SENT, the SYN itself).
        if !(self.snd.una <= seq && seq < self.snd.max) || self.state == State::Closed {
            return false;
        }
        let (error, hard) = match kind {
            IcmpKind::PortUnreachable | IcmpKind::ProtocolUnreachable | IcmpKind::AdminProhibited => {
                (ConnError::Refused, true)
            }
            IcmpKind::TimeExceeded => (ConnError::HostUnreachable, true),
            IcmpKind::NetUnreachable => (ConnError::NetUnreachable, false),
            IcmpKind::HostUnreachable | IcmpKind::SourceRouteFailed => (ConnError::HostUnreachable, false),
            IcmpKind::PacketTooBig { mtu } => return self.path_mtu_shrank(ctx, mtu),
            IcmpKind::Other { .. } => return false,
        };
        if hard && self.state == State::SynSent && ctx.config.icmp_may_rst {
            ctx.counters.failed_connects += 1;
            self.close_with(ctx, Some(error), Cause::IcmpError);
        } else {
            self.soft_error = Some(error);
        }
        true
    }

    /// The error a connection that timed out reports: the last soft ICMP error if one came
    /// (RFC 1122 §4.2.3.9), else ETIMEDOUT.
    pub(super) fn timed_out_error(&self) -> ConnError {
        self.soft_error.unwrap_or(ConnError::TimedOut)
    }
}
