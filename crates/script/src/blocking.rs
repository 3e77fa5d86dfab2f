//! Blocking calls, written with a time range (`+0...0.100 read(4, ..., 2000) = 2000`): the
//! call is made at the range's start; if it cannot complete then, the script goes on (packets
//! arrive, timers fire) and the call is tried again after every step until it returns, which
//! must be within the tolerance of the range's end, with the line's result.

use crate::ast::{Arg, Call};
use crate::calls::{conn_errno, CallResult};
use crate::run::{Failure, Runner, Sock};
use synack_engine::{ConnHandle, Instant, State};

/// What a blocked call waits for.
#[derive(Debug, Clone)]
enum Wait {
    /// accept, read or recv: made again, non-blocking, until it no longer says EAGAIN.
    Again,
    /// connect: the handshake's end.
    Connect(ConnHandle),
    /// write or send: room for the rest (`left` of `total` bytes).
    Write { left: i64, total: i64 },
}

/// A blocking call that has not returned.
#[derive(Debug, Clone)]
pub(crate) struct Blocked {
    call: Call,
    line: usize,
    /// When it may return: the range's end, less and plus the tolerance.
    window: (Instant, Instant),
    wait: Wait,
}

impl Runner {
    /// Makes a blocking call at its start time.
    pub(crate) fn blocking_call(&mut self, call: &Call, window: (Instant, Instant)) -> Result<(), Failure> {
        if self.blocked.is_some() {
            return self.fail("a blocking call while another one has not returned (one thread only)");
        }
        let Some(fd) = call.args.first().and_then(Arg::int) else {
            return self.fail(format!("{}(): the first argument must be a file descriptor", call.name));
        };
        let got = self.nonblocking(fd, call)?;
        self.drain();
        let wait = match (call.name.as_str(), got) {
            ("accept" | "read" | "recv", Err("EAGAIN")) => Wait::Again,
            ("connect", Err("EINPROGRESS")) => match self.fds.get(&fd).map(|f| f.sock) {
                Some(Sock::Conn(h)) => Wait::Connect(h),
                _ => return self.fail("connect() left no connection to wait for"),
            },
            ("write" | "send", Ok(_) | Err("EAGAIN")) if self.write_len(call) > got.unwrap_or(0) => {
                let total = self.write_len(call);
                Wait::Write { left: total - got.unwrap_or(0), total }
            }
            _ => return self.returned(call, got, window),
        };
        self.blocked = Some(Blocked { call: call.clone(), line: self.line, window, wait });
        Ok(())
    }

    /// Tries the blocked call again; a wrong return is kept for the next event to report.
    pub(crate) fn retry_blocked(&mut self) {
        let Some(b) = self.blocked.take() else { return };
        let fd = b.call.args.first().and_then(Arg::int).unwrap_or(-1);
        let line = std::mem::replace(&mut self.line, b.line);
        let outcome: Result<Option<CallResult>, Failure> = match b.wait {
            Wait::Again => self.nonblocking(fd, &b.call).map(|got| (got != Err("EAGAIN")).then_some(got)),
            Wait::Connect(h) => Ok(match self.ep.state(h) {
                Some(State::SynSent | State::SynReceived) => None,
                _ => Some(match self.ep.conn_error(h) {
                    Some(e) => Err(conn_errno(e)),
                    None => Ok(0),
                }),
            }),
            Wait::Write { left, total } => {
                let mut rest = b.call.clone();
                rest.args[2] = Arg::Int(left);
                match self.nonblocking(fd, &rest) {
                    Ok(Ok(n)) if n < left => {
                        self.blocked = Some(Blocked { wait: Wait::Write { left: left - n, total }, ..b.clone() });
                        Ok(None)
                    }
                    Ok(Ok(_)) => Ok(Some(Ok(total))),
                    Ok(Err("EAGAIN")) => {
                        self.blocked = Some(b.clone());
                        Ok(None)
                    }
                    Ok(Err(e)) => Ok(Some(Err(e))),
                    Err(f) => Err(f),
                }
            }
        };
        self.drain();
        let result = match outcome {
            Ok(Some(got)) => {
                self.blocked = None;
                self.returned(&b.call, got, b.window)
            }
            Ok(None) => {
                if self.blocked.is_none() {
                    self.blocked = Some(b);
                }
                Ok(())
            }
            Err(f) => Err(f),
        };
        if let Err(f) = result {
            self.deferred.get_or_insert(f);
        }
        self.line = line;
    }

    /// At the end of the script: time runs on (timers only) until the blocked call returns or
    /// its window has passed.
    pub(crate) fn finish_blocked(&mut self) -> Result<(), Failure> {
        while let Some(b) = &self.blocked {
            let limit = b.window.1;
            if !self.step_before(limit) {
                let b = self.blocked.take().unwrap();
                self.line = b.line;
                self.now = self.now.max(limit);
                return self.fail(format!("{}() did not return by {limit}", b.call.name));
            }
        }
        self.take_deferred()
    }

    /// A failure found while time advanced.
    pub(crate) fn take_deferred(&mut self) -> Result<(), Failure> {
        match self.deferred.take() {
            Some(f) => Err(f),
            None => Ok(()),
        }
    }

    /// The call made as on a non-blocking socket.
    fn nonblocking(&mut self, fd: i64, call: &Call) -> Result<CallResult, Failure> {
        let was = self.fds.get(&fd).map(|f| f.nonblocking);
        if let Some(f) = self.fds.get_mut(&fd) {
            f.nonblocking = true;
        }
        let got = self.do_call(call);
        if let (Some(was), Some(f)) = (was, self.fds.get_mut(&fd)) {
            f.nonblocking = was;
        }
        got
    }

    /// The call returned: at the right time, with the right result.
    fn returned(&mut self, call: &Call, got: CallResult, window: (Instant, Instant)) -> Result<(), Failure> {
        let (lo, hi) = window;
        if self.now < lo || self.now > hi {
            return self.fail(format!("{}() returned at {}, expected between {lo} and {hi}", call.name, self.now));
        }
        self.check_result(call, got)
    }

    fn write_len(&self, call: &Call) -> i64 {
        call.args.get(2).and_then(Arg::int).unwrap_or(0).max(0)
    }
}
