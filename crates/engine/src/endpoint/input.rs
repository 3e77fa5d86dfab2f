//! A packet arrives: parse, then demultiplex by 4-tuple in RFC order of precedence —
//! connection, half-open entry, TIME-WAIT record, listener (specific, then wildcard), closed
//! port. Every packet that is dropped is counted under its reason.

use super::{ConnHandle, ConnSlot, Demux, Endpoint, TimerRef};
use crate::conn::{Connection, ControlOptions, ControlSegment, Ctx, Negotiated, NewConn};
use crate::half_open::HalfOpen;
use crate::segment_checks::{self, RstVerdict, SynVerdict};
use crate::time_wait::{TimeWait, TimeWaitRules, TimeWaitVerdict};
use crate::{cold, Cause, Event, FourTuple, Instant, IpFields, ListenerHandle, State};
use std::net::IpAddr;
use synack_wire::{
    check_tcp_md5, parse_plain_ipv4, parse_segment_general, Ecn, Md5Check, SeqNum, TcpFlags, TcpRepr, WireError,
};

impl Endpoint {
    /// One IP packet from the network. Never panics, whatever the bytes.
    pub fn handle_packet(&mut self, now: Instant, bytes: &[u8]) {
        self.handle_packet_with(now, bytes, true)
    }

    /// A packet whose TCP checksum the device vouches for or left partial (a TUN device with
    /// offload: the kernel's super-packets of up to 64 KiB arrive this way, as from a NIC with
    /// checksum offload). Not verified; everything else as `handle_packet`.
    pub fn handle_packet_offloaded(&mut self, now: Instant, bytes: &[u8]) {
        self.handle_packet_with(now, bytes, false)
    }

    fn handle_packet_with(&mut self, now: Instant, bytes: &[u8], verify_checksum: bool) {
        self.last_now = self.last_now.max(now);
        self.shared.counters.packets_in += 1;
        // The plain IPv4 packet parsed and handled in line; every other packet (IPv6, IPv4
        // options, anything malformed) out of line.
        match parse_plain_ipv4(bytes, verify_checksum) {
            Ok(seg) => {
                let tuple = FourTuple {
                    local_ip: IpAddr::V4(seg.dst),
                    remote_ip: IpAddr::V4(seg.src),
                    local_port: seg.tcp.dst_port,
                    remote_port: seg.tcp.src_port,
                };
                self.handle_segment(now, tuple, &seg.tcp, seg.ecn, bytes)
            }
            Err(_) => self.handle_other_packet(now, bytes, verify_checksum),
        }
    }

    #[inline(never)]
    fn handle_other_packet(&mut self, now: Instant, bytes: &[u8], verify_checksum: bool) {
        // Not `parse_segment_with`, which would try the plain IPv4 path again.
        match parse_segment_general(bytes, verify_checksum) {
            Ok(seg) => {
                let (ip, tcp) = (&seg.ip, &seg.tcp);
                let tuple = FourTuple {
                    local_ip: ip.dst,
                    remote_ip: ip.src,
                    local_port: tcp.dst_port,
                    remote_port: tcp.src_port,
                };
                self.handle_segment(now, tuple, tcp, ip.ecn, bytes)
            }
            Err(WireError::BadChecksum) => self.shared.counters.dropped_bad_checksum += 1,
            Err(WireError::Unsupported(_)) => self.handle_non_tcp(now, bytes),
            Err(_) => self.shared.counters.dropped_malformed += 1,
        }
    }

    /// A segment that came in UDP to the tunneling port (FreeBSD's TCP over UDP): handled as
    /// any other, the peer's UDP port kept for what it makes and answers. Its TCP checksum is
    /// not checked (FreeBSD sends zero there); the UDP checksum was.
    #[cold]
    #[inline(never)]
    pub(super) fn handle_tunneled(&mut self, now: Instant, d: synack_wire::Decapsulated) {
        let Ok(seg) = synack_wire::parse_segment_with(&d.packet, false) else {
            return self.shared.counters.dropped_malformed += 1;
        };
        let (ip, tcp) = (&seg.ip, &seg.tcp);
        let tuple =
            FourTuple { local_ip: ip.dst, remote_ip: ip.src, local_port: tcp.dst_port, remote_port: tcp.src_port };
        self.inbound_udp_port = Some(d.src_port);
        self.handle_segment(now, tuple, tcp, ip.ecn, &d.packet);
        self.inbound_udp_port = None;
    }

