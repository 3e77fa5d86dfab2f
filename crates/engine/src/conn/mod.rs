//! A full connection (TCB, RFC 9293 §3.3.1) and its user calls. Segment arrival lives in
//! `input.rs` (what an ACK does to the send side in `ack.rs`), segment building in
//! `output.rs`, timers in `timers.rs`.

mod ack;
mod autotune;
mod chrono;
mod ecn;
mod frto;
mod icmp;
mod input;
mod keepalive;
mod output;
mod owed;
mod pacing;
mod persist;
mod pmtu;
mod receiver;
mod recovery;
mod sender;
mod timers;
mod validation;

pub use keepalive::KeepaliveTiming;
use owed::Owed;
pub(crate) use pacing::Pacing;
use pmtu::MtuSearch;
pub use pmtu::PmtuDiscovery;
pub(crate) use receiver::Receiver;
pub(crate) use sender::Sender;
pub(crate) use timers::{Timer, TimerTable};

use crate::buffers::BufferPool;
use crate::config::Timing;
use crate::congestion::CongestionControl;
use crate::fifo::Fifo;
use crate::time::MsStamp;
use crate::{
    Cause, Config, ConnError, ConnHandle, Counters, Event, FourTuple, Instant, IpFields, ListenerHandle, RecvError,
    SendError, State, Transition,
};
use std::net::IpAddr;
use std::time::Duration;
use synack_wire::{SeqNum, TcpFlags};

/// The parts of an endpoint that a connection call may touch besides the connection: one
/// borrow, where a `Ctx` of one reference per part was seven words written to the stack for
/// every call into a connection.
#[derive(Debug)]
pub(crate) struct Shared {
    pub config: Config,
    /// The config's times in microseconds, kept in step with it (`Endpoint::config_mut`).
    pub timing: Timing,
    pub events: Fifo<Event>,
    pub counters: Counters,
    pub control: Fifo<ControlSegment>,
    /// Stream buffers of ended connections, for the next ones.
    pub buffers: BufferPool,
    /// Scoreboards (RACK's log with them) of ended connections, for the next ones.
    pub scoreboards: crate::scoreboard::ScoreboardPool,
    /// State changes are recorded for a trace (`Endpoint::trace_transitions`), in
    /// `transitions` until the caller takes them.
    pub trace_transitions: bool,
    pub transitions: Fifo<Transition>,
    /// The endpoint's share of challenge ACKs this second (`tcp_challenge_ack_limit`).
    pub challenge_budget: crate::segment_checks::ChallengeBudget,
    /// Keep-alive timings sockets set for themselves, by connection slot (`keepalive.rs`).
    pub keepalive_timings: std::collections::HashMap<u32, KeepaliveTiming>,
    /// TCP MD5 signature keys by peer address (RFC 2385 §4.3: a key per connection's peer,
    /// as FreeBSD's security association database holds them per host).
    pub md5_keys: std::collections::HashMap<IpAddr, Box<[u8]>>,
    /// The peer's UDP port of every connection, half-open entry and TIME-WAIT record whose
    /// segments travel in UDP (`config.tcp_udp_tunneling_port`), by tuple: few are, so the
    /// records keep no room for it. An entry goes with its tuple's last record.
    pub udp_ports: std::collections::HashMap<FourTuple, u16>,
    /// The device refuses packets for now (`Endpoint::set_device_refusing`).
    pub device_refusing: bool,
    /// The current spell of persist probes of a connection, by slot (`persist.rs`); an entry
    /// lives while the window stays shut or the data waits.
    pub probe_spells: std::collections::HashMap<u32, persist::ProbeSpell>,
}

/// What a connection call may touch outside the connection itself: the time and the
/// endpoint's shared parts, read through it as if they were its own fields.
pub(crate) struct Ctx<'a> {
    pub now: Instant,
    pub shared: &'a mut Shared,
}

impl std::ops::Deref for Ctx<'_> {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        self.shared
    }
}

impl std::ops::DerefMut for Ctx<'_> {
    fn deref_mut(&mut self) -> &mut Shared {
        self.shared
    }
}

/// At most this many control segments wait for `poll_transmit`; more are dropped and counted
/// (`control_queue_overflows`), so a flood cannot grow the endpoint's memory when its caller
/// falls behind. A RST or ACK not sent is recovered from by the peer's retransmission.
pub(crate) const CONTROL_QUEUE_MAX: usize = 4096;

impl ControlSegment {
    /// This ACK turned into the RST that ends its record: <SEQ=SND.NXT><ACK=RCV.NXT>
    /// <CTL=RST,ACK>, with no window and no options (RFC 793's answer to a SYN in the window).
    pub fn into_reset(self) -> ControlSegment {
        let options = ControlOptions { md5: self.options.md5, ..ControlOptions::default() };
        ControlSegment { flags: TcpFlags::RST | TcpFlags::ACK, window: 0, options, ..self }
    }
}

impl Shared {
    pub fn push_control(&mut self, mut seg: ControlSegment) {
        if seg.udp.is_none() && !self.udp_ports.is_empty() {
            seg.udp = Some(self.udp_ports.get(&seg.tuple).copied().unwrap_or(0));
        }
        if self.control.len() < CONTROL_QUEUE_MAX {
            self.control.push_back(seg);
        } else {
            self.counters.control_queue_overflows += 1;
        }
    }
}

impl Ctx<'_> {
    pub fn transition(&mut self, tuple: FourTuple, from: State, to: State, cause: Cause) {
        if self.trace_transitions && from != to {
            let at = self.now;
            self.transitions.push_back(Transition { at, tuple, from, to, cause });
        }
    }
}

