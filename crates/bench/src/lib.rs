//! The lifecycle harnesses of the benchmarks, shared by `benches/lifecycle.rs` (criterion) and
//! `examples/lifecycles.rs` (a plain loop for profilers such as `valgrind --tool=callgrind`).
//!
//! One lifecycle: connect, three-way handshake, 57 bytes from the server, the client closes,
//! the server closes, TIME-WAIT expires on the virtual clock.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

/// The 57 bytes of the classic example (9 + 9 + 28 + 11).
pub const DATA: &[u8; 57] = b"synack 1\nsynack 2\ntwenty-eight bytes of data.\ngoodbye :)\n";
/// Longer than any TIME-WAIT (synack 60 s, smoltcp 10 s).
pub const PAST_TIME_WAIT: Duration = Duration::from_secs(61);

pub mod synack_side {
    use super::*;
    use synack_engine::{Config, Endpoint, Event, Instant, ListenerHandle, State};

    pub struct Pair {
        pub server: Endpoint,
        pub client: Endpoint,
        listener: ListenerHandle,
        pub now: Instant,
        buf: Vec<u8>,
        next_port: u16,
    }

    const SERVER: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 7788);
    const CLIENT_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
    /// Addresses the idle connections come from, `PORTS_PER_IDLE_IP` ports each from 10000 on.
    const IDLE_IPS: [IpAddr; 4] = [
        IpAddr::V4(Ipv4Addr::new(10, 0, 1, 1)),
        IpAddr::V4(Ipv4Addr::new(10, 0, 1, 2)),
        IpAddr::V4(Ipv4Addr::new(10, 0, 1, 3)),
        IpAddr::V4(Ipv4Addr::new(10, 0, 1, 4)),
    ];
    const PORTS_PER_IDLE_IP: usize = 25_000;
    /// The most idle connections `add_idle` and `add_idle_on_server` can open.
    pub const MAX_IDLE: usize = IDLE_IPS.len() * PORTS_PER_IDLE_IP;

    /// The local address of the `i`th idle connection.
    fn idle_local(i: usize) -> SocketAddr {
        SocketAddr::new(IDLE_IPS[i / PORTS_PER_IDLE_IP], 10_000 + (i % PORTS_PER_IDLE_IP) as u16)
    }

    impl Default for Pair {
        fn default() -> Pair {
            Pair::new()
        }
    }

    impl Pair {
        pub fn new() -> Pair {
            let config = Config::default();
            let mut server = Endpoint::new(config.clone().with(|c| c.rng_seed = 1), &[SERVER.ip()]);
            let listener = server.listen(SERVER, 4096).expect("listen");
            let mut client_ips = vec![CLIENT_IP];
            client_ips.extend(IDLE_IPS);
            let client = Endpoint::new(config.with(|c| c.rng_seed = 2), &client_ips);
            Pair { server, client, listener, now: Instant::ZERO, buf: vec![0; 1500], next_port: 1024 }
        }

        /// Moves packets both ways until neither side has anything to send; drops events.
        pub fn pump(&mut self) {
            exchange(&mut self.client, &mut self.server, self.now, &mut self.buf);
            // An application reads an event's kind and handle (copied whole, an event is read
            // in wide loads over the narrow stores that wrote it a moment ago, and waits).
            while let Some(e) = self.client.poll_event() {
                if let Event::Readable(h) = e {
                    std::hint::black_box(h);
                }
            }
            while let Some(e) = self.server.poll_event() {
                if let Event::Incoming(l) = e {
                    std::hint::black_box(l);
                }
            }
        }

        pub fn lifecycle(&mut self) {
            self.next_port = if self.next_port == u16::MAX { 1024 } else { self.next_port + 1 };
            let local = SocketAddr::new(CLIENT_IP, self.next_port);
            let c = self.client.connect(self.now, Some(local), SERVER).expect("connect");
            self.pump();
            let s = self.server.accept(self.listener).expect("handshake completed");
            assert_eq!(self.server.send(self.now, s, DATA), Ok(57));
            self.pump();
            let mut got = [0u8; 64];
            assert_eq!(self.client.recv(self.now, c, &mut got), Ok(57));
            self.client.close(self.now, c).expect("close");
            self.pump();
            assert_eq!(self.server.recv(self.now, s, &mut got), Ok(0), "end of stream");
            self.server.close(self.now, s).expect("close");
            self.pump();
            assert_eq!(self.server.state(s), None, "server freed");
            // TIME-WAIT expires on the virtual clock.
            self.now = self.now + PAST_TIME_WAIT;
            self.client.handle_timeout(self.now);
            self.server.handle_timeout(self.now);
            self.pump();
            debug_assert_eq!(self.client.population().time_wait, 0);
        }

        /// Opens `n` established connections to the server from a third endpoint, which is
        /// then dropped: the idle connections are the server's alone (the client stays small).
        pub fn add_idle_on_server(&mut self, n: usize) {
            assert!(n <= MAX_IDLE, "at most {MAX_IDLE} idle connections");
            let config = Config::default().with(|c| c.rng_seed = 3);
            let mut crowd = Endpoint::new(config, &IDLE_IPS);
            for i in 0..n {
                crowd.connect(self.now, Some(idle_local(i)), SERVER).expect("connect");
                exchange(&mut crowd, &mut self.server, self.now, &mut self.buf);
                self.server.accept(self.listener).expect("accepted");
            }
            self.now = self.now + PAST_TIME_WAIT;
            self.server.handle_timeout(self.now);
            while self.server.poll_event().is_some() {}
        }

        /// Opens `n` established connections between client and server that then stay idle:
        /// both endpoints hold them.
        pub fn add_idle(&mut self, n: usize) {
            assert!(n <= MAX_IDLE, "at most {MAX_IDLE} idle connections");
            for i in 0..n {
                let c = self.client.connect(self.now, Some(idle_local(i)), SERVER).expect("connect");
                self.pump();
                let s = self.server.accept(self.listener).expect("accepted");
                debug_assert_eq!(self.client.state(c), Some(State::Established));
                std::hint::black_box(s);
            }
            // Let the handshake timers' stale heap entries pass.
            self.now = self.now + PAST_TIME_WAIT;
            self.client.handle_timeout(self.now);
            self.server.handle_timeout(self.now);
        }
    }
}