    /// A parsed segment of `tuple` (seen from here), demultiplexed; `packet` is the whole
    /// packet it came in, for a signature check.
    #[inline(always)]
    fn handle_segment(&mut self, now: Instant, tuple: FourTuple, tcp: &TcpRepr, ecn: Ecn, packet: &[u8]) {
        // FreeBSD's drop_synfin; a TIME-WAIT record still answers as RFC 9293 says (the
        // STANDARD branch of the FreeBSD suite's rcv-syn-fin-time-wait scripts).
        let drop_synfin = self.shared.config.tcp_drop_synfin && tcp.flags.syn() && tcp.flags.fin();
        let found = self.lookup(&tuple);
        // Every table entry has a remote address and ports that `connect` or a listener
        // accepted, and one of our addresses (or one an any-IP listener took), so only a
        // packet that matches none is checked for them.
        if found.is_none() {
            let remote_ip = &tuple.remote_ip;
            if tcp.src_port == 0 || tcp.dst_port == 0 || remote_ip.is_multicast() || remote_ip.is_unspecified() {
                cold();
                return self.shared.counters.dropped_malformed += 1;
            }
            if !self.addresses.contains(&tuple.local_ip) && !self.accepts_any_address() {
                cold();
                return self.shared.counters.dropped_not_our_address += 1;
            }
        }
        // RFC 2385 §3.0: a socket that signs takes only segments with a valid signature.
        if !self.shared.md5_keys.is_empty() && !self.md5_admits(found, &tuple, packet) {
            return self.shared.counters.dropped_md5 += 1;
        }
        if let Some(found) = found.filter(|_| !self.shared.udp_ports.is_empty() || self.inbound_udp_port.is_some()) {
            if self.udp_route_differs(found, &tuple, tcp) {
                return;
            }
        }
        match found {
            // A TIME-WAIT record either handles the segment or, reopened by a new SYN, passes
            // it on to the listener.
            Some(Demux::TimeWait(index)) if !self.time_wait_segment(now, index, tcp) => return,
            _ if drop_synfin => {
                cold();
                return self.shared.counters.dropped_syn_fin += 1;
            }
            Some(Demux::Conn(index)) => {
                let h = ConnHandle { index, generation: self.conns.generation(index) };
                self.with_conn(now, h, (), |c, ctx| c.on_segment(ctx, tcp, ecn));
                return;
            }
            Some(Demux::HalfOpen(index)) => return self.half_open_segment(now, index, tcp, ecn),
            Some(Demux::TimeWait(_)) | None => {}
        }
        match self.find_listener(&tuple.local_ip, tuple.local_port) {
            Some(listener) => self.listener_segment(now, listener, tuple, tcp, ecn),
            None => self.closed_port(tuple, tcp, None),
        }
    }

    /// Whether the record `found` (or else the listener of the tuple's address) takes the
    /// packet: it does not sign, or the packet's signature is valid under the peer's key.
    #[cold]
    #[inline(never)]
    fn md5_admits(&self, found: Option<Demux>, tuple: &FourTuple, packet: &[u8]) -> bool {
        let (_, signs) = self.socket_marks(found, tuple);
        match (signs, self.shared.md5_keys.get(&tuple.remote_ip)) {
            (true, Some(key)) => check_tcp_md5(packet, key) == Md5Check::Valid,
            _ => true,
        }
    }