/// A segment that is not part of a connection's stream: RSTs, challenge ACKs, SYN-ACKs of
/// half-open entries, ACKs from TIME-WAIT.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ControlSegment {
    pub tuple: FourTuple,
    pub seq: SeqNum,
    pub ack: SeqNum,
    pub flags: TcpFlags,
    pub window: u16,
    pub options: ControlOptions,
    /// The TTL and TOS of the socket it is sent for (defaults for none).
    pub ip: IpFields,
    /// In UDP or not (FreeBSD's TCP over UDP): `Some(0)` plain TCP, `Some(port)` in UDP to
    /// that port; `None` as the tuple's record travels, which `push_control` reads from the
    /// endpoint's table of tuples in UDP (the record may be gone by the time it is sent).
    pub udp: Option<u16>,
}

/// The options of a control segment. Never SACK blocks (a SYN-ACK offers SACK, an ACK from
/// TIME-WAIT or a half-open entry reports no gaps), so not a `TcpOptions` with room for four:
/// the queue's entries are 36 bytes smaller, and none is zeroed on the way in and copied on
/// the way out.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ControlOptions {
    pub mss: Option<u16>,
    pub window_scale: Option<u8>,
    pub sack_permitted: bool,
    pub timestamps: Option<(u32, u32)>,
    /// An MD5 signature (RFC 2385), filled in as the segment is written.
    pub md5: bool,
}

/// Negotiated at the handshake.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Negotiated {
    pub snd_mss: u16,
    pub snd_wscale: u8,
    pub rcv_wscale: u8,
    pub sack_ok: bool,
    pub ts_ok: bool,
    /// Both SYNs carried window scale (RFC 7323 §2.2); otherwise both shifts are 0.
    pub wscale_ok: bool,
    /// ECN was agreed at the handshake (RFC 3168 §6.1.1).
    pub ecn_ok: bool,
}

impl Connection {
    /// The data a full segment carries: the MSS less the options every segment carries
    /// (RFC 6691).
    #[inline(always)]
    pub fn data_mss(&self) -> u32 {
        (self.neg.snd_mss as u32).saturating_sub(self.fixed_options_len() as u32).max(1)
    }

    /// Bytes every non-SYN segment spends on options: timestamps (RFC 7323 §3: 10, padded to
    /// 12) and an MD5 signature (RFC 2385: 18, padded to 20), which RFC 6691 takes out of the
    /// MSS.
    #[inline(always)]
    pub fn fixed_options_len(&self) -> usize {
        let ts = if self.neg.ts_ok { 12 } else { 0 };
        if self.flag(ConnFlags::MD5) {
            ts + synack_wire::MD5_OPTION_SPACE
        } else {
            ts
        }
    }
}

#[derive(Debug)]
pub(crate) struct Connection {
    pub handle: ConnHandle,
    pub tuple: FourTuple,
    pub state: State,
    /// The listener whose accept queue holds this connection until `accept`.
    pub listener: Option<ListenerHandle>,
    /// The connection's yes/no state, one bit each (`ConnFlags`).
    flags: ConnFlags,
    pub error: Option<ConnError>,
    /// The last soft ICMP error (`icmp.rs`), reported if the connection times out.
    soft_error: Option<ConnError>,

    /// The send side: SND.*, the send buffer, RTT, congestion control and loss recovery.
    pub snd: Sender,
    /// The receive side: RCV.*, the receive buffer, reassembly and the delayed ACK.
    pub rcv: Receiver,

    neg: Negotiated,
    /// Our own MSS (what we announced).
    rcv_mss: u16,
    /// Packetization-layer path MTU discovery (RFC 4821), when `tcp_mtu_probing` is on.
    mtu: MtuSearch,
    /// Congestion window validation (RFC 7661; Linux's `tcp_cwnd_validate`): the most
    /// segments in flight in the window that ends at `cwnd_usage_seq` (whether cwnd limited
    /// sending in it is `ConnFlags::CWND_LIMITED`).
    max_out_segments: u16,
    cwnd_usage_seq: SeqNum,
    ts_recent: u32,
    ts_offset: u32,
    /// IP_TTL and IP_TOS: what our packets carry.
    pub ip: IpFields,

    /// ECN (RFC 3168 §6.1): no second reduction until SND.UNA passes `ecn_recover`.
    ecn_recover: SeqNum,
    timers: TimerTable,
    /// Expirations of the retransmission timer since progress; persist/keepalive probes.
    rto_count: u8,
    probe_count: u8,
    keepalive_probes_sent: u8,
    /// When SND.UNA last advanced (for the user timeout and keepalive idleness).
    last_progress: MsStamp,
    last_heard: MsStamp,
    /// When an ACK last answered an unacceptable segment or a challenge (NEVER: not yet).
    last_oow_ack: MsStamp,
    /// ACKs of that kind since `last_oow_ack` began the limit's window.
    oow_acks: u8,
    /// Where the chronograph's current spell began, and the time it has counted busy
    /// (including window-limited) and window-limited, milliseconds (`conn/chrono.rs`).
    chrono_start: MsStamp,
    busy_ms: u32,
    rwnd_limited_ms: u32,

    /// The segments owed on the next poll (an ACK now, a resend, a probe).
    owed: Owed,
    /// SO_LINGER and TCP_USER_TIMEOUT, milliseconds; `UNSET_MS` when not set (an `Option`
    /// each took twice the room).
    linger_ms: u32,
    user_timeout_ms: u32,
}

/// The smallest `TCP_MAXSEG` Linux accepts (`TCP_MIN_MSS`).
pub(crate) const MIN_USER_MSS: u16 = 88;

