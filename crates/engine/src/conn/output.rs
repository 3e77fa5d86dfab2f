//! What a connection sends next: SYN or SYN-ACK, (re)transmitted data, FIN, probes, ACKs.
//! The endpoint copies the data straight from the send buffer into the packet.

use super::sender::RetransmitFor;
use super::{ConnFlags, Connection, Ctx, Owed, Timer};
use crate::congestion::CongestionControl;
use crate::time::MsStamp;
use crate::{cold, Config, Instant, State};
use std::ops::Range;
use synack_wire::{Ecn, SackBlocks, SeqNum, TcpFlags, TcpOptions, TcpRepr};

/// One segment to emit: its TCP header as the emitter takes it, built here once and handed
/// over by reference (the endpoint rebuilt it from these fields and the tuple for every
/// segment: copies of the options and of two 17-byte `IpAddr`s), and `data`, which indexes
/// the send buffer (the header's own payload stays empty).
#[derive(Debug, Clone)]
pub(crate) struct OutSegment {
    pub tcp: TcpRepr<'static>,
    /// The IP ECN codepoint (ECT(0) on new data of an ECN connection).
    pub ecn: Ecn,
    pub data: Range<usize>,
    /// Payload bytes per segment when this is a super-segment of several (TSO/GSO).
    pub gso_size: Option<u16>,
}

/// What new data carries beyond a segment's usual fields: the ECN codepoint and CWR
/// (`new_data_marks`), and the segment size of a super-segment.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct DataMarks {
    pub ecn: Ecn,
    pub cwr: TcpFlags,
    pub gso_size: Option<u16>,
    /// The data is sent for the first time (not a retransmission).
    pub new_data: bool,
}

impl Connection {
    /// The two slices of the send buffer that make up `range`. Inlined: returned through
    /// memory, the pair was reloaded in wider words than it was stored in (see `parse_segment_with`).
    #[inline]
    pub fn send_slices(&self, range: Range<usize>) -> (&[u8], &[u8]) {
        // Most segments carry no data: no need to find the ring's two halves.
        if range.is_empty() {
            return (&[], &[]);
        }
        let (a, b) = self.snd.buf.as_slices();
        if range.end <= a.len() {
            (&a[range], &[])
        } else if range.start >= a.len() {
            (&b[range.start - a.len()..range.end - a.len()], &[])
        } else {
            (&a[range.start..], &b[..range.end - a.len()])
        }
    }

    /// The next segment this connection wants to send, if any. `max_payload` is what fits in
    /// the caller's buffer after headers.
    /// `gso_segments` above 1 lets new data go out as one super-segment of up to that many
    /// segments, for a device that cuts it up (TUN offload).
    pub fn poll_segment(&mut self, ctx: &mut Ctx, max_payload: usize, gso_segments: usize) -> Option<OutSegment> {
        match self.state {
            State::SynSent if self.snd.nxt == self.snd.iss => Some(self.syn_segment(ctx, false)),
            State::SynReceived if self.snd.nxt == self.snd.iss => Some(self.syn_segment(ctx, true)),
            State::SynSent | State::Closed | State::Listen | State::TimeWait => None,
            State::SynReceived => {
                self.owed.has(Owed::ACK).then(|| self.segment(ctx, self.snd.max, TcpFlags::ACK, 0..0))
            }
            _ => self.poll_synchronized(ctx, max_payload, gso_segments.max(1)),
        }
    }

    /// Whether `poll_segment` may have something to send: false only when it surely has
    /// nothing, so that the endpoint polls just the connections that may (a connection that
    /// has just sent its last segment leaves the output queue at once, and one that only
    /// took an ACK never enters it). Mirrors the conditions of `poll_segment` below.
    #[inline(always)]
    pub fn wants_output(&self) -> bool {
        // The synchronized states but TIME-WAIT are one range of the enum: one comparison,
        // where a match on the state was a jump through a table.
        if (State::Established..=State::LastAck).contains(&self.state) {
            let in_flight = self.snd.nxt.since(self.snd.una) as usize;
            return self.owed.any()
                || self.in_sack_recovery()
                || self.snd.nxt < self.snd.max
                || self.snd.buf.len() > in_flight
                || self.fin_unsent(self.snd.una + self.snd.buf.len() as u32);
        }
        match self.state {
            State::SynSent => self.snd.nxt == self.snd.iss,
            State::SynReceived => self.snd.nxt == self.snd.iss || self.owed.has(Owed::ACK),
            _ => false,
        }
    }

