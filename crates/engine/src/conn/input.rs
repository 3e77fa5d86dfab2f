//! SEGMENT ARRIVES (RFC 9293 §3.10.7.3 for SYN-SENT, §3.10.7.4 for the other states), with the
//! RST and SYN rules of RFC 5961 and timestamps/PAWS of RFC 7323. The steps keep the RFC's
//! order: sequence number, RST, SYN, ACK (its send-side work in `ack.rs`), URG, text, FIN.

use super::{ConnFlags, Connection, ControlSegment, Ctx, Owed, Timer};
use crate::half_open::DEFAULT_MSS;
use crate::segment_checks::{self, AckCount, AckLimit, RstVerdict, SynVerdict};
use crate::time::MsStamp;
use crate::{cold, Cause, ConnError, Event, State};
use synack_wire::{Ecn, SeqNum, TcpFlags, TcpOptions, TcpRepr};

impl Connection {
    /// A segment for this connection; `ecn` is the IP header's ECN codepoint.
    pub fn on_segment(&mut self, ctx: &mut Ctx, seg: &TcpRepr, ecn: Ecn) {
        self.last_heard = MsStamp::at(ctx.now);
        self.keepalive_probes_sent = 0;
        match self.state {
            State::SynSent => self.on_segment_syn_sent(ctx, seg),
            State::Closed | State::Listen | State::TimeWait => {}
            _ => self.on_segment_synchronized(ctx, seg, ecn),
        }
    }

    /// Options of the peer's SYN decide what the connection uses (RFC 9293 §3.7.1 MSS,
    /// RFC 7323 §1.3 and §2.2 window scale and timestamps, RFC 2018 §2 SACK-permitted).
    fn negotiate(&mut self, ctx: &Ctx, opts: &TcpOptions) {
        // At least 64 bytes whatever the peer says, at most what we announced (our link's
        // MTU, or less with TCP_MAXSEG or a Packet Too Big for our SYN).
        let ours = self.rcv_mss;
        self.neg.snd_mss = opts.mss.unwrap_or(DEFAULT_MSS).max(64).min(ours);
        let on = !self.flag(ConnFlags::NO_OPTIONS) && !self.syn_options_dropped(&ctx.config);
        match opts.window_scale {
            Some(shift) if ctx.config.tcp_window_scaling && on => {
                // RFC 7323 §2.3: a shift above 14 is treated as 14.
                self.neg.snd_wscale = shift.min(14);
                self.neg.wscale_ok = true;
            }
            _ => {
                self.neg.snd_wscale = 0;
                self.neg.rcv_wscale = 0;
                self.neg.wscale_ok = false;
            }
        }
        self.neg.sack_ok = ctx.config.tcp_sack && opts.sack_permitted && on;
        self.neg.ts_ok = ctx.config.tcp_timestamps && opts.timestamps.is_some() && on;
        if let (true, Some((val, _))) = (self.neg.ts_ok, opts.timestamps) {
            self.ts_recent = val;
        }
        self.round_recv_buffer(&ctx.config);
    }

