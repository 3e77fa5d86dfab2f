//! Per-endpoint counters in the spirit of `netstat -s`. Every packet the engine drops is
//! counted under the reason it was dropped.

macro_rules! counters {
    ($( $(#[$doc:meta])* $name:ident ),* $(,)?) => {
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        pub struct Counters {
            $( $(#[$doc])* pub $name: u64, )*
        }

        impl Counters {
            /// Every counter as (name, value), in declaration order.
            pub fn iter(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
                [$( (stringify!($name), self.$name) ),*].into_iter()
            }
        }
    };
}

counters! {
    /// Packets handed to `handle_packet`.
    packets_in,
    /// Segments emitted by `poll_transmit`.
    segments_out,
    /// Segments that carried data not sent before, and those that repeated data or SYN/FIN.
    data_segments_out,
    retransmitted_segments,
    fast_retransmits,
    /// Fast retransmits found spurious by their ACK's timestamp (RFC 3522) and undone.
    spurious_retransmits_undone,
    /// Retransmissions in SACK recovery that went unanswered for an RTT and were sent again.
    lost_retransmits,
    /// Tail loss probes sent (RFC 8985 §7).
    loss_probes_sent,
    /// Congestion-window reductions for an ECN echo (RFC 3168 §6.1.2), and data segments that
    /// arrived marked Congestion Experienced.
    ecn_reductions,
    ce_marked_in,
    rto_expirations,
    /// Connections opened actively and passively, and failed attempts.
    active_opens,
    passive_opens,
    failed_connects,
    /// RSTs sent and received (received = accepted, not just seen).
    resets_sent,
    resets_received,
    challenge_acks_sent,
    /// ACKs to unacceptable segments or challenges left out by the rate limit.
    acks_rate_limited,
    syn_acks_sent,
    syn_ack_retransmits,
    /// Half-open entries that exhausted their SYN-ACK retries.
    half_open_expired,
    /// SYNs dropped because the SYN queue was full, and because the accept queue was full.
    syn_queue_overflows,
    listen_overflows,
    /// Final ACKs dropped (or reset) because the accept queue was full.
    accept_queue_overflows,
    time_wait_entered,
    time_wait_reacks,
    time_wait_expired,
    /// Drops, by reason.
    dropped_malformed,
    dropped_bad_checksum,
    dropped_unsupported,
    dropped_not_our_address,
    dropped_out_of_window,
    dropped_paws,
    dropped_bad_ack,
    dropped_rst_ignored,
    dropped_no_ack_flag,
    dropped_listener_non_syn,
    dropped_in_time_wait,
    dropped_syn_sent_unexpected,
    dropped_closed_port_rst,
    dropped_syn_fin,
    /// Segments wholly left of RCV.NXT whose ACK field was still processed
    /// (`Config::process_ack_of_old_segment`).
    old_segments_trimmed,
    /// Control segments (RSTs, SYN-ACKs, ACKs) not queued because the caller had not drained
    /// `poll_transmit` and the queue was full.
    control_queue_overflows,
    /// Payload bytes that arrived again (duplicates), and that arrived out of order.
    duplicate_bytes_in,
    out_of_order_segments_in,
    /// Zero-window probes sent, and keepalive probes sent.
    window_probes_sent,
    keepalive_probes_sent,
}
