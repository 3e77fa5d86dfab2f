//! TCP MD5 signatures (RFC 2385): with TCP_MD5SIG and a key for the peer, every segment is
//! signed, only validly signed segments are taken, and the signature's 20 option bytes come
//! out of each segment's data (RFC 6691).

mod common;
use common::*;
use std::net::SocketAddr;
use synack_engine::{Config, Endpoint, Instant, State};
use synack_wire::{check_tcp_md5, parse_segment, Md5Check, TcpOptions};

const KEY: &[u8] = b"bgp-peering-key";

fn config() -> Config {
    Config::default().with(|c| c.rng_seed = 3)
}

/// Two endpoints, both with the key for the other; each packet is checked and delivered.
struct Pair {
    server: Endpoint,
    client: Endpoint,
    now: Instant,
    checked: usize,
}

impl Pair {
    fn new() -> Pair {
        let (s, c) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let mut server = Endpoint::new(config(), &[s]);
        let mut client = Endpoint::new(config(), &[c]);
        assert!(server.set_md5_key(c, Some(KEY)));
        assert!(client.set_md5_key(s, Some(KEY)));
        Pair { server, client, now: Instant::ZERO, checked: 0 }
    }

    /// Runs both ways until quiet; every packet must carry a valid signature.
    fn exchange(&mut self) -> Vec<Vec<u8>> {
        let mut all = Vec::new();
        let mut buf = [0u8; 1500];
        for _ in 0..20 {
            let mut moved = false;
            while let Some(t) = self.client.poll_transmit(self.now, &mut buf) {
                all.push(buf[..t.len].to_vec());
                self.server.handle_packet(self.now, &buf[..t.len]);
                moved = true;
            }
            while let Some(t) = self.server.poll_transmit(self.now, &mut buf) {
                all.push(buf[..t.len].to_vec());
                self.client.handle_packet(self.now, &buf[..t.len]);
                moved = true;
            }
            if !moved {
                break;
            }
        }
        for p in &all {
            assert_eq!(check_tcp_md5(p, KEY), Md5Check::Valid, "{p:?}");
        }
        self.checked += all.len();
        all
    }
}

#[test]
fn signed_handshake_data_and_teardown_between_two_endpoints() {
    let mut p = Pair::new();
    let addr: SocketAddr = "10.0.0.1:179".parse().unwrap();
    let l = p.server.listen(addr, 8).unwrap();
    p.server.set_listener_md5(l, true).unwrap();
    let c = p.client.connect(p.now, None, addr).unwrap();
    assert!(p.client.conn_mut(p.now, c).unwrap().set_md5(true));
    let handshake = p.exchange();
    assert!(parse_segment(&handshake[0]).unwrap().tcp.options.md5, "the SYN is signed");
    let s = p.server.accept(l).expect("established");
    assert_eq!(p.server.md5(s), Some(true), "inherited from the listener");
    p.client.send(p.now, c, &[7u8; 4000]).unwrap();
    let sent = p.exchange();
    // 1460 less timestamps (12) and the signature (20).
    let sizes: Vec<usize> =
        sent.iter().map(|b| parse_segment(b).unwrap().tcp.payload.len()).filter(|&n| n > 0).collect();
    assert_eq!(sizes[0], 1428, "{sizes:?}");
    let mut got = vec![0u8; 8000];
    assert_eq!(p.server.recv(p.now, s, &mut got), Ok(4000));
    p.client.close(p.now, c).unwrap();
    p.server.close(p.now, s).unwrap();
    p.exchange();
    assert_eq!(p.server.counters().dropped_md5, 0);
    assert!(p.checked >= 8, "{} packets checked", p.checked);
}

