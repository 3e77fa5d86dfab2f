//! Per-endpoint counters in the spirit of `netstat -s`. Every packet the engine drops is
//! counted under the reason it was dropped.

macro_rules! counters {
    ($( $(#[$doc:meta])* $name:ident ),* $(,)?) => {
        /// Every counter of an endpoint, like `netstat -s`; `iter` lists them by name.
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        pub struct Counters {
            $( $(#[$doc])* pub $name: u64, )*
        }

        impl Counters {
            /// Every counter as (name, value), in declaration order.
            pub fn iter(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
                [$( (stringify!($name), self.$name) ),*].into_iter()
            }

            /// The counters above zero as `name value, name value, ...`, as netstat's summary.
            pub fn nonzero_summary(&self) -> String {
                let above: Vec<String> =
                    self.iter().filter(|&(_, v)| v > 0).map(|(k, v)| format!("{k} {v}")).collect();
                above.join(", ")
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
    /// Segments sent again (data, SYN or FIN already sent once).
    retransmitted_segments,
    /// Retransmissions started by duplicate ACKs or SACK (RFC 5681 §3.2, RFC 6675).
    fast_retransmits,
    /// Fast retransmits found spurious by their ACK's timestamp (RFC 3522) or by D-SACKs
    /// (RFC 2883) and undone.
    spurious_retransmits_undone,
    /// Retransmission timeouts found spurious (RFC 5682 F-RTO, or RFC 3522 by the timestamp
    /// echo) and undone.
    spurious_rtos_undone,
    /// Initial slow starts ended by HyStart++ (RFC 9406) before any loss.
    hystart_exits,
    /// Retransmissions in SACK recovery found lost again (by RACK, or unanswered for an RTT
    /// and a quarter) and sent again.
    lost_retransmits,
    /// Tail loss probes sent (RFC 8985 §7).
    loss_probes_sent,
    /// Congestion-window reductions for an ECN echo (RFC 3168 §6.1.2), and data segments that
    /// arrived marked Congestion Experienced.
    ecn_reductions,
    /// Data segments that arrived marked Congestion Experienced (RFC 3168).
    ce_marked_in,
    /// Retransmission timeouts (RFC 6298 §5.4), SYN and SYN-ACK ones included.
    rto_expirations,
    /// Connections opened actively and passively, and failed attempts.
    active_opens,
    /// Connections that completed a passive open (a listener's final ACK).
    passive_opens,
    /// Active opens that failed: refused (RST) or out of SYN retransmissions, and passive ones out
    /// of SYN-ACK retransmissions.
    failed_connects,
    /// RSTs sent and received (received = accepted, not just seen).
    resets_sent,
    /// RSTs that reset a connection or a half-open entry.
    resets_received,
    /// Challenge ACKs sent (RFC 5961 §3.2, §4.2, §5.2).
    challenge_acks_sent,
    /// ACKs to unacceptable segments or challenges left out by the rate limit.
    acks_rate_limited,
    /// SYN-ACKs sent for new SYNs.
    syn_acks_sent,
    /// SYN-ACKs sent with a SYN cookie and no state kept (Linux's SyncookiesSent).
    syncookies_sent,
    /// Final ACKs with a valid cookie that made a connection (SyncookiesRecv).
    syncookies_recv,
    /// ACKs to a listener that checked for a cookie and held none (SyncookiesFailed).
    syncookies_failed,
    /// SYN-ACKs sent again (on the timer, or for a retransmitted SYN).
    syn_ack_retransmits,
    /// Half-open entries that exhausted their SYN-ACK retries.
    half_open_expired,
    /// SYNs dropped because the SYN queue was full, and because the accept queue was full.
    syn_queue_overflows,
    /// SYNs dropped because the listener's accept queue was full (Linux's ListenOverflows).
    listen_overflows,
    /// Final ACKs dropped (or reset) because the accept queue was full.
    accept_queue_overflows,
    /// Connections that went into TIME-WAIT.
    time_wait_entered,
    /// Retransmitted FINs acknowledged again in TIME-WAIT (the 2MSL timer restarted).
    time_wait_reacks,
    /// TIME-WAIT records that lived out their 2MSL.
    time_wait_expired,
    /// Drops, by reason.
    dropped_malformed,
    /// Dropped: the IP or TCP checksum was wrong.
    dropped_bad_checksum,
    /// Dropped: not TCP (nor ICMP the endpoint acts on), an IP fragment, IP options or IPv6
    /// extension headers, and not kept for the application.
    dropped_unsupported,
    /// Packets of other protocols kept for the application (`Endpoint::keep_other_packets`).
    other_packets_kept,
    /// Echo requests to our addresses answered (ping).
    icmp_echo_replies,
    /// ICMP and ICMPv6 errors that concerned a connection and were acted on (RFC 5927).
    icmp_errors_in,
    /// Packet Too Big errors that made a connection resend what it had in flight at a
    /// smaller segment size (RFC 1191, RFC 8201).
    pmtu_resends,
    /// Segment-size reductions for a suspected black hole (RFC 4821 §7.7, `tcp_mtu_probing`).
    mtu_black_hole_steps,
    /// Path MTU probes (RFC 4821) sent.
    mtu_probes_sent,
    /// Probes acknowledged: the segment size grew to theirs.
    mtu_probes_acked,
    /// Probes lost: the search's upper bound fell below their size.
    mtu_probes_lost,
    /// ICMP messages dropped: errors about no connection of ours, or quoting a sequence number
    /// outside SND.UNA..SND.NXT (RFC 5927 §4.1), or of a kind not acted on; echo requests over
    /// `icmp_msgs_per_sec`; other ICMP messages.
    dropped_icmp,
    /// Dropped: addressed to none of the endpoint's addresses.
    dropped_not_our_address,
    /// Dropped: not acceptable (RFC 9293 §3.10.7.4, first).
    dropped_out_of_window,
    /// Dropped: an older timestamp than the last (PAWS, RFC 7323 §5).
    dropped_paws,
    /// Dropped: an unacceptable ACK (of data not sent, or in SYN-SENT of a sequence number not
    /// ours).
    dropped_bad_ack,
    /// Dropped: a RST that resets nothing (to a listener, without an acceptable ACK in
    /// SYN-SENT, or in TIME-WAIT per RFC 1337).
    dropped_rst_ignored,
    /// Dropped: a segment without ACK in a state that needs one.
    dropped_no_ack_flag,
    /// Dropped at a listener: not a SYN (an ACK is answered with RST first).
    dropped_listener_non_syn,
    /// Dropped by a TIME-WAIT record.
    dropped_in_time_wait,
    /// Dropped in SYN-SENT: no SYN and no RST.
    dropped_syn_sent_unexpected,
    /// Dropped: a RST to a port with no connection (never answered).
    dropped_closed_port_rst,
    /// Dropped: SYN and FIN together (`tcp_drop_synfin`).
    dropped_syn_fin,
    /// Dropped: for a socket that signs (TCP_MD5SIG), without a valid signature (RFC 2385
    /// §3.0).
    dropped_md5,
    /// Segments wholly left of RCV.NXT whose ACK field was still processed
    /// (`Config::process_ack_of_old_segment`).
    old_segments_trimmed,
    /// Control segments (RSTs, SYN-ACKs, ACKs) not queued because the caller had not drained
    /// `poll_transmit` and the queue was full.
    control_queue_overflows,
    /// Packets not sent because the device refused them (`Endpoint::set_device_refusing`):
    /// control segments and ACKs dropped, data left to send later.
    transmits_refused,
    /// Payload bytes that arrived again (duplicates), and that arrived out of order.
    duplicate_bytes_in,
    /// Segments that arrived beyond RCV.NXT and were held for reassembly.
    out_of_order_segments_in,
    /// Zero-window probes sent, and keepalive probes sent.
    window_probes_sent,
    /// Keepalive probes sent (RFC 1122 §4.2.3.6).
    keepalive_probes_sent,
}
