//! A harness for per-state tests: one endpoint under test, and a scripted peer that injects
//! segments and reads what the endpoint sends back.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;
use synack_engine::{Config, ConnHandle, Endpoint, Event, Instant, ListenerHandle, State};
use synack_wire::{emit_segment, parse_segment, Ecn, IpHeader, SeqNum, TcpFlags, TcpOptions, TcpRepr};

pub const ACK: TcpFlags = TcpFlags::ACK;
pub const SYN: TcpFlags = TcpFlags::SYN;
pub const FIN: TcpFlags = TcpFlags::FIN;
pub const RST: TcpFlags = TcpFlags::RST;
pub const PSH: TcpFlags = TcpFlags::PSH;

/// The peer's initial sequence number in every test.
pub const PEER_ISN: u32 = 1000;

/// A segment as the tests write and compare it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seg {
    pub flags: TcpFlags,
    pub seq: u32,
    pub ack: u32,
    pub win: u16,
    pub data: Vec<u8>,
    pub opts: TcpOptions,
    /// The IP header's ECN codepoint.
    pub ecn: Ecn,
}

impl Seg {
    pub fn new(flags: TcpFlags, seq: u32, ack: u32) -> Seg {
        Seg { flags, seq, ack, win: 65535, data: Vec::new(), opts: TcpOptions::default(), ecn: Ecn::NotEct }
    }
    pub fn data(mut self, data: &[u8]) -> Seg {
        self.data = data.to_vec();
        self
    }
    pub fn win(mut self, win: u16) -> Seg {
        self.win = win;
        self
    }
    pub fn opts(mut self, opts: TcpOptions) -> Seg {
        self.opts = opts;
        self
    }
    pub fn ecn(mut self, ecn: Ecn) -> Seg {
        self.ecn = ecn;
        self
    }
    /// (flags, seq, ack, data length): what most assertions compare.
    pub fn key(&self) -> (TcpFlags, u32, u32, usize) {
        (self.flags, self.seq, self.ack, self.data.len())
    }
}

/// Options with just an MSS, as every real peer sends on its SYN.
pub fn mss(mss: u16) -> TcpOptions {
    TcpOptions { mss: Some(mss), ..TcpOptions::default() }
}

/// A listener's queues: half-open entries, connections waiting for `accept`.
pub fn queues(syn_queue: usize, accept_queue: usize) -> synack_engine::ListenerQueues {
    synack_engine::ListenerQueues { syn_queue, accept_queue }
}

/// Options off: segments are exactly what the assertions say. NewReno, whose numbers the
/// loss-recovery assertions use (RFC 5681, RFC 6582); CUBIC's tests ask for it.
pub fn plain_config() -> Config {
    Config::default().with(|c| {
        c.tcp_congestion_control = synack_engine::CongestionAlgorithm::Reno;
        c.rng_seed = 1;
        c.tcp_timestamps = false;
        c.tcp_sack = false;
        c.tcp_window_scaling = false;
        c.tcp_rmem.default = 65535;
    })
}

pub struct H {
    pub ep: Endpoint,
    pub now: Instant,
    pub local: SocketAddr,
    pub remote: SocketAddr,
    /// Our ISN, learned from our SYN or SYN-ACK.
    pub iss: u32,
}

impl H {
    pub fn new(config: Config) -> H {
        let local: SocketAddr = "10.0.0.1:80".parse().expect("addr");
        let remote: SocketAddr = "10.0.0.2:5000".parse().expect("addr");
        H::with_addrs(config, local, remote)
    }

    pub fn with_addrs(config: Config, local: SocketAddr, remote: SocketAddr) -> H {
        H { ep: Endpoint::new(config, &[local.ip()]), now: Instant::ZERO, local, remote, iss: 0 }
    }

