//! The tokio API between two stacks joined by a `PacketPipe`: no root, no TUN device, no
//! network, so these run in every `cargo test`. The kernel interop tests cover the same API
//! against Linux's TCP over a real device.

use std::io::ErrorKind;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use synack_engine::{Config, State};
use synack_runtime::{Stack, TcpListener, TcpStream};
use synack_tun::PacketPipe;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const A: &str = "10.9.0.1";
const B: &str = "10.9.0.2";
const LIMIT: Duration = Duration::from_secs(30);

fn addr(ip: &str, port: u16) -> SocketAddr {
    SocketAddr::new(ip.parse().unwrap(), port)
}

/// Two stacks, A and B, on the two ends of one pipe.
fn pair() -> (Stack, Stack) {
    pair_with(Config::default())
}

fn pair_with(config: Config) -> (Stack, Stack) {
    let (a, b) = PacketPipe::pair(1500).unwrap();
    let ip = |s: &str| -> IpAddr { s.parse().unwrap() };
    let sa = Stack::new(config.clone().with(|c| c.rng_seed = 1), &[ip(A)], a).unwrap();
    let sb = Stack::new(config.with(|c| c.rng_seed = 2), &[ip(B)], b).unwrap();
    (sa, sb)
}

fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i.wrapping_mul(7) ^ (i >> 9)) as u8).collect()
}

#[tokio::test]
async fn a_connection_moves_a_mebibyte_each_way_and_both_see_the_end() {
    let (sa, sb) = pair();
    let listener = TcpListener::bind(&sb, addr(B, 80)).await.unwrap();
    let server = tokio::spawn(async move {
        let (mut s, peer) = listener.accept().await.unwrap();
        assert_eq!(peer.ip().to_string(), A);
        let mut got = Vec::new();
        s.read_to_end(&mut got).await.unwrap(); // the client half-closed
        s.write_all(&pattern(1 << 20)).await.unwrap();
        s.shutdown().await.unwrap();
        got
    });
    let mut c = tokio::time::timeout(LIMIT, TcpStream::connect(&sa, addr(B, 80))).await.unwrap().unwrap();
    assert_eq!(c.peer_addr().unwrap(), addr(B, 80));
    c.write_all(&pattern(1 << 20)).await.unwrap();
    c.shutdown().await.unwrap(); // half-close: reading goes on
    let mut back = Vec::new();
    tokio::time::timeout(LIMIT, c.read_to_end(&mut back)).await.unwrap().unwrap();
    assert!(back == pattern(1 << 20), "server to client: {} bytes", back.len());
    let got = server.await.unwrap();
    assert!(got == pattern(1 << 20), "client to server: {} bytes", got.len());
}

#[tokio::test]
async fn connecting_to_a_port_nobody_listens_on_is_refused() {
    let (sa, _sb) = pair();
    let e = tokio::time::timeout(LIMIT, TcpStream::connect(&sa, addr(B, 81))).await.unwrap().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ConnectionRefused);
}

#[tokio::test]
async fn split_halves_work_from_two_tasks_and_dropping_the_writer_half_closes() {
    let (sa, sb) = pair();
    let listener = TcpListener::bind(&sb, addr(B, 80)).await.unwrap();
    tokio::spawn(async move {
        let (s, _) = listener.accept().await.unwrap();
        let (mut r, mut w) = s.into_split();
        tokio::io::copy(&mut r, &mut w).await.unwrap(); // echo until EOF
        w.shutdown().await.unwrap();
    });
    let c = TcpStream::connect(&sa, addr(B, 80)).await.unwrap();
    let (mut r, mut w) = c.into_split();
    let reader = tokio::spawn(async move {
        let mut back = Vec::new();
        r.read_to_end(&mut back).await.unwrap();
        back
    });
    w.write_all(&pattern(300_000)).await.unwrap();
    drop(w); // FIN
    let back = tokio::time::timeout(LIMIT, reader).await.unwrap().unwrap();
    assert!(back == pattern(300_000), "{} bytes came back", back.len());
}

#[tokio::test]
async fn a_writer_waits_while_the_reader_does_not_read_and_goes_on_when_it_does() {
    let config = Config::default().with(|c| {
        c.tcp_wmem.default = 16 * 1024;
        c.tcp_rmem.default = 16 * 1024;
    });
    let (sa, sb) = pair_with(config);
    let listener = TcpListener::bind(&sb, addr(B, 80)).await.unwrap();
    let c = TcpStream::connect(&sa, addr(B, 80)).await.unwrap();
    let (mut s, _) = listener.accept().await.unwrap();
    let writer = tokio::spawn(async move {
        let mut c = c;
        c.write_all(&pattern(200_000)).await.unwrap();
        c.shutdown().await.unwrap();
        c
    });
    // Nobody reads: both buffers fill and the writer is stuck.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!writer.is_finished(), "200 kB cannot fit in 32 KiB of buffers");
    let mut got = Vec::new();
    tokio::time::timeout(LIMIT, s.read_to_end(&mut got)).await.unwrap().unwrap();
    assert!(got == pattern(200_000));
    tokio::time::timeout(LIMIT, writer).await.unwrap().unwrap();
}

#[tokio::test]
async fn dropping_a_stream_with_unread_data_resets_the_peer() {
    let (sa, sb) = pair();
    let listener = TcpListener::bind(&sb, addr(B, 80)).await.unwrap();
    let mut c = TcpStream::connect(&sa, addr(B, 80)).await.unwrap();
    let (s, _) = listener.accept().await.unwrap();
    c.write_all(b"never read").await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    drop(s); // as Linux: unread data makes close send RST
    let mut buf = [0u8; 16];
    let e = tokio::time::timeout(LIMIT, async {
        loop {
            match c.read(&mut buf).await {
                Ok(0) => panic!("a FIN, not a reset"),
                Ok(_) => continue,
                Err(e) => return e,
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(e.kind(), ErrorKind::ConnectionReset);
}

#[tokio::test]
async fn close_lets_every_connection_finish_and_the_peer_reads_all_then_eof() {
    let (sa, sb) = pair();
    let listener = TcpListener::bind(&sb, addr(B, 80)).await.unwrap();
    let reader = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let mut got = Vec::new();
        s.read_to_end(&mut got).await.unwrap();
        got
    });
    let mut c = TcpStream::connect(&sa, addr(B, 80)).await.unwrap();
    c.write_all(&pattern(500_000)).await.unwrap();
    // No shutdown, no drop: close() shuts the connection down and waits for the ACK of FIN.
    let report = tokio::time::timeout(LIMIT, sa.close(Duration::from_secs(20))).await.unwrap();
    assert!(report.abandoned.is_empty(), "{report:?}");
    assert_eq!(report.finished, 1);
    let got = tokio::time::timeout(LIMIT, reader).await.unwrap().unwrap();
    assert!(got == pattern(500_000), "{} bytes", got.len());
    assert!(matches!(sa.sockets().first().map(|s| s.state), None | Some(State::FinWait2 | State::TimeWait)));
    assert!(c.write_all(b"more").await.is_err(), "the stack shut the write side");
}
