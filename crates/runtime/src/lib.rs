//! The runtime: drives one engine `Endpoint` over a device with a real clock. This is the only
//! place where real time becomes engine time.
//!
//! `Stack` is a tokio task with `TcpListener` and `TcpStream` in the manner of `tokio::net`,
//! over any `PacketDevice`: a TUN device, or a `PacketPipe` to another stack in the process.

#![deny(missing_docs)]

mod net;
mod stack;
pub mod tap;

pub use net::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, TcpListener, TcpStream, WriteHalf};
pub use stack::{Abandoned, CloseReport, Stack};
