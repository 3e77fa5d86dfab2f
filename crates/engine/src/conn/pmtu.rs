//! Path MTU: what an ICMP Packet Too Big teaches (RFC 1191, RFC 8201), and packetization-layer
//! discovery for paths that drop big segments without a word (RFC 4821, Linux's
//! `tcp_mtu_probing`). Sizes here are MSS values, the unit of `Negotiated::snd_mss`.

use super::recovery::FastRecovery;
use super::{Connection, Ctx, Owed};
use crate::congestion::CongestionControl;
use crate::{Config, State};
use synack_wire::SeqNum;

/// RFC 4821 §7.2's search range and the probe in flight. Off (`enabled` false) unless
/// `tcp_mtu_probing` turns it on.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MtuSearch {
    /// Probing is on for this connection: `tcp_mtu_probing` 2, or 1 once a black hole was
    /// suspected.
    pub enabled: bool,
    /// IP_MTU_DISCOVER: whether packets carry DF and Packet Too Big reports count.
    pub discovery: PmtuDiscovery,
    /// search_low: the largest segment size known to get through.
    low: u16,
    /// search_high: the largest the path may carry (the peer's MSS, or a Packet Too Big's).
    high: u16,
    /// The size of the probe in flight (0: none) and the sequence number after it.
    probe_mss: u16,
    probe_end: SeqNum,
}

/// RFC 4821 §7.2: stop probing when the range is this narrow (Linux `tcp_probe_threshold`, 8).
const SEARCH_DONE_BYTES: u16 = 8;
/// A probe risks a segment; Linux sends one only once cwnd holds this many segments, so that
/// a lost probe costs little.
const PROBE_MIN_CWND_SEGMENTS: u32 = 11;

/// A socket's path MTU discovery mode (IP_MTU_DISCOVER, IPV6_MTU_DISCOVER), Linux's six.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(u8)]
pub enum PmtuDiscovery {
    /// IP_PMTUDISC_DONT: no DF; Packet Too Big reports change nothing.
    Dont = 0,
    /// IP_PMTUDISC_WANT, the default: DF, and the path's MTU is learned (RFC 1191, RFC 8201).
    #[default]
    Want = 1,
    /// IP_PMTUDISC_DO: as WANT (TCP never fragments what it sends).
    Do = 2,
    /// IP_PMTUDISC_PROBE: DF, the reports ignored.
    Probe = 3,
    /// IP_PMTUDISC_INTERFACE: the interface's MTU only, DF set.
    Interface = 4,
    /// IP_PMTUDISC_OMIT: the interface's MTU only, no DF.
    Omit = 5,
}

impl PmtuDiscovery {
    /// The mode numbered as Linux numbers it (`IP_PMTUDISC_*`), if it is one.
    pub fn from_linux(n: i64) -> Option<PmtuDiscovery> {
        use PmtuDiscovery::*;
        [Dont, Want, Do, Probe, Interface, Omit].get(usize::try_from(n).ok()?).copied()
    }

    /// Whether IPv4 packets carry Don't Fragment.
    pub fn dont_fragment(self) -> bool {
        !matches!(self, PmtuDiscovery::Dont | PmtuDiscovery::Omit)
    }

    /// Whether a Packet Too Big report lowers the segment size.
    pub fn learns_path_mtu(self) -> bool {
        matches!(self, PmtuDiscovery::Want | PmtuDiscovery::Do)
    }
}

impl MtuSearch {
    pub const OFF: MtuSearch = MtuSearch {
        enabled: false,
        discovery: PmtuDiscovery::Want,
        low: 0,
        high: 0,
        probe_mss: 0,
        probe_end: SeqNum(0),
    };

    /// A probe is in flight.
    #[inline(always)]
    pub fn probing(&self) -> bool {
        self.probe_mss != 0
    }
}

impl Connection {
    pub fn set_path_mtu_discovery(&mut self, mode: PmtuDiscovery) {
        self.mtu.discovery = mode;
    }

    pub fn path_mtu_discovery(&self) -> PmtuDiscovery {
        self.mtu.discovery
    }

    /// The handshake set the segment size: the search range tops out there; with
    /// `tcp_mtu_probing` 2 the connection starts at `tcp_base_mss` and probes up.
    pub(super) fn start_mtu_search(&mut self, cfg: &Config) {
        self.mtu.high = self.neg.snd_mss;
        self.mtu.low = self.neg.snd_mss;
        if cfg.tcp_mtu_probing >= 2 {
            self.enable_mtu_probing(cfg);
        }
    }

    /// RFC 4821 §7.2: search_low starts at a size nearly every path carries.
    fn enable_mtu_probing(&mut self, cfg: &Config) {
        self.mtu.enabled = true;
        self.mtu.low = cfg.tcp_base_mss.max(cfg.tcp_mtu_probe_floor).min(self.mtu.high);
        self.neg.snd_mss = self.neg.snd_mss.min(self.mtu.low);
    }

