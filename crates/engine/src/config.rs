//! One `Config` per endpoint, with Linux-like defaults and sysctl-like names.

use crate::rtt::RtoBounds;
use crate::time::micros;
use std::time::Duration;
use synack_wire::OptionLayout;

/// When to use ECN (RFC 3168), as Linux's `tcp_ecn` (0, 1, 2) and FreeBSD's `ecn.enable`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EcnMode {
    /// Never: SYNs asking for ECN are answered without it.
    Off,
    /// Ask for it in our SYNs, and accept it when a peer asks.
    On,
    /// Accept it when a peer asks, never ask (the default of Linux and FreeBSD).
    Passive,
}

/// The congestion controller new connections run, as Linux's `tcp_congestion_control`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CongestionAlgorithm {
    /// NewReno (RFC 5681, RFC 6582): halve on a loss, one segment more per RTT.
    Reno,
    /// CUBIC (RFC 9438), the default of Linux and FreeBSD: 0.7 on a loss, then a cubic curve
    /// back to where the loss came.
    Cubic,
}

impl CongestionAlgorithm {
    /// Linux's name for it (`cubic`, `reno`).
    pub fn name(self) -> &'static str {
        match self {
            CongestionAlgorithm::Reno => "reno",
            CongestionAlgorithm::Cubic => "cubic",
        }
    }

    /// The algorithm Linux calls `name`, if synack has it.
    pub fn from_name(name: &str) -> Option<CongestionAlgorithm> {
        match name {
            "reno" | "newreno" => Some(CongestionAlgorithm::Reno),
            "cubic" => Some(CongestionAlgorithm::Cubic),
            _ => None,
        }
    }
}

