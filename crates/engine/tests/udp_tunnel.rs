//! TCP over UDP as FreeBSD tunnels it (`tcp_udp_tunneling_port`, TCP_REMOTE_UDP_ENCAPS_PORT):
//! a connection opened in UDP sends and takes its segments in UDP; a segment that comes
//! another way is answered with RST as if there were no connection, which it leaves alone.

use std::net::{IpAddr, SocketAddr};
use synack_engine::{Config, Endpoint, Instant, State};
use synack_wire::{decapsulate_udp, encapsulate_in_udp, parse_segment, parse_segment_with, TcpFlags, IP_PROTOCOL_UDP};

const TUNNEL: u16 = 9811;

fn config() -> Config {
    Config::default().with(|c| {
        c.rng_seed = 5;
        c.tcp_udp_tunneling_port = TUNNEL;
    })
}

fn protocol(packet: &[u8]) -> u8 {
    packet[9]
}

/// Runs both ways until quiet, returning every packet; each must be UDP between the
/// tunneling ports.
fn exchange(a: &mut Endpoint, b: &mut Endpoint) -> Vec<Vec<u8>> {
    let mut all = Vec::new();
    let mut buf = [0u8; 1600];
    for _ in 0..20 {
        let mut moved = false;
        while let Some(t) = a.poll_transmit(Instant::ZERO, &mut buf) {
            all.push(buf[..t.len].to_vec());
            b.handle_packet(Instant::ZERO, &buf[..t.len]);
            moved = true;
        }
        while let Some(t) = b.poll_transmit(Instant::ZERO, &mut buf) {
            all.push(buf[..t.len].to_vec());
            a.handle_packet(Instant::ZERO, &buf[..t.len]);
            moved = true;
        }
        if !moved {
            break;
        }
    }
    for p in &all {
        assert_eq!(protocol(p), IP_PROTOCOL_UDP);
        let d = decapsulate_udp(p, TUNNEL).unwrap().expect("to the tunneling port");
        assert_eq!(d.src_port, TUNNEL);
    }
    all
}

/// A client connected to a server in UDP: both endpoints, the handles, the handshake's packets.
struct Tunnel {
    server: Endpoint,
    client: Endpoint,
    h: synack_engine::ConnHandle,
    accepted: synack_engine::ConnHandle,
    handshake: Vec<Vec<u8>>,
}

impl Tunnel {
    fn open() -> Tunnel {
        let (s, c): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let mut server = Endpoint::new(config(), &[s]);
        let mut client = Endpoint::new(config(), &[c]);
        let l = server.listen(SocketAddr::new(s, 80), 8).unwrap();
        let h = client.connect(Instant::ZERO, None, SocketAddr::new(s, 80)).unwrap();
        assert!(client.conn_mut(Instant::ZERO, h).unwrap().set_remote_udp_port(Some(TUNNEL)));
        let handshake = exchange(&mut client, &mut server);
        let accepted = server.accept(l).expect("handshake done in UDP");
        Tunnel { server, client, h, accepted, handshake }
    }
}

#[test]
fn a_connection_in_udp_carries_its_handshake_data_and_teardown() {
    let Tunnel { mut server, mut client, accepted, h, .. } = Tunnel::open();
    client.send(Instant::ZERO, h, &[3u8; 5000]).unwrap();
    let data = exchange(&mut client, &mut server);
    // No super-segment: each segment fits the link with its UDP header.
    assert!(data.iter().all(|p| p.len() <= 1500 + 8), "{:?}", data.iter().map(Vec::len).collect::<Vec<_>>());
    let mut got = vec![0u8; 6000];
    assert_eq!(server.recv(Instant::ZERO, accepted, &mut got), Ok(5000));
    client.close(Instant::ZERO, h).unwrap();
    exchange(&mut client, &mut server);
    server.close(Instant::ZERO, accepted).unwrap();
    exchange(&mut client, &mut server);
    // The client closed first: its TIME-WAIT record remains, the server's side is gone.
    let states: Vec<State> = client.sockets().iter().map(|s| s.state).collect();
    assert_eq!(states, vec![State::TimeWait]);
    assert!(server.sockets().iter().all(|s| s.state == State::Listen));
}