    /// Our SYN (active open) or SYN-ACK (simultaneous open), with the options Linux sends.
    fn syn_segment(&mut self, ctx: &mut Ctx, with_ack: bool) -> OutSegment {
        let cfg = &ctx.config;
        let all = !self.flag(ConnFlags::NO_OPTIONS) && !self.syn_options_dropped(cfg);
        let offer = |negotiated: bool, enabled: bool| (if with_ack { negotiated } else { enabled }) && all;
        let options = TcpOptions {
            mss: (!self.flag(ConnFlags::NO_OPTIONS)).then_some(self.rcv_mss),
            window_scale: offer(self.neg.wscale_ok, cfg.tcp_window_scaling).then_some(self.neg.rcv_wscale),
            sack_permitted: offer(self.neg.sack_ok, cfg.tcp_sack),
            timestamps: offer(self.neg.ts_ok, cfg.tcp_timestamps)
                .then(|| (self.ts_now(ctx.now), if with_ack { self.ts_recent } else { 0 })),
            sack: SackBlocks::new(),
            md5: self.flag(ConnFlags::MD5),
            layout: cfg.compat.option_layout,
        };
        // RFC 7323 §2.2: the SYN's window is unscaled; like Linux, a whole number of MSS.
        let window = ctx.timing.syn_window(self.recv_window().min(u16::MAX as u32), self.rcv_mss);
        if self.snd.max > self.snd.iss {
            ctx.counters.retransmitted_segments += 1;
        } else if self.rto_count == 0 {
            self.snd.rtt_probe.set(self.snd.iss, ctx.now.as_micros() as u32);
        }
        self.snd.nxt = self.snd.iss + 1;
        self.snd.max = self.snd.max.max(self.snd.nxt);
        self.arm_retransmit(ctx);
        let flags = if with_ack { TcpFlags::SYN | TcpFlags::ACK } else { TcpFlags::SYN };
        let flags = flags | self.ecn_syn_flags(ctx, with_ack);
        self.owed.remove(Owed::ACK);
        let ack = if with_ack { self.rcv.nxt } else { SeqNum(0) };
        self.out_segment(self.snd.iss, ack, flags, window as u16, options, 0..0)
    }

    /// `rexmit_drop_options`: this SYN, the third retransmission or later, offers only the MSS.
    pub(super) fn syn_options_dropped(&self, cfg: &Config) -> bool {
        cfg.compat.rexmit_drop_options && self.state == State::SynSent && self.rto_count >= 3
    }

    /// RFC 6298 §5.1: start the timer if it is not running. RFC 8985 §7.2: after new data the
    /// tail loss probe is due PTO from now, or sooner than the RTO already running.
    #[inline(always)]
    fn arm_retransmit(&mut self, ctx: &Ctx) {
        let running = self.timers.get(Timer::Retransmit);
        if running == Instant::NEVER {
            // Nothing was outstanding: the user timeout counts from this first transmission
            // (as Linux's `retrans_stamp`), not from the last progress before an idle spell.
            self.last_progress = MsStamp::at(ctx.now);
            let deadline = self.retransmit_deadline(ctx);
            self.timers.set(Timer::Retransmit, deadline);
        } else {
            // RFC 8985 §7.2: each transmission of new data restarts the probe timer (a probe
            // armed for one segment in flight, which waited out a delayed ACK, comes sooner
            // with more in flight); an RTO already running gives way only to an earlier probe.
            let was = self.snd.retransmit_for;
            let probe = self.retransmit_deadline(ctx);
            let earlier = was == RetransmitFor::LossProbe || (was == RetransmitFor::Rto && probe < running);
            if self.snd.retransmit_for == RetransmitFor::LossProbe && earlier {
                self.timers.set(Timer::Retransmit, probe);
            } else {
                self.snd.retransmit_for = was;
            }
        }
    }