/// The endpoint's configuration. Names follow Linux's sysctls where one exists (`tcp_syn_retries`,
/// `tcp_max_syn_backlog`, ...); `Config::default()` is Linux's default behaviour.
/// `compat` holds the knobs that emulate another stack (FreeBSD, for its test suite).
///
/// Fields may be added: build one from `Config::default()` (or `Config::freebsd()`) and set
/// fields on it, or with `with`: `Config::default().with(|c| c.tcp_syn_retries = 3)`.
#[non_exhaustive]
#[derive(Debug, Clone)]
pub struct Config {
    /// Seeds every random choice of the endpoint: ISN secret, timestamp offsets, ephemeral ports.
    pub rng_seed: u64,
    /// SYN-ACK retransmissions before a half-open entry is dropped (Linux default 5).
    pub tcp_synack_retries: u8,
    /// SYN retransmissions before `connect` fails with `TimedOut` (Linux default 6).
    pub tcp_syn_retries: u8,
    /// How long a `connect` may wait for the handshake before it fails with `TimedOut`,
    /// whatever the SYN retransmissions (FreeBSD `net.inet.tcp.keepinit`, 75 s; Linux has no
    /// such limit: None, `tcp_syn_retries` alone ends it).
    pub tcp_keepinit: Option<Duration>,
    /// Retransmission timeouts in a row after which the path is suspected of dropping big
    /// segments without ICMP, a black hole (Linux `tcp_retries1`, 3; RFC 1122 §4.2.3.5's R1).
    pub tcp_retries1: u8,
    /// Retransmissions of data before the connection is aborted (Linux `tcp_retries2`, 15).
    pub tcp_retries2: u8,
    /// Upper bound of each listener's SYN queue (half-open entries).
    pub tcp_max_syn_backlog: usize,
    /// SYN cookies (RFC 4987 §3.6), as Linux's `tcp_syncookies`: 0 never, 1 when a listener's
    /// SYN queue is full, 2 for every SYN.
    pub tcp_syncookies: u8,
    /// Upper bound of a listener's accept queue, whatever backlog `listen` asks for.
    pub somaxconn: usize,
    /// When the accept queue is full: false drops the final ACK (the client retries);
    /// true answers it with RST.
    pub tcp_abort_on_overflow: bool,
    /// How long an orphaned connection (closed by the user) may stay in FIN-WAIT-2.
    pub tcp_fin_timeout: Duration,
    /// Maximum segment lifetime; TIME-WAIT lasts 2 × MSL (RFC 9293 §3.4.2).
    pub msl: Duration,
    /// RFC 6298 §2.1 initial RTO.
    pub rto_initial: Duration,
    /// RFC 6298 §2.4 lower bound (Linux uses 200 ms rather than the RFC's 1 s).
    pub rto_min: Duration,
    /// RFC 6298 §2.5 upper bound.
    pub rto_max: Duration,
    /// Delayed-ACK timeout (RFC 9293 §3.8.6.3: under 0.5 s; Linux's minimum is 40 ms).
    pub delayed_ack: Duration,
    /// Link MTU; the MSS we announce is the MTU less the IP and TCP headers.
    pub mtu: usize,
    /// Packetization-layer path MTU discovery (RFC 4821), as Linux's `tcp_mtu_probing`: 0 off,
    /// 1 once a black hole is suspected (`tcp_retries1` timeouts in a row), 2 always. On, a
    /// connection sends at `tcp_base_mss` at most and probes upward with single larger
    /// segments.
    pub tcp_mtu_probing: u8,
    /// The segment size a connection falls back to when probing starts (Linux
    /// `tcp_base_mss`, 1024); each further black-hole timeout halves it, down to
    /// `tcp_mtu_probe_floor`.
    pub tcp_base_mss: u16,
    /// The smallest segment size black-hole detection falls to (Linux `tcp_mtu_probe_floor`, 48).
    pub tcp_mtu_probe_floor: u16,
    /// Receive buffer sizes, bytes, as Linux's `tcp_rmem`: `default` is a new connection's
    /// buffer (its window); the window scale it announces is the shift for `max`, so that the
    /// window can grow that far later (RFC 7323 §2.3; Linux's `tcp_select_initial_window`),
    /// or for the buffer the application set before the handshake (SO_RCVBUF), which is
    /// held within `min..=max`.
    pub tcp_rmem: BufferLimits,
    /// Send buffer sizes, bytes, as Linux's `tcp_wmem`: `default` is a new connection's
    /// buffer; one the application sets (SO_SNDBUF) is held within `min..=max`.
    pub tcp_wmem: BufferLimits,
    /// Explicit Congestion Notification (RFC 3168).
    pub tcp_ecn: EcnMode,
    /// SYN retransmissions that still ask for ECN before the SYN is sent without it (RFC 3168
    /// §6.1.1.1): Linux 0 (`tcp_ecn_fallback`), FreeBSD 1 (`net.inet.tcp.ecn.maxretries`).
    pub tcp_ecn_fallback_retries: u8,
    /// Negotiate RFC 7323 timestamps (Linux `tcp_timestamps`), RFC 7323 window scaling
    /// (`tcp_window_scaling`) and RFC 2018 SACK (`tcp_sack`).
    pub tcp_timestamps: bool,
    /// Announce and accept RFC 7323 window scaling.
    pub tcp_window_scaling: bool,
    /// Announce and accept RFC 2018 SACK (and use SACK-based loss recovery, RFC 6675).
    pub tcp_sack: bool,
    /// Report duplicate data in the first SACK block (RFC 2883 D-SACK; Linux `tcp_dsack`).
    pub tcp_dsack: bool,
    /// RFC 6928 initial congestion window, in segments.
    pub initial_cwnd_segments: u32,
    /// The congestion controller (Linux `tcp_congestion_control`, default `cubic`).
    pub tcp_congestion_control: CongestionAlgorithm,
    /// Tail loss probes (RFC 8985 §7), as Linux's `tcp_early_retrans`: 3 (Linux's default)
    /// or 4 send them, 0 to 2 do not (early retransmit, RFC 5827, is always on). FreeBSD's
    /// default stack sends none.
    pub tcp_early_retrans: u8,
    /// Receive and send buffers grow with the connection's rate (`conn/autotune.rs`), as
    /// Linux's `tcp_moderate_rcvbuf` (default 1) and its send-buffer expansion; a buffer the
    /// application set stays as set.
    pub tcp_moderate_rcvbuf: bool,
    /// F-RTO (RFC 5682), as Linux's `tcp_frto`: 0 off, 1 or 2 on (Linux's default 2, the
    /// SACK-enhanced algorithm, which with SACK off is the basic one). FreeBSD's default stack
    /// has none. Spurious timeouts are also found by timestamps (RFC 3522) whatever this is.
    pub tcp_frto: u8,
    /// HyStart++ (RFC 9406) in the initial slow start, as Linux's CUBIC runs HyStart by
    /// default (`hystart`).
    pub tcp_hystart: bool,
    /// The fewest segments a super-segment (GSO) is cut to when the connection's rate would
    /// give fewer, as Linux's `tcp_min_tso_segs` (default 2).
    pub tcp_min_tso_segs: u8,
    /// Pacing: data leaves spaced at the connection's rate, as Linux paces a socket on a
    /// device with the fq qdisc (off by default, as Linux's default qdisc does not pace).
    pub pacing: bool,
    /// The pacing rate as a percentage of cwnd per smoothed RTT while cwnd is below half of
    /// ssthresh (slow start), as Linux's `tcp_pacing_ss_ratio` (200).
    pub tcp_pacing_ss_ratio: u16,
    /// The same once cwnd is past half of ssthresh, as Linux's `tcp_pacing_ca_ratio` (120).
    pub tcp_pacing_ca_ratio: u16,
    /// After an idle spell longer than the RTO, sending restarts from the restart window
    /// min(IW, cwnd) (RFC 5681 §4.1), cwnd halved for every RTO idle on the way down as
    /// Linux's `tcp_slow_start_after_idle` (default on) does it (RFC 2861).
    pub tcp_slow_start_after_idle: bool,
    /// Loss detection, as Linux's `tcp_recovery`: bit 0x1 (Linux's default 1) detects losses
    /// by time with RACK (RFC 8985 §6) when SACK is on; 0 counts SACKed segments as RFC 6675
    /// does (FreeBSD's default stack).
    pub tcp_recovery: u8,
    /// Accept a RST whose sequence number is anywhere in the window (RFC 793) instead of
    /// requiring an exact match and sending a challenge ACK otherwise (RFC 5961 §3.2).
    pub tcp_insecure_rst: bool,
    /// At most one ACK per this interval answers unacceptable bare segments and challenges
    /// (RFC 5961 §7; Linux `tcp_invalid_ratelimit`), so that no two endpoints can ACK each
    /// other in a loop.
    pub tcp_invalid_ratelimit: Duration,
    /// How many such ACKs each `tcp_invalid_ratelimit` interval allows: Linux 1, FreeBSD 5 a
    /// second (`net.inet.tcp.ack_war_cnt` in `ack_war_timewindow`).
    pub tcp_invalid_ratelimit_burst: u8,
    /// At most this many challenge ACKs a second from the whole endpoint, on top of each
    /// record's own limit (RFC 5961 §7; Linux `tcp_challenge_ack_limit`, unlimited by default
    /// since Linux 6.0, as the per-record limit is enough and a shared one leaks information).
    pub tcp_challenge_ack_limit: u32,
    /// Keepalive (RFC 1122 §4.2.3.6) timing, used by connections that enable it.
    pub tcp_keepalive_time: Duration,
    /// Time between keepalive probes once the connection has been idle `tcp_keepalive_time`.
    pub tcp_keepalive_intvl: Duration,
    /// Unanswered keepalive probes before the connection is aborted.
    pub tcp_keepalive_probes: u8,
    /// Ephemeral port range for `connect` without a local port (Linux `ip_local_port_range`).
    pub ip_local_port_range: (u16, u16),
    /// Answer a SYN on a synchronized connection (or in TIME-WAIT) as RFC 793 did, with a
    /// RST when it is in the window, instead of RFC 5961 §4's challenge ACK (FreeBSD
    /// `net.inet.tcp.insecure_syn`).
    pub tcp_insecure_syn: bool,
    /// A SYN above the old connection's sequence numbers (or with a newer timestamp) may
    /// reopen a connection in TIME-WAIT (RFC 6191; Linux and the BSDs). Off: RFC 9293's rules
    /// only (challenge ACK, or RST with `tcp_insecure_syn`).
    pub tcp_time_wait_reopen: bool,
    /// A hard ICMP error (port or protocol unreachable, administratively prohibited, time
    /// exceeded) aborts a connection in SYN-SENT, as Linux does and FreeBSD's
    /// `net.inet.tcp.icmp_may_rst` (on by default) allows; off, every ICMP error is soft
    /// (RFC 1122 §4.2.3.9: remembered, and reported if the connection then times out).
    pub icmp_may_rst: bool,
    /// At most this many ICMP messages (echo replies) a second (Linux's `icmp_msgs_per_sec`).
    pub icmp_msgs_per_sec: u32,
    /// Drop segments with both SYN and FIN set (FreeBSD `net.inet.tcp.drop_synfin`).
    pub tcp_drop_synfin: bool,
    /// Keep-alives on every connection, SO_KEEPALIVE or not (FreeBSD
    /// `net.inet.tcp.always_keepalive`, on by default there; Linux has none: off).
    pub tcp_always_keepalive: bool,
    /// The UDP port that takes TCP encapsulated in UDP, FreeBSD's
    /// `net.inet.tcp.udp_tunneling_port` (0, the default: none). Connections opened by a
    /// segment that came in UDP, and those given a remote port with
    /// `ConnMut::set_remote_udp_port`, send in UDP from this port.
    pub tcp_udp_tunneling_port: u16,
    /// Knobs that make the engine behave as another stack does where the RFCs leave a
    /// choice (the FreeBSD suite's expectations); the default is Linux's.
    pub compat: Compat,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            rng_seed: 0,
            tcp_synack_retries: 5,
            tcp_syn_retries: 6,
            tcp_keepinit: None,
            tcp_retries1: 3,
            tcp_retries2: 15,
            tcp_max_syn_backlog: 256,
            tcp_syncookies: 1,
            somaxconn: 4096,
            tcp_abort_on_overflow: false,
            tcp_fin_timeout: Duration::from_secs(60),
            msl: Duration::from_secs(30),
            rto_initial: Duration::from_secs(1),
            rto_min: Duration::from_millis(200),
            rto_max: Duration::from_secs(120),
            delayed_ack: Duration::from_millis(40),
            mtu: 1500,
            tcp_mtu_probing: 0,
            tcp_base_mss: 1024,
            tcp_mtu_probe_floor: 48,
            // Linux's min and max (4 KiB; 6 MiB and 4 MiB). The defaults are larger than
            // Linux's 128 KiB and 16 KiB, which its auto-tuning grows and the engine does not.
            tcp_rmem: BufferLimits { min: 4096, default: 256 * 1024, max: 6 * 1024 * 1024 },
            tcp_wmem: BufferLimits { min: 4096, default: 256 * 1024, max: 4 * 1024 * 1024 },
            tcp_ecn: EcnMode::Passive,
            tcp_ecn_fallback_retries: 0,
            tcp_timestamps: true,
            tcp_window_scaling: true,
            tcp_sack: true,
            tcp_dsack: true,
            initial_cwnd_segments: 10,
            tcp_congestion_control: CongestionAlgorithm::Cubic,
            tcp_early_retrans: 3,
            tcp_recovery: 1,
            tcp_hystart: true,
            tcp_min_tso_segs: 2,
            pacing: false,
            tcp_pacing_ss_ratio: 200,
            tcp_pacing_ca_ratio: 120,
            tcp_slow_start_after_idle: true,
            tcp_frto: 2,
            tcp_moderate_rcvbuf: true,
            tcp_insecure_rst: false,
            tcp_invalid_ratelimit: Duration::from_millis(500),
            tcp_invalid_ratelimit_burst: 1,
            tcp_challenge_ack_limit: u32::MAX,
            tcp_keepalive_time: Duration::from_secs(7200),
            tcp_keepalive_intvl: Duration::from_secs(75),
            tcp_keepalive_probes: 9,
            ip_local_port_range: (32768, 60999),
            tcp_insecure_syn: false,
            tcp_time_wait_reopen: true,
            icmp_may_rst: true,
            icmp_msgs_per_sec: 1000,
            tcp_drop_synfin: false,
            tcp_always_keepalive: false,
            tcp_udp_tunneling_port: 0,
            compat: Compat::default(),
        }
    }
}