    /// A segment for a TIME-WAIT record: the record decides, the endpoint acts. Returns true
    /// when a new SYN has ended TIME-WAIT and should go on to the listener. Out of line: most
    /// packets are for live connections, and this code would stand between their paths.
    #[inline(never)]
    fn time_wait_segment(&mut self, now: Instant, index: u32, tcp: &TcpRepr) -> bool {
        let Some(record) = self.time_waits.at(index) else { return false };
        let tuple = record.tuple;
        let rules = TimeWaitRules {
            reopen: self.shared.config.tcp_time_wait_reopen,
            insecure_syn: self.shared.config.tcp_insecure_syn,
        };
        match record.decide(tcp, rules) {
            TimeWaitVerdict::Drop => {
                self.shared.counters.dropped_in_time_wait += 1;
                if tcp.flags.rst() {
                    self.shared.counters.dropped_rst_ignored += 1;
                }
                false
            }
            TimeWaitVerdict::Ack => {
                let ack = self.time_wait_ack(now, record);
                self.push_control(ack);
                false
            }
            TimeWaitVerdict::Challenge => {
                let ack = self.time_wait_ack(now, record);
                let shared = &mut self.shared;
                let per_second = shared.config.tcp_challenge_ack_limit;
                if segment_checks::budget_allows(now, &mut shared.challenge_budget, per_second, &mut shared.counters) {
                    self.push_control(ack);
                }
                false
            }
            TimeWaitVerdict::AckAndRestart => {
                let deadline = now.add_micros(self.shared.timing.time_wait_us);
                let generation = self.time_waits.generation(index);
                let Some(record) = self.time_waits.at_mut(index) else { return false };
                record.deadline = deadline;
                let ack = self.time_wait_ack(now, &self.time_waits.at(index).expect("looked up above").clone());
                self.push_control(ack);
                self.shared.counters.time_wait_reacks += 1;
                self.timers.push(deadline, TimerRef::TimeWait(index, generation));
                false
            }
            TimeWaitVerdict::Reset => {
                let rst = self.time_wait_ack(now, record).into_reset();
                self.push_control(rst);
                self.shared.counters.resets_received += 1;
                self.time_waits.free(index);
                self.demux_remove(&tuple, Demux::TimeWait(index));
                self.transition(now, tuple, State::TimeWait, State::Closed, Cause::RcvdSyn);
                false
            }
            TimeWaitVerdict::Reopen => {
                self.time_waits.free(index);
                self.demux_remove(&tuple, Demux::TimeWait(index));
                self.transition(now, tuple, State::TimeWait, State::Closed, Cause::NewSynInTimeWait);
                true
            }
        }
    }

    /// RFC 9293 §3.10.7.1: no connection and no listener, or an answer for a listener or a
    /// socket only bound (`from`), whose TTL, TOS and signature it carries. A RST is never
    /// answered; otherwise <SEQ=SEG.ACK><CTL=RST> if ACK is on, else
    /// <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>.
    #[cold]
    fn closed_port(&mut self, tuple: FourTuple, tcp: &TcpRepr, from: Option<ListenerHandle>) {
        let (ip, md5) = from.map_or((IpFields::default(), false), |l| self.listener_marks(l, &tuple));
        self.reset_as_closed(tuple, tcp, ip, md5);
    }

    /// The answer of RFC 9293 §3.10.7.1 to `tcp`, from a socket with these IP fields and
    /// signature, the way the segment came (in UDP from its port, or not).
    fn reset_as_closed(&mut self, tuple: FourTuple, tcp: &TcpRepr, ip: IpFields, md5: bool) {
        if tcp.flags.rst() {
            return self.shared.counters.dropped_closed_port_rst += 1;
        }
        let (seq, ack, flags) = if tcp.flags.ack() {
            (tcp.ack, SeqNum(0), TcpFlags::RST)
        } else {
            (SeqNum(0), tcp.seq + tcp.segment_len(), TcpFlags::RST | TcpFlags::ACK)
        };
        let options = ControlOptions { md5, ..ControlOptions::default() };
        let udp = Some(self.inbound_udp_port.unwrap_or(0));
        self.push_control(ControlSegment { tuple, seq, ack, flags, window: 0, options, ip, udp });
    }

    /// FreeBSD's TCP over UDP: a segment for a record that came another way than the record's
    /// segments do (in UDP from another port, in UDP for a plain record, plain for one in
    /// UDP) is answered as if no connection existed, from the record's socket, which it does
    /// not touch (FreeBSD's `tcp_input` drops it with a reset when the ports differ).
    #[cold]
    #[inline(never)]
    fn udp_route_differs(&mut self, found: Demux, tuple: &FourTuple, tcp: &TcpRepr) -> bool {
        if self.shared.udp_ports.get(tuple).copied() == self.inbound_udp_port {
            return false;
        }
        let (ip, md5) = self.socket_marks(Some(found), tuple);
        self.reset_as_closed(*tuple, tcp, ip, md5);
        true
    }