/// Moves packets between two synack endpoints until neither has anything to send.
fn exchange(
    a: &mut synack_engine::Endpoint,
    b: &mut synack_engine::Endpoint,
    now: synack_engine::Instant,
    buf: &mut [u8],
) {
    loop {
        let mut moved = false;
        while let Some(t) = a.poll_transmit(now, buf) {
            b.handle_packet(now, &buf[..t.len]);
            moved = true;
        }
        while let Some(t) = b.poll_transmit(now, buf) {
            a.handle_packet(now, &buf[..t.len]);
            moved = true;
        }
        if !moved {
            break;
        }
    }
}

pub mod smoltcp_side {
    use super::*;
    use smoltcp::iface::{Config, Interface, PollResult, SocketHandle, SocketSet};
    use smoltcp::phy::{Loopback, Medium};
    use smoltcp::socket::tcp;
    use smoltcp::time::{Duration as SmolDuration, Instant};
    use smoltcp::wire::{HardwareAddress, IpAddress, IpCidr};

    pub struct Pair {
        iface: Interface,
        device: Loopback,
        sockets: SocketSet<'static>,
        server: SocketHandle,
        client: SocketHandle,
        now: Instant,
        next_port: u16,
    }

    fn socket() -> tcp::Socket<'static> {
        let rx = tcp::SocketBuffer::new(vec![0; 65536]);
        let tx = tcp::SocketBuffer::new(vec![0; 65536]);
        // smoltcp's defaults, as synack runs with its own: a delayed ACK (10 ms) lets the
        // client's FIN carry the ACK of the data, eight segments per lifecycle on both stacks.
        tcp::Socket::new(rx, tx)
    }

    impl Default for Pair {
        fn default() -> Pair {
            Pair::new()
        }
    }

    impl Pair {
        pub fn new() -> Pair {
            let mut device = Loopback::new(Medium::Ip);
            let config = Config::new(HardwareAddress::Ip);
            let mut iface = Interface::new(config, &mut device, Instant::ZERO);
            iface.update_ip_addrs(|addrs| {
                addrs.push(IpCidr::new(IpAddress::v4(127, 0, 0, 1), 8)).expect("room for an address");
            });
            let mut sockets = SocketSet::new(vec![]);
            let server = sockets.add(socket());
            let client = sockets.add(socket());
            Pair { iface, device, sockets, server, client, now: Instant::ZERO, next_port: 10_000 }
        }

        fn pump(&mut self) {
            // Each poll moves what is queued one hop; poll until a round changes nothing
            // (bounded: an exchange settles in a few rounds).
            for _ in 0..8 {
                if self.iface.poll(self.now, &mut self.device, &mut self.sockets) == PollResult::None {
                    break;
                }
            }
        }

        pub fn lifecycle(&mut self) {
            // Client ports 10000..=65535: never the server's own 7788 on the shared address.
            self.next_port = if self.next_port == u16::MAX { 10_000 } else { self.next_port + 1 };
            self.sockets.get_mut::<tcp::Socket>(self.server).listen(7788).expect("listen");
            let cx = self.iface.context();
            self.sockets
                .get_mut::<tcp::Socket>(self.client)
                .connect(cx, (IpAddress::v4(127, 0, 0, 1), 7788), self.next_port)
                .expect("connect");
            self.pump();
            let server = self.sockets.get_mut::<tcp::Socket>(self.server);
            assert_eq!(server.state(), tcp::State::Established);
            assert_eq!(server.send_slice(DATA), Ok(57));
            self.pump();
            let mut got = [0u8; 64];
            let client = self.sockets.get_mut::<tcp::Socket>(self.client);
            assert_eq!(client.recv_slice(&mut got), Ok(57));
            client.close();
            self.pump();
            let server = self.sockets.get_mut::<tcp::Socket>(self.server);
            assert!(!server.may_recv(), "end of stream");
            server.close();
            self.pump();
            self.now += SmolDuration::from_millis(PAST_TIME_WAIT.as_millis() as u64);
            self.pump();
            assert_eq!(self.sockets.get::<tcp::Socket>(self.client).state(), tcp::State::Closed);
            assert_eq!(self.sockets.get::<tcp::Socket>(self.server).state(), tcp::State::Closed);
        }
    }
}