/// Where the RFCs leave a choice and another stack chose otherwise than Linux: the knobs that
/// let the engine answer as that stack does. `Compat::default()` is Linux's; `freebsd()` is
/// FreeBSD's as its TCP test suite sees it.
#[non_exhaustive]
#[derive(Debug, Clone, Copy)]
pub struct Compat {
    /// How options are ordered and padded on the wire (Linux's layout or the BSDs').
    pub option_layout: OptionLayout,
    /// Announce the window-scale shift of `tcp_rmem.max` even when the application set the
    /// receive buffer (FreeBSD scales for `kern.ipc.maxsockbuf` whatever SO_RCVBUF says;
    /// Linux scales for the buffer set).
    pub window_scale_ignores_set_buffer: bool,
    /// Offer a whole number of MSS in the SYN's and SYN-ACK's window (Linux) rather than the
    /// whole buffer up to 65535 (the BSDs).
    pub round_syn_window_to_mss: bool,
    /// Round the receive buffer up to a multiple of the MSS once the MSS is known (FreeBSD).
    pub round_recv_buffer_to_mss: bool,
    /// Round a scaled window field up rather than down, so that scaling never announces less
    /// than the buffer holds (FreeBSD's `tcp_output`; Linux rounds down).
    pub round_scaled_window_up: bool,
    /// While our FIN is sent and unacknowledged (FIN-WAIT-1, CLOSING, LAST-ACK), every ACK
    /// sent carries the FIN again at its sequence number, as the BSDs' output routine does.
    /// Challenge ACKs (RFC 5961) and RSTs are built apart and never do. Off: a bare ACK.
    pub resend_fin_with_ack: bool,
    /// A segment wholly left of RCV.NXT is trimmed to nothing and its ACK field still
    /// processed, as the BSDs do (Stevens vol. 2 §28.8), instead of RFC 9293 §3.10.7.4's
    /// "send an ACK and drop it". Either way it is answered with an ACK.
    pub process_ack_of_old_segment: bool,
    /// Acknowledge every second data segment at once whatever its size, as the BSDs do
    /// (they delay an ACK only while none is pending), rather than every second full-sized
    /// one (RFC 9293 §3.8.6.3's minimum, and Linux's rule).
    pub ack_every_second_segment: bool,
    /// From the third retransmission of a SYN on, offer only the MSS, in case the other
    /// options are what a middlebox drops (FreeBSD `net.inet.tcp.rexmit_drop_options`, off by
    /// default there too).
    pub rexmit_drop_options: bool,
    /// Nagle with Minshall's refinement (Linux): a segment shorter than the MSS waits only
    /// while another such segment is unacknowledged, not while any data is (RFC 9293 §3.7.4's
    /// rule, which FreeBSD keeps), so the tail of a large write is not held a round trip.
    pub nagle_minshall: bool,
    /// Quick-ACK mode: the first this many data segments of a connection (at most one per two
    /// MSS of receive window, at least 2) are ACKed at once instead of after the delayed-ACK
    /// wait, so that a sender's slow start is not held back (Linux's `TCP_MAX_QUICKACKS`, 16,
    /// as the linux script profile sets). 0 here: every segment may wait (RFC 9293 §3.8.6.3).
    pub quick_acks: u8,
    /// After a read, announce the larger window only once it has at least doubled (Linux's
    /// `__tcp_cleanup_rbuf`, as the linux script profile sets), not as soon as RFC 9293
    /// §3.8.6.2.2 allows (an MSS or half the buffer more).
    pub window_update_when_doubled: bool,
    /// Added to every computed RTO before the bounds apply (FreeBSD `rexmit_slop`, 200 ms
    /// there; 0 here, as Linux).
    pub rto_slop: Duration,
    /// The RTO's floor bounds the variance term, RTO = SRTT + max(4 RTTVAR, `rto_min`), as
    /// Linux's `tcp_set_rto` computes it (its RTTVAR never below `tcp_rto_min`), rather than
    /// the RTO itself, max(SRTT + 4 RTTVAR, `rto_min`) (RFC 6298 §2.4; as the linux script
    /// profile sets).
    pub rto_min_bounds_variance: bool,
    /// An ACK of data not yet sent (SEG.ACK > SND.NXT) is dropped silently, as Linux's
    /// `tcp_ack` does, instead of answered with an ACK (RFC 9293 §3.10.7.4, RFC 5961 §5.2,
    /// FreeBSD; as the linux script profile sets).
    pub drop_ack_of_unsent_data: bool,
    /// Data arriving after `close` is answered as a closed port answers it, <SEQ=SEG.ACK>
    /// <CTL=RST> (Linux resets the socket and replies from the segment), instead of with
    /// the connection's own <SEQ=SND.NXT><ACK=RCV.NXT><CTL=RST,ACK> (FreeBSD; RFC 9293 leaves
    /// the form to the stack). As the linux script profile sets.
    pub reset_data_after_close_from_segment: bool,
    /// Slow start and congestion avoidance grow by what an ACK newly delivered: data already
    /// reported by SACK or by a duplicate ACK is not counted again when the cumulative ACK
    /// covers it (Linux's `tcp_cong_control`, which counts delivered segments), rather than
    /// by every byte the cumulative ACK covers (FreeBSD's `bytes_this_ack`).
    pub cwnd_grows_by_delivered: bool,
    /// Without timestamps, every ACK of data sent once gives an RTT sample, from when its
    /// first byte was sent as RACK logged it (with SACK; Linux times every segment,
    /// tcp_clean_rtx_queue), not only the one timed segment a round trip (FreeBSD's
    /// `t_rtttime`, RFC 6298's classic way).
    pub rtt_from_every_ack: bool,
    /// HyStart as Linux's CUBIC runs it (`hystart_detect` delay): the rise of a round's
    /// minimum RTT, seen on its ninth sample once cwnd is 16 segments, ends slow start at
    /// once, without RFC 9406's Conservative Slow Start (as the linux script profile sets;
    /// off: HyStart++).
    pub hystart_without_css: bool,
    /// CUBIC as Linux computes it (`congestion/cubic_linux.rs`): in whole segments, cwnd
    /// raised a segment at a time once an integer count of acknowledged segments is reached,
    /// the curve forgotten on a timeout and left running while the application limits
    /// sending, where RFC 9438 (and the default) grows cwnd in bytes by the acknowledged share
    /// of the way to the target. As the linux script profile sets.
    pub cubic_in_segments: bool,
}

