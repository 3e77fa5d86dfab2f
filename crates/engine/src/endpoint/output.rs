//! Output: control segments first (RSTs, SYN-ACKs, challenge and TIME-WAIT ACKs), then the
//! connections that may have something to send, in the order they became ready.

use super::{reschedule, Endpoint};
use crate::conn::{ControlSegment, Ctx, Shared};
use crate::{FourTuple, Instant, IpFields};
use std::collections::HashMap;
use std::net::IpAddr;
use synack_wire::{
    clear_dont_fragment, emit_plain_ipv4, emit_segment_between, encapsulate_in_udp, ip_header_len, sign_tcp_md5, Ecn,
    EmitIp, EmitIpv4, OptionLayout, SackBlocks, TcpOptions, TcpRepr, WireError, TCP_HEADER_LEN, UDP_HEADER_LEN,
};

/// One IP packet written into the caller's buffer, and where it goes: a router or a simulated
/// link routes and marks it by these fields without parsing the bytes again.
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transmit {
    /// Bytes written at the start of the buffer.
    pub len: usize,
    /// The packet's source address (as in its IP header).
    pub src: IpAddr,
    /// The packet's destination address.
    pub dst: IpAddr,
    /// The ECN codepoint in its IP header (RFC 3168 §5): ECT(0) on a connection that
    /// negotiated ECN, where a router may mark it Congestion Experienced.
    pub ecn: Ecn,
    /// Set only by `poll_transmit_gso`: the packet is a TCP super-segment to be cut into
    /// segments of this many payload bytes, and its TCP checksum is partial (pseudo-header
    /// only), as Linux's TSO/GSO expects.
    pub gso_size: Option<u16>,
}

impl Endpoint {
    /// Writes the next packet to send into `buf` and says how long it is, or `None` when there
    /// is nothing to send now. `buf` should hold at least `config().mtu` bytes; a shorter one
    /// gets correspondingly shorter data segments.
    #[inline]
    pub fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<Transmit> {
        // Most polls find nothing (a driver polls until `None`): answer those without the
        // frame of the whole output path.
        if self.shared.control.is_empty() && self.dirty.is_empty() && self.echo_replies.is_empty() {
            self.last_now = self.last_now.max(now);
            return None;
        }
        self.poll_transmit_inner(now, buf, 1)
    }

    /// The next echo reply, if one waits and fits in `buf` (one that does not is dropped).
    #[cold]
    fn poll_echo_reply(&mut self, buf: &mut [u8]) -> Option<Transmit> {
        while let Some((packet, src, dst)) = self.echo_replies.pop_front() {
            if let Some(room) = buf.get_mut(..packet.len()) {
                room.copy_from_slice(&packet);
                return Some(Transmit { len: packet.len(), src, dst, ecn: Ecn::NotEct, gso_size: None });
            }
            self.shared.counters.dropped_icmp += 1;
        }
        None
    }

    /// Like `poll_transmit`, for a device that segments (TUN with GSO offload): new data may
    /// come out as one super-segment of up to `max_segments` segments (as much as fits in
    /// `buf`, at most 64 KiB), with `Transmit::gso_size` set and a partial TCP checksum.
    /// Everything else is an ordinary packet with a full checksum.
    pub fn poll_transmit_gso(&mut self, now: Instant, buf: &mut [u8], max_segments: usize) -> Option<Transmit> {
        let len = buf.len().min(u16::MAX as usize);
        let buf = &mut buf[..len];
        self.poll_transmit_inner(now, buf, max_segments.max(1))
    }

    /// Whether the device takes packets: a host whose device refuses them for now (a full
    /// queue, a qdisc that drops everything, a TUN write answering ENOBUFS) says so, and
    /// `poll_transmit` then sends nothing. What it would have sent is refused as Linux's
    /// TCP handles a local drop: control segments and ACKs are lost (counted in
    /// `transmits_refused`); data stays to be sent, a retransmission not counted as one; a
    /// connection with nothing in flight probes on the persist timer, every
    /// 500 ms after the first (Linux's TCP_RESOURCE_PROBE_INTERVAL), until the device takes
    /// packets again or the user timeout ends it. Once it takes them, every connection with
    /// something to send is polled again.
    pub fn set_device_refusing(&mut self, now: Instant, refusing: bool) {
        self.last_now = self.last_now.max(now);
        if self.shared.device_refusing == refusing {
            return;
        }
        self.shared.device_refusing = refusing;
        if !refusing {
            for h in self.connection_handles() {
                self.after_conn(now, h);
            }
        }
    }

