//! An endpoint fed an arbitrary sequence of packets, timeouts and socket calls, under
//! behaviour knobs the first byte picks (its top bit: a device with segmentation offload, so
//! super-segments out and unverified checksums in). Checked after every step: no panic, the tables stay
//! within their configured bounds, every connection has SND.UNA <= SND.NXT, and nothing is
//! left due after `handle_timeout(now)`.
//!
//! Inbound segments are built with valid checksums and with sequence and acknowledgment
//! numbers near the ones the endpoint last sent on that connection, so that the fuzzer
//! reaches the states past the handshake rather than only the checksum check. Some are
//! signed (RFC 2385; port 82 listens with TCP_MD5SIG) and some travel in UDP to the
//! tunneling port (FreeBSD's TCP over UDP), from the peer's UDP port or another.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use synack_engine::{Config, ConnHandle, EcnMode, Endpoint, Instant};
use synack_wire::{
    decapsulate_udp, encapsulate_in_udp, internet_checksum, parse_segment_with, pseudo_header_sum, sign_tcp_md5, Ecn,
    Ipv4Repr, IP_PROTOCOL_TCP, IP_PROTOCOL_UDP,
};

const LOCAL: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const PEER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
const SYN_BACKLOG: usize = 8;
const TUNNEL: u16 = 9811;
const MD5_KEY: &[u8] = b"fuzz";

struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }
    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_be_bytes([self.byte()?, self.byte()?]))
    }
    fn take(&mut self, n: usize) -> &[u8] {
        let n = n.min(self.0.len());
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        head
    }
}

fn segment(src_port: u16, dst_port: u16, seq: u32, ack: u32, flags: u8, window: u16, opts: &[u8], payload: &[u8]) -> Vec<u8> {
    let opt_len = (opts.len() / 4 * 4).min(40);
    let tcp_len = 20 + opt_len + payload.len();
    let mut buf = vec![0u8; 20 + tcp_len];
    let ecn = Ecn::from_bits(flags >> 6 ^ window as u8);
    let ip = Ipv4Repr { src: PEER, dst: LOCAL, protocol: IP_PROTOCOL_TCP, payload_len: tcp_len, ttl: 64, dscp: 0, ecn };
    ip.emit(&mut buf, 0).unwrap();
    let tcp = &mut buf[20..];
    tcp[0..2].copy_from_slice(&src_port.to_be_bytes());
    tcp[2..4].copy_from_slice(&dst_port.to_be_bytes());
    tcp[4..8].copy_from_slice(&seq.to_be_bytes());
    tcp[8..12].copy_from_slice(&ack.to_be_bytes());
    tcp[12] = (((20 + opt_len) / 4) as u8) << 4;
    tcp[13] = flags;
    tcp[14..16].copy_from_slice(&window.to_be_bytes());
    tcp[20..20 + opt_len].copy_from_slice(&opts[..opt_len]);
    tcp[20 + opt_len..].copy_from_slice(payload);
    let sum = internet_checksum(pseudo_header_sum(IpAddr::V4(PEER), IpAddr::V4(LOCAL), IP_PROTOCOL_TCP, tcp_len), tcp);
    tcp[16..18].copy_from_slice(&sum.to_be_bytes());
    buf
}

