//! The wire layer of synack: zero-copy views over IPv4, IPv6 and TCP bytes, `Repr` structs that
//! parse and emit them, the Internet checksum, sequence-number arithmetic and tcpdump-style
//! formatting of a segment.
//!
//! Contract: every parse function returns `Ok` or `Err` for any byte string and never panics;
//! once a view's length check has passed, none of its accessors panics. Parsing allocates nothing.

#![deny(missing_docs)]

mod checksum;
mod ecn;
mod error;
mod icmp;
mod ip;
mod ipv4;
mod ipv6;
mod plain_ipv4;
mod raw_ip;
mod seq;
mod tcp;
mod tcp_md5;
mod tcp_options;
pub mod tcpdump;
mod udp_encap;

pub use checksum::{internet_checksum, pseudo_header_sum};
pub use ecn::Ecn;
pub use error::WireError;
pub use icmp::{
    emit_icmp_error, icmp_echo_reply, parse_icmp_error, IcmpError, IcmpKind, QuotedTcp, IP_PROTOCOL_ICMP,
    IP_PROTOCOL_ICMPV6,
};
pub use ip::{
    ecn_of, emit_segment, emit_segment_between, emit_segment_chunks, emit_segment_chunks_with, ip_header_len,
    parse_segment, parse_segment_general, parse_segment_with, segment_len, set_ecn, EmitIp, IpHeader, Segment,
};
pub use ipv4::{Ipv4Packet, Ipv4Repr, IPV4_HEADER_LEN};
pub use ipv6::{Ipv6Packet, Ipv6Repr, IPV6_HEADER_LEN};
pub use plain_ipv4::{emit_plain_ipv4, parse_plain_ipv4, EmitIpv4, Ipv4Segment};
pub use raw_ip::{clear_dont_fragment, fill_tcp_checksum};
pub use seq::SeqNum;
pub use tcp::{TcpFlags, TcpPacket, TcpRepr, TCP_HEADER_LEN};
pub use tcp_md5::{check_tcp_md5, sign_tcp_md5, Md5Check};
pub use tcp_options::{OptionLayout, SackBlocks, TcpOptions, MAX_SACK_BLOCKS, MD5_OPTION_SPACE};
pub use udp_encap::{decapsulate_udp, encapsulate_in_udp, Decapsulated, IP_PROTOCOL_UDP, UDP_HEADER_LEN};

/// IP protocol number of TCP (RFC 9293 §3.1).
pub const IP_PROTOCOL_TCP: u8 = 6;