    /// Builds the bytes of a segment from the peer (or from `from` if given).
    pub fn packet(&self, s: &Seg, from: SocketAddr, to: SocketAddr) -> Vec<u8> {
        let ip = IpHeader { src: from.ip(), dst: to.ip(), ttl: 64, ecn: s.ecn };
        let tcp = TcpRepr {
            src_port: from.port(),
            dst_port: to.port(),
            seq: SeqNum(s.seq),
            ack: SeqNum(s.ack),
            flags: s.flags,
            window: s.win,
            urgent: 0,
            options: s.opts,
            payload: &s.data,
        };
        let mut buf = vec![0u8; 65536];
        let n = emit_segment(&ip, &tcp, 0, &mut buf).expect("emit");
        buf.truncate(n);
        buf
    }

    /// The peer sends `s`.
    pub fn inject(&mut self, s: Seg) {
        let bytes = self.packet(&s, self.remote, self.local);
        self.ep.handle_packet(self.now, &bytes);
    }

    /// Everything the endpoint sends now, parsed.
    pub fn output(&mut self) -> Vec<Seg> {
        self.output_with_ip().into_iter().map(|(seg, _)| seg).collect()
    }

    /// `output()`, each segment with its IP header's TTL (hop limit) and DSCP bits.
    pub fn output_with_ip(&mut self) -> Vec<(Seg, synack_engine::IpFields)> {
        let mut out = Vec::new();
        let mut buf = vec![0u8; 1500];
        while let Some(t) = self.ep.poll_transmit(self.now, &mut buf) {
            let ip = match buf[0] >> 4 {
                4 => synack_engine::IpFields { ttl: buf[8], tos: buf[1] & !3 },
                _ => synack_engine::IpFields { ttl: buf[7], tos: (buf[0] << 4 | buf[1] >> 4) & !3 },
            };
            let seg = parse_segment(&buf[..t.len]).expect("the engine emits valid packets");
            let tcp = seg.tcp;
            if tcp.flags.syn() {
                self.iss = tcp.seq.0;
            }
            out.push((
                Seg {
                    flags: tcp.flags,
                    seq: tcp.seq.0,
                    ack: tcp.ack.0,
                    win: tcp.window,
                    data: tcp.payload.to_vec(),
                    opts: tcp.options,
                    ecn: seg.ip.ecn,
                },
                ip,
            ));
        }
        out
    }

    /// `output()` reduced to (flags, seq, ack, len).
    pub fn keys(&mut self) -> Vec<(TcpFlags, u32, u32, usize)> {
        self.output().iter().map(Seg::key).collect()
    }

    /// Moves time forward by `d`, running every timer due on the way.
    pub fn advance(&mut self, d: Duration) {
        let target = self.now + d;
        while let Some(t) = self.ep.poll_timeout() {
            if t > target {
                break;
            }
            self.now = self.now.max(t);
            self.ep.handle_timeout(self.now);
        }
        self.now = target;
        self.ep.handle_timeout(self.now);
    }

    /// Like `advance`, but collects what is sent on the way, with the time it was sent.
    pub fn advance_collect(&mut self, d: Duration) -> Vec<(Instant, Seg)> {
        let target = self.now + d;
        let mut sent = Vec::new();
        loop {
            for s in self.output() {
                sent.push((self.now, s));
            }
            match self.ep.poll_timeout() {
                Some(t) if t <= target => {
                    self.now = self.now.max(t);
                    self.ep.handle_timeout(self.now);
                }
                _ => break,
            }
        }
        self.now = target;
        self.ep.handle_timeout(self.now);
        for s in self.output() {
            sent.push((self.now, s));
        }
        sent
    }

    pub fn events(&mut self) -> Vec<Event> {
        std::iter::from_fn(|| self.ep.poll_event()).collect()
    }

    pub fn state(&self, c: ConnHandle) -> State {
        self.ep.state(c).expect("live handle")
    }

    /// The state of our 4-tuple as the socket table shows it (TIME-WAIT records included).
    pub fn table_state(&self) -> Option<State> {
        self.ep.sockets().into_iter().find(|s| s.local == self.local && s.remote == Some(self.remote)).map(|s| s.state)
    }