/// A connection that signs drops an unsigned segment and one signed with another key, and
/// counts them; the same segment signed with the key is taken.
#[test]
fn unsigned_and_wrongly_signed_segments_are_dropped() {
    let mut h = H::new(config());
    assert!(h.ep.set_md5_key(h.remote.ip(), Some(KEY)));
    let l = h.ep.listen(h.local, 8).unwrap();
    h.ep.set_listener_md5(l, true).unwrap();
    // An unsigned SYN: dropped, unanswered.
    h.inject(Seg::new(SYN, PEER_ISN, 0).opts(mss(1460)));
    assert!(h.output().is_empty());
    assert_eq!(h.ep.counters().dropped_md5, 1);
    // Signed, it is answered with a signed SYN-ACK.
    let signed = |h: &H, s: Seg, key: &[u8]| {
        let opts = TcpOptions { md5: true, ..s.opts };
        let mut bytes = h.packet(&s.opts(opts), h.remote, h.local);
        assert!(synack_wire::sign_tcp_md5(&mut bytes, key));
        bytes
    };
    let syn = signed(&h, Seg::new(SYN, PEER_ISN, 0).opts(mss(1460)), KEY);
    h.ep.handle_packet(h.now, &syn);
    let out = h.output();
    assert_eq!((out[0].flags, out[0].opts.md5), (SYN | ACK, true));
    let wrong = signed(&h, Seg::new(ACK, PEER_ISN + 1, h.iss + 1), b"other key");
    h.ep.handle_packet(h.now, &wrong);
    assert_eq!(h.ep.counters().dropped_md5, 2);
    assert!(h.ep.accept(l).is_none(), "the wrongly signed ACK completed nothing");
    let right = signed(&h, Seg::new(ACK, PEER_ISN + 1, h.iss + 1), KEY);
    h.ep.handle_packet(h.now, &right);
    let c = h.ep.accept(l).expect("established by the signed ACK");
    assert_eq!(h.ep.state(c), Some(State::Established));
}

/// Without a key for the peer, TCP_MD5SIG changes nothing: a connection refuses it, a
/// listener answers unsigned.
#[test]
fn without_a_key_for_the_peer_nothing_is_signed() {
    let (mut h, c) = H::established(config());
    assert!(!h.ep.conn_mut(h.now, c).unwrap().set_md5(true));
    assert!(!h.ep.set_md5_key(h.remote.ip(), Some(&[0u8; 81])), "keys are at most 80 bytes");
    let mut h2 = H::new(config());
    let l = h2.ep.listen(h2.local, 8).unwrap();
    h2.ep.set_listener_md5(l, true).unwrap();
    h2.inject(Seg::new(SYN, PEER_ISN, 0).opts(mss(1460)));
    let out = h2.output();
    assert_eq!((out[0].flags, out[0].opts.md5), (SYN | ACK, false));
}

/// With a signature and no timestamps, two SACK blocks fit in the 40 option bytes.
#[test]
fn a_signature_leaves_room_for_two_sack_blocks() {
    let mut h = H::new(config().with(|c| c.tcp_timestamps = false));
    assert!(h.ep.set_md5_key(h.remote.ip(), Some(KEY)));
    let l = h.ep.listen(h.local, 8).unwrap();
    h.ep.set_listener_md5(l, true).unwrap();
    let send = |h: &mut H, s: Seg| {
        let opts = TcpOptions { md5: true, ..s.opts };
        let mut bytes = h.packet(&s.opts(opts), h.remote, h.local);
        assert!(synack_wire::sign_tcp_md5(&mut bytes, KEY));
        h.ep.handle_packet(h.now, &bytes);
    };
    send(&mut h, Seg::new(SYN, PEER_ISN, 0).opts(TcpOptions { sack_permitted: true, ..mss(1460) }));
    h.output();
    let iss = h.iss;
    send(&mut h, Seg::new(ACK, PEER_ISN + 1, iss + 1));
    assert!(h.ep.accept(l).is_some());
    // Three holes: data at 101.., 301.., 501.. while 1..101 is missing.
    for start in [101u32, 301, 501] {
        send(&mut h, Seg::new(ACK, PEER_ISN + start, iss + 1).data(&[1u8; 100]));
    }
    let out = h.output();
    let last = out.last().expect("ACKs of out-of-order data");
    assert!(last.opts.md5);
    assert_eq!(last.opts.sack.len(), 2, "{:?}", last.opts);
}