    /// Bytes of options on a non-SYN segment: timestamps, and SACK blocks while data is
    /// held out of order.
    fn options_len(&self) -> usize {
        let ts = self.fixed_options_len();
        let sack_blocks = if self.neg.sack_ok && (!self.rcv.ooo.is_empty() || self.rcv.has_dsack()) {
            self.sack_blocks().len()
        } else {
            0
        };
        ts + if sack_blocks > 0 { 4 + 8 * sack_blocks } else { 0 }
    }

    fn poll_synchronized(&mut self, ctx: &mut Ctx, max_payload: usize, gso_segments: usize) -> Option<OutSegment> {
        let buf_len = self.snd.buf.len();
        // Nothing written and nothing to resend (the handshake's ACK, a FIN, the ACK of one):
        // only the FIN and the ACK below can be due, and none of the sizes are needed.
        if buf_len == 0 && self.snd.nxt == self.snd.max && !self.owed.has(Owed::REPAIR) && !self.in_sack_recovery() {
            return self.poll_fin_or_ack(ctx, self.snd.una, 0, self.fin_sent(self.snd.una));
        }
        // RFC 6691: the MSS counts data only; options come out of it so that a full segment
        // still fits the path MTU (1448 data bytes with timestamps over Ethernet, as Linux).
        let ts_len = self.fixed_options_len();
        let fits = max_payload.saturating_sub(self.options_len());
        let mss = (self.neg.snd_mss as usize).saturating_sub(ts_len).max(1);
        // A super-segment of new data may hold several segments (what fits in the buffer).
        let gso_len = (mss * gso_segments).min(fits).max(1);
        let mss = mss.min(fits).max(1);
        let fin_seq = self.snd.una + buf_len as u32;
        let fin_sent = self.fin_sent(fin_seq);

        // In SACK recovery cwnd counts the pipe (RFC 6675 §5), not what is in flight.
        let pipe = if self.in_sack_recovery() { Some(self.pipe() as usize) } else { None };
        // Resends and probes come before new data. They are rare: one test passes them all,
        // and their code lies out of line, away from the path every segment takes.
        if self.owed.has(Owed::REPAIR) || pipe.is_some() {
            if let Some(seg) = self.poll_repair(ctx, mss, buf_len, fin_sent, pipe) {
                return Some(seg);
            }
        }

        // Resending after a timeout: skip what the peer has SACKed.
        if self.snd.nxt < self.snd.max {
            if let Some(end) = self.snd.scoreboard.sacked_end(self.snd.nxt) {
                self.snd.nxt = end.min(self.snd.max);
            }
        }
        let in_flight = self.snd.nxt.since(self.snd.una) as usize;
        let sent_data = in_flight.min(buf_len);
        let unsent = buf_len - sent_data;
        // The spell must outlast the RTO, which is never below its floor: most sends after
        // a pause (a reply to a request) are over at the first test.
        if self.snd.max == self.snd.una
            && self.last_progress.elapsed_ms(ctx.now) as u64 * 1000 >= ctx.timing.rto.min_us
            && unsent > 0
            && self.snd.wnd as usize > in_flight
            && ctx.config.tcp_slow_start_after_idle
        {
            self.restart_after_idle(ctx);
        }
        let gso_len = if gso_len > mss { gso_len.min(self.super_segment_limit(ctx, mss, in_flight)) } else { gso_len };
        // Retransmissions (after a timeout) stay single segments.
        let seg_max = if self.snd.nxt >= self.snd.max { gso_len } else { mss };
        let wanted = unsent.min(seg_max);
        // The peer's window counts from SND.UNA; cwnd counts what is in the network, which in
        // SACK recovery is the pipe.
        let window_room = (self.snd.wnd as usize).saturating_sub(in_flight);
        let window_limited = unsent > 0 && window_room < unsent.min(mss);
        if window_limited != self.flag(ConnFlags::CHRONO_RWND) && self.snd.nxt >= self.snd.max {
            self.chrono_window(ctx.now, window_limited);
        }
        let flight = pipe.unwrap_or(in_flight);
        let cwnd_room = match (self.snd.cc.cwnd() as usize).saturating_sub(flight) {
            room if room >= wanted.min(mss) => room,
            // RFC 3042's allowance, asked for only when cwnd alone holds the data back.
            _ => (self.snd.cc.cwnd().saturating_add(self.limited_transmit_bytes()) as usize).saturating_sub(flight),
        };
        let mut len = wanted.min(window_room).min(cwnd_room);
        // A super-segment holds whole segments, but for the end of the data, which it takes
        // only where Nagle and the cork would let it go alone (Linux's tcp_mss_split_point):
        // a short segment cut by cwnd or the window is left to the rules for small ones.
        if len > mss && len % mss != 0 && (len < unsent || self.holds_small_segment(ctx, in_flight)) {
            len -= len % mss;
        }
        // Paced (`pacing.rs`): the segment waits for its departure time (a probe does not).
        if len > 0 && ctx.config.pacing && !self.owed.has(Owed::WINDOW_PROBE) && self.pacing_holds(ctx) {
            len = 0;
        }
        // RFC 4821 §7.5: a path MTU probe is one segment larger than the rest.
        let mut mtu_probe = false;
        if self.mtu.enabled && seg_max == gso_len && len > 0 {
            if let Some(payload) = self.mtu_probe_payload(unsent, window_room.min(cwnd_room), fits) {
                self.mtu_probe_sent(ctx, self.snd.nxt, payload);
                (len, mtu_probe) = (payload, true);
            }
        }
        if len > 0 {
            let completes = len == unsent;
            // Nagle and the cork do not hold back the tail of what was sent before (a resend
            // after a timeout or a smaller path MTU) unless a window cuts it short: the peer
            // had room for it then.
            let resending = self.snd.nxt < self.snd.max && len == wanted;
            let nagle_holds = len < mss && !resending && self.nagle_holds_small(ctx, in_flight);
            // RFC 9293 §3.8.6.2.1 (sender SWS avoidance): with more queued than goes now, send
            // less than an MSS only when an ACK will not come to open the window further and it
            // is at least half the largest window the peer offered, or when the override
            // timeout (the persist timer, armed below) has passed.
            let override_due = self.owed.has(Owed::WINDOW_PROBE);
            let sws_holds = len < mss
                && !completes
                && !override_due
                && !resending
                && (in_flight > 0 || (len as u32) < self.snd.max_wnd / 2);
            // TCP_CORK and MSG_MORE hold a partial segment, unless pushed or overdue.
            let cork_holds = len < mss && !override_due && !resending && self.corked();
            if (sws_holds || cork_holds) && in_flight == 0 && !self.timers.is_armed(Timer::Persist) {
                self.arm_persist(ctx);
            }
            if !nagle_holds && !sws_holds && !cork_holds {
                if override_due {
                    // Sent by the timer, as Linux's probe sends it: with PSH.
                    self.set_flag(ConnFlags::NO_PUSH, false);
                }
                if completes {
                    self.set_flag(ConnFlags::PUSH_NOW, false);
                }
                self.owed.remove(Owed::WINDOW_PROBE);
                // A FIN rides on the segment that completes the data; on a super-segment the
                // device leaves it on the last segment it cuts.
                let fin = self.fin_unsent(fin_seq) && completes;
                let seq = self.snd.nxt;
                if seq < self.snd.max {
                    ctx.counters.retransmitted_segments += 1;
                    self.snd.rtt_probe.clear();
                    if self.rto_count > 0 {
                        self.frto_note_resent(seq + len as u32);
                    }
                } else if !self.neg.ts_ok && !self.snd.rtt_probe.is_set() {
                    self.snd.rtt_probe.set(seq, ctx.now.as_micros() as u32);
                }
                // Most segments are one (counted without a division, a slow instruction).
                let segments = if len <= mss || mtu_probe { 1 } else { len.div_ceil(mss) as u64 };
                ctx.counters.data_segments_out += segments;
                if ctx.config.pacing {
                    self.pacing_note_sent(ctx, len, segments as u32);
                }
                let new_data = seq >= self.snd.max;
                if new_data && in_flight == 0 {
                    let idle_ms = self.last_progress.elapsed_ms(ctx.now);
                    self.snd.cc.on_transmit_start(idle_ms, ctx.now.as_millis() as u32);
                }
                if len < mss {
                    self.snd.small_end = self.snd.small_end.max(seq + len as u32);
                }
                self.snd.nxt = seq + len as u32 + fin as u32;
                self.snd.max = self.snd.max.max(self.snd.nxt);
                if new_data && pipe.is_none() {
                    // RFC 7661: is cwnd what stops the next segment?
                    let rest = unsent - len;
                    let held = rest > 0 && flight + len + rest.min(mss) > self.snd.cc.cwnd() as usize;
                    self.note_cwnd_use(held);
                }
                self.arm_retransmit(ctx);
                // The marks go in with the fields, so that the segment is built where it is
                // returned (marked after, it was built aside and then copied, in wide loads
                // that waited for the stores that had just made it).
                let marks = if new_data { self.new_data_marks() } else { DataMarks::default() };
                let marks = DataMarks { gso_size: (len > mss && !mtu_probe).then_some(mss as u16), ..marks };
                return Some(self.data_segment(ctx, seq, sent_data..sent_data + len, fin, marks));
            }
        } else if unsent > 0 && cwnd_room == 0 && window_room > 0 && pipe.is_none() {
            cold();
            self.note_cwnd_use(true);
        } else if unsent > 0 && self.snd.wnd == 0 && in_flight == 0 && !self.timers.is_armed(Timer::Persist) {
            // RFC 9293 §3.8.6.1: a zero window is probed on a backed-off timer.
            self.arm_persist(ctx);
        }
        self.poll_fin_or_ack(ctx, fin_seq, unsent, fin_sent)
    }