bitflags::bitflags! {
    /// A connection's yes/no state, one bit each (fifteen `bool`s took fifteen bytes).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub(crate) struct ConnFlags: u32 {
        /// The user has given the handle up (`close` or `abort`); free it once CLOSED.
        const RELEASED = 1 << 0;
        /// `close` was called: no more reads, so new data is answered with RST.
        const READ_CLOSED = 1 << 1;
        /// `shutdown` or `close` was called: a FIN follows the queued data.
        const FIN_QUEUED = 1 << 2;
        /// The peer's FIN has arrived (in order).
        const FIN_RECEIVED = 1 << 3;
        /// ECN (RFC 3168 §6.1): echo ECE until the peer's CWR.
        const ECE_PENDING = 1 << 4;
        /// ECN: set CWR on the next new data after reducing for an echo.
        const CWR_PENDING = 1 << 5;
        /// The ACK owed is a challenge ACK (RFC 5961): `resend_fin_with_ack` leaves it bare.
        const ACK_IS_CHALLENGE = 1 << 6;
        /// Our FIN has been acknowledged.
        const OUR_FIN_ACKED = 1 << 7;
        /// The user asked to hear when send-buffer room frees up.
        const WANT_WRITABLE = 1 << 8;
        /// TCP_NODELAY: no Nagle.
        const NODELAY = 1 << 9;
        /// `TCP_NOOPT`: our SYN (or SYN-ACK) carries no options and the peer's are ignored
        /// but its MSS.
        const NO_OPTIONS = 1 << 10;
        /// SO_KEEPALIVE.
        const KEEPALIVE = 1 << 11;
        /// `Compat::round_scaled_window_up`, copied at creation (the window field is written
        /// where the config is not at hand).
        const ROUND_WINDOW_UP = 1 << 12;
        /// `Compat::window_update_when_doubled`, copied at creation.
        const WINDOW_UPDATE_WHEN_DOUBLED = 1 << 13;
        /// RFC 7661: cwnd limited sending in the current window (`validation.rs`).
        const CWND_LIMITED = 1 << 14;
        /// Our FIN went out in a segment of its own (a tail loss probe resends it so).
        const FIN_ALONE = 1 << 15;
        /// The application set the send buffer (SO_SNDBUF): no auto-tuning (`autotune.rs`).
        const SNDBUF_LOCKED = 1 << 16;
        /// TCP_CORK: only full segments go until it is lifted.
        const CORK = 1 << 17;
        /// The last write said more follows (MSG_MORE): a partial segment waits for the next
        /// write or ACK.
        const MORE = 1 << 18;
        /// The data at the send buffer's end was written with MSG_MORE: no PSH for it.
        const NO_PUSH = 1 << 19;
        /// Lifting the cork or setting TCP_NODELAY pushes what is held, once.
        const PUSH_NOW = 1 << 20;
        /// cwnd is coming down for an ECN echo (Linux's CWR state, `ecn.rs`).
        const CWR = 1 << 21;
        /// The time chronograph (Linux's `tcp_chrono`) runs: data is queued or in flight.
        const CHRONO_BUSY = 1 << 22;
        /// It runs for the peer's window: data waits that the window does not take.
        const CHRONO_RWND = 1 << 23;
        /// The socket set its own keep-alive timing (`keepalive.rs`).
        const OWN_KEEPALIVE = 1 << 24;
        /// TCP_MD5SIG with a key for the peer: every segment is signed, and only segments
        /// with a valid signature are taken (RFC 2385).
        const MD5 = 1 << 25;
        /// The persist timer waits for the next paced departure, not for a probe
        /// (`pacing.rs`).
        const PACED = 1 << 26;
    }
}

impl ConnFlags {
    /// A new connection's: the `Compat` knobs it copies, nothing else set.
    fn from_config(compat: &crate::Compat) -> ConnFlags {
        let mut flags = ConnFlags::empty();
        flags.set(ConnFlags::ROUND_WINDOW_UP, compat.round_scaled_window_up);
        flags.set(ConnFlags::WINDOW_UPDATE_WHEN_DOUBLED, compat.window_update_when_doubled);
        flags
    }
}

impl Connection {
    #[inline(always)]
    fn flag(&self, flag: ConnFlags) -> bool {
        self.flags.contains(flag)
    }
    #[inline(always)]
    fn set_flag(&mut self, flag: ConnFlags, on: bool) {
        self.flags.set(flag, on);
    }
    /// Clears `flag`, saying whether it was set.
    #[inline(always)]
    fn take_flag(&mut self, flag: ConnFlags) -> bool {
        let was = self.flags.contains(flag);
        self.flags.remove(flag);
        was
    }
    /// The user has given the handle up.
    pub fn released(&self) -> bool {
        self.flag(ConnFlags::RELEASED)
    }
}

/// Options for a new connection taken from the config.
pub(crate) struct NewConn {
    pub handle: ConnHandle,
    pub tuple: FourTuple,
    pub iss: SeqNum,
    pub ts_offset: u32,
    pub now: Instant,
    /// The socket's IP_TTL and IP_TOS (a listener's, for a passive open).
    pub ip: IpFields,
}