/// A segment from another UDP port, or plain, for a connection in UDP: RST from the
/// connection's side the way it came; the connection stays as it was.
#[test]
fn a_segment_that_comes_another_way_is_reset_and_the_connection_kept() {
    let Tunnel { mut server, accepted, handshake, .. } = Tunnel::open();
    // The client's last ACK, sent again from UDP port 1, and plain.
    let last = decapsulate_udp(handshake.last().unwrap(), TUNNEL).unwrap().unwrap().packet;
    let mut from_port_1 = last.clone();
    from_port_1.resize(last.len() + 8, 0);
    let n = encapsulate_in_udp(&mut from_port_1, last.len(), 1, TUNNEL).unwrap();
    server.handle_packet(Instant::ZERO, &from_port_1[..n]);
    let mut buf = [0u8; 1600];
    let t = server.poll_transmit(Instant::ZERO, &mut buf).expect("a RST");
    let d = decapsulate_udp(&buf[..t.len], 1).unwrap().expect("in UDP to port 1");
    let rst = parse_segment_with(&d.packet, false).unwrap();
    assert_eq!(rst.tcp.flags, TcpFlags::RST);
    // Plain: the TCP checksum the tunnel left out is filled in first.
    let mut plain = last.clone();
    assert!(synack_wire::fill_tcp_checksum(&mut plain));
    server.handle_packet(Instant::ZERO, &plain);
    let t = server.poll_transmit(Instant::ZERO, &mut buf).expect("a RST");
    let rst = parse_segment(&buf[..t.len]).expect("plain TCP");
    assert_eq!(rst.tcp.flags, TcpFlags::RST);
    assert_eq!(server.state(accepted), Some(State::Established), "left alone");
}

/// TCP_REMOTE_UDP_ENCAPS_PORT needs a tunneling port and a SYN not yet sent.
#[test]
fn the_remote_port_is_set_only_before_the_syn_and_with_a_tunnel() {
    let c: IpAddr = "10.0.0.2".parse().unwrap();
    let remote = SocketAddr::new("10.0.0.1".parse().unwrap(), 80);
    let mut plain = Endpoint::new(Config::default(), &[c]);
    let h = plain.connect(Instant::ZERO, None, remote).unwrap();
    assert!(!plain.conn_mut(Instant::ZERO, h).unwrap().set_remote_udp_port(Some(TUNNEL)), "no tunneling port");
    let mut tunnel = Endpoint::new(config(), &[c]);
    let h = tunnel.connect(Instant::ZERO, None, remote).unwrap();
    let mut buf = [0u8; 1600];
    let t = tunnel.poll_transmit(Instant::ZERO, &mut buf).unwrap();
    assert_eq!(protocol(&buf[..t.len]), 6, "a plain SYN");
    assert!(!tunnel.conn_mut(Instant::ZERO, h).unwrap().set_remote_udp_port(Some(TUNNEL)), "the SYN is out");
}

/// What a connection in UDP sends as it goes, after its record has left the table (an
/// abort's RST), and a SYN cookie's SYN-ACK, which no record holds, still travel in UDP.
#[test]
fn an_abort_rst_and_a_cookie_syn_ack_go_in_udp() {
    let Tunnel { mut client, h, .. } = Tunnel::open();
    client.abort(Instant::ZERO, h).unwrap();
    let mut buf = [0u8; 1600];
    let t = client.poll_transmit(Instant::ZERO, &mut buf).expect("the abort's RST");
    let d = decapsulate_udp(&buf[..t.len], TUNNEL).unwrap().expect("in UDP");
    assert!(parse_segment_with(&d.packet, false).unwrap().tcp.flags.rst());

    let (s, c): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
    let mut server = Endpoint::new(config().with(|c| c.tcp_syncookies = 2), &[s]);
    let mut client = Endpoint::new(config(), &[c]);
    server.listen(SocketAddr::new(s, 80), 8).unwrap();
    let h = client.connect(Instant::ZERO, None, SocketAddr::new(s, 80)).unwrap();
    assert!(client.conn_mut(Instant::ZERO, h).unwrap().set_remote_udp_port(Some(TUNNEL)));
    exchange(&mut client, &mut server);
    assert_eq!(client.state(h), Some(State::Established), "the cookie's SYN-ACK came back in UDP");
    assert!(server.counters().syncookies_sent > 0);
}