    /// RFC 9293 §3.7.4 (Nagle): whether a small segment waits while data is unacknowledged;
    /// with Minshall's refinement (Linux) only while a small segment is, so that the tail of
    /// a large write goes out with it.
    fn nagle_holds_small(&self, ctx: &Ctx, in_flight: usize) -> bool {
        let small_in_flight = !ctx.config.compat.nagle_minshall || self.snd.small_end > self.snd.una;
        !self.flag(ConnFlags::NODELAY) && in_flight > 0 && small_in_flight
    }

    /// TCP_CORK or MSG_MORE holds a partial segment, unless the user pushed.
    fn corked(&self) -> bool {
        self.flags.intersects(ConnFlags::CORK | ConnFlags::MORE) && !self.flag(ConnFlags::PUSH_NOW)
    }

    /// Whether a short last segment of a super-segment waits (Nagle or cork), as it would
    /// on its own.
    fn holds_small_segment(&self, ctx: &Ctx, in_flight: usize) -> bool {
        !self.owed.has(Owed::WINDOW_PROBE) && (self.corked() || self.nagle_holds_small(ctx, in_flight))
    }

    /// The most bytes one super-segment of new data takes, as Linux sizes its TSO packets:
    /// at most half of cwnd, so that at least two are in flight and their ACKs keep clocking
    /// (tcp_cwnd_test); and about a millisecond of data at the connection's rate, the
    /// pacing rate of 200 % of cwnd per RTT in slow start and 120 % after, with more on
    /// paths shorter than a few milliseconds, and at least `tcp_min_tso_segs` (tcp_tso_autosize).
    fn super_segment_limit(&self, ctx: &Ctx, mss: usize, in_flight: usize) -> usize {
        let cwnd = self.snd.cc.cwnd() as u64;
        let half_cwnd = (cwnd as usize / mss / 2).max(1) * mss;
        let Some(srtt_us) = self.snd.rtt.srtt_us() else { return half_cwnd };
        let percent = if cwnd < self.snd.cc.ssthresh() as u64 / 2 { 200 } else { 120 };
        let rate = cwnd.max(in_flight as u64) * percent * 10_000 / srtt_us.max(1);
        let shift = srtt_us >> 9;
        let short_path = if shift < 32 { 65_536 >> shift } else { 0 };
        let bytes = ((rate >> 10) + short_path).min(65_536) as usize;
        half_cwnd.min((bytes / mss).max(ctx.config.tcp_min_tso_segs as usize) * mss)
    }