impl Connection {
    // Inlined, as `new_active` and `new_passive` are into the slab's `insert_with`, so that
    // the record is built in its slab place; returned by value, the whole record would be
    // copied once more on an active open and twice more on a passive one.
    #[inline(always)]
    fn blank(config: &Config, timing: &Timing, n: NewConn, state: State) -> Connection {
        let ipv6 = n.tuple.local_ip.is_ipv6();
        let rcv_mss = config.mss_for(ipv6);
        let recv_cap = config.tcp_rmem.default.min(1 << 30) as u32;
        let neg = Negotiated {
            snd_mss: crate::half_open::DEFAULT_MSS,
            snd_wscale: 0,
            rcv_wscale: 0,
            sack_ok: false,
            ts_ok: false,
            wscale_ok: false,
            ecn_ok: false,
        };
        Connection {
            handle: n.handle,
            tuple: n.tuple,
            state,
            listener: None,
            flags: ConnFlags::from_config(&config.compat),
            error: None,
            soft_error: None,
            snd: Sender::new(n.iss, config.tcp_wmem.default.min(1 << 30) as u32, timing.rto_initial_us),
            rcv: Receiver::new(recv_cap),
            neg,
            rcv_mss,
            mtu: MtuSearch::OFF,
            max_out_segments: 0,
            cwnd_usage_seq: n.iss,
            ts_recent: 0,
            ts_offset: n.ts_offset,
            ip: n.ip,
            ecn_recover: n.iss,
            timers: TimerTable::new(),
            rto_count: 0,
            probe_count: 0,
            keepalive_probes_sent: 0,
            last_progress: MsStamp::at(n.now),
            last_heard: MsStamp::at(n.now),
            last_oow_ack: MsStamp::NEVER,
            oow_acks: 0,
            chrono_start: MsStamp::at(n.now),
            busy_ms: 0,
            rwnd_limited_ms: 0,
            owed: Owed::NOTHING,
            linger_ms: UNSET_MS,
            user_timeout_ms: UNSET_MS,
        }
    }

    /// An active open (RFC 9293 §3.10.1): SYN-SENT, the SYN goes out on the next poll. The
    /// caller records the transition once the connection is sure to be kept (it is built
    /// before the endpoint has checked that its tuple is free).
    #[inline(always)]
    pub fn new_active(config: &Config, timing: &Timing, n: NewConn) -> Connection {
        let now = n.now;
        let mut conn = Connection::blank(config, timing, n, State::SynSent);
        conn.neg.rcv_wscale = config.window_scale(None);
        if let Some(limit) = config.tcp_keepinit {
            conn.timers.set(Timer::Keepalive, now + limit);
        }
        conn
    }