impl Default for Compat {
    fn default() -> Compat {
        Compat {
            option_layout: OptionLayout::Linux,
            window_scale_ignores_set_buffer: false,
            round_syn_window_to_mss: true,
            round_recv_buffer_to_mss: false,
            round_scaled_window_up: false,
            resend_fin_with_ack: false,
            process_ack_of_old_segment: false,
            ack_every_second_segment: false,
            rexmit_drop_options: false,
            nagle_minshall: true,
            quick_acks: 0,
            window_update_when_doubled: false,
            rto_slop: Duration::ZERO,
            rto_min_bounds_variance: false,
            drop_ack_of_unsent_data: false,
            reset_data_after_close_from_segment: false,
            cwnd_grows_by_delivered: true,
            rtt_from_every_ack: true,
            hystart_without_css: false,
            cubic_in_segments: false,
        }
    }
}

impl Compat {
    /// FreeBSD: options laid out as its `tcp_addoptions` does (`mss,nop,wscale,sackOK,TS`, EOL
    /// padding), the window-scale shift from `tcp_rmem.max` whatever the buffer set, SYN
    /// windows not rounded to the MSS, the receive buffer rounded up to a multiple of the MSS
    /// and the scaled window field rounded up,
    /// the FIN on every ACK while unacknowledged, the ACK field of old segments processed, every
    /// second segment ACKed at once whatever its size, Nagle without Minshall's refinement,
    /// `net.inet.tcp.rexmit_slop` (200 ms) added to every RTO, and cwnd grown by every byte a
    /// cumulative ACK covers.
    pub fn freebsd() -> Compat {
        Compat {
            option_layout: OptionLayout::Bsd,
            window_scale_ignores_set_buffer: true,
            round_syn_window_to_mss: false,
            round_recv_buffer_to_mss: true,
            round_scaled_window_up: true,
            resend_fin_with_ack: true,
            process_ack_of_old_segment: true,
            ack_every_second_segment: true,
            rexmit_drop_options: false,
            nagle_minshall: false,
            quick_acks: 0,
            window_update_when_doubled: false,
            rto_slop: Duration::from_millis(200),
            rto_min_bounds_variance: false,
            drop_ack_of_unsent_data: false,
            reset_data_after_close_from_segment: false,
            cwnd_grows_by_delivered: false,
            rtt_from_every_ack: false,
            hystart_without_css: false,
            cubic_in_segments: false,
        }
    }
}

