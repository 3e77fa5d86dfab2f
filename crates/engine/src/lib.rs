//! The sans-IO TCP engine of synack.
//!
//! `Endpoint` owns every connection of one host. It never reads a clock, never does I/O, and
//! draws randomness only from a generator seeded by `Config::rng_seed`: the same inputs give the
//! same outputs. See `Endpoint` for the call order.
//!
//! ```
//! use synack_engine::{Config, Endpoint, Event, Instant};
//!
//! // Two hosts joined by a perfect wire: whatever one transmits, the other receives.
//! let mut server = Endpoint::new(Config::default(), &["10.0.0.1".parse().unwrap()]);
//! let mut client = Endpoint::new(Config::default(), &["10.0.0.2".parse().unwrap()]);
//! let listener = server.listen("10.0.0.1:80".parse().unwrap(), 128).unwrap();
//! let conn = client.connect(Instant::ZERO, None, "10.0.0.1:80".parse().unwrap()).unwrap();
//! let mut buf = [0u8; 1500];
//! let now = Instant::ZERO;
//! for _ in 0..4 {
//!     // After every input or user call: drain poll_transmit, deliver, then poll_event.
//!     while let Some(t) = client.poll_transmit(now, &mut buf) { server.handle_packet(now, &buf[..t.len]); }
//!     while let Some(t) = server.poll_transmit(now, &mut buf) { client.handle_packet(now, &buf[..t.len]); }
//! }
//! let accepted = server.accept(listener).expect("handshake done");
//! assert!(matches!(client.poll_event(), Some(Event::Connected(_))));
//! client.send(now, conn, b"hello").unwrap();
//! while let Some(t) = client.poll_transmit(now, &mut buf) { server.handle_packet(now, &buf[..t.len]); }
//! let mut got = [0u8; 5];
//! assert_eq!(server.recv(now, accepted, &mut got), Ok(5));
//! // Timers: sleep until client.poll_timeout(), then call client.handle_timeout(now).
//! ```

#![deny(missing_docs)]

mod assembler;
mod buffers;
mod config;
mod congestion;
mod conn;
mod counters;
mod endpoint;
mod error;
mod event;
mod fifo;
mod half_open;
mod handle;
mod ip_fields;
mod isn;
mod listener;
mod rack;
mod rng;
mod rtt;
mod scoreboard;
mod segment_checks;
mod slab;
mod state;
mod syncookie;
mod time;
mod time_wait;
mod tuple;

/// Marks the branch it is called on as rare, so that the compiler lays that branch's code out
/// of the way of the common path and keeps the common path's registers free of it (what
/// `std::hint::cold_path` does in Rust releases newer than this crate's 1.85 minimum). A call
/// to a `#[cold]` function is what the optimiser reads as unlikely.
#[cold]
#[inline(never)]
pub(crate) fn cold() {}

pub use config::{window_scale_for, BufferLimits, Compat, Config, ConfigMut, CongestionAlgorithm, EcnMode};
pub use conn::{ConnInfo, KeepaliveTiming, PmtuDiscovery};
pub use counters::Counters;
pub use endpoint::{
    format_ss_table, record_sizes, BufferSizes, ConnMut, Endpoint, ListenerQueues, Population, QueueLens, RecordSizes,
    SocketInfo, Transmit,
};
pub use error::{ConnectError, InvalidHandle, ListenError, RecvError, SendError};
pub use event::{Cause, ConnError, Event, Transition};
pub use handle::{ConnHandle, ListenerHandle};
pub use ip_fields::IpFields;
pub use isn::IsnGenerator;
pub use rng::SplitMix64;
pub use state::State;
pub use time::Instant;
pub use tuple::FourTuple;