    /// A passive open completed by a valid final ACK: built from the half-open entry.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    pub fn new_passive(
        ctx: &mut Ctx,
        n: NewConn,
        irs: SeqNum,
        neg: Negotiated,
        ts_recent: u32,
        listener: ListenerHandle,
        peer_window: u16,
        seg_seq: SeqNum,
        seg_ack: SeqNum,
        synack_rtt_us: Option<u64>,
    ) -> Connection {
        let now = n.now;
        let mut conn = Connection::blank(&ctx.config, &ctx.timing, n, State::Established);
        conn.neg = neg;
        conn.round_recv_buffer(&ctx.config);
        conn.listener = Some(listener);
        conn.rcv.irs = irs;
        conn.rcv.nxt = irs + 1;
        conn.rcv.adv = conn.rcv.nxt + conn.recv_window();
        conn.rcv.last_ack_sent = conn.rcv.nxt;
        conn.snd.una = conn.snd.iss + 1;
        conn.snd.nxt = conn.snd.una;
        conn.snd.max = conn.snd.una;
        conn.snd.wnd = (peer_window as u32) << neg.snd_wscale;
        conn.snd.max_wnd = conn.snd.wnd;
        conn.snd.wl1 = seg_seq;
        conn.snd.wl2 = seg_ack;
        conn.ts_recent = ts_recent;
        let initial_window = conn.initial_cwnd(&ctx.config);
        conn.snd.start_congestion_control(&ctx.config, initial_window);
        conn.start_mtu_search(&ctx.config);
        if let Some(rtt_us) = synack_rtt_us {
            conn.snd.rtt.sample_us(rtt_us, ctx.timing.rto);
        }
        conn.start_rcv_space(ctx);
        if ctx.config.compat.quick_acks > 0 {
            conn.start_quick_acks(&ctx.config);
        }
        conn.last_progress = MsStamp::at(now);
        conn
    }

    /// With `round_recv_buffer_to_mss` (FreeBSD's `tcp_mss`): once the peer's MSS is known,
    /// the receive buffer grows to a whole number of segments (of the MSS before options).
    pub(crate) fn round_recv_buffer(&mut self, config: &Config) {
        if !config.compat.round_recv_buffer_to_mss {
            return;
        }
        // FreeBSD's `tcp_mss` rounds to `t_maxseg`, the MSS before options are deducted.
        let mss = (self.neg.snd_mss as u32).max(1);
        self.rcv.cap = self.rcv.cap.next_multiple_of(mss).min(1 << 30);
    }

    /// `Compat::quick_acks` at the start of the connection: one per two MSS of window, at
    /// least 2, at most the knob (Linux's `tcp_incr_quickack`).
    pub(crate) fn start_quick_acks(&mut self, config: &Config) {
        let most = config.compat.quick_acks as u32;
        let per_window = (self.recv_window() / (2 * self.rcv_mss.max(1) as u32)).max(2);
        self.rcv.quick_acks = most.min(per_window) as u8;
    }

    fn initial_cwnd(&self, config: &Config) -> u32 {
        config.initial_cwnd_segments.max(1) * self.neg.snd_mss as u32
    }

    fn set_state(&mut self, ctx: &mut Ctx, to: State, cause: Cause) {
        ctx.transition(self.tuple, self.state, to, cause);
        self.state = to;
    }

    /// Ends the connection: CLOSED, queues flushed, the error recorded and reported.
    fn close_with(&mut self, ctx: &mut Ctx, error: Option<ConnError>, cause: Cause) {
        self.set_state(ctx, State::Closed, cause);
        self.timers.clear();
        ctx.buffers.give(&mut self.snd.buf);
        self.rcv.ooo.clear();
        if let Some(e) = error {
            self.error = Some(e);
            // RFC 9293 §3.10.7.4 (RST): "any outstanding RECEIVEs and SEND should receive
            // 'reset' responses" — buffered received data is discarded too.
            ctx.buffers.give(&mut self.rcv.buf);
            ctx.events.push_back(Event::Error(self.handle, e));
        }
        ctx.events.push_back(Event::Closed(self.handle));
    }

    /// The connection went on into a TIME-WAIT record: it shows CLOSED and runs no timers
    /// (a delayed ACK or the FIN-WAIT-2 timer may still be armed; the record owns what is left).
    pub(crate) fn retire(&mut self) {
        self.state = State::Closed;
        self.timers.clear();
        self.owed.remove(Owed::ACK);
    }

    /// Hands the stream buffers' allocations and the scoreboard to the endpoint's spares as
    /// the connection is freed.
    pub(crate) fn give_buffers(&mut self, shared: &mut Shared) {
        shared.buffers.give(&mut self.snd.buf);
        shared.buffers.give(&mut self.rcv.buf);
        self.drop_keepalive_timing(shared);
        if self.probe_count != 0 {
            shared.probe_spells.remove(&self.handle.index);
        }
        self.snd.scoreboard.release(&mut shared.scoreboards);
    }

    /// Whether the connection signs its segments and takes only signed ones (RFC 2385).
    pub(crate) fn signs(&self) -> bool {
        self.flag(ConnFlags::MD5)
    }

    /// TCP_MD5SIG: sign every segment from now on and take only signed ones. The caller has
    /// checked that a key for the peer exists.
    pub(crate) fn set_md5(&mut self, on: bool) {
        self.set_flag(ConnFlags::MD5, on);
    }

    /// The options of a control segment of this connection without timestamps: none, or a
    /// signature.
    pub(crate) fn control_options(&self) -> ControlOptions {
        ControlOptions { md5: self.flag(ConnFlags::MD5), ..ControlOptions::default() }
    }

    /// Queues a RST for this connection: <SEQ=SND.NXT><CTL=RST> (RFC 9293 §3.10.5, ABORT),
    /// with the ACK of what arrived and the timestamps, as Linux and FreeBSD send it
    /// (`tcp_send_active_reset`, FreeBSD's `tcp_outflags[CLOSED]`); the ACK bit changes nothing
    /// for the peer, whose check of a RST is by its sequence number (RFC 5961 §3.2).
    #[cold]
    pub(super) fn send_rst(&self, ctx: &mut Ctx) {
        let now = ctx.now;
        ctx.push_control(ControlSegment {
            tuple: self.tuple,
            seq: self.snd.max,
            ack: self.rcv.nxt,
            flags: TcpFlags::RST | TcpFlags::ACK,
            window: 0,
            // With timestamps, on the RST too, as both stacks send them (RFC 7323 §3.2: on
            // every segment once agreed), and signed.
            options: ControlOptions {
                timestamps: self.neg.ts_ok.then(|| (self.ts_now(now), self.ts_recent)),
                md5: self.flag(ConnFlags::MD5),
                ..ControlOptions::default()
            },
            ip: self.ip,
            udp: None,
        });
    }

    // ---- User calls (RFC 9293 §3.10) ----

    /// SEND (RFC 9293 §3.10.2).
    pub fn send(&mut self, ctx: &mut Ctx, data: &[u8]) -> Result<usize, SendError> {
        self.send_with(ctx, data, false)
    }

    /// SEND; with `more`, as Linux's MSG_MORE: more data follows, so a partial segment of
    /// it waits for the next write or ACK, and it goes without PSH.
    pub fn send_with(&mut self, ctx: &mut Ctx, data: &[u8], more: bool) -> Result<usize, SendError> {
        if let Some(e) = self.error {
            return Err(SendError::Failed(e));
        }
        if self.flag(ConnFlags::FIN_QUEUED) {
            return Err(SendError::Closed);
        }
        if !self.state.may_send() {
            return Err(if self.state == State::Closed { SendError::Closed } else { SendError::NotConnected });
        }
        let room = (self.snd.cap as usize).saturating_sub(self.snd.buf.len());
        let n = room.min(data.len());
        if n < data.len() {
            // The buffer is full (or now filled): `Writable` tells when room frees up, after
            // a partial write as after a refused one (Linux sets SOCK_NOSPACE in both).
            self.set_flag(ConnFlags::WANT_WRITABLE, true);
            if n == 0 {
                return Err(SendError::WouldBlock);
            }
        }
        ctx.buffers.fill(&mut self.snd.buf);
        self.snd.buf.extend(&data[..n]);
        self.chrono_busy(ctx.now);
        if more || self.flags.intersects(ConnFlags::MORE | ConnFlags::NO_PUSH | ConnFlags::PUSH_NOW) {
            self.set_flag(ConnFlags::MORE, more);
            self.set_flag(ConnFlags::NO_PUSH, more);
            // A push covers what was queued when it was asked for, not what comes after.
            self.set_flag(ConnFlags::PUSH_NOW, false);
        }
        Ok(n)
    }

    /// RECEIVE (RFC 9293 §3.10.3). `Ok(0)` is end of stream (the peer's FIN, all data read).
    /// Inlined into `Endpoint::recv`: a result returned through memory was stored in pieces
    /// and copied on in one 16-byte load, which waited for those stores.
    #[inline]
    pub fn recv(&mut self, buf: &mut [u8]) -> Result<usize, RecvError> {
        self.read(buf, true)
    }

    /// RECEIVE without taking the data (`MSG_PEEK`): the next read returns it again.
    pub fn peek(&mut self, buf: &mut [u8]) -> Result<usize, RecvError> {
        self.read(buf, false)
    }

    #[inline(always)]
    fn read(&mut self, buf: &mut [u8], consume: bool) -> Result<usize, RecvError> {
        if !self.rcv.buf.is_empty() && !buf.is_empty() {
            let n = buf.len().min(self.rcv.buf.len());
            let (a, b) = self.rcv.buf.as_slices();
            let from_a = n.min(a.len());
            buf[..from_a].copy_from_slice(&a[..from_a]);
            // The ring's second half only when the read reaches it (a copy call for nothing
            // otherwise).
            if n > from_a {
                buf[from_a..n].copy_from_slice(&b[..n - from_a]);
            }
            if consume {
                self.rcv.buf.drain(..n);
                self.maybe_window_update();
            }
            return Ok(n);
        }
        if let Some(e) = self.error {
            return Err(RecvError::Failed(e));
        }
        if self.flag(ConnFlags::FIN_RECEIVED) || (self.state == State::Closed && !buf.is_empty()) {
            return Ok(0);
        }
        match self.state {
            State::SynSent | State::SynReceived => Err(RecvError::NotConnected),
            _ if buf.is_empty() => Ok(0),
            _ => Err(RecvError::WouldBlock),
        }
    }

    /// After a read: RFC 9293 §3.8.6.2.2 receiver SWS avoidance — announce the larger
    /// window once it has grown by min(half the buffer, one MSS).
    fn maybe_window_update(&mut self) {
        if !self.state.is_synchronized() || self.flag(ConnFlags::FIN_RECEIVED) {
            return;
        }
        let advertised = self.rcv.adv.diff(self.rcv.nxt).max(0) as u32;
        let now_open = self.recv_window_field() << self.neg.rcv_wscale;
        let threshold = (self.rcv.cap / 2).min(self.rcv_mss as u32);
        // Linux waits until the window at least doubles (and was at most half the buffer),
        // which the RFC's rule allows: it forbids small updates, it does not require others.
        let linux_worth = !self.flag(ConnFlags::WINDOW_UPDATE_WHEN_DOUBLED)
            || (2 * advertised <= self.rcv.cap && now_open >= 2 * advertised);
        if now_open >= advertised + threshold && linux_worth {
            self.owed.insert(Owed::ACK);
        }
    }

    /// Half-close: no more sends; a FIN follows the queued data (RFC 9293 §3.10.4).
    pub fn shutdown(&mut self, ctx: &mut Ctx, cause: Cause) {
        if self.flag(ConnFlags::FIN_QUEUED) {
            return;
        }
        match self.state {
            State::SynSent => self.close_with(ctx, None, cause),
            State::SynReceived | State::Established => {
                self.set_flag(ConnFlags::FIN_QUEUED, true);
                if self.state == State::Established {
                    self.set_state(ctx, State::FinWait1, cause);
                }
            }
            State::CloseWait => {
                self.set_flag(ConnFlags::FIN_QUEUED, true);
                self.set_state(ctx, State::LastAck, cause);
            }
            _ => {}
        }
    }

    /// CLOSE: shutdown, give the handle up, and stop reading. Unread data or linger 0 turn it
    /// into an abort (RFC 1122 §4.2.2.13: a RST shows that data was lost).
    pub fn close(&mut self, ctx: &mut Ctx) {
        self.set_flag(ConnFlags::RELEASED, true);
        self.set_flag(ConnFlags::READ_CLOSED, true);
        if self.state == State::Closed {
            return;
        }
        if self.linger_ms == 0 || !self.rcv.buf.is_empty() {
            self.abort(ctx, Cause::Abort);
            return;
        }
        self.shutdown(ctx, Cause::Close);
        if self.state == State::FinWait2 {
            self.timers.set(Timer::FinWait2, ctx.now + ctx.config.tcp_fin_timeout);
        }
    }

    /// ABORT (RFC 9293 §3.10.5): RST in the synchronized states and SYN-RECEIVED, then CLOSED.
    pub fn abort(&mut self, ctx: &mut Ctx, cause: Cause) {
        self.set_flag(ConnFlags::RELEASED, true);
        if matches!(
            self.state,
            State::SynReceived | State::Established | State::FinWait1 | State::FinWait2 | State::CloseWait
        ) {
            self.send_rst(ctx);
        }
        if self.state != State::Closed {
            self.error = self.error.or(Some(ConnError::Aborted));
            self.close_with(ctx, None, cause);
        }
    }

    // ---- Options and inspection ----

    /// TCP_NODELAY; turned on it also pushes what a cork or MSG_MORE holds, once (as Linux).
    pub fn set_nodelay(&mut self, on: bool) {
        self.set_flag(ConnFlags::NODELAY, on);
        if on {
            self.set_flag(ConnFlags::PUSH_NOW, true);
        }
    }
    /// TCP_CORK: while on, only full segments go (partial ones wait for the cork to be lifted,
    /// TCP_NODELAY, or, with nothing in flight, the persist timer: Linux's 200 ms ceiling is
    /// its probe timer too); lifting it pushes what waited.
    pub fn set_cork(&mut self, on: bool) {
        self.set_flag(ConnFlags::CORK, on);
        if !on {
            self.set_flag(ConnFlags::PUSH_NOW, true);
        }
    }
    pub fn cork(&self) -> bool {
        self.flag(ConnFlags::CORK)
    }
    pub fn nodelay(&self) -> bool {
        self.flag(ConnFlags::NODELAY)
    }
    pub fn set_linger(&mut self, linger: Option<Duration>) {
        self.linger_ms = linger.map_or(UNSET_MS, millis_rounded_up);
    }
    pub fn linger(&self) -> Option<Duration> {
        (self.linger_ms != UNSET_MS).then(|| Duration::from_millis(self.linger_ms as u64))
    }
    /// The connection-establishment limit (FreeBSD's TCP_KEEPINIT): `connect` fails with
    /// `TimedOut` this long after it was called if the handshake has not completed. Only in
    /// SYN-SENT; returns false otherwise.
    pub fn set_connect_timeout(&mut self, ctx: &Ctx, timeout: Option<Duration>) -> bool {
        if self.state != State::SynSent {
            return false;
        }
        let since = self.last_progress.instant(ctx.now);
        self.timers.set(Timer::Keepalive, timeout.map_or(Instant::NEVER, |d| since + d));
        true
    }
    /// `TCP_MAXSEG` (Linux's `user_mss`): before our SYN, the MSS it announces is at most
    /// `mss`; and segments sent are no larger than `mss`, whatever the peer announced. As
    /// Linux, 88 to 65535 bytes; false for a value outside.
    pub fn set_max_segment(&mut self, mss: u16) -> bool {
        if mss < MIN_USER_MSS {
            return false;
        }
        if self.state == State::SynSent && self.snd.max == self.snd.iss {
            self.rcv_mss = self.rcv_mss.min(mss);
        }
        self.neg.snd_mss = self.neg.snd_mss.min(mss);
        true
    }

    /// A passive open's announced MSS, as its listener clamps it.
    pub(crate) fn limit_announced_mss(&mut self, mss: u16) {
        self.rcv_mss = self.rcv_mss.min(mss);
    }

    /// Only before our SYN has gone out; returns false when too late.
    /// Whether this is an active open whose SYN has not gone out yet.
    pub fn syn_unsent(&self) -> bool {
        self.snd.max == self.snd.iss && self.state == State::SynSent
    }
    pub fn set_no_options(&mut self, on: bool) -> bool {
        if !self.syn_unsent() {
            return false;
        }
        self.set_flag(ConnFlags::NO_OPTIONS, on);
        true
    }
    pub fn set_user_timeout(&mut self, timeout: Option<Duration>) {
        self.user_timeout_ms = timeout.map_or(UNSET_MS, millis_rounded_up);
    }
    /// Buffer sizes may change any time, within `tcp_wmem`'s bounds; a smaller send buffer
    /// does not drop queued data.
    pub fn set_send_buffer_size(&mut self, config: &Config, bytes: usize) {
        self.snd.cap = config.tcp_wmem.clamp(bytes).min(1 << 30) as u32;
        self.set_flag(ConnFlags::SNDBUF_LOCKED, true);
    }
    /// The receive buffer can only be set before the handshake, as the window scale
    /// announced in the SYN depends on it (like SO_RCVBUF before connect/listen).
    pub fn set_recv_buffer_size(&mut self, config: &Config, bytes: usize) -> bool {
        if self.state != State::SynSent || self.snd.nxt != self.snd.iss {
            return false;
        }
        self.rcv.cap = config.tcp_rmem.clamp(bytes).min(1 << 30) as u32;
        self.rcv.space = autotune::RCV_SPACE_LOCKED;
        self.neg.rcv_wscale = config.window_scale(Some(self.rcv.cap as usize));
        true
    }
    pub fn send_buffer_size(&self) -> usize {
        self.snd.cap as usize
    }
    pub fn recv_buffer_size(&self) -> usize {
        self.rcv.cap as usize
    }
    /// Bytes queued to send, not yet acknowledged (ss's Send-Q).
    pub fn send_queue_len(&self) -> usize {
        self.snd.buf.len()
    }
    /// Bytes received and not yet read (ss's Recv-Q).
    pub fn recv_queue_len(&self) -> usize {
        self.rcv.buf.len()
    }
    /// What TCP_INFO reports, the chronograph read at `now`.
    pub fn info(&self, now: Instant) -> ConnInfo {
        let (busy_time, rwnd_limited) = self.chrono_read(now);
        ConnInfo {
            busy_time,
            rwnd_limited,
            state: self.state,
            snd_una: self.snd.una,
            snd_nxt: self.snd.nxt,
            rcv_nxt: self.rcv.nxt,
            snd_wnd: self.snd.wnd,
            rcv_wnd: self.recv_window(),
            snd_mss: self.neg.snd_mss,
            cwnd: self.snd.cc.cwnd(),
            ssthresh: self.snd.cc.ssthresh(),
            srtt: self.snd.rtt.srtt(),
            rttvar: self.snd.rtt.rttvar(),
            out_of_order_bytes: self.rcv.ooo.len(),
            rto: self.snd.rtt.rto(Duration::MAX),
            retransmits: self.rto_count,
            snd_wscale: self.neg.snd_wscale,
            rcv_wscale: self.neg.rcv_wscale,
            sack_ok: self.neg.sack_ok,
            ts_ok: self.neg.ts_ok,
            ecn_ok: self.neg.ecn_ok,
            advmss: self.rcv_mss,
            sacked_bytes: self.snd.scoreboard.sacked_above(self.snd.una),
            lost_segments: self.lost_segments(),
            retransmitted_out: self.snd.scoreboard.resent_segments(self.data_mss()),
            reordering: self.snd.scoreboard.rack().map_or(3, |rack| rack.reordering),
            reorder_events: self.snd.scoreboard.rack().map_or(0, |rack| rack.reorder_events),
            last_data_recv_ms: self.rcv.last_data_ms,
            probes: self.probe_count.max(self.keepalive_probes_sent),
            ca_state: match () {
                _ if self.snd.fast_recovery.active => 3,
                _ if self.rto_count > 0 => 4,
                _ if self.snd.una < self.ecn_recover && self.neg.ecn_ok => 2,
                _ if self.snd.fast_recovery.dup_acks > 0 || !self.snd.scoreboard.is_empty() => 1,
                _ => 0,
            },
        }
    }

    /// The window we can offer (`Receiver::window`).
    fn recv_window(&self) -> u32 {
        self.rcv.window()
    }

    /// The window field for a non-SYN segment: scaled down (rounded up with
    /// `round_scaled_window_up`), at most 65535.
    fn recv_window_field(&self) -> u32 {
        let window = self.recv_window();
        let window = if self.flag(ConnFlags::ROUND_WINDOW_UP) {
            window.next_multiple_of(1 << self.neg.rcv_wscale)
        } else {
            window
        };
        (window >> self.neg.rcv_wscale).min(u16::MAX as u32)
    }

    /// Where the last ACK put the TIME-WAIT record's numbers, and our TSval offset (so that
    /// the record's first ACK need not hash the tuple again).
    pub(crate) fn time_wait_numbers(&self) -> (SeqNum, SeqNum, u32, u16, bool, u32) {
        (self.snd.max, self.rcv.nxt, self.ts_recent, self.recv_window_field() as u16, self.neg.ts_ok, self.ts_offset)
    }

    /// Whether the ACK for the segment that brought us here is still owed.
    pub(crate) fn owes_ack(&self) -> bool {
        self.owed.has(Owed::ACK) || self.timers.is_armed(Timer::DelayedAck)
    }

    fn ts_now(&self, now: Instant) -> u32 {
        (now.as_millis() as u32).wrapping_add(self.ts_offset)
    }
}