    /// RFC 5681 §4.1: new data sent when nothing is outstanding, after more than an RTO
    /// without progress, goes out from the restart window, min(IW, cwnd); cwnd is halved
    /// for every RTO of the spell until it reaches that (RFC 2861, Linux's
    /// `tcp_cwnd_restart`). The spell counts from the last acknowledgment of new data (or
    /// the last restart); probes do not end it.
    #[cold]
    fn restart_after_idle(&mut self, ctx: &Ctx) {
        let rto = self.snd.rtt.rto(ctx.config.rto_max);
        let mut idle = self.last_progress.elapsed(ctx.now);
        if idle <= rto {
            return;
        }
        let restart = self.initial_cwnd(&ctx.config).min(self.snd.cc.cwnd());
        let mut cwnd = self.snd.cc.cwnd();
        while idle > rto && cwnd > restart {
            idle -= rto;
            cwnd /= 2;
        }
        self.snd.cc.restart_after_idle(cwnd.max(restart));
        self.last_progress = MsStamp::at(ctx.now);
    }

    /// Whether our FIN, numbered `fin_seq`, has been sent and is not yet acknowledged.
    #[inline(always)]
    pub(super) fn fin_sent(&self, fin_seq: SeqNum) -> bool {
        self.flag(ConnFlags::FIN_QUEUED) && !self.flag(ConnFlags::OUR_FIN_ACKED) && self.snd.max > fin_seq
    }

