//! A socket's own values for the IP header of what it sends: `IP_TTL` / `IPV6_UNICAST_HOPS`
//! and `IP_TOS` / `IPV6_TCLASS`. A connection, a listener (and the half-open entries, SYN
//! cookies and connections it makes), a bound socket and a TIME-WAIT record each carry them,
//! so every segment sent on a socket's behalf, RSTs and ACKs included, carries its values.

/// The TTL (IPv4) or hop limit (IPv6) nothing has changed: Linux's and FreeBSD's default.
pub(crate) const DEFAULT_TTL: u8 = 64;

/// The IP header fields a socket chooses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpFields {
    /// TTL or hop limit.
    pub ttl: u8,
    /// The DSCP bits of the TOS byte or traffic class (RFC 2474), in place: 0x20 is CS1. The
    /// low two bits are the ECN field, which TCP sets per packet (RFC 3168 §6.1), so they are
    /// never taken from here.
    pub tos: u8,
}

impl Default for IpFields {
    fn default() -> IpFields {
        IpFields { ttl: DEFAULT_TTL, tos: 0 }
    }
}

impl IpFields {
    /// These fields with the TOS byte `tos` as `IP_TOS` sets it: its ECN bits dropped.
    pub fn with_tos(self, tos: u8) -> IpFields {
        IpFields { tos: tos & !0b11, ..self }
    }
}