/// A snapshot of a connection's variables, like Linux's `TCP_INFO`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnInfo {
    /// RFC 9293 state.
    pub state: State,
    /// SND.UNA: the oldest unacknowledged sequence number.
    pub snd_una: SeqNum,
    /// SND.NXT: the next sequence number to send.
    pub snd_nxt: SeqNum,
    /// RCV.NXT: the next sequence number expected.
    pub rcv_nxt: SeqNum,
    /// SND.WND: the peer's window, bytes (scaled).
    pub snd_wnd: u32,
    /// RCV.WND: the window we offer, bytes.
    pub rcv_wnd: u32,
    /// The MSS we send with (the peer's, less our option bytes).
    pub snd_mss: u16,
    /// Congestion window, bytes.
    pub cwnd: u32,
    /// Slow-start threshold, bytes.
    pub ssthresh: u32,
    /// Smoothed RTT (RFC 6298), once measured.
    pub srtt: Option<Duration>,
    /// RTT variation (RFC 6298).
    pub rttvar: Duration,
    /// Current retransmission timeout, backoff included.
    pub rto: Duration,
    /// Bytes held out of order, waiting for a gap to fill.
    pub out_of_order_bytes: usize,
    /// Retransmission timeouts in a row.
    pub retransmits: u8,
    /// The peer's window-scale shift.
    pub snd_wscale: u8,
    /// Our window-scale shift.
    pub rcv_wscale: u8,
    /// SACK was negotiated.
    pub sack_ok: bool,
    /// Timestamps were negotiated.
    pub ts_ok: bool,
    /// ECN was agreed in the handshake (RFC 3168).
    pub ecn_ok: bool,
    /// The MSS we announced.
    pub advmss: u16,
    /// Bytes above SND.UNA the peer has SACKed.
    pub sacked_bytes: u32,
    /// Segments counted lost and not yet delivered (Linux's `lost_out`, tcpi_lost).
    pub lost_segments: u32,
    /// Lost segments retransmitted and not yet delivered (Linux's `retrans_out`, tcpi_retrans).
    pub retransmitted_out: u32,
    /// How far out of order the peer's ACKs have shown data arriving, in segments (Linux's
    /// `tp->reordering`, tcpi_reordering; 3 until reordering is seen).
    pub reordering: u32,
    /// ACKs that showed data delivered out of order (Linux's tcpi_reord_seen).
    pub reorder_events: u32,
    /// When data last arrived in order (or the connection was established), on the engine's
    /// clock in milliseconds, wrapping: `now.as_millis() as u32` less this is Linux's
    /// tcpi_last_data_recv.
    pub last_data_recv_ms: u32,
    /// Time with data queued or in flight (Linux's tcpi_busy_time), to the millisecond.
    pub busy_time: Duration,
    /// Of that, the time the peer's window held queued data back (tcpi_rwnd_limited).
    pub rwnd_limited: Duration,
    /// Zero-window or keepalive probes sent without an answer.
    pub probes: u8,
    /// Where loss recovery stands, in Linux's `TCP_CA_*` numbers: 0 open, 1 disorder
    /// (duplicate ACKs or SACKs seen), 2 CWR (reduced for an ECN echo), 3 recovery (fast
    /// recovery), 4 loss (after a retransmission timeout, until the ACK of new data).
    pub ca_state: u8,
}

/// SO_LINGER or TCP_USER_TIMEOUT not set.
pub(super) const UNSET_MS: u32 = u32::MAX;

/// A duration in whole milliseconds, rounded up (so that only zero stays zero), below
/// `UNSET_MS` (49 days).
fn millis_rounded_up(d: Duration) -> u32 {
    d.as_micros().div_ceil(1000).min(UNSET_MS as u128 - 1) as u32
}