    pub fn read_all(&mut self, c: ConnHandle) -> Vec<u8> {
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = self.ep.recv(self.now, c, &mut buf) {
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        out
    }

    // ---- Getting a connection into a state ----

    pub fn listening(config: Config) -> (H, ListenerHandle) {
        let mut h = H::new(config);
        let l = h.ep.listen(h.local, 16).expect("listen");
        (h, l)
    }

    /// Passive open up to the half-open entry: SYN in, SYN-ACK out.
    pub fn syn_received(config: Config) -> (H, ListenerHandle) {
        let (mut h, l) = H::listening(config);
        h.inject(Seg::new(SYN, PEER_ISN, 0).opts(mss(1460)));
        let out = h.keys();
        assert_eq!(out.len(), 1, "one SYN-ACK");
        (h, l)
    }

    /// A passively opened, accepted connection. Next numbers: we send `iss+1`, expect `PEER_ISN+1`.
    pub fn established(config: Config) -> (H, ConnHandle) {
        H::established_after(config, Duration::ZERO)
    }

    /// `established`, the handshake's ACK arriving `rtt` after the SYN-ACK (the first RTT
    /// sample).
    pub fn established_after(config: Config, rtt: Duration) -> (H, ConnHandle) {
        let (mut h, l) = H::syn_received(config);
        h.advance(rtt);
        let iss = h.iss;
        h.inject(Seg::new(ACK, PEER_ISN + 1, iss + 1));
        let c = h.ep.accept(l).expect("accepted");
        h.events();
        (h, c)
    }

    /// An active open that has sent its SYN.
    pub fn syn_sent(config: Config) -> (H, ConnHandle) {
        let mut h = H::new(config);
        let c = h.ep.connect(h.now, Some(h.local), h.remote).expect("connect");
        let out = h.keys();
        assert_eq!(out.len(), 1, "one SYN");
        (h, c)
    }

    /// Established, then `close()`: FIN sent.
    pub fn fin_wait_1(config: Config) -> (H, ConnHandle) {
        let (mut h, c) = H::established(config);
        h.ep.close(h.now, c).expect("close");
        assert_eq!(h.keys(), vec![(FIN | ACK, h.iss + 1, PEER_ISN + 1, 0)]);
        (h, c)
    }

    /// FIN-WAIT-2 after `shutdown()` (so the handle stays readable).
    pub fn fin_wait_2(config: Config) -> (H, ConnHandle) {
        let (mut h, c) = H::established(config);
        h.ep.shutdown(h.now, c).expect("shutdown");
        h.output();
        h.inject(Seg::new(ACK, PEER_ISN + 1, h.iss + 2));
        assert_eq!(h.state(c), State::FinWait2);
        (h, c)
    }

    /// CLOSE-WAIT: the peer's FIN received and ACKed.
    pub fn close_wait(config: Config) -> (H, ConnHandle) {
        let (mut h, c) = H::established(config);
        h.inject(Seg::new(FIN | ACK, PEER_ISN + 1, h.iss + 1));
        h.output();
        assert_eq!(h.state(c), State::CloseWait);
        (h, c)
    }

    /// LAST-ACK: CLOSE-WAIT, then `close()`: our FIN sent.
    pub fn last_ack(config: Config) -> (H, ConnHandle) {
        let (mut h, c) = H::close_wait(config);
        h.ep.close(h.now, c).expect("close");
        assert_eq!(h.keys(), vec![(FIN | ACK, h.iss + 1, PEER_ISN + 2, 0)]);
        (h, c)
    }

    /// CLOSING: our FIN sent, the peer's FIN arrives without acknowledging ours.
    pub fn closing(config: Config) -> (H, ConnHandle) {
        let (mut h, c) = H::fin_wait_1(config);
        h.inject(Seg::new(FIN | ACK, PEER_ISN + 1, h.iss + 1));
        assert_eq!(h.state(c), State::Closing);
        h.output();
        (h, c)
    }

    /// TIME-WAIT, via FIN-WAIT-2 and the peer's FIN.
    pub fn time_wait(config: Config) -> (H, ConnHandle) {
        let (mut h, c) = H::fin_wait_2(config);
        h.inject(Seg::new(FIN | ACK, PEER_ISN + 1, h.iss + 2));
        assert_eq!(h.keys(), vec![(ACK, h.iss + 2, PEER_ISN + 2, 0)]);
        assert_eq!(h.table_state(), Some(State::TimeWait));
        (h, c)
    }
}
