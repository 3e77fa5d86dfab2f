//! The rest of loss recovery's state, kept with the scoreboard out of the connection record
//! (most connections never need it): what to restore if a reduction proves needless
//! (RFC 4015) and the D-SACK count that can show it (RFC 2883), proportional rate reduction's
//! counters (RFC 6937), and F-RTO's marks after a timeout (RFC 5682).

use super::Scoreboard;
use synack_wire::SeqNum;

/// What the congestion state was before a fast retransmit, to restore if it proves spurious.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Undo {
    pub cwnd: u32,
    pub ssthresh: u32,
    /// The TSval of the first retransmission, once it has gone out.
    pub rexmit_tsval: Option<u32>,
}

/// RFC 2883 §4: the first SACK block reports a duplicate when it lies below the cumulative
/// ACK or within the second block.
pub(crate) fn first_block_is_dsack(blocks: &[(SeqNum, SeqNum)], ack: SeqNum) -> Option<(SeqNum, SeqNum)> {
    let &(left, right) = blocks.first()?;
    let below_ack = right <= ack;
    let within_second = blocks.get(1).is_some_and(|&(l, r)| l <= left && right <= r);
    (left < right && (below_ack || within_second)).then_some((left, right))
}

/// RFC 6937's counters for one recovery: bytes delivered to the peer (newly acknowledged or
/// SACKed) and bytes sent since it began, and the window before it (Linux's `prior_cwnd`, the
/// RFC's RecoverFS).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Prr {
    pub delivered: u32,
    pub out: u32,
    pub prior_cwnd: u32,
}

/// F-RTO's marks after a retransmission timeout (RFC 5682 §3): how far the retransmissions
/// since have reached, and whether new data has gone out in their place (step 2b).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Frto {
    pub resent_end: SeqNum,
    pub new_data_sent: bool,
}

impl Scoreboard {
    /// The congestion state to restore if the last fast retransmit proves needless.
    #[inline]
    pub fn undo(&self) -> Option<Undo> {
        self.tables.as_ref().and_then(|t| t.undo)
    }

    pub fn set_undo(&mut self, undo: Option<Undo>) {
        if undo.is_some() || self.tables.is_some() {
            self.tables().undo = undo;
        }
    }

    /// F-RTO's marks, while it decides whether the last timeout was spurious.
    #[inline]
    pub fn frto(&self) -> Option<Frto> {
        self.tables.as_ref().and_then(|t| t.frto)
    }

    pub fn set_frto(&mut self, frto: Option<Frto>) {
        if frto.is_some() || self.tables.is_some() {
            self.tables().frto = frto;
        }
    }

    /// PRR's counters (all zero outside a recovery that has them).
    pub fn prr(&self) -> Prr {
        self.tables.as_ref().map_or(Prr::default(), |t| t.prr)
    }

    pub fn prr_mut(&mut self) -> &mut Prr {
        &mut self.tables().prr
    }

    /// The pacing schedule (none before the first paced segment).
    pub fn pacing(&self) -> Option<crate::conn::Pacing> {
        self.tables.as_ref().map(|t| t.pacing)
    }

    pub fn pacing_mut(&mut self) -> &mut crate::conn::Pacing {
        &mut self.tables().pacing
    }

    /// A recovery began at `snd_una`: count its retransmissions from none.
    pub fn start_undo_count(&mut self, snd_una: SeqNum) {
        let tables = self.tables();
        tables.undo_marker = Some(snd_una);
        tables.undo_retrans = 0;
    }

    /// RFC 2883 §5 and Linux's D-SACK undo: a D-SACK block `(left, right)` that reports data
    /// of this recovery (above where it began, below the ACK before it) shows one of its
    /// retransmissions needless. Returns true when that leaves none that was needed.
    pub fn dsack_shows_all_needless(&mut self, (_, right): (SeqNum, SeqNum), snd_una_before: SeqNum) -> bool {
        let Some(tables) = &mut self.tables else { return false };
        let Some(marker) = tables.undo_marker else { return false };
        if tables.undo_retrans > 0 && right > marker && right <= snd_una_before {
            tables.undo_retrans -= 1;
            if tables.undo_retrans == 0 {
                tables.undo_marker = None;
                return true;
            }
        }
        false
    }
}