    /// Whether our FIN is queued and not yet sent; `fin_seq` is its sequence number (once
    /// it is acknowledged the buffer is empty and `fin_seq` would point past it).
    #[inline(always)]
    fn fin_unsent(&self, fin_seq: SeqNum) -> bool {
        self.flag(ConnFlags::FIN_QUEUED) && !self.flag(ConnFlags::OUR_FIN_ACKED) && self.snd.nxt <= fin_seq
    }

    /// When no data goes out: the FIN if it is due (`unsent` bytes still wait before it),
    /// else an ACK if one is owed.
    #[inline(always)]
    fn poll_fin_or_ack(&mut self, ctx: &mut Ctx, fin_seq: SeqNum, unsent: usize, fin_sent: bool) -> Option<OutSegment> {
        if self.fin_unsent(fin_seq) && unsent == 0 && self.snd.nxt == fin_seq {
            if fin_seq < self.snd.max {
                ctx.counters.retransmitted_segments += 1;
            }
            self.snd.nxt = fin_seq + 1;
            self.snd.max = self.snd.max.max(self.snd.nxt);
            self.set_flag(ConnFlags::FIN_ALONE, true);
            self.arm_retransmit(ctx);
            return Some(self.segment(ctx, fin_seq, TcpFlags::FIN | TcpFlags::ACK, 0..0));
        }
        if self.owed.has(Owed::ACK) {
            if ctx.config.compat.resend_fin_with_ack
                && fin_sent
                && !self.flag(ConnFlags::ACK_IS_CHALLENGE)
                && self.snd.max == fin_seq + 1
            {
                return Some(self.segment(ctx, fin_seq, TcpFlags::FIN | TcpFlags::ACK, 0..0));
            }
            // The highest sequence number sent, not SND.NXT: after a timeout SND.NXT is pulled
            // back to resend, and an ACK numbered below the peer's RCV.NXT would be found
            // unacceptable and its acknowledgment lost (Linux's tcp_acceptable_seq likewise).
            return Some(self.segment(ctx, self.snd.max, TcpFlags::ACK, 0..0));
        }
        None
    }