/// Linux's `tcp_rmem` / `tcp_wmem` triple: bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BufferLimits {
    /// The smallest buffer an application may set.
    pub min: usize,
    /// A new connection's buffer.
    pub default: usize,
    /// The largest buffer an application may set.
    pub max: usize,
}

impl BufferLimits {
    /// `bytes` held within `min..=max` (and at least 1).
    pub fn clamp(&self, bytes: usize) -> usize {
        bytes.min(self.max).max(self.min).max(1)
    }
}

/// The window-scale shift for a receive buffer (RFC 7323 §2.3: the smallest shift that lets
/// the 16-bit field express the buffer; at most 14).
pub fn window_scale_for(recv_buffer: usize) -> u8 {
    // The bits above the field's sixteen: the buffer shifted by their number fits.
    ((usize::BITS - (recv_buffer >> 16).leading_zeros()) as u8).min(14)
}

/// The config's times that every connection uses, in microseconds as engine time counts:
/// derived once per change of the config (a `Duration` costs a multiplication and a division
/// each time it becomes microseconds, and timers are armed from these on every segment).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timing {
    pub rto: RtoBounds,
    pub rto_initial_us: u64,
    pub delayed_ack_us: u64,
    /// 2 × MSL.
    pub time_wait_us: u64,
    /// `round_syn_window_to_mss`.
    pub round_syn_window: bool,
    /// `syn_window` of the config's own receive buffer and MSS, for IPv4 and IPv6: (room,
    /// MSS, window), so that the connections made with the defaults need no division.
    pub own_syn_windows: [(u32, u16, u32); 2],
}

