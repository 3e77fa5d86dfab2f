//! Spurious retransmission timeouts: a delay spike (a link layer retrying, a route change)
//! can outlast the RTO without anything being lost. Detected by the ACK's timestamp echo
//! (RFC 3522 Eifel detection, `undo_if_spurious`) or, without it, by F-RTO (RFC 5682, the
//! SACK-enhanced algorithm as Linux's `tcp_frto` 2): after the timeout's retransmission is
//! acknowledged, new data goes out instead of more retransmissions, and an ACK of data that
//! was never retransmitted shows the flight had not been lost. Either way the window comes
//! back as it was before the timeout (RFC 4015 §3) and nothing more is resent.

use super::{Connection, Ctx};
use crate::congestion::CongestionControl;
use crate::scoreboard::{first_block_is_dsack, Frto, Undo};
use synack_wire::{SeqNum, TcpRepr};

impl Connection {
    /// The first retransmission timeout of a flight (cwnd and ssthresh as they were before
    /// it): what to restore if it proves spurious, the retransmission's timestamp for Eifel,
    /// and F-RTO's marks when `tcp_frto` is on and `allowed`.
    #[cold]
    pub(super) fn frto_on_timeout(&mut self, ctx: &Ctx, cwnd: u32, ssthresh: u32, allowed: bool) {
        if self.rto_count != 1 {
            self.snd.scoreboard.set_frto(None);
            return;
        }
        let rexmit_tsval = self.neg.ts_ok.then(|| self.ts_now(ctx.now));
        self.snd.scoreboard.set_undo(Some(Undo { cwnd, ssthresh, rexmit_tsval }));
        let frto =
            (ctx.config.tcp_frto > 0 && allowed).then_some(Frto { resent_end: self.snd.una, new_data_sent: false });
        self.snd.scoreboard.set_frto(frto);
    }

    /// A retransmission of `[.., end)` went out while F-RTO decides.
    #[cold]
    pub(super) fn frto_note_resent(&mut self, end: SeqNum) {
        if let Some(frto) = self.snd.scoreboard.frto() {
            let resent_end = frto.resent_end.max(end);
            self.snd.scoreboard.set_frto(Some(Frto { resent_end, ..frto }));
        }
    }

    /// RFC 5682 §3 steps 2 and 3 on an ACK after the timeout (`una_before`: SND.UNA before
    /// it). Data that was never retransmitted acknowledged or SACKed: the timeout was
    /// spurious, undone (returns true). The retransmission alone acknowledged: new data goes
    /// next (step 2b), or the usual recovery when there is none to send. A duplicate ACK after
    /// the new data: the loss was real (step 3a), and the retransmissions go on.
    #[cold]
    pub(super) fn frto_on_ack(&mut self, ctx: &mut Ctx, seg: &TcpRepr, una_before: SeqNum) -> bool {
        let Some(frto) = self.snd.scoreboard.frto() else { return false };
        let blocks = seg.options.sack.as_slice();
        let dsack = first_block_is_dsack(blocks, seg.ack).is_some();
        // Newly SACKed data that was never retransmitted (the peer repeats old blocks).
        let original_sacked = blocks.iter().skip(dsack as usize).any(|&(left, right)| {
            right <= self.snd.max && self.snd.scoreboard.has_unsacked(left.max(frto.resent_end), right)
        });
        if seg.ack > frto.resent_end || (self.neg.sack_ok && original_sacked) {
            self.undo_timeout(ctx);
            return true;
        }
        if seg.ack > una_before && !frto.new_data_sent {
            let unsent = self.snd.buf.len() as u32 > self.snd.max.since(self.snd.una);
            let room = self.snd.wnd > self.snd.max.since(self.snd.una);
            if unsent && room {
                // Up to two new segments, whatever the flight that may or may not be lost
                // (Linux counts it lost after a timeout: its cwnd of two lets them out).
                let mss = self.data_mss();
                self.snd.nxt = self.snd.max;
                self.snd.cc.set_cwnd(self.snd.flight() + 2 * mss);
                self.snd.scoreboard.set_frto(Some(Frto { new_data_sent: true, ..frto }));
            } else {
                self.snd.scoreboard.set_frto(None);
            }
        } else if frto.new_data_sent && seg.ack == una_before {
            // Step 3a: at most three segments of window, and resend from SND.UNA in slow
            // start as after any timeout.
            self.snd.scoreboard.set_frto(None);
            let cwnd = self.snd.cc.cwnd().min(3 * self.data_mss());
            self.snd.cc.set_cwnd(cwnd);
            self.snd.nxt = self.snd.una;
        }
        false
    }

    /// The timeout was spurious: cwnd and ssthresh come back (RFC 4015 §3), and what was in
    /// flight is not resent.
    pub(super) fn undo_timeout(&mut self, ctx: &mut Ctx) {
        if let Some(Undo { cwnd, ssthresh, .. }) = self.snd.scoreboard.undo() {
            self.snd.cc.undo(cwnd, ssthresh);
        }
        self.snd.scoreboard.set_undo(None);
        self.snd.scoreboard.set_frto(None);
        self.snd.nxt = self.snd.max;
        ctx.counters.spurious_rtos_undone += 1;
    }
}