    /// The IP fields and signing of the socket a segment of `tuple` meets: the record
    /// `found`'s, or with none the listener's of the tuple's address (defaults for none).
    fn socket_marks(&self, found: Option<Demux>, tuple: &FourTuple) -> (IpFields, bool) {
        match found {
            Some(Demux::Conn(index)) => self.conns.at(index).map(|s| (s.conn.ip, s.conn.signs())),
            Some(Demux::HalfOpen(index)) => self.half_opens.at(index).map(|e| self.listener_marks(e.listener, tuple)),
            Some(Demux::TimeWait(index)) => self.time_waits.at(index).map(|r| (r.ip, r.md5)),
            None => self.find_listener(&tuple.local_ip, tuple.local_port).map(|l| self.listener_marks(l, tuple)),
        }
        .unwrap_or((IpFields::default(), false))
    }

    /// A listener's (or bound socket's) IP fields, and whether it signs what it sends the
    /// tuple's peer.
    fn listener_marks(&self, l: ListenerHandle, tuple: &FourTuple) -> (IpFields, bool) {
        (self.listener_ip(l), self.listener_signs(l, &tuple.remote_ip))
    }

    /// RFC 9293 §3.10.7.2: LISTEN. Out of line, as `half_open_segment`: one or two segments
    /// of a connection come here, the rest go to it, and this code between them made the
    /// common path spill more.
    #[inline(never)]
    fn listener_segment(&mut self, now: Instant, handle: ListenerHandle, tuple: FourTuple, tcp: &TcpRepr, ecn: Ecn) {
        if self.listener(handle).is_some_and(|l| !l.listening) {
            return self.closed_port(tuple, tcp, Some(handle));
        }
        let f = tcp.flags;
        // First, check for a RST: ignore it.
        if f.rst() {
            cold();
            return self.shared.counters.dropped_rst_ignored += 1;
        }
        // Second, check for an ACK: a SYN cookie's, or else <SEQ=SEG.ACK><CTL=RST>.
        if f.ack() {
            cold();
            if self.cookie_ack(now, handle, tuple, tcp, ecn) {
                return;
            }
            self.shared.counters.dropped_listener_non_syn += 1;
            return self.closed_port(tuple, tcp, Some(handle));
        }
        // Third, check for a SYN; anything else is dropped.
        if !f.syn() {
            cold();
            return self.shared.counters.dropped_listener_non_syn += 1;
        }
        let Some(listener) = self.listener(handle) else { return };
        // Like Linux: a full accept queue drops new SYNs too (the client will retry); a full
        // SYN queue answers with cookies, or drops them before any state is kept.
        if listener.accept_queue_full() {
            cold();
            return self.shared.counters.listen_overflows += 1;
        }
        self.listener_syn(now, handle, tuple, tcp);
    }

    /// A SYN's record into the SYN queue, and its SYN-ACK.
    pub(super) fn keep_half_open(&mut self, now: Instant, entry: HalfOpen) {
        let (tuple, handle) = (entry.tuple, entry.listener);
        if let Some(l) = self.listener_mut(handle) {
            l.syn_queue_len += 1;
        }
        self.transition(now, tuple, State::Listen, State::SynReceived, Cause::RcvdSyn);
        self.shared.counters.syn_acks_sent += 1;
        let synack = self.syn_ack(now, &entry);
        self.push_control(synack);
        let (index, generation) = self.half_opens.insert(entry);
        // Into the heap when the timers are next read, if the handshake has not completed
        // by then (its later deadlines are pushed by the timer that sets them).
        self.timers_pending.push(TimerRef::HalfOpen(index, generation));
        self.bound_timers_pending();
        self.demux_insert(&tuple, Demux::HalfOpen(index), self.address_index(&tuple.local_ip));
    }