impl Timing {
    pub fn of(config: &Config) -> Timing {
        let round_syn_window = config.compat.round_syn_window_to_mss;
        let room = config.tcp_rmem.default.min(u16::MAX as usize) as u32;
        let own = |ipv6| {
            let mss = config.mss_for(ipv6);
            (room, mss, rounded_syn_window(round_syn_window, room, mss))
        };
        Timing {
            rto: RtoBounds::new(config.rto_min, config.rto_max, config.compat.rto_slop)
                .variance_floored(config.compat.rto_min_bounds_variance),
            rto_initial_us: micros(config.rto_initial),
            delayed_ack_us: micros(config.delayed_ack),
            time_wait_us: micros(config.time_wait_len()),
            round_syn_window,
            own_syn_windows: [own(false), own(true)],
        }
    }

    /// The window field of a SYN or SYN-ACK with `room` bytes of receive buffer (at most
    /// 65535: RFC 7323 §2.2, a SYN's window is not scaled) and our `mss`: like Linux, a whole
    /// number of MSS when `round_syn_window_to_mss` is set. That takes a division, a slow
    /// instruction; for the config's own buffer and MSS it was done in `Timing::of`.
    #[inline]
    pub fn syn_window(&self, room: u32, mss: u16) -> u32 {
        match self.own_syn_windows.iter().find(|&&(r, m, _)| (r, m) == (room, mss)) {
            Some(&(_, _, window)) => window,
            None => rounded_syn_window(self.round_syn_window, room, mss),
        }
    }
}

