//! Buffer auto-tuning, as Linux does it: the receive buffer grows toward `tcp_rmem.max` with
//! what the application reads per round trip (dynamic right-sizing, Linux's
//! `tcp_rcv_space_adjust`), and the send buffer toward `tcp_wmem.max` with the congestion
//! window (`tcp_sndbuf_expand`), so that one connection fills a long fat pipe without the
//! user sizing buffers. A buffer the application set (SO_RCVBUF, SO_SNDBUF) stays as set.
//! The window-scale shift is chosen for `tcp_rmem.max` (`Config::window_scale`), so the
//! window can follow the buffer up.

use super::{ConnFlags, Connection, Ctx};
use crate::congestion::CongestionControl;

/// `Receiver::space` when the application set the receive buffer: no auto-tuning.
pub(super) const RCV_SPACE_LOCKED: u32 = u32::MAX;
/// Linux's TCP_INIT_CWND: the first measurement's baseline is this many segments.
const INITIAL_SPACE_SEGMENTS: u32 = 10;

impl Connection {
    /// The handshake is done: the first round trip's measurement starts now (and the clock of
    /// the last data received).
    pub(super) fn start_rcv_space(&mut self, ctx: &Ctx) {
        self.rcv.last_data_ms = ctx.now.as_millis() as u32;
        if self.rcv.space == RCV_SPACE_LOCKED {
            return;
        }
        self.rcv.space = (INITIAL_SPACE_SEGMENTS * self.rcv_mss as u32).min(self.rcv.cap);
        self.rcv.space_read_mark = self.read_position();
        self.rcv.space_ms = ctx.now.as_millis() as u32;
    }

    /// Where the application's reads have reached in the stream (low 32 bits).
    fn read_position(&self) -> u32 {
        (self.rcv.offset - self.rcv.buf.len() as u64) as u32
    }

    /// Data arrived in order: its time is kept, and dynamic right-sizing runs: once per
    /// smoothed RTT, what the application read in it is the
    /// rate the window must carry. Twice that (losses), plus sixteen segments, plus twice its
    /// growth over the last round (a sender in slow start doubles each round) is the window
    /// the buffer grows to, at most `tcp_rmem.max` and what the window scale can announce.
    pub(super) fn rcv_space_adjust(&mut self, ctx: &Ctx) {
        let now_ms = ctx.now.as_millis() as u32;
        self.rcv.last_data_ms = now_ms;
        if self.rcv.space == RCV_SPACE_LOCKED || !ctx.config.tcp_moderate_rcvbuf {
            return;
        }
        let Some(srtt_us) = self.snd.rtt.srtt_us() else { return };
        if (now_ms.wrapping_sub(self.rcv.space_ms) as u64) * 1000 < srtt_us.max(1000) {
            return;
        }
        let read = self.read_position();
        let copied = read.wrapping_sub(self.rcv.space_read_mark);
        if copied > self.rcv.space {
            let space = self.rcv.space.max(1) as u64;
            let mut window = 2 * copied as u64 + 16 * self.rcv_mss as u64;
            window += 2 * window * (copied as u64 - space) / space;
            let most = (ctx.config.tcp_rmem.max as u64).min((u16::MAX as u64) << self.neg.rcv_wscale).min(1 << 30);
            let window = window.min(most) as u32;
            self.rcv.cap = self.rcv.cap.max(window);
            self.rcv.space = copied;
        }
        self.rcv.space_read_mark = read;
        self.rcv.space_ms = now_ms;
    }

    /// Linux's `tcp_sndbuf_expand`, on an ACK that let cwnd grow: the send buffer holds twice
    /// cwnd (what is in flight and as much again queued behind it), at most `tcp_wmem.max`.
    pub(super) fn snd_buf_expand(&mut self, ctx: &Ctx) {
        if self.flag(ConnFlags::SNDBUF_LOCKED) {
            return;
        }
        let wanted = (2 * self.snd.cc.cwnd() as u64).min(ctx.config.tcp_wmem.max as u64).min(1 << 30) as u32;
        if wanted > self.snd.cap {
            self.snd.cap = wanted;
        }
    }
}