    /// <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK> with the options the SYN allowed. Inlined, so that
    /// the segment is written into the control queue field by field: returned through memory,
    /// it was stored in pieces and copied into the queue in 16-byte loads that waited for them.
    #[inline]
    pub(super) fn syn_ack(&self, now: Instant, e: &HalfOpen) -> ControlSegment {
        let cfg = &self.shared.config;
        let mss = self.passive_mss(&e.tuple, e.listener);
        let window = self.shared.timing.syn_window(cfg.tcp_rmem.default.min(u16::MAX as usize) as u32, mss);
        let ts_offset = e.ts_offset;
        let options = ControlOptions {
            mss: (!e.no_options).then_some(mss),
            window_scale: e.peer_wscale.map(|_| cfg.window_scale(None)),
            sack_permitted: e.sack_ok,
            timestamps: e.ts_ok.then(|| ((now.as_millis() as u32).wrapping_add(ts_offset), e.ts_recent)),
            md5: self.listener_signs(e.listener, &e.tuple.remote_ip),
        };
        // RFC 3168 §6.1.1: an ECN-setup SYN-ACK has ECE and not CWR.
        let ecn = if e.ecn_ok { TcpFlags::ECE } else { TcpFlags::NONE };
        ControlSegment {
            tuple: e.tuple,
            seq: e.iss,
            ack: e.irs + 1,
            flags: TcpFlags::SYN | TcpFlags::ACK | ecn,
            window: window as u16,
            options,
            ip: self.listener_ip(e.listener),
            // The way the SYN came: its entry (or, for a cookie, none) is not in the table
            // of tuples in UDP yet; a retransmission finds it there.
            udp: self.inbound_udp_port,
        }
    }

    /// RFC 9293 §3.10.7.4 for a passive SYN-RECEIVED entry.
    #[inline(never)]
    fn half_open_segment(&mut self, now: Instant, index: u32, tcp: &TcpRepr, ecn: Ecn) {
        let Some(entry) = self.half_opens.at(index).cloned() else { return };
        let tuple = entry.tuple;
        let f = tcp.flags;
        let rcv_nxt = entry.irs + 1;
        let wnd = self.shared.config.tcp_rmem.default.min(u16::MAX as usize) as u32;
        // A retransmitted SYN (same ISN): send the SYN-ACK again, as Linux does.
        if f.syn() && !f.ack() && !f.rst() && tcp.seq == entry.irs {
            cold();
            if let Some(e) = self.half_opens.at_mut(index) {
                e.resent = true;
            }
            self.shared.counters.syn_ack_retransmits += 1;
            let synack = self.syn_ack(now, &entry);
            self.push_control(synack);
            return;
        }
        // First, the sequence number.
        if !segment_checks::acceptable(tcp.seq, tcp.segment_len(), rcv_nxt, wnd) {
            cold();
            self.shared.counters.dropped_out_of_window += 1;
            if !f.rst() {
                self.push_control(self.half_open_ack(now, &entry));
            }
            return;
        }
        // Second, RST: exact → the entry goes, the listener stays (RFC 9293: "return to LISTEN");
        // in window → challenge ACK (RFC 5961 §3.2).
        if f.rst() {
            cold();
            match segment_checks::rst_verdict(tcp.seq, rcv_nxt, self.shared.config.tcp_insecure_rst) {
                RstVerdict::Reset => {
                    self.shared.counters.resets_received += 1;
                    self.remove_half_open(index);
                    self.transition(now, tuple, State::SynReceived, State::Listen, Cause::RcvdRst);
                }
                RstVerdict::Challenge => self.half_open_challenge(now, index),
            }
            return;
        }
        // Fourth, SYN (not the retransmitted one): a challenge ACK (RFC 5961 §4.2), under RFC
        // 793's rules a RST that ends the entry.
        if f.syn() {
            cold();
            match segment_checks::syn_verdict(self.shared.config.tcp_insecure_syn) {
                SynVerdict::Challenge => self.half_open_challenge(now, index),
                SynVerdict::Reset => {
                    self.shared.counters.resets_received += 1;
                    self.push_control(self.half_open_ack(now, &entry).into_reset());
                    self.remove_half_open(index);
                    self.transition(now, tuple, State::SynReceived, State::Closed, Cause::RcvdSyn);
                }
            }
            return;
        }
        // Fifth, ACK: SND.UNA < SEG.ACK =< SND.NXT, i.e. exactly ISS+1, completes the handshake.
        if !f.ack() {
            cold();
            return self.shared.counters.dropped_no_ack_flag += 1;
        }
        if tcp.ack != entry.iss + 1 {
            cold();
            self.shared.counters.dropped_bad_ack += 1;
            return self.closed_port(tuple, tcp, Some(entry.listener));
        }
        let Some(listener) = self.listener(entry.listener) else {
            cold();
            self.remove_half_open(index);
            return self.closed_port(tuple, tcp, None);
        };
        if listener.accept_queue_full() {
            cold();
            self.shared.counters.accept_queue_overflows += 1;
            if self.shared.config.tcp_abort_on_overflow {
                self.remove_half_open(index);
                self.transition(now, tuple, State::SynReceived, State::Closed, Cause::Abort);
                self.closed_port(tuple, tcp, Some(entry.listener));
            }
            // Otherwise, as Linux: drop the ACK, keep the entry; a later ACK from the client
            // may fit.
            return;
        }
        // The entry goes; its demux entry is pointed at the connection below, not removed.
        self.take_half_open(index);
        self.establish_passive(now, &entry, tcp, ecn, Some(index));
    }