fn rounded_syn_window(round: bool, room: u32, mss: u16) -> u32 {
    if round && room >= mss as u32 {
        room - room % mss as u32
    } else {
        room
    }
}

impl Config {
    /// FreeBSD as its TCP test suite sees it: `Compat::freebsd()`, a 64 KiB receive and 32 KiB
    /// send buffer of at most `kern.ipc.maxsockbuf` (2 MiB: window scale 6), one ECN SYN
    /// retransmission before falling back (`ecn.maxretries`), a 75 s connection-establishment
    /// limit (`keepinit`), 12 retransmissions at most (`TCP_MAXRXTSHIFT`), 100 ms delayed ACKs, and its retransmission timer bounds (1 s initial,
    /// 30 ms minimum, 64 s maximum); TIME-WAIT is not reopened by a new SYN (the suite's
    /// STANDARD branches expect RFC 9293's answers there).
    pub fn freebsd() -> Config {
        Config::default().with(|c| {
            c.compat = Compat::freebsd();
            c.tcp_early_retrans = 0;
            c.tcp_recovery = 0;
            c.tcp_frto = 0;
            c.tcp_rmem = BufferLimits { min: 1, default: 65_536, max: 2 * 1024 * 1024 };
            c.tcp_wmem = BufferLimits { min: 1, default: 32_768, max: 2 * 1024 * 1024 };
            c.tcp_time_wait_reopen = false;
            c.tcp_ecn_fallback_retries = 1;
            c.tcp_keepinit = Some(Duration::from_secs(75));
            c.tcp_always_keepalive = true;
            c.tcp_invalid_ratelimit = Duration::from_secs(1);
            c.tcp_invalid_ratelimit_burst = 5;
            // TCP_MAXRXTSHIFT: 12 retransmissions of a SYN or of data.
            c.tcp_syn_retries = 12;
            c.tcp_retries2 = 12;
            c.delayed_ack = Duration::from_millis(100);
            c.rto_initial = Duration::from_secs(1);
            c.rto_min = Duration::from_millis(30);
            c.rto_max = Duration::from_secs(64);
        })
    }

    /// This config changed by `change`: `Config::default().with(|c| c.rng_seed = 7)`.
    pub fn with(mut self, change: impl FnOnce(&mut Config)) -> Config {
        change(&mut self);
        self
    }

    /// TIME-WAIT duration, 2 × MSL.
    pub fn time_wait_len(&self) -> Duration {
        self.msl * 2
    }

