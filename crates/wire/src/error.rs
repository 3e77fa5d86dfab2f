use std::fmt;

/// Why a byte string is not a packet synack accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireError {
    /// Shorter than a header or a length field says it is.
    Truncated,
    /// A field holds a value the format forbids (the name says which).
    Malformed(&'static str),
    /// The IPv4 header checksum or the TCP checksum does not verify.
    BadChecksum,
    /// Valid, but not something synack handles (fragments, extension headers, not TCP).
    Unsupported(&'static str),
    /// The output buffer is too small for what is to be emitted.
    BufferTooSmall,
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::Truncated => write!(f, "truncated packet"),
            WireError::Malformed(what) => write!(f, "malformed packet: {what}"),
            WireError::BadChecksum => write!(f, "bad checksum"),
            WireError::Unsupported(what) => write!(f, "unsupported packet: {what}"),
            WireError::BufferTooSmall => write!(f, "output buffer too small"),
        }
    }
}

impl std::error::Error for WireError {}