    /// The handshake of `entry` completed with `tcp` (a final ACK that fits; the accept queue
    /// has room): the connection, ESTABLISHED, into the accept queue. `half_open` is the
    /// record's demux entry to point at it; a SYN-cookie connection had none.
    pub(super) fn establish_passive(
        &mut self,
        now: Instant,
        entry: &HalfOpen,
        tcp: &TcpRepr,
        ecn: Ecn,
        half_open: Option<u32>,
    ) {
        let tuple = entry.tuple;
        self.shared.counters.passive_opens += 1;
        let ts_ok = entry.ts_ok && tcp.options.timestamps.is_some();
        let our_mss = self.passive_mss(&tuple, entry.listener);
        let neg = Negotiated {
            snd_mss: entry.peer_mss.max(64).min(our_mss),
            snd_wscale: entry.peer_wscale.unwrap_or(0),
            rcv_wscale: entry.peer_wscale.map_or(0, |_| self.shared.config.window_scale(None)),
            sack_ok: entry.sack_ok,
            ts_ok,
            wscale_ok: entry.peer_wscale.is_some(),
            ecn_ok: entry.ecn_ok,
        };
        // RFC 6298 §2: the handshake gives the first RTT sample, from the SYN-ACK (sent an
        // initial RTO before its deadline) to this ACK, unless it was sent again (Karn).
        let synack_rtt_us = (entry.retries == 0 && !entry.resent).then(|| {
            let sent = entry.deadline.as_micros().saturating_sub(self.shared.timing.rto_initial_us);
            now.as_micros().saturating_sub(sent)
        });
        let ts_recent = tcp.options.timestamps.map_or(entry.ts_recent, |(val, _)| val);
        let ts_offset = if ts_ok { entry.ts_offset } else { 0 };
        let ip = self.listener_ip(entry.listener);
        self.bound_timers_pending();
        let mut ctx = Ctx { now, shared: &mut self.shared };
        match half_open {
            Some(_) => ctx.transition(tuple, State::SynReceived, State::Established, Cause::RcvdAck),
            None => ctx.transition(tuple, State::Listen, State::Established, Cause::RcvdCookieAck),
        }
        let (conn_index, conn_generation) = self.conns.insert_with(|(index, generation)| {
            let handle = ConnHandle { index, generation };
            let n = NewConn { handle, tuple, iss: entry.iss, ts_offset, now, ip };
            let (irs, listener) = (entry.irs, entry.listener);
            ConnSlot::new(Connection::new_passive(
                &mut ctx,
                n,
                irs,
                neg,
                ts_recent,
                listener,
                tcp.window,
                tcp.seq,
                tcp.ack,
                synack_rtt_us,
            ))
        });
        let handle = ConnHandle { index: conn_index, generation: conn_generation };
        let signs = self.listener_signs(entry.listener, &tuple.remote_ip);
        if let Some(slot) = self.conns.at_mut(conn_index) {
            slot.conn.limit_announced_mss(our_mss);
            slot.conn.set_md5(signs);
        }
        match half_open {
            Some(index) => self.demux_replace(&tuple, Demux::HalfOpen(index), Demux::Conn(conn_index)),
            None => self.demux_insert(&tuple, Demux::Conn(conn_index), self.address_index(&tuple.local_ip)),
        }
        if let Some(l) = self.listener_mut(entry.listener) {
            l.accept_queue.push_back(handle);
        }
        self.shared.events.push_back(Event::Incoming(entry.listener));
        // The rest of the ACK segment (data, FIN) is processed by the new connection.
        if !tcp.payload.is_empty() || tcp.flags.fin() {
            self.with_conn(now, handle, (), |c, ctx| c.on_segment(ctx, tcp, ecn));
        } else {
            self.after_conn(now, handle);
        }
    }