    /// RFC 1191 / RFC 8201: a router could not forward our segment whole. Segments shrink to
    /// what the path carries (never below IPv4's 68-byte or IPv6's 1280-byte minimum MTU) and
    /// what was in flight goes again at the new size, the congestion window kept, as the loss
    /// says nothing of congestion (FreeBSD's `tcp_mtudisc`, Linux's `tcp_simple_retransmit`).
    /// An IPv6 SYN sent again announces that MSS too, as the route's MTU is what IPv6 derives
    /// it from (Linux's and FreeBSD's `advmss`; IPv4 announces the interface's). A report
    /// without an MTU (a pre-RFC 1191 router), or one for a socket that does not learn the
    /// path's MTU (`PmtuDiscovery`), changes nothing.
    pub(super) fn path_mtu_shrank(&mut self, ctx: &mut Ctx, mtu: u32) -> bool {
        let ipv6 = self.tuple.local_ip.is_ipv6();
        let (floor, headers) = if ipv6 { (1280, 60) } else { (68, 40) };
        if mtu == 0 || !self.mtu.discovery.learns_path_mtu() {
            return false;
        }
        let mss = (mtu.max(floor) - headers).min(u16::MAX as u32) as u16;
        let syn_sent_v6 = ipv6 && self.state == State::SynSent;
        if mss >= self.neg.snd_mss
            && !(syn_sent_v6 && mss < self.rcv_mss)
            && !(self.mtu.probing() && mss < self.mtu.probe_mss)
        {
            return false;
        }
        self.neg.snd_mss = self.neg.snd_mss.min(mss);
        self.mtu.high = self.mtu.high.min(mss);
        self.mtu.low = self.mtu.low.min(mss);
        if self.mtu.probing() {
            self.mtu_probe_lost(ctx);
        }
        if syn_sent_v6 {
            self.rcv_mss = self.rcv_mss.min(mss);
        }
        if (State::Established..=State::LastAck).contains(&self.state) && self.snd.flight() > 0 {
            ctx.counters.pmtu_resends += 1;
            self.snd.fast_recovery = FastRecovery::idle(self.snd.max);
            self.snd.scoreboard.clear_resent();
            self.snd.rtt_probe.clear();
            self.owed.remove(Owed::REXMIT_ONE);
            self.snd.nxt = self.snd.una;
        }
        true
    }

    /// RFC 4821 §7.7 (and Linux's `tcp_mtu_probing`): timeouts in a row while the connection
    /// makes no progress may mean a path that drops big segments and says nothing. The first
    /// time, probing starts at `tcp_base_mss`; each later time search_low halves, down to
    /// `tcp_mtu_probe_floor`.
    #[cold]
    pub(super) fn suspect_black_hole(&mut self, ctx: &mut Ctx) {
        let cfg = &ctx.config;
        if cfg.tcp_mtu_probing == 0 || self.rto_count < cfg.tcp_retries1 {
            return;
        }
        if !self.mtu.enabled {
            self.enable_mtu_probing(cfg);
        } else {
            let halved = (self.mtu.low / 2).min(cfg.tcp_base_mss).max(cfg.tcp_mtu_probe_floor);
            self.mtu.low = self.mtu.low.min(halved);
            self.neg.snd_mss = self.neg.snd_mss.min(self.mtu.low);
        }
        ctx.counters.mtu_black_hole_steps += 1;
    }

    /// RFC 4821 §7.5: the payload of a probe to send now instead of a segment of `mss`
    /// payload bytes, if one is due: searching, none in flight, not recovering, cwnd large
    /// enough, and enough data queued and allowed by both windows for the probe's size
    /// (halfway between search_low and search_high). `fits` is what the caller's buffer takes.
    #[cold]
    pub(super) fn mtu_probe_payload(&self, unsent: usize, room: usize, fits: usize) -> Option<usize> {
        let m = &self.mtu;
        let ts_len = self.fixed_options_len();
        if m.probing()
            || m.high < m.low + SEARCH_DONE_BYTES
            || !matches!(self.state, State::Established | State::CloseWait)
            || self.snd.fast_recovery.active
            || self.rto_count > 0
            || self.snd.nxt < self.snd.max
            || self.snd.cc.cwnd() < PROBE_MIN_CWND_SEGMENTS * self.neg.snd_mss as u32
        {
            return None;
        }
        let size = (m.low + (m.high - m.low).div_ceil(2)) as usize;
        let payload = size - ts_len;
        (payload <= unsent && payload <= room && payload <= fits).then_some(payload)
    }

    /// A probe of `payload` bytes from `seq` goes out.
    #[cold]
    pub(super) fn mtu_probe_sent(&mut self, ctx: &mut Ctx, seq: SeqNum, payload: usize) {
        let ts_len = self.fixed_options_len();
        self.mtu.probe_mss = (payload + ts_len) as u16;
        self.mtu.probe_end = seq + payload as u32;
        ctx.counters.mtu_probes_sent += 1;
    }

    /// SND.UNA moved to `ack`: a probe wholly acknowledged (and not resent: a loss ends it
    /// first) proves its size, which becomes the segment size (RFC 4821 §7.6.1).
    #[cold]
    pub(super) fn mtu_probe_on_ack(&mut self, ctx: &mut Ctx, ack: SeqNum) {
        if ack >= self.mtu.probe_end {
            self.mtu.low = self.mtu.probe_mss;
            self.neg.snd_mss = self.neg.snd_mss.max(self.mtu.probe_mss);
            self.mtu.probe_mss = 0;
            ctx.counters.mtu_probes_acked += 1;
        }
    }

    /// Loss was detected (a timeout, or recovery starting at the probe): the probe did not get
    /// through, so its size is above what the path carries (RFC 4821 §7.6.2). A loss below it
    /// says nothing of the probe.
    #[cold]
    pub(super) fn mtu_probe_on_loss(&mut self, ctx: &mut Ctx, timeout: bool) {
        let start = self.mtu.probe_end - (self.mtu.probe_mss as u32 - self.fixed_options_len() as u32);
        if timeout || self.snd.una >= start {
            self.mtu_probe_lost(ctx);
        }
    }

    fn mtu_probe_lost(&mut self, ctx: &mut Ctx) {
        self.mtu.high = self.mtu.high.min(self.mtu.probe_mss - 1);
        self.mtu.probe_mss = 0;
        ctx.counters.mtu_probes_lost += 1;
    }
}