fuzz_target!(|data: &[u8]| {
    // The first byte picks the behaviour knobs, so the BSD paths are fuzzed too.
    let Some((&knobs, data)) = data.split_first() else { return };
    let bit = |n: u8| knobs & (1 << n) != 0;
    // Bit 7: a device with segmentation offload (super-segments out, unverified checksums in).
    let offload = bit(7);
    let config = Config::default().with(|c| { c.tcp_max_syn_backlog = SYN_BACKLOG; c.tcp_wmem.default = 4096; c.tcp_rmem.default = 4096; c.compat.resend_fin_with_ack = bit(0); c.compat.process_ack_of_old_segment = bit(1); c.tcp_insecure_rst = bit(2); c.tcp_insecure_syn = bit(3); c.tcp_drop_synfin = bit(4); c.tcp_time_wait_reopen = !bit(5); c.tcp_ecn = if bit(6) { EcnMode::On } else { EcnMode::Passive }; });
    // Linux's CUBIC arithmetic and pacing with the resend of the FIN (bit 0) and the ACK of
    // an old segment (bit 1) respectively: the knobs are independent enough to share bits.
    let config = config.with(|c| {
        c.tcp_udp_tunneling_port = TUNNEL;
        c.compat.cubic_in_segments = bit(0);
        c.pacing = bit(1);
    });
    let mut ep = Endpoint::new(config, &[IpAddr::V4(LOCAL)]);
    let listener = ep.listen(SocketAddr::new(IpAddr::V4(LOCAL), 80), 4).unwrap();
    // Port 82 signs (RFC 2385) with the peer's key; port 81 is closed.
    ep.set_md5_key(IpAddr::V4(PEER), Some(MD5_KEY));
    let signing = ep.listen(SocketAddr::new(IpAddr::V4(LOCAL), 82), 4).unwrap();
    ep.set_listener_md5(signing, true).unwrap();
    let mut now = Instant::ZERO;
    let mut conns: Vec<ConnHandle> = Vec::new();
    // Per peer port: (the endpoint's last seq end, its last ack).
    let mut last: HashMap<u16, (u32, u32)> = HashMap::new();
    let mut input = Input(data);
    let mut buf = vec![0u8; 65535];
    let mut out_count = 0u64;
    while let Some(op) = input.byte() {
        match op % 8 {
            0 | 1 => {
                let Some(port_sel) = input.byte() else { break };
                let peer_port = 1000 + (port_sel % 4) as u16;
                let local_port = match port_sel >> 6 {
                    2 | 3 => 80,
                    1 => 82,
                    _ => 81,
                };
                let (Some(flags), Some(dseq), Some(dack), Some(window), Some(lens)) =
                    (input.byte(), input.byte(), input.byte(), input.u16(), input.byte())
                else {
                    break;
                };
                let (their_ack, their_seq) = last.get(&peer_port).copied().unwrap_or((0, 0));
                let seq = their_seq.wrapping_add(dseq as i8 as i32 as u32);
                let ack = their_ack.wrapping_add(dack as i8 as i32 as u32);
                let mut opts = input.take((lens >> 4) as usize * 4).to_vec();
                let payload = input.take((lens & 0x0f) as usize * 50).to_vec();
                // Bit 5: signed with the key (the signature option in front of the rest).
                let signed = port_sel & 0x20 != 0;
                if signed {
                    let mut with = vec![1, 1, 19, 18];
                    with.extend_from_slice(&[0; 16]);
                    with.extend_from_slice(&opts);
                    with.truncate(40);
                    opts = with;
                }
                let mut bytes = segment(peer_port, local_port, seq, ack, flags, window, &opts, &payload);
                if signed {
                    sign_tcp_md5(&mut bytes, MD5_KEY);
                }
                // Bit 4: in UDP to the tunneling port, from the peer's port or another.
                if port_sel & 0x10 != 0 {
                    let len = bytes.len();
                    bytes.resize(len + 8, 0);
                    let from = if port_sel & 0x08 != 0 { TUNNEL } else { 1 };
                    let n = encapsulate_in_udp(&mut bytes, len, from, TUNNEL).unwrap_or(len);
                    bytes.truncate(n);
                }
                if offload {
                    // As a TUN device with offload hands it over: the checksum unverified.
                    if let Some(b) = bytes.get_mut(36) {
                        *b ^= dseq;
                    }
                    ep.handle_packet_offloaded(now, &bytes);
                } else {
                    ep.handle_packet(now, &bytes);
                }
            }
            2 => {
                let Some(step) = input.u16() else { break };
                now = now + std::time::Duration::from_millis(step as u64 * 10);
                ep.handle_timeout(now);
                if let Some(next) = ep.poll_timeout() {
                    assert!(next > now, "a timer at {next:?} is still due after handle_timeout({now:?})");
                }
            }
            3 => {
                let Some(p) = input.byte() else { break };
                if let Ok(h) = ep.connect(now, None, SocketAddr::new(IpAddr::V4(PEER), 1000 + (p % 4) as u16)) {
                    conns.push(h);
                }
            }
            4 => {
                let (Some(k), Some(n)) = (input.byte(), input.byte()) else { break };
                if let Some(&h) = conns.get(k as usize % conns.len().max(1)) {
                    let _ = ep.send(now, h, &vec![7u8; n as usize * 20]);
                }
            }
            5 => {
                let Some(k) = input.byte() else { break };
                // The top values switch the device between refusing packets and taking them.
                if k >= 0xf0 {
                    ep.set_device_refusing(now, k & 1 == 1);
                } else if let Some(&h) = conns.get(k as usize % conns.len().max(1)) {
                    let mut b = [0u8; 1000];
                    let _ = ep.recv(now, h, &mut b);
                }
            }
            6 => {
                let Some(k) = input.byte() else { break };
                if let Some(&h) = conns.get(k as usize % conns.len().max(1)) {
                    let _ = match k % 3 {
                        0 => ep.shutdown(now, h),
                        1 => ep.close(now, h),
                        _ => ep.abort(now, h),
                    };
                }
            }
            _ => {
                while let Some(h) = ep.accept(listener) {
                    conns.push(h);
                }
            }
        }
        loop {
            let polled = if offload { ep.poll_transmit_gso(now, &mut buf, 44) } else { ep.poll_transmit(now, &mut buf) };
            let Some(t) = polled else { break };
            out_count += 1;
            // A segment in UDP: its checksum is the datagram's (the TCP one is zero).
            let (inner, verify) = if buf[9] == IP_PROTOCOL_UDP {
                assert!(t.gso_size.is_none(), "no super-segment in UDP");
                let dst = u16::from_be_bytes([buf[22], buf[23]]);
                let d = decapsulate_udp(&buf[..t.len], dst).expect("a valid datagram").expect("UDP to its port");
                (d.packet, false)
            } else {
                (buf[..t.len].to_vec(), t.gso_size.is_none())
            };
            let seg = parse_segment_with(&inner, verify).expect("the endpoint emits valid segments");
            if let Some(size) = t.gso_size {
                assert!(seg.tcp.payload.len() > size as usize, "a super-segment holds more than one segment");
            }
            let end = seg.tcp.seq.0.wrapping_add(seg.tcp.segment_len());
            last.insert(seg.tcp.dst_port, (end, seg.tcp.ack.0));
            assert!(out_count < 1_000_000, "the endpoint keeps sending");
        }
        while ep.poll_event().is_some() {}
        // Invariants.
        let half_open = ep.population().half_open;
        assert!(half_open <= SYN_BACKLOG, "{half_open} half-open entries past the SYN backlog");
        if let Some(synack_engine::ListenerQueues { syn_queue: syn_q, accept_queue: accept_q }) = ep.listener_queues(listener) {
            assert!(syn_q <= SYN_BACKLOG && accept_q <= 4 + 1, "listener queues {syn_q}/{accept_q}");
        }
        for &h in &conns {
            if let Some(info) = ep.conn_info(h) {
                assert!(info.snd_una <= info.snd_nxt, "snd_una {:?} > snd_nxt {:?}", info.snd_una, info.snd_nxt);
            }
        }
    }
});