    /// A challenge ACK from a half-open entry, within its own and the endpoint's limits.
    #[cold]
    fn half_open_challenge(&mut self, now: Instant, index: u32) {
        let Some(entry) = self.half_opens.at_mut(index) else { return };
        let shared = &mut self.shared;
        let (limit, per_second) = (segment_checks::AckLimit::of(&shared.config), shared.config.tcp_challenge_ack_limit);
        let (budget, counters) = (&mut shared.challenge_budget, &mut shared.counters);
        let count = segment_checks::AckCount { since: &mut entry.last_challenge, sent: &mut entry.challenges };
        if segment_checks::challenge_allowed(now, count, limit, budget, per_second, counters) {
            let entry = entry.clone();
            self.push_control(self.half_open_ack(now, &entry));
        }
    }

    /// Takes a half-open entry out of its slab, the demux table and its listener's count.
    pub(super) fn remove_half_open(&mut self, index: u32) {
        if let Some(tuple) = self.take_half_open(index) {
            self.demux_remove(&tuple, Demux::HalfOpen(index));
        }
    }

    /// Takes a half-open entry out of its slab and its listener's count, and returns its
    /// tuple; the demux entry stays for the caller to remove or point elsewhere.
    fn take_half_open(&mut self, index: u32) -> Option<FourTuple> {
        // The two fields needed, not the record by value (see `handle_timeout`).
        let (tuple, listener) = self.half_opens.at(index).map(|e| (e.tuple, e.listener))?;
        self.half_opens.free(index);
        if let Some(l) = self.listener_mut(listener) {
            l.syn_queue_len = l.syn_queue_len.saturating_sub(1);
        }
        Some(tuple)
    }

    /// <SEQ=ISS+1><ACK=IRS+1><CTL=ACK> from a half-open entry.
    fn half_open_ack(&self, now: Instant, e: &HalfOpen) -> ControlSegment {
        let mut synack = self.syn_ack(now, e);
        synack.seq = e.iss + 1;
        synack.flags = TcpFlags::ACK;
        let (timestamps, md5) = (synack.options.timestamps, synack.options.md5);
        synack.options = ControlOptions { timestamps, md5, ..Default::default() };
        synack
    }

    /// SYN-ACK retransmission with doubling waits; after `tcp_synack_retries` the entry goes.
    pub(super) fn half_open_timeout(&mut self, now: Instant, index: u32) {
        let generation = self.half_opens.generation(index);
        let Some(entry) = self.half_opens.at_mut(index) else { return };
        let tuple = entry.tuple;
        if entry.retries >= self.shared.config.tcp_synack_retries {
            self.shared.counters.half_open_expired += 1;
            self.remove_half_open(index);
            self.transition(now, tuple, State::SynReceived, State::Listen, Cause::SynAckRetriesExhausted);
            return;
        }
        entry.retries += 1;
        // Doubling waits, capped at the maximum RTO as Linux caps them (TCP_RTO_MAX).
        let backoff = self.shared.config.rto_initial.saturating_mul(1 << entry.retries.min(20));
        entry.deadline = now + backoff.min(self.shared.config.rto_max);
        let deadline = entry.deadline;
        let entry = entry.clone();
        self.shared.counters.syn_ack_retransmits += 1;
        let synack = self.syn_ack(now, &entry);
        self.push_control(synack);
        self.timers.push(deadline, TimerRef::HalfOpen(index, generation));
    }

    /// <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> from a TIME-WAIT record, its TSval offset
    /// hashed again from the tuple (the record has no room to keep it).
    pub(super) fn time_wait_ack(&self, now: Instant, r: &TimeWait) -> ControlSegment {
        time_wait_ack_with(now, r, self.isn.ts_offset(&r.tuple))
    }
}

/// <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> from a TIME-WAIT record whose connection's TSval
/// offset is `ts_offset`.
pub(super) fn time_wait_ack_with(now: Instant, r: &TimeWait, ts_offset: u32) -> ControlSegment {
    let timestamps = r.ts_ok.then(|| ((now.as_millis() as u32).wrapping_add(ts_offset), r.ts_recent));
    ControlSegment {
        tuple: r.tuple,
        seq: r.snd_nxt,
        ack: r.rcv_nxt,
        flags: TcpFlags::ACK,
        window: r.window,
        options: ControlOptions { timestamps, md5: r.md5, ..Default::default() },
        ip: r.ip,
        udp: None,
    }
}