    /// The resends and probes owed, in the order they go before new data: the first
    /// unacknowledged segment (fast retransmit, a partial ACK in recovery), a SACK hole
    /// (RFC 6675), a tail loss probe (RFC 8985), a zero-window or keepalive probe.
    #[inline(never)]
    fn poll_repair(
        &mut self,
        ctx: &mut Ctx,
        mss: usize,
        buf_len: usize,
        fin_sent: bool,
        pipe: Option<usize>,
    ) -> Option<OutSegment> {
        // Fast retransmit, or a partial ACK in recovery: resend the first unacknowledged segment.
        // (Taken whatever follows: with nothing outstanding there is nothing to resend.)
        if self.owed.take(Owed::REXMIT_ONE) && self.snd.max > self.snd.una {
            // Only what was sent before: never new data past SND.MAX (which would go out
            // without SND.MAX knowing, and make the peer's ACK of it look bogus).
            let outstanding = (self.snd.flight() as usize).min(buf_len);
            let len = outstanding.min(mss);
            let fin = fin_sent && len == buf_len;
            ctx.counters.retransmitted_segments += 1;
            self.snd.rtt_probe.clear();
            self.note_fast_retransmit_sent(ctx.now, len);
            return Some(self.data_segment(ctx, self.snd.una, 0..len, fin, DataMarks::default()));
        }
        // RFC 6675 §5 step 6 (recovery with SACK): while cwnd leaves room for a segment over
        // the pipe, resend the next lost hole, else send new data below.
        if let Some(pipe) = pipe {
            if pipe + mss <= self.snd.cc.cwnd() as usize {
                if let Some((seq, len)) = self.next_lost_segment(mss) {
                    let offset = seq.since(self.snd.una) as usize;
                    if offset + len <= buf_len && self.snd.scoreboard.note_resent(seq, seq + len as u32, ctx.now) {
                        ctx.counters.retransmitted_segments += 1;
                        return Some(self.data_segment(ctx, seq, offset..offset + len, false, DataMarks::default()));
                    }
                }
            }
        }
        if self.owed.take(Owed::LOSS_PROBE) {
            if let Some(seg) = self.loss_probe_segment(ctx, mss) {
                return Some(seg);
            }
        }
        // The persist timer with a window that takes some of the queued data: that data
        // goes (the SWS override, below), not a probe.
        let window_room = self.snd.wnd > self.snd.nxt.since(self.snd.una) && buf_len > self.snd.flight() as usize;
        if self.owed.has(Owed::WINDOW_PROBE) && !self.owed.has(Owed::KEEPALIVE_PROBE) && window_room {
            return None;
        }
        // Zero-window and keepalive probes: an old sequence number that elicits an ACK, as
        // Linux does (RFC 1122 §4.2.2.17 persist, §4.2.3.6 keepalive with SEG.SEQ = SND.NXT-1).
        if self.owed.has(Owed::WINDOW_PROBE | Owed::KEEPALIVE_PROBE) {
            cold();
            if self.owed.has(Owed::WINDOW_PROBE) {
                ctx.counters.window_probes_sent += 1;
            } else {
                ctx.counters.keepalive_probes_sent += 1;
            }
            self.owed.remove(Owed::WINDOW_PROBE | Owed::KEEPALIVE_PROBE);
            return Some(self.segment(ctx, self.snd.una - 1, TcpFlags::ACK, 0..0));
        }
        None
    }

    pub(super) fn data_segment(
        &mut self,
        ctx: &mut Ctx,
        seq: SeqNum,
        data: Range<usize>,
        fin: bool,
        marks: DataMarks,
    ) -> OutSegment {
        let mut flags = TcpFlags::ACK | marks.cwr;
        if self.snd.fast_recovery.active || self.in_cwr() {
            // RFC 6937: what recovery sends, against what it was delivered.
            let prr = self.snd.scoreboard.prr_mut();
            prr.out = prr.out.saturating_add(data.len() as u32);
        }
        if !data.is_empty() && (seq > self.snd.una || self.snd.scoreboard.rack_enabled()) && self.rack_wanted(ctx) {
            self.rack_note_sent(ctx, seq, seq + data.len() as u32, !marks.new_data);
        }
        // PSH on the segment that empties what the user has written so far (unless that was
        // written with MSG_MORE).
        if data.end == self.snd.buf.len() && !data.is_empty() && !self.flag(ConnFlags::NO_PUSH) {
            flags |= TcpFlags::PSH;
        }
        // Every super-segment carries PSH, so that the receiver's GRO hands its data up at
        // once (Linux forces it on GSO packets, __tcp_transmit_skb); the device copies it
        // onto the last segment it cuts.
        if marks.gso_size.is_some() {
            flags |= TcpFlags::PSH;
        }
        if fin {
            flags |= TcpFlags::FIN;
        }
        self.marked_segment(ctx, seq, flags, data, marks)
    }

