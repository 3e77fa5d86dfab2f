//! What a parsed script is: its `--options` and a timeline of events.

use synack_wire::TcpFlags;

/// One parsed script.
#[derive(Debug, Clone, PartialEq)]
pub struct Script {
    /// The leading `--name=value` options, in order (`--name` alone has no value).
    pub options: Vec<(String, Option<String>)>,
    pub events: Vec<Event>,
    /// The directory the script's backtick commands resolve relative paths against (its
    /// file's); None for a script parsed from text.
    pub dir: Option<std::path::PathBuf>,
}

impl Script {
    pub fn option(&self, name: &str) -> Option<&str> {
        self.options.iter().rev().find(|(n, _)| n == name).and_then(|(_, v)| v.as_deref())
    }
}

/// One timed line of the script.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// 1-based line number in the file, for messages.
    pub line: usize,
    pub time: Time,
    pub action: Action,
}

/// When an event happens, in microseconds. Relative times count from the previous event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Time {
    Absolute(i64),
    Relative(i64),
    /// `*`: whenever it happens (outbound packets only make sense with it).
    Any,
    /// `a~b` (absolute) or `+a~+b` (relative): any time in the interval.
    Range {
        start: i64,
        end: i64,
        relative: bool,
    },
    /// `a...b` (absolute) or `+a...b` (both from the previous event): a blocking call made at
    /// `a` that returns at `b`; the next relative time counts from `a`.
    Blocking {
        start: i64,
        end: i64,
        relative: bool,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Packet(PacketSpec),
    /// `< icmp TYPE CODE [mtu N] [seq:end(len)]`: an ICMP error about synack's segment.
    Icmp(IcmpSpec),
    Call(Call),
    /// A backtick shell command; never executed, only interpreted.
    Command(String),
    /// `%{ ... }%` code (`crate::code` says what of Python it reads).
    Code(Vec<crate::code::Stmt>),
}

/// A sequence number written in the script, or one left unchecked (`...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeqSpec {
    /// `start:end(len)`.
    Range { start: u32, end: u32, len: u32 },
    /// `...(len)`: any start.
    Any { len: u32 },
}

impl SeqSpec {
    pub fn payload_len(self) -> u32 {
        match self {
            SeqSpec::Range { len, .. } | SeqSpec::Any { len } => len,
        }
    }
}

/// One TCP option of a packet line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptSpec {
    Nop,
    Eol,
    Mss(u16),
    WindowScale(u8),
    SackPermitted,
    Sack([(u32, u32); 4], u8),
    /// `md5 valid` / `md5 invalid`: a TCP MD5 signature (RFC 2385) that checks or not.
    Md5 {
        valid: bool,
    },
    Timestamp {
        val: u32,
        ecr: u32,
    },
}

/// `<` or `>` lines.
#[derive(Debug, Clone, PartialEq)]
pub struct PacketSpec {
    /// `<`: the script sends it to synack; `>`: synack must send it.
    pub inbound: bool,
    /// The IP-level ECN codepoint in brackets (`[noecn]`, `[ect0]`, `[ect1]`, `[ce]`).
    pub ecn: Option<String>,
    pub flags: TcpFlags,
    pub seq: SeqSpec,
    pub ack: Option<u32>,
    /// None when the line leaves the window unchecked.
    pub window: Option<u16>,
    pub urgent: Option<u16>,
    /// None: no option list written (`> .` lines then expect none); `Some(None)`: `<...>`,
    /// unchecked.
    pub options: Option<Option<Vec<OptSpec>>>,
    /// An IP header field in parentheses before the flags (`(ttl 4)`, `(tos 0x20)`, `(hlim
    /// 4)`, `(class 0x20)`): set on an inbound packet, checked on an outbound one.
    pub ip_field: Option<(String, u32)>,
    /// `/udp(src > dst)` after the window: the segment is encapsulated in UDP (FreeBSD's
    /// `udp_tunneling_port`), with these ports.
    pub udp_ports: Option<(u16, u16)>,
    /// `start:end(len)!`: synack's sequence number as it is on the wire, not relative to its
    /// ISN (a RST answering a SYN, say).
    pub absolute_seq: bool,
}

/// An inbound ICMP (or ICMPv6) error line, with packetdrill's names for type and code; the
/// quoted segment is synack's, its sequence number relative to synack's ISN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IcmpSpec {
    pub icmp_type: String,
    pub code: String,
    pub mtu: Option<u32>,
    pub seq: u32,
}

/// A system call line: `name(args) = result [errno [(text)]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub name: String,
    pub args: Vec<Arg>,
    pub result: i64,
    pub errno: Option<String>,
}

/// One argument of a call, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    /// `...`
    Elided,
    Int(i64),
    /// A symbol (`SOL_SOCKET`), or several joined by `|`.
    Symbols(Vec<String>),
    /// `[value]`.
    Bracketed(Box<Arg>),
    /// `{...}` or anything else the runner does not look into.
    Other(String),
}

impl Arg {
    pub fn int(&self) -> Option<i64> {
        match self {
            Arg::Int(v) => Some(*v),
            Arg::Bracketed(inner) => inner.int(),
            _ => None,
        }
    }
    pub fn symbol(&self) -> Option<&str> {
        match self {
            Arg::Symbols(s) if s.len() == 1 => Some(&s[0]),
            Arg::Bracketed(inner) => inner.symbol(),
            _ => None,
        }
    }
}