    /// RFC 9293 §3.10.7.3: SYN-SENT.
    fn on_segment_syn_sent(&mut self, ctx: &mut Ctx, seg: &TcpRepr) {
        let f = seg.flags;
        // First, check the ACK bit: an ACK of something we did not send gets a RST.
        if f.ack() && (seg.ack <= self.snd.iss || seg.ack > self.snd.max) {
            cold();
            ctx.counters.dropped_bad_ack += 1;
            if !f.rst() {
                self.reply_rst(ctx, seg.ack);
            }
            return;
        }
        // Second, check the RST bit: acceptable only with an acceptable ACK.
        if f.rst() {
            cold();
            if f.ack() {
                ctx.counters.resets_received += 1;
                ctx.counters.failed_connects += 1;
                self.close_with(ctx, Some(ConnError::Refused), Cause::RcvdRst);
            } else {
                ctx.counters.dropped_rst_ignored += 1;
            }
            return;
        }
        // Fourth, check the SYN bit.
        if !f.syn() {
            cold();
            ctx.counters.dropped_syn_sent_unexpected += 1;
            return;
        }
        self.rcv.irs = seg.seq;
        self.rcv.nxt = seg.seq + 1;
        self.negotiate(ctx, &seg.options);
        self.ecn_negotiate(ctx, seg);
        // RFC 7323 §2.2: the window field of a SYN is never scaled.
        self.snd.wnd = seg.window as u32;
        self.snd.max_wnd = self.snd.wnd;
        self.snd.wl1 = seg.seq;
        self.snd.wl2 = seg.ack;
        if f.ack() {
            self.sample_rtt(ctx, seg);
            self.snd.una = seg.ack;
            self.snd.nxt = self.snd.nxt.max(self.snd.una);
            self.finish_handshake(ctx, Cause::RcvdSynAck);
            self.owed.insert(Owed::ACK);
            // "Data or controls that were queued for transmission may be included": and the
            // SYN-ACK's own text and FIN continue at the sixth step.
            let (seq, data, fin) = self.trim(ctx, seg.seq + 1, seg.payload, f.fin());
            self.process_text_and_fin(ctx, seq, data, fin);
        } else {
            // Simultaneous open: SYN-RECEIVED, answer <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>.
            cold();
            self.set_state(ctx, State::SynReceived, Cause::RcvdSyn);
            self.snd.nxt = self.snd.iss;
            self.rcv.adv = self.rcv.nxt + self.recv_window();
            // "If there are other controls or text in the segment, queue them for processing
            // after the ESTABLISHED state has been reached": the text waits in the reassembly
            // queue. A FIN is left for the peer to send again (it is not acknowledged), as
            // FreeBSD does; Linux drops the text too.
            let (seq, data, _fin) = self.trim(ctx, seg.seq + 1, seg.payload, false);
            if !data.is_empty() {
                let offset = self.rcv.offset + seq.since(self.rcv.nxt) as u64;
                self.rcv.ooo.insert(offset, data);
            }
        }
    }

    /// The handshake is complete on our side: ESTABLISHED (or FIN-WAIT-1 if the user already
    /// shut the write side down).
    fn finish_handshake(&mut self, ctx: &mut Ctx, cause: Cause) {
        self.timers.stop(Timer::Retransmit);
        self.rto_count = 0;
        // The keepalive timer counted the connection-establishment limit until now.
        self.arm_keepalive(ctx);
        self.start_quick_acks(&ctx.config);
        let initial_window = self.initial_cwnd(&ctx.config);
        self.snd.start_congestion_control(&ctx.config, initial_window);
        self.start_rcv_space(ctx);
        self.start_mtu_search(&ctx.config);
        self.last_progress = MsStamp::at(ctx.now);
        self.rcv.adv = self.rcv.adv.max(self.rcv.nxt + self.recv_window());
        self.set_state(ctx, State::Established, cause);
        ctx.counters.active_opens += 1;
        ctx.events.push_back(Event::Connected(self.handle));
        self.deliver_queued_text(ctx);
        if self.flag(ConnFlags::FIN_QUEUED) {
            self.set_state(ctx, State::FinWait1, Cause::Shutdown);
        }
    }