    /// The MSS this host announces for an address family (RFC 9293 §3.7.1: MTU less headers).
    pub fn mss_for(&self, ipv6: bool) -> u16 {
        let headers = if ipv6 { 60 } else { 40 };
        // Down to what the smallest IPv4 MTU leaves (RFC 791: 68 bytes), as FreeBSD announces
        // for a tiny link MTU; never 0, which would stall every sender.
        self.mtu.saturating_sub(headers).clamp(8, u16::MAX as usize) as u16
    }

    /// The window-scale shift a connection announces: for `tcp_rmem.max`, or for the receive
    /// buffer the application set (`tcp_rmem` says why; 0 without `tcp_window_scaling`).
    pub fn window_scale(&self, set_recv_buffer: Option<usize>) -> u8 {
        if !self.tcp_window_scaling {
            return 0;
        }
        let largest = self.tcp_rmem.max.max(self.tcp_rmem.default);
        match set_recv_buffer {
            Some(bytes) if !self.compat.window_scale_ignores_set_buffer => window_scale_for(bytes),
            _ => window_scale_for(largest),
        }
    }

    /// The half-open lifetime: the sum of the waits between SYN-ACK retransmissions,
    /// initial RTO doubled each time, including the final wait after the last one.
    pub fn half_open_lifetime(&self) -> Duration {
        (0..=self.tcp_synack_retries as u32).map(|i| self.rto_initial * (1 << i)).sum()
    }
}

/// The config borrowed from `Endpoint::config_mut`: it dereferences to the `Config`, and when
/// it goes out of scope the endpoint's times in microseconds are derived again from what was
/// changed.
pub struct ConfigMut<'a> {
    pub(crate) config: &'a mut Config,
    pub(crate) timing: &'a mut Timing,
}

impl std::ops::Deref for ConfigMut<'_> {
    type Target = Config;
    fn deref(&self) -> &Config {
        self.config
    }
}

impl std::ops::DerefMut for ConfigMut<'_> {
    fn deref_mut(&mut self) -> &mut Config {
        self.config
    }
}

impl Drop for ConfigMut<'_> {
    fn drop(&mut self) {
        *self.timing = Timing::of(self.config);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shift is the smallest (at most 14) that brings the buffer within the 16-bit field.
    #[test]
    fn window_scale_is_the_smallest_shift_that_fits_the_buffer() {
        let mut sizes = vec![0, 1, u16::MAX as usize, usize::MAX];
        for bit in 0..usize::BITS {
            let p = 1usize << bit;
            sizes.extend([p - 1, p, p + 1]);
        }
        for size in sizes {
            let smallest = (0..14u8).find(|&s| size >> s <= u16::MAX as usize).unwrap_or(14);
            assert_eq!(window_scale_for(size), smallest, "buffer of {size} bytes");
        }
        assert_eq!(window_scale_for(256 * 1024), 3);
    }

    /// Linux scales for `tcp_rmem.max` (15 MiB: 8, as defaults.sh sets), or for the buffer the
    /// application set; FreeBSD for its maximum whatever was set; nothing without scaling.
    #[test]
    fn window_scale_follows_the_maximum_or_the_buffer_set() {
        let linux = Config::default().with(|c| c.tcp_rmem.max = 15 * 1024 * 1024);
        assert_eq!(linux.window_scale(None), 8);
        assert_eq!(linux.window_scale(Some(65_536)), 1);
        assert_eq!(Config::default().window_scale(None), 7, "Linux's 6 MiB maximum");
        let freebsd = Config::freebsd();
        assert_eq!(freebsd.window_scale(None), 6);
        assert_eq!(freebsd.window_scale(Some(65_536)), 6);
        let off = Config::default().with(|c| c.tcp_window_scaling = false);
        assert_eq!(off.window_scale(None), 0);
    }

    /// A SYN's window is a whole number of MSS when the config asks (65535 with an MSS of 1460
    /// is 44 of them, 64240, as Linux announces), whether or not the pair was worked out ahead.
    #[test]
    fn syn_window_is_a_whole_number_of_mss_when_asked() {
        let rounding = Timing::of(&Config::default());
        assert_eq!(rounding.syn_window(65535, 1460), 64240);
        assert_eq!(rounding.syn_window(65535, 1440), 64800);
        assert_eq!(rounding.syn_window(30000, 1000), 30000);
        assert_eq!(rounding.syn_window(1000, 1460), 1000, "less than one MSS stays");
        let exact = Timing::of(&Config::default().with(|c| c.compat.round_syn_window_to_mss = false));
        assert_eq!(exact.syn_window(65535, 1460), 65535);
        assert_eq!(exact.syn_window(20000, 1220), 20000);
    }
}
