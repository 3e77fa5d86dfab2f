//! The ECN field of the IP header (RFC 3168 §5): the two low bits of the IPv4 TOS byte and
//! of the IPv6 traffic class.

/// An ECN codepoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum Ecn {
    /// Not-ECT: the sender does not do ECN.
    #[default]
    NotEct,
    /// ECT(1) and ECT(0): the sender does ECN (RFC 3168 uses ECT(0)).
    Ect1,
    /// ECN-Capable Transport (0).
    Ect0,
    /// Congestion Experienced: a router marked the packet instead of dropping it.
    Ce,
}

impl Ecn {
    /// The codepoint of the IP header's two ECN bits.
    pub fn from_bits(bits: u8) -> Ecn {
        match bits & 0b11 {
            0b00 => Ecn::NotEct,
            0b01 => Ecn::Ect1,
            0b10 => Ecn::Ect0,
            _ => Ecn::Ce,
        }
    }

    /// The two ECN bits of the IP header.
    pub fn bits(self) -> u8 {
        match self {
            Ecn::NotEct => 0b00,
            Ecn::Ect1 => 0b01,
            Ecn::Ect0 => 0b10,
            Ecn::Ce => 0b11,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_round_trip_and_only_the_low_two_count() {
        for e in [Ecn::NotEct, Ecn::Ect1, Ecn::Ect0, Ecn::Ce] {
            assert_eq!(Ecn::from_bits(e.bits()), e);
            assert_eq!(Ecn::from_bits(e.bits() | 0xb8), e, "DSCP bits are ignored");
        }
    }
}