    /// RFC 9293 §3.10.7.4: SYN-RECEIVED (simultaneous open) and the synchronized states.
    fn on_segment_synchronized(&mut self, ctx: &mut Ctx, seg: &TcpRepr, ecn: Ecn) {
        let f = seg.flags;
        // Simultaneous open: the peer's SYN-ACK crossing ours completes the handshake. The
        // strict RFC rules would reject its sequence number and ACK it; accepting it here
        // (as Linux's tcp_validate_incoming does) saves a round trip and reaches the same state.
        if self.state == State::SynReceived
            && f.syn()
            && f.ack()
            && !f.rst()
            && seg.seq + 1 == self.rcv.nxt
            && seg.ack == self.snd.iss + 1
            && self.snd.max == self.snd.iss + 1
        {
            cold();
            self.snd.una = seg.ack;
            self.snd.wnd = seg.window as u32; // a SYN's window is not scaled (RFC 7323 §2.2)
            self.snd.max_wnd = self.snd.wnd;
            self.snd.wl1 = seg.seq;
            self.snd.wl2 = seg.ack;
            self.sample_rtt(ctx, seg);
            self.finish_handshake(ctx, Cause::RcvdSynAck);
            self.owed.insert(Owed::ACK);
            return;
        }
        // RFC 7323 §5.3 R1 (PAWS): a segment with an older timestamp is a duplicate.
        if self.neg.ts_ok && !f.rst() {
            if let Some((val, _)) = seg.options.timestamps {
                if SeqNum(val) < SeqNum(self.ts_recent) {
                    cold();
                    ctx.counters.dropped_paws += 1;
                    // A bare ACK overtaken by a newer one is not answered: its news is stale,
                    // and the answer would be a duplicate ACK to the peer, counted toward a
                    // spurious fast retransmit (Linux accepts such "disordered ACKs" alike).
                    if !seg.payload.is_empty() || f.syn() || f.fin() {
                        self.ack_unacceptable(ctx, seg);
                    }
                    return;
                }
            }
        }
        // First, check the sequence number.
        let mut old_trimmed = false;
        if !self.acceptable(seg) {
            cold();
            if f.syn() {
                // RFC 5961 §4.2: a SYN gets a challenge ACK whatever its sequence number.
                ctx.counters.dropped_out_of_window += 1;
                self.challenge_ack(ctx);
                return;
            }
            let old = seg.seq + seg.segment_len() <= self.rcv.nxt;
            if old && !f.rst() && !seg.payload.is_empty() {
                self.note_duplicate(ctx, seg.seq, seg.seq + seg.payload.len() as u32);
            }
            if !(ctx.config.compat.process_ack_of_old_segment && old && !f.rst()) {
                ctx.counters.dropped_out_of_window += 1;
                if !f.rst() {
                    self.ack_unacceptable(ctx, seg);
                }
                return;
            }
            // BSD: answer it, then go on with its ACK field; `trim` leaves no text or FIN.
            ctx.counters.old_segments_trimmed += 1;
            self.ack_unacceptable(ctx, seg);
            old_trimmed = true;
        }
        // RFC 7323 §4.3: remember the timestamp of the segment that covers the ACK we sent.
        // With `drop_ack_of_unsent_data` (Linux), not from a segment whose ACK of unsent data
        // gets it dropped.
        if let (true, Some((val, _))) = (self.neg.ts_ok, seg.options.timestamps) {
            let dropped_for_its_ack = ctx.config.compat.drop_ack_of_unsent_data && f.ack() && seg.ack > self.snd.max;
            if seg.seq <= self.rcv.last_ack_sent && SeqNum(val) >= SeqNum(self.ts_recent) && !dropped_for_its_ack {
                self.ts_recent = val;
            }
        }
        // Second, check the RST bit (RFC 5961 §3.2: exact match resets, otherwise challenge).
        if f.rst() {
            cold();
            if segment_checks::rst_verdict(seg.seq, self.rcv.nxt, ctx.config.tcp_insecure_rst) == RstVerdict::Reset {
                ctx.counters.resets_received += 1;
                // Reported in CLOSING and LAST-ACK too: the user may still hold the socket
                // (after a shutdown), and the peer did abort (FreeBSD sets ECONNRESET alike).
                let error = match self.state {
                    State::SynReceived => Some(ConnError::Refused),
                    _ => Some(ConnError::Reset),
                };
                self.close_with(ctx, error, Cause::RcvdRst);
            } else {
                self.challenge_ack(ctx);
            }
            return;
        }
        // Fourth, check the SYN bit: in a synchronized state, RFC 5961 §4.2 challenge ACK;
        // with `tcp_insecure_syn`, RFC 793's rule: a SYN in the window resets the connection.
        if f.syn() {
            cold();
            if segment_checks::syn_verdict(ctx.config.tcp_insecure_syn) == SynVerdict::Reset {
                ctx.counters.resets_received += 1;
                ctx.push_control(ControlSegment {
                    tuple: self.tuple,
                    seq: self.snd.max,
                    ack: self.rcv.nxt,
                    flags: TcpFlags::RST | TcpFlags::ACK,
                    window: 0,
                    options: self.control_options(),
                    ip: self.ip,
                    udp: None,
                });
                self.close_with(ctx, Some(ConnError::Reset), Cause::RcvdSyn);
            } else {
                self.challenge_ack(ctx);
            }
            return;
        }
        self.ecn_on_segment(ctx, seg, ecn);
        // Fifth, check the ACK field.
        if !f.ack() {
            cold();
            ctx.counters.dropped_no_ack_flag += 1;
            return;
        }
        // A connection is in SYN-RECEIVED only after a simultaneous open (a passive open is
        // a half-open record until its handshake completes).
        if self.state == State::SynReceived {
            cold();
            if seg.ack > self.snd.una && seg.ack <= self.snd.max {
                self.snd.una = seg.ack;
                self.snd.wnd = (seg.window as u32) << self.neg.snd_wscale;
                self.snd.max_wnd = self.snd.wnd;
                self.snd.wl1 = seg.seq;
                self.snd.wl2 = seg.ack;
                self.finish_handshake(ctx, Cause::RcvdAck);
            } else {
                cold();
                ctx.counters.dropped_bad_ack += 1;
                self.reply_rst(ctx, seg.ack);
                return;
            }
        }
        if !self.process_ack(ctx, seg) {
            return;
        }
        match self.state {
            State::Closing if self.flag(ConnFlags::OUR_FIN_ACKED) => {
                // An old segment whose ACK ends the exchange is not answered (BSD returns here).
                if old_trimmed {
                    self.owed.remove(Owed::ACK);
                }
                self.set_state(ctx, State::TimeWait, Cause::RcvdAckOfFin);
                return;
            }
            State::LastAck if self.flag(ConnFlags::OUR_FIN_ACKED) => {
                self.close_with(ctx, None, Cause::RcvdAckOfFin);
                return;
            }
            _ => {}
        }
        // Sixth, URG: urgent data is delivered inline as ordinary data (RFC 6093 §4).
        // Seventh and eighth: the text and the FIN.
        let (seq, data, fin) = self.trim(ctx, seg.seq, seg.payload, f.fin());
        self.process_text_and_fin(ctx, seq, data, fin);
        if self.state == State::FinWait1 && self.flag(ConnFlags::OUR_FIN_ACKED) {
            self.set_state(ctx, State::FinWait2, Cause::RcvdAckOfFin);
            if self.flag(ConnFlags::RELEASED) {
                self.timers.set(Timer::FinWait2, ctx.now + ctx.config.tcp_fin_timeout);
            }
        }
    }