    /// `poll_transmit` while the device refuses packets: everything waiting is refused.
    #[cold]
    fn refuse_transmit(&mut self, now: Instant) -> Option<Transmit> {
        let refused = self.shared.control.len() + self.echo_replies.len();
        while self.shared.control.pop_front().is_some() {}
        self.echo_replies.clear();
        self.shared.counters.transmits_refused += refused as u64;
        while let Some(h) = self.dirty.pop_front() {
            let Some(conn) = self.conns.get_mut(h.index, h.generation) else { continue };
            conn.in_dirty = false;
            conn.on_transmit_refused(&mut Ctx { now, shared: &mut self.shared });
            reschedule(&mut self.timers_pending, conn, h);
            self.shared.counters.transmits_refused += 1;
        }
        None
    }

    fn poll_transmit_inner(&mut self, now: Instant, buf: &mut [u8], gso_segments: usize) -> Option<Transmit> {
        self.last_now = self.last_now.max(now);
        if self.shared.device_refusing {
            return self.refuse_transmit(now);
        }
        if !self.echo_replies.is_empty() {
            if let Some(t) = self.poll_echo_reply(buf) {
                return Some(t);
            }
        }
        // Read in place, not popped by value: a copy of the whole record would load it in
        // wide words that wait for the smaller stores that made it a moment ago.
        while let Some(ctl) = self.shared.control.front() {
            let ident = self.ip_ident;
            self.ip_ident = self.ip_ident.wrapping_add(1);
            let sent = emit_control(ctl, self.shared.config.compat.option_layout, ident, buf)
                .and_then(|t| finish(&self.shared, t, buf, ctl.options.md5, ctl.udp.unwrap_or(0)));
            let rst = ctl.flags.rst();
            self.shared.control.pop_front();
            if let Some(t) = sent {
                self.shared.counters.segments_out += 1;
                // Every RST leaves through here; counted when sent, not when queued.
                if rst {
                    self.shared.counters.resets_sent += 1;
                }
                return Some(t);
            }
        }
        while let Some(&h) = self.dirty.front() {
            let Some(conn) = self.conns.get_mut(h.index, h.generation) else {
                self.dirty.pop_front();
                continue;
            };
            // In UDP (FreeBSD's TCP over UDP), with room for the UDP header.
            let udp = match self.shared.udp_ports.is_empty() {
                true => 0,
                false => self.shared.udp_ports.get(&conn.tuple).copied().unwrap_or(0),
            };
            let headers =
                ip_header_len(&conn.tuple.local_ip) + TCP_HEADER_LEN + if udp != 0 { UDP_HEADER_LEN } else { 0 };
            let max_payload = buf.len().saturating_sub(headers);
            // A signature covers one segment, and a device cuts no super-segment carried in
            // UDP: none for those (as Linux turns GSO off for a socket with TCP_MD5SIG).
            let gso_segments = if conn.signs() || udp != 0 { 1 } else { gso_segments };
            let out = conn.poll_segment(&mut Ctx { now, shared: &mut self.shared }, max_payload, gso_segments);
            let more = out.is_some() && conn.wants_output();
            // Sending only arms timers (it never changes the state), so of `after_conn` only
            // the rescheduling applies here.
            reschedule(&mut self.timers_pending, conn, h);
            if !more {
                self.dirty.pop_front();
                conn.in_dirty = false;
            }
            let Some(seg) = &out else { continue };
            let ident = self.ip_ident;
            self.ip_ident = self.ip_ident.wrapping_add(1);
            let (a, b) = conn.send_slices(seg.data.clone());
            let full_checksum = seg.gso_size.is_none();
            match emit(&conn.tuple, conn.ip, seg.ecn, ident, full_checksum, &seg.tcp, &[a, b], buf) {
                Ok(len) => {
                    if !conn.path_mtu_discovery().dont_fragment() {
                        clear_dont_fragment(&mut buf[..len]);
                    }
                    let (src, dst) = (conn.tuple.local_ip, conn.tuple.remote_ip);
                    let t = Transmit { len, src, dst, ecn: seg.ecn, gso_size: seg.gso_size };
                    let Some(t) = finish(&self.shared, t, buf, seg.tcp.options.md5, udp) else { continue };
                    self.shared.counters.segments_out += 1;
                    return Some(t);
                }
                Err(_) => continue, // only a buffer too small for the headers ends here
            }
        }
        None
    }
}