    /// The SACK blocks to send (RFC 2018 §4): a D-SACK block first if a duplicate arrived
    /// (RFC 2883 §4), then the out-of-order ranges held, most recent first; as many as the
    /// 40 option bytes hold after the timestamps and a signature (three with timestamps).
    #[inline(never)]
    fn sack_blocks(&self) -> SackBlocks {
        let mut sack = SackBlocks::new();
        let mut max_blocks = (40 - 4 - self.fixed_options_len()) / 8;
        if max_blocks == 0 {
            return sack;
        }
        if self.rcv.has_dsack() {
            sack.push(self.rcv.dsack.0, self.rcv.dsack.1);
            max_blocks -= 1;
        }
        for (start, end) in self.rcv.ooo.ranges(max_blocks) {
            let left = self.rcv.nxt + (start - self.rcv.offset) as u32;
            let right = self.rcv.nxt + (end - self.rcv.offset) as u32;
            sack.push(left, right);
        }
        sack
    }

    /// Builds a synchronized-state segment: every one carries ACK, our window, timestamps and
    /// SACK blocks as negotiated, and so settles any ACK we owed.
    #[inline(always)]
    pub(super) fn segment(&mut self, ctx: &mut Ctx, seq: SeqNum, flags: TcpFlags, data: Range<usize>) -> OutSegment {
        self.marked_segment(ctx, seq, flags, data, DataMarks::default())
    }

    /// `segment` with the ECN codepoint and super-segment size of new data.
    ///
    /// Not inlined: as a call it writes the segment straight into the caller's result; inlined,
    /// the compiler staged it on the stack and copied it in wide words that waited for the
    /// stores that had just made it.
    #[inline(never)]
    fn marked_segment(
        &mut self,
        ctx: &mut Ctx,
        seq: SeqNum,
        flags: TcpFlags,
        data: Range<usize>,
        marks: DataMarks,
    ) -> OutSegment {
        // Built whole, in the result: assigned field by field into a local first, the options
        // were then copied in wide words that waited for those smaller stores.
        let sack = if self.neg.sack_ok && (!self.rcv.ooo.is_empty() || self.rcv.has_dsack()) {
            let blocks = self.sack_blocks();
            self.rcv.dsack = (SeqNum(0), SeqNum(0)); // reported once (RFC 2883 §4)
            blocks
        } else {
            SackBlocks::new()
        };
        let timestamps = if self.neg.ts_ok { Some((self.ts_now(ctx.now), self.ts_recent)) } else { None };
        let md5 = self.flag(ConnFlags::MD5);
        let options =
            TcpOptions { timestamps, sack, md5, layout: ctx.config.compat.option_layout, ..TcpOptions::default() };
        let window = self.recv_window_field();
        let flags = flags | self.ecn_echo_flag();
        self.owed.remove(Owed::ACK);
        self.set_flag(ConnFlags::ACK_IS_CHALLENGE, false);
        self.rcv.full_segments_unacked = 0;
        self.timers.stop(Timer::DelayedAck);
        self.rcv.last_ack_sent = self.rcv.nxt;
        self.rcv.adv = self.rcv.adv.max(self.rcv.nxt + (window << self.neg.rcv_wscale));
        let seg = self.out_segment(seq, self.rcv.nxt, flags, window as u16, options, data);
        OutSegment { ecn: marks.ecn, gso_size: marks.gso_size, ..seg }
    }

    /// The segment with these fields between this connection's addresses and ports.
    #[inline(always)]
    fn out_segment(
        &self,
        seq: SeqNum,
        ack: SeqNum,
        flags: TcpFlags,
        window: u16,
        options: TcpOptions,
        data: Range<usize>,
    ) -> OutSegment {
        let t = &self.tuple;
        OutSegment {
            tcp: TcpRepr {
                src_port: t.local_port,
                dst_port: t.remote_port,
                seq,
                ack,
                flags,
                window,
                urgent: 0,
                options,
                payload: &[],
            },
            ecn: Ecn::NotEct,
            data,
            gso_size: None,
        }
    }
}
