//! The sans-IO TCP engine of synack.
//!
//! `Endpoint` owns every connection of one host. It never reads a clock, never does I/O, and
//! draws randomness only from a generator seeded by `Config::rng_seed`: the same inputs give the
//! same outputs. See `Endpoint` for the call order.

mod assembler;
mod config;
mod congestion;
mod conn;
mod counters;
mod endpoint;
mod error;
mod event;
mod half_open;
mod isn;
mod listener;
mod rng;
mod rtt;
mod state;
mod time;
mod time_wait;
mod tuple;

pub use config::Config;
pub use conn::ConnInfo;
pub use counters::Counters;
pub use endpoint::{format_ss_table, record_sizes, ConnHandle, Endpoint, ListenerHandle, SocketInfo, Transmit};
pub use error::{ConnectError, InvalidHandle, ListenError, RecvError, SendError};
pub use event::{Cause, ConnError, Event, Transition};
pub use isn::IsnGenerator;
pub use rng::SplitMix64;
pub use state::State;
pub use time::Instant;
pub use tuple::FourTuple;