fn emit_control(ctl: &ControlSegment, layout: OptionLayout, ident: u16, buf: &mut [u8]) -> Option<Transmit> {
    let repr = TcpRepr {
        src_port: ctl.tuple.local_port,
        dst_port: ctl.tuple.remote_port,
        seq: ctl.seq,
        ack: ctl.ack,
        flags: ctl.flags,
        window: ctl.window,
        urgent: 0,
        options: TcpOptions {
            mss: ctl.options.mss,
            window_scale: ctl.options.window_scale,
            sack_permitted: ctl.options.sack_permitted,
            sack: SackBlocks::new(),
            timestamps: ctl.options.timestamps,
            md5: ctl.options.md5,
            layout,
        },
        payload: &[],
    };
    let len = emit(&ctl.tuple, ctl.ip, Ecn::NotEct, ident, true, &repr, &[&[], &[]], buf).ok()?;
    Some(Transmit { len, src: ctl.tuple.local_ip, dst: ctl.tuple.remote_ip, ecn: Ecn::NotEct, gso_size: None })
}

/// What a written segment still needs on its way out: its signature (RFC 2385), then its
/// UDP header (TCP over UDP, `udp` the peer's port, 0 for none). `None` when it cannot have
/// them: a segment that must be signed or carried in UDP is not sent otherwise.
#[inline(always)]
fn finish(shared: &Shared, mut t: Transmit, buf: &mut [u8], md5: bool, udp: u16) -> Option<Transmit> {
    if md5 {
        t = sign(&shared.md5_keys, t, buf)?;
    }
    if udp != 0 {
        t = encapsulate(shared.config.tcp_udp_tunneling_port, udp, t, buf)?;
    }
    Some(t)
}

/// Fills in the signature of a packet written with one (RFC 2385), by the key for its
/// destination. `None` when that key is gone: a segment that must be signed is not sent
/// unsigned.
#[cold]
fn sign(keys: &HashMap<IpAddr, Box<[u8]>>, t: Transmit, buf: &mut [u8]) -> Option<Transmit> {
    let key = keys.get(&t.dst)?;
    sign_tcp_md5(&mut buf[..t.len], key).then_some(t)
}

/// Puts a written segment into UDP from the tunneling port to `port`; `None` when the
/// buffer has no room for the UDP header.
#[cold]
fn encapsulate(tunneling_port: u16, port: u16, t: Transmit, buf: &mut [u8]) -> Option<Transmit> {
    let len = encapsulate_in_udp(buf, t.len, tunneling_port, port).ok()?;
    Some(Transmit { len, ..t })
}

/// One segment between `tuple`'s addresses: an IPv4 one by the emitter written for it, any
/// other by the general one. In line in both callers.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn emit(
    tuple: &FourTuple,
    ip: IpFields,
    ecn: Ecn,
    ident: u16,
    full_checksum: bool,
    tcp: &TcpRepr,
    payload: &[&[u8]; 2],
    buf: &mut [u8],
) -> Result<usize, WireError> {
    match (&tuple.local_ip, &tuple.remote_ip) {
        (&IpAddr::V4(src), &IpAddr::V4(dst)) => {
            let (ttl, dscp) = (ip.ttl, ip.tos);
            emit_plain_ipv4(EmitIpv4 { src, dst, ttl, dscp, ecn, ident, full_checksum }, tcp, payload, buf)
        }
        (src, dst) => {
            let (ttl, dscp) = (ip.ttl, ip.tos);
            emit_segment_between(EmitIp { src, dst, ttl, dscp, ecn, ident, full_checksum }, tcp, payload, buf)
        }
    }
}