    /// RFC 9293 §3.10.7.4, first: the four cases of the acceptability test. With a zero
    /// window a segment at RCV.NXT is let through with its text trimmed away, so that its
    /// ACK, RST and window are still processed (the RFC's "special allowance").
    fn acceptable(&self, seg: &TcpRepr) -> bool {
        segment_checks::acceptable(seg.seq, seg.segment_len(), self.rcv.nxt, self.recv_window())
    }

    /// Cuts the text down to the part inside the receive window. Returns the sequence number
    /// of the first byte kept, the bytes, and whether the FIN survives.
    fn trim<'a>(
        &mut self,
        ctx: &mut Ctx,
        mut seq: SeqNum,
        mut data: &'a [u8],
        mut fin: bool,
    ) -> (SeqNum, &'a [u8], bool) {
        let fin_seq = seq + data.len() as u32;
        if seq < self.rcv.nxt {
            let skip = (self.rcv.nxt.since(seq) as usize).min(data.len());
            ctx.counters.duplicate_bytes_in += skip as u64;
            self.note_duplicate(ctx, seq, seq + skip as u32);
            data = &data[skip..];
            seq = self.rcv.nxt;
            self.owed.insert(Owed::ACK); // a duplicate is answered at once (RFC 9293 §3.10.7.4)
            if fin && fin_seq < self.rcv.nxt {
                fin = false; // a FIN we already processed
            }
        }
        let room = self.recv_window().saturating_sub(seq.since(self.rcv.nxt));
        if data.len() > room as usize {
            data = &data[..room as usize];
            fin = false;
            self.owed.insert(Owed::ACK);
        }
        (seq, data, fin)
    }

    /// RFC 9293 §3.10.7.4, seventh (text) and eighth (FIN).
    pub(super) fn process_text_and_fin(&mut self, ctx: &mut Ctx, seq: SeqNum, data: &[u8], fin: bool) {
        if !data.is_empty() && self.state.accepts_text() {
            if self.flag(ConnFlags::READ_CLOSED) {
                cold();
                // RFC 1122 §4.2.2.13: data after CLOSE cannot be delivered; say so with a RST.
                if ctx.config.compat.reset_data_after_close_from_segment {
                    // As from a closed port: SEQ = SEG.ACK, which the ACK processed just now
                    // made SND.UNA.
                    self.reply_rst(ctx, self.snd.una);
                } else {
                    self.send_rst(ctx);
                }
                self.error = Some(ConnError::Aborted);
                self.close_with(ctx, None, Cause::DataAfterClose);
                return;
            }
            let was_empty = self.rcv.buf.is_empty();
            ctx.buffers.fill(&mut self.rcv.buf);
            if seq == self.rcv.nxt {
                if !self.rcv.ooo.is_empty() {
                    self.duplicate_of_held(ctx, seq, data.len());
                }
                self.rcv.buf.extend(data);
                self.advance_rcv(data.len());
                self.rcv_space_adjust(ctx);
                if !self.rcv.ooo.is_empty() {
                    let offset = self.rcv.offset;
                    let recv_buf = &mut self.rcv.buf;
                    let n = self.rcv.ooo.pop_at(offset, |bytes| recv_buf.extend(bytes));
                    self.advance_rcv(n);
                    self.owed.insert(Owed::ACK); // RFC 5681 §4.2: ACK at once when a gap fills
                }
                // RFC 9293 §3.8.6.3 / RFC 5681 §4.2: ACK at least every second full-sized
                // segment; otherwise delay the ACK. Full-sized is the MSS less the options
                // every segment carries (RFC 6691): 1448 bytes with timestamps.
                let ts_len = self.fixed_options_len();
                let full = (self.rcv_mss.min(self.neg.snd_mss) as usize).saturating_sub(ts_len).max(1);
                // A super-segment (TUN offload) counts for every full segment it holds. (Most
                // segments hold one or less: counted without a division, a slow instruction.)
                let segments = match data.len() {
                    // FreeBSD delays an ACK only while none is pending (`DELAY_ACK`): every
                    // second segment is ACKed whatever its size.
                    _ if ctx.config.compat.ack_every_second_segment => 1,
                    n if n < full => 0,
                    n if n < 2 * full => 1,
                    n => (n / full).min(u8::MAX as usize) as u8,
                };
                self.rcv.full_segments_unacked = self.rcv.full_segments_unacked.saturating_add(segments);
                if self.rcv.quick_acks > 0 {
                    self.rcv.quick_acks -= 1;
                    self.owed.insert(Owed::ACK);
                } else if self.rcv.full_segments_unacked >= 2 {
                    self.owed.insert(Owed::ACK);
                } else if !self.timers.is_armed(Timer::DelayedAck) {
                    self.timers.set(Timer::DelayedAck, ctx.now.add_micros(ctx.timing.delayed_ack_us));
                }
            } else {
                let offset = self.rcv.offset + seq.since(self.rcv.nxt) as u64;
                self.duplicate_of_held(ctx, seq, data.len());
                let new_bytes = self.rcv.ooo.insert(offset, data);
                ctx.counters.duplicate_bytes_in += (data.len() - new_bytes) as u64;
                ctx.counters.out_of_order_segments_in += 1;
                self.owed.insert(Owed::ACK); // RFC 5681 §4.2: out-of-order data is ACKed at once
            }
            if was_empty && !self.rcv.buf.is_empty() {
                ctx.events.push_back(Event::Readable(self.handle));
            }
        }
        if fin && !self.flag(ConnFlags::FIN_RECEIVED) {
            let fin_offset = self.rcv.offset + (seq + data.len() as u32).since(self.rcv.nxt) as u64;
            self.rcv.ooo_fin = fin_offset;
            self.owed.insert(Owed::ACK);
        }
        if self.rcv.ooo_fin == self.rcv.offset {
            self.rcv.ooo_fin = super::receiver::NO_FIN;
            self.process_fin(ctx);
        }
    }

    /// Text that arrived on a SYN in SYN-SENT, delivered once ESTABLISHED (RFC 9293
    /// §3.10.7.3) and acknowledged after the delayed-ACK wait.
    #[cold]
    fn deliver_queued_text(&mut self, ctx: &mut Ctx) {
        if self.rcv.ooo.is_empty() {
            return;
        }
        let offset = self.rcv.offset;
        let recv_buf = &mut self.rcv.buf;
        let n = self.rcv.ooo.pop_at(offset, |bytes| recv_buf.extend(bytes));
        if n > 0 {
            self.advance_rcv(n);
            ctx.events.push_back(Event::Readable(self.handle));
            if !self.timers.is_armed(Timer::DelayedAck) {
                self.timers.set(Timer::DelayedAck, ctx.now.add_micros(ctx.timing.delayed_ack_us));
            }
        }
    }

    fn advance_rcv(&mut self, n: usize) {
        self.rcv.nxt += n as u32;
        self.rcv.offset += n as u64;
    }

    /// RFC 9293 §3.10.7.4, eighth: the FIN is in order.
    fn process_fin(&mut self, ctx: &mut Ctx) {
        self.rcv.nxt += 1;
        self.set_flag(ConnFlags::FIN_RECEIVED, true);
        self.owed.insert(Owed::ACK);
        ctx.events.push_back(Event::PeerClosed(self.handle));
        if self.rcv.buf.is_empty() {
            ctx.events.push_back(Event::Readable(self.handle));
        }
        match self.state {
            State::SynReceived | State::Established => self.set_state(ctx, State::CloseWait, Cause::RcvdFin),
            State::FinWait1 if self.flag(ConnFlags::OUR_FIN_ACKED) => {
                self.set_state(ctx, State::TimeWait, Cause::RcvdFinAckOfFin);
            }
            State::FinWait1 => self.set_state(ctx, State::Closing, Cause::RcvdFin),
            State::FinWait2 => self.set_state(ctx, State::TimeWait, Cause::RcvdFin),
            _ => {}
        }
    }

    /// RFC 5961 §3.2 and §4.2: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, at most one per
    /// `tcp_invalid_ratelimit` (RFC 5961 §7).
    #[cold]
    pub(super) fn challenge_ack(&mut self, ctx: &mut Ctx) {
        let (now, limit, per_second) = (ctx.now, AckLimit::of(&ctx.config), ctx.config.tcp_challenge_ack_limit);
        let shared = &mut *ctx.shared;
        let (budget, counters) = (&mut shared.challenge_budget, &mut shared.counters);
        let count = AckCount { since: &mut self.last_oow_ack, sent: &mut self.oow_acks };
        if segment_checks::challenge_allowed(now, count, limit, budget, per_second, counters) {
            self.owed.insert(Owed::ACK);
            self.set_flag(ConnFlags::ACK_IS_CHALLENGE, true);
        }
    }

    /// The ACK that answers an unacceptable segment (RFC 9293 §3.10.7.4, first). For a bare
    /// segment (no data, no SYN) it is rate-limited, as Linux's `tcp_oow_rate_limited` does:
    /// such a segment may itself be an ACK, and two endpoints that each answer the other's
    /// unacceptable ACK would loop forever. Segments with data are never part of such a loop.
    #[cold]
    /// RFC 2883: a duplicate is reported with a D-SACK block where SACK was agreed and
    /// `tcp_dsack` is on.
    fn note_duplicate(&mut self, ctx: &Ctx, start: SeqNum, end: SeqNum) {
        if self.neg.sack_ok && ctx.config.tcp_dsack {
            self.rcv.duplicate(start, end);
        }
    }

    /// Text at `seq` about to be taken in: the first part of it already held out of order
    /// is a duplicate (RFC 2883 §4: its D-SACK block is followed by the SACK block holding it).
    fn duplicate_of_held(&mut self, ctx: &Ctx, seq: SeqNum, len: usize) {
        let offset = self.rcv.offset + seq.since(self.rcv.nxt) as u64;
        if let Some((start, end)) = self.rcv.ooo.first_overlap(offset, offset + len as u64) {
            let at = |o: u64| self.rcv.nxt + (o - self.rcv.offset) as u32;
            self.note_duplicate(ctx, at(start), at(end));
        }
    }

    pub(super) fn ack_unacceptable(&mut self, ctx: &mut Ctx, seg: &TcpRepr) {
        if seg.payload.is_empty() && !seg.flags.syn() && !seg.flags.fin() {
            if self.oow_ack_allowed(ctx) {
                self.owed.insert(Owed::ACK);
            }
        } else {
            self.owed.insert(Owed::ACK);
        }
    }

    fn oow_ack_allowed(&mut self, ctx: &mut Ctx) -> bool {
        let (now, limit) = (ctx.now, AckLimit::of(&ctx.config));
        let count = AckCount { since: &mut self.last_oow_ack, sent: &mut self.oow_acks };
        segment_checks::out_of_window_ack_allowed(now, count, limit, &mut ctx.shared.counters)
    }
}

impl Connection {
    /// A RST answering an unacceptable ACK: <SEQ=SEG.ACK><CTL=RST> (RFC 9293 §3.10.7.3–4).
    #[cold]
    fn reply_rst(&self, ctx: &mut Ctx, seq: SeqNum) {
        ctx.push_control(ControlSegment {
            tuple: self.tuple,
            seq,
            ack: SeqNum(0),
            flags: TcpFlags::RST,
            window: 0,
            options: self.control_options(),
            ip: self.ip,
            udp: None,
        });
    }
}
