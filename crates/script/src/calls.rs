//! The socket calls of a script, mapped onto the endpoint's API. Each returns what the
//! BSD socket call would (a value, or -1 and an errno name), and the runner compares that
//! with the line.

use crate::ast::{Arg, Call};
use crate::run::{Failure, Fd, Runner, Sock, REMOTE_CLIENT_PORT, SCRIPT_PORT};
use std::net::SocketAddr;
use std::time::Duration;
use synack_engine::{ConnError, ConnectError, FourTuple, ListenError, RecvError, SendError, State};

/// FreeBSD's fcntl flag values, as the scripts print them.
const O_RDWR: i64 = 0x02;
const O_NONBLOCK: i64 = 0x04;

pub(crate) type CallResult = Result<i64, &'static str>;

pub(crate) fn conn_errno(e: ConnError) -> &'static str {
    match e {
        ConnError::Refused => "ECONNREFUSED",
        ConnError::Reset => "ECONNRESET",
        ConnError::TimedOut => "ETIMEDOUT",
        ConnError::Aborted => "ECONNABORTED",
        ConnError::HostUnreachable => "EHOSTUNREACH",
        ConnError::NetUnreachable => "ENETUNREACH",
    }
}

/// Errno names that mean the same.
fn same_errno(a: &str, b: &str) -> bool {
    let norm = |e: &str| if e == "EWOULDBLOCK" { "EAGAIN".to_string() } else { e.to_string() };
    norm(a) == norm(b)
}

impl Runner {
    pub(crate) fn call(&mut self, call: &Call) -> Result<(), Failure> {
        let got = self.do_call(call)?;
        // Whatever the call made synack send (a window update after a read, say).
        self.drain();
        self.check_result(call, got)
    }

    /// The call's result against the line's `= result [errno]`.
    pub(crate) fn check_result(&mut self, call: &Call, got: CallResult) -> Result<(), Failure> {
        let expected_errno = call.errno.as_deref();
        let message = match got {
            Ok(v) if v == call.result => return Ok(()),
            Err(errno) if call.result == -1 && expected_errno.is_none_or(|e| same_errno(e, errno)) => return Ok(()),
            Ok(v) => format!("{}() returned {v}, expected {}", call.name, expected_text(call)),
            Err(errno) => format!("{}() returned -1 {errno}, expected {}", call.name, expected_text(call)),
        };
        if self.non_fatal_syscalls {
            self.log.nonfatal_calls.push((self.line, message));
            return Ok(());
        }
        self.fail(message)
    }

    /// The number of a new socket: as packetdrill does, the one the script's line names
    /// (`socket(...) = 4` makes fd 4), or else the lowest free one from 3.
    fn new_fd(&mut self, call: &Call) -> i64 {
        let open = |fds: &std::collections::BTreeMap<i64, Fd>, n: i64| {
            fds.get(&n).is_some_and(|f| !matches!(f.sock, Sock::Closed(_)))
        };
        let fd = if call.result >= 0 && !open(&self.fds, call.result) {
            call.result
        } else {
            (3..).find(|&n| !open(&self.fds, n)).unwrap_or(3)
        };
        self.last_fd = Some(fd);
        fd
    }

    fn fd_arg(&self, call: &Call) -> Result<i64, Failure> {
        match call.args.first().and_then(Arg::int) {
            Some(fd) => Ok(fd),
            None => self.fail(format!("{}(): the first argument must be a file descriptor", call.name)),
        }
    }

    fn fd(&mut self, fd: i64) -> Option<&mut Fd> {
        self.fds.get_mut(&fd).filter(|f| !matches!(f.sock, Sock::Closed(_)))
    }

    pub(crate) fn do_call(&mut self, call: &Call) -> Result<CallResult, Failure> {
        let name = call.name.as_str();
        if name == "socket" {
            let fd = self.new_fd(call);
            self.fds.insert(fd, Fd::new(Sock::Fresh { bound: false }));
            return Ok(Ok(fd));
        }
        let fd = self.fd_arg(call)?;
        let Some(entry) = self.fd(fd).cloned() else {
            return Ok(Err("EBADF"));
        };
        let now = self.now;
        let result = match name {
            "fcntl" => self.fcntl(fd, call)?,
            "bind" => match entry.sock {
                Sock::Fresh { bound: false } => {
                    // The engine holds the address from now on, and answers a SYN to it as a
                    // bound socket does (from its IP_TTL and IP_TOS); another socket of the
                    // script may hold it already (SO_REUSEADDR), which changes nothing here.
                    let local = SocketAddr::new(self.local_ip(), SCRIPT_PORT);
                    let bound = self.ep.bind(local).ok();
                    if let Some(l) = bound {
                        let _ = self.ep.set_listener_ip(l, entry.ip);
                        let _ = self.ep.set_listener_md5(l, entry.md5);
                    }
                    let f = self.fd(fd).unwrap();
                    (f.sock, f.bound) = (Sock::Fresh { bound: true }, bound);
                    Ok(0)
                }
                _ => Err("EINVAL"),
            },
            "listen" => {
                let backlog = call.args.get(1).and_then(Arg::int).unwrap_or(1).max(0) as usize;
                let local = SocketAddr::new(self.local_ip(), SCRIPT_PORT);
                match entry.sock {
                    Sock::Fresh { .. } => match match entry.bound {
                        Some(l) => self.ep.listen_bound(l, backlog.max(1)).map(|()| l),
                        None => self.ep.listen(local, backlog.max(1)),
                    } {
                        Ok(l) => {
                            let _ = self.ep.set_listener_ip(l, self.ip_fields_of(&entry));
                            let _ = self.ep.set_listener_md5(l, entry.md5);
                            self.fd(fd).unwrap().bound = None;
                            let _ = self.ep.set_listener_no_options(l, entry.no_options);
                            let _ = self.ep.set_listener_max_segment(l, entry.max_segment);
                            self.fd(fd).unwrap().sock = Sock::Listener(l);
                            let remote = SocketAddr::new(self.remote_ip(), REMOTE_CLIENT_PORT);
                            self.tuple = Some(FourTuple::new(local, remote));
                            (self.listening, self.tuple_used) = (true, false);
                            self.iss = None;
                            Ok(0)
                        }
                        Err(ListenError::AddrInUse) => Err("EADDRINUSE"),
                        Err(_) => Err("EINVAL"),
                    },
                    Sock::Listener(_) => Ok(0),
                    _ => Err("EINVAL"),
                }
            }
            "accept" => match entry.sock {
                Sock::Listener(l) => match self.ep.accept(l) {
                    Some(h) => {
                        // The accepted socket inherits the listener's options (Linux's
                        // sk_clone_lock copies the socket).
                        if let Some(mut c) = self.ep.conn_mut(self.now, h) {
                            apply_inherited_options(&mut c, &entry);
                        }
                        let new_fd = self.new_fd(call);
                        self.fds.insert(new_fd, Fd::new(Sock::Conn(h)));
                        self.listening = false;
                        Ok(new_fd)
                    }
                    None if entry.nonblocking => Err("EAGAIN"),
                    None => return self.fail("accept() would block, and this runner runs only calls that return"),
                },
                _ => Err("EINVAL"),
            },
            "connect" => match entry.sock {
                Sock::Fresh { .. } => {
                    if let Some(l) = self.fd(fd).unwrap().bound.take() {
                        let _ = self.ep.close_listener(now, l);
                    }
                    let remote = SocketAddr::new(self.remote_ip(), SCRIPT_PORT);
                    match self.ep.connect(now, None, remote) {
                        Ok(h) => {
                            if let Some(mut c) = self.ep.conn_mut(self.now, h) {
                                if let Some(bytes) = entry.recv_buffer {
                                    c.set_recv_buffer_size(bytes);
                                }
                                apply_inherited_options(&mut c, &entry);
                                c.set_ip_fields(entry.ip);
                                c.set_md5(entry.md5);
                                // packetdrill's socket() gives a script's socket the remote
                                // encapsulation port when its segments travel in UDP.
                                if self.udp_encapsulation {
                                    c.set_remote_udp_port(Some(crate::udp::SCRIPT_UDP_PORT));
                                }
                                c.set_no_options(entry.no_options);
                                if let Some(mss) = entry.max_segment {
                                    c.set_max_segment(mss);
                                }
                                if entry.connect_timeout.is_some() {
                                    c.set_connect_timeout(entry.connect_timeout);
                                }
                                if entry.user_timeout.is_some() {
                                    c.set_user_timeout(entry.user_timeout);
                                }
                            }
                            self.fd(fd).unwrap().sock = Sock::Conn(h);
                            self.tuple = Some(FourTuple::new(self.ep.local_addr(h).unwrap(), remote));
                            (self.listening, self.tuple_used) = (false, false);
                            self.iss = None;
                            self.drain();
                            if entry.nonblocking {
                                Err("EINPROGRESS")
                            } else {
                                return self.fail("a blocking connect() would block; make the socket O_NONBLOCK");
                            }
                        }
                        Err(ConnectError::AddrInUse) => Err("EADDRINUSE"),
                        Err(_) => Err("EINVAL"),
                    }
                }
                Sock::Conn(h) => match self.ep.state(h) {
                    Some(State::SynSent | State::SynReceived) => Err("EALREADY"),
                    _ => Err("EISCONN"),
                },
                _ => Err("EINVAL"),
            },
            "read" | "recv" => {
                let len = call.args.get(2).and_then(Arg::int).unwrap_or(0).max(0) as usize;
                match entry.sock {
                    Sock::Conn(h) => {
                        // No read returns more than the receive buffer holds.
                        let len = len.min(self.ep.buffer_sizes(h).map_or(0, |b| b.recv));
                        let mut buf = vec![0u8; len];
                        // recv's flags: MSG_PEEK leaves the data to be read again.
                        let peek = call.name == "recv"
                            && matches!(call.args.get(3), Some(Arg::Symbols(s)) if s.iter().any(|f| f == "MSG_PEEK"));
                        let read = if peek {
                            self.ep.peek(self.now, h, &mut buf)
                        } else {
                            self.ep.recv(self.now, h, &mut buf)
                        };
                        match read {
                            Ok(n) => Ok(n as i64),
                            // After shutdown(SHUT_RD) a read finds the end of the stream.
                            Err(RecvError::WouldBlock) if entry.read_shut => Ok(0),
                            Err(RecvError::WouldBlock) if entry.nonblocking => Err("EAGAIN"),
                            Err(RecvError::WouldBlock) => {
                                return self.fail("read() would block, and this runner runs only calls that return")
                            }
                            Err(RecvError::Failed(e)) => Err(conn_errno(e)),
                            // Still connecting: a non-blocking read has nothing yet.
                            Err(RecvError::NotConnected)
                                if entry.nonblocking
                                    && matches!(self.ep.state(h), Some(State::SynSent | State::SynReceived)) =>
                            {
                                Err("EAGAIN")
                            }
                            Err(_) => Err("ENOTCONN"),
                        }
                    }
                    _ => Err("ENOTCONN"),
                }
            }
            // sendmsg: a write of the iovecs' total length (`msg_iov(N)=[{..., LEN}, ...]`).
            "sendmsg" => {
                let msg = match call.args.get(1) {
                    Some(Arg::Other(text)) => text.clone(),
                    _ => return self.fail("sendmsg(): want a {msg_iov(...)=[...]} argument"),
                };
                let total: i64 = msg
                    .split("...,")
                    .skip(1)
                    .filter_map(|part| {
                        part.trim_start().split(|c: char| !c.is_ascii_digit()).next()?.parse::<i64>().ok()
                    })
                    .sum();
                // As send(fd, ..., total, flags): the flags (MSG_MORE) carry over.
                let flags = call.args.get(2).cloned().unwrap_or(Arg::Int(0));
                let write = Call {
                    name: "send".into(),
                    args: vec![call.args[0].clone(), Arg::Elided, Arg::Int(total), flags],
                    ..call.clone()
                };
                return self.do_call(&write);
            }
            "write" | "send" => {
                let len = call.args.get(2).and_then(Arg::int).unwrap_or(0).max(0) as usize;
                match entry.sock {
                    Sock::Conn(h) => {
                        // No write takes more than the send buffer holds.
                        let len = len.min(self.ep.buffer_sizes(h).map_or(0, |b| b.send));
                        // send(..., MSG_MORE): more follows (Linux's corking for one call).
                        let more = call.name == "send"
                            && call.args.get(3).is_some_and(|a| format!("{a:?}").contains("MSG_MORE"));
                        let r = if more {
                            self.ep.send_more(self.now, h, &vec![0u8; len])
                        } else {
                            self.ep.send(self.now, h, &vec![0u8; len])
                        };
                        self.drain();
                        match r {
                            Ok(n) => Ok(n as i64),
                            Err(SendError::WouldBlock) => Err("EAGAIN"),
                            Err(SendError::Closed) => Err("EPIPE"),
                            Err(SendError::Failed(e)) => Err(conn_errno(e)),
                            Err(_) => Err("ENOTCONN"),
                        }
                    }
                    _ => Err("ENOTCONN"),
                }
            }
            "shutdown" => match entry.sock {
                Sock::Conn(h) => {
                    let how = call.args.get(1).and_then(Arg::symbol).unwrap_or("");
                    if how == "SHUT_WR" || how == "SHUT_RDWR" {
                        let _ = self.ep.shutdown(now, h);
                    }
                    if how == "SHUT_RD" || how == "SHUT_RDWR" {
                        self.fd(fd).unwrap().read_shut = true;
                    }
                    self.drain();
                    Ok(0)
                }
                _ => Err("ENOTCONN"),
            },
            "close" => {
                match entry.sock {
                    Sock::Conn(h) => {
                        let _ = self.ep.close(now, h);
                    }
                    Sock::Listener(l) => {
                        let _ = self.ep.close_listener(now, l);
                    }
                    _ => {
                        if let Some(l) = entry.bound {
                            let _ = self.ep.close_listener(now, l);
                        }
                    }
                }
                self.drain();
                let conn = match entry.sock {
                    Sock::Conn(h) => Some(h),
                    _ => None,
                };
                self.fd(fd).unwrap().sock = Sock::Closed(conn);
                Ok(0)
            }
            "getsockopt" => return self.getsockopt(fd, &entry, call),
            // SIOCINQ (FIONREAD): bytes to read; SIOCOUTQ: bytes sent and not acknowledged.
            "ioctl" => {
                let request = call.args.get(1).and_then(Arg::symbol).unwrap_or("");
                let lens = match entry.sock {
                    Sock::Conn(h) => self.ep.queue_lens(h),
                    _ => None,
                };
                let value = match (request, lens) {
                    ("SIOCINQ" | "FIONREAD", Some(l)) => l.unread as i64,
                    ("SIOCOUTQ" | "TIOCOUTQ", Some(l)) => l.unacked as i64,
                    ("SIOCINQ" | "FIONREAD" | "SIOCOUTQ" | "TIOCOUTQ", None) => return Ok(Err("EINVAL")),
                    (other, _) => return self.fail(format!("ioctl({other}) is not supported")),
                };
                match call.args.get(2).and_then(Arg::int) {
                    Some(expected) if expected != value => {
                        return self.fail(format!("ioctl({request}) gave [{value}], expected [{expected}]"))
                    }
                    _ => Ok(0),
                }
            }
            "setsockopt" => self.setsockopt(fd, &entry, call)?,
            other => return self.fail(format!("the call `{other}` is not supported")),
        };
        Ok(result)
    }

    fn fcntl(&mut self, fd: i64, call: &Call) -> Result<CallResult, Failure> {
        let cmd = call.args.get(1).and_then(Arg::symbol).unwrap_or("");
        let entry = self.fd(fd).unwrap();
        match cmd {
            "F_GETFL" => Ok(Ok(O_RDWR | if entry.nonblocking { O_NONBLOCK } else { 0 })),
            "F_SETFL" => {
                let flags = match call.args.get(2) {
                    Some(Arg::Symbols(list)) => list.iter().any(|s| s == "O_NONBLOCK"),
                    Some(Arg::Int(v)) => v & O_NONBLOCK != 0,
                    _ => return self.fail("fcntl(F_SETFL) wants flags"),
                };
                entry.nonblocking = flags;
                Ok(Ok(0))
            }
            other => self.fail(format!("fcntl({other}) is not supported")),
        }
    }

    /// Checks `[value]` of a getsockopt line against synack's value.
    fn getsockopt(&mut self, fd: i64, entry: &Fd, call: &Call) -> Result<CallResult, Failure> {
        let opt = call.args.get(2).and_then(Arg::symbol).unwrap_or("").to_string();
        let conn = match entry.sock {
            Sock::Conn(h) => Some(h),
            _ => None,
        };
        let value: Result<i64, String> = match opt.as_str() {
            "SO_RCVBUF" => Ok(match conn.and_then(|h| self.ep.buffer_sizes(h)) {
                Some(sizes) => sizes.recv as i64,
                None => entry.recv_buffer.unwrap_or(self.ep.config().tcp_rmem.default) as i64,
            }),
            "SO_SNDBUF" => Ok(match conn.and_then(|h| self.ep.buffer_sizes(h)) {
                Some(sizes) => sizes.send as i64,
                None => entry.send_buffer.unwrap_or(self.ep.config().tcp_wmem.default) as i64,
            }),
            "SO_ERROR" => {
                let pending = conn.and_then(|h| self.ep.conn_error(h)).filter(|_| !entry.error_taken);
                self.fd(fd).unwrap().error_taken |= pending.is_some();
                Err(pending.map_or("0".to_string(), |e| conn_errno(e).to_string()))
            }
            "TCP_NODELAY" => Ok(conn.and_then(|h| self.ep.nodelay(h)).unwrap_or(entry.nodelay) as i64),
            "TCP_CORK" => Ok(conn.and_then(|h| self.ep.cork(h)).unwrap_or(false) as i64),
            // The keepalive timing new connections get (the endpoint's, as the sysctls set it).
            "TCP_KEEPINIT" => Ok(self.ep.config().tcp_keepinit.map_or(0, |d| d.as_secs()) as i64),
            // Linux: a connection's segment size; before one, the TCP_MAXSEG set, else 536.
            "TCP_MAXSEG" => Ok(match (conn.and_then(|h| self.ep.conn_info(h)), entry.sock) {
                (Some(info), _) => info.snd_mss as i64,
                (None, Sock::Listener(l)) => self.ep.listener_max_segment(l).unwrap_or(536) as i64,
                (None, _) => entry.max_segment.unwrap_or(536) as i64,
            }),
            "SO_LINGER" => return Ok(Ok(0)),
            other => match self.ip_option(entry, other).or_else(|| self.keepalive_option(entry, other)) {
                Some(v) => Ok(v),
                None => return self.fail(format!("getsockopt({other}) is not supported")),
            },
        };
        let expected = call.args.get(3);
        let matches = match (&value, expected) {
            (_, None | Some(Arg::Elided)) => true,
            (Ok(v), Some(e)) => e.int() == Some(*v),
            (Err(name), Some(e)) => match (name.as_str(), e.int(), e.symbol()) {
                ("0", Some(0), _) => true,
                (n, _, Some(sym)) => same_errno(n, sym),
                _ => false,
            },
        };
        if !matches {
            let got = match value {
                Ok(v) => v.to_string(),
                Err(name) => name,
            };
            return self.fail(format!("getsockopt({opt}) gave [{got}], expected {:?}", expected.unwrap()));
        }
        Ok(Ok(0))
    }

    fn setsockopt(&mut self, fd: i64, entry: &Fd, call: &Call) -> Result<CallResult, Failure> {
        let opt = call.args.get(2).and_then(Arg::symbol).unwrap_or("").to_string();
        let asked = call.args.get(3).and_then(Arg::int);
        // Linux's socket layer keeps twice the buffer size asked (`doubles_socket_buffers`).
        let value = match (opt.as_str(), asked) {
            ("SO_RCVBUF" | "SO_SNDBUF", Some(v)) if self.doubles_socket_buffers && v > 0 && v <= i64::MAX / 2 => {
                Some(2 * v)
            }
            _ => asked,
        };
        let conn = match entry.sock {
            Sock::Conn(h) => Some(h),
            _ => None,
        };
        if let Some(result) = self.set_ip_option(fd, entry, &opt, call.args.get(3)) {
            return Ok(result);
        }
        if let Some(result) = self.set_keepalive_option(fd, entry, &opt, call.args.get(3)) {
            return Ok(result);
        }
        Ok(match (opt.as_str(), value) {
            ("SO_REUSEADDR" | "SO_REUSEPORT", Some(_)) => Ok(0),
            ("SO_KEEPALIVE", Some(v)) => {
                match conn.and_then(|h| self.ep.conn_mut(self.now, h)) {
                    Some(mut c) => c.set_keepalive(v != 0),
                    None => self.fd(fd).unwrap().keepalive_on = v != 0,
                }
                Ok(0)
            }
            ("SO_RCVBUF", Some(v)) if v > 0 => match conn {
                Some(h) => match self.ep.conn_mut(self.now, h).map(|mut c| c.set_recv_buffer_size(v as usize)) {
                    Some(true) => Ok(0),
                    _ => Err("EINVAL"),
                },
                None => {
                    self.fd(fd).unwrap().recv_buffer = Some(v as usize);
                    Ok(0)
                }
            },
            ("SO_SNDBUF", Some(v)) if v > 0 => {
                match conn.and_then(|h| self.ep.conn_mut(self.now, h)) {
                    Some(mut c) => c.set_send_buffer_size(v as usize),
                    None => self.fd(fd).unwrap().send_buffer = Some(v as usize),
                }
                Ok(0)
            }
            ("TCP_MAXSEG", Some(v)) => match u16::try_from(v) {
                Ok(mss) => match entry.sock {
                    Sock::Conn(h) => match self.ep.conn_mut(self.now, h).map(|mut c| c.set_max_segment(mss)) {
                        Some(true) => Ok(0),
                        _ => Err("EINVAL"),
                    },
                    Sock::Listener(l) => match self.ep.set_listener_max_segment(l, Some(mss)) {
                        Ok(true) => Ok(0),
                        _ => Err("EINVAL"),
                    },
                    _ if mss >= 88 => {
                        self.fd(fd).unwrap().max_segment = Some(mss);
                        Ok(0)
                    }
                    _ => Err("EINVAL"),
                },
                Err(_) => Err("EINVAL"),
            },
            ("TCP_NOOPT", Some(v)) => match entry.sock {
                Sock::Conn(h) => match self.ep.conn_mut(self.now, h).map(|mut c| c.set_no_options(v != 0)) {
                    Some(true) => Ok(0),
                    _ => Err("EINVAL"),
                },
                Sock::Listener(l) => {
                    let _ = self.ep.set_listener_no_options(l, v != 0);
                    Ok(0)
                }
                _ => {
                    self.fd(fd).unwrap().no_options = v != 0;
                    Ok(0)
                }
            },
            // FreeBSD's connection-establishment limit, seconds: for a connect to come.
            ("TCP_KEEPINIT", Some(v)) if v >= 0 => {
                let limit = (v > 0).then(|| Duration::from_secs(v as u64));
                match conn {
                    Some(h) => match self.ep.conn_mut(self.now, h).map(|mut c| c.set_connect_timeout(limit)) {
                        Some(true) => Ok(0),
                        _ => Err("EINVAL"),
                    },
                    None => {
                        self.fd(fd).unwrap().connect_timeout = limit;
                        Ok(0)
                    }
                }
            }
            // Linux's TCP_USER_TIMEOUT, milliseconds (0: the default, none).
            ("TCP_USER_TIMEOUT", Some(v)) if v >= 0 => {
                let limit = (v > 0).then(|| Duration::from_millis(v as u64));
                match conn.and_then(|h| self.ep.conn_mut(self.now, h)) {
                    Some(mut c) => c.set_user_timeout(limit),
                    None => self.fd(fd).unwrap().user_timeout = limit,
                }
                Ok(0)
            }
            ("TCP_CORK", Some(v)) => {
                if let Some(mut c) = conn.and_then(|h| self.ep.conn_mut(self.now, h)) {
                    c.set_cork(v != 0);
                }
                self.drain();
                Ok(0)
            }
            // FreeBSD's TCP_MD5SIG, a flag: sign with the key the host holds for the peer
            // (RFC 2385), which the script gives with --tcp_md5_secret.
            ("TCP_MD5SIG", Some(v)) => {
                let on = v != 0;
                match entry.sock {
                    Sock::Conn(h) => match self.ep.conn_mut(self.now, h).map(|mut c| c.set_md5(on)) {
                        Some(true) => {}
                        _ => return Ok(Err("EINVAL")),
                    },
                    Sock::Listener(l) => {
                        let _ = self.ep.set_listener_md5(l, on);
                    }
                    _ => {
                        if let Some(l) = entry.bound {
                            let _ = self.ep.set_listener_md5(l, on);
                        }
                    }
                }
                self.fd(fd).unwrap().md5 = on;
                Ok(0)
            }
            ("TCP_NODELAY", Some(v)) => {
                match conn.and_then(|h| self.ep.conn_mut(self.now, h)) {
                    Some(mut c) => c.set_nodelay(v != 0),
                    None => self.fd(fd).unwrap().nodelay = v != 0,
                }
                self.drain();
                Ok(0)
            }
            ("SO_LINGER", _) => {
                // `{onoff=1, linger=0}`: the braces are not parsed into fields; read them here.
                let text = match call.args.get(3) {
                    Some(Arg::Other(t)) => t.replace(' ', ""),
                    _ => String::new(),
                };
                let on = text.contains("onoff=1") || text.contains("l_onoff=1");
                let secs =
                    text.split("linger=").nth(1).and_then(|t| t.trim_end_matches('}').parse::<u64>().ok()).unwrap_or(0);
                if let Some(mut c) = conn.and_then(|h| self.ep.conn_mut(self.now, h)) {
                    c.set_linger(on.then(|| Duration::from_secs(secs)));
                }
                Ok(0)
            }
            // The options of FreeBSD's alternate stacks (RACK, BBR): the base stack, which
            // synack is, does not know them.
            (other, _) if other.starts_with("TCP_RACK_") || other.starts_with("TCP_BBR_") => Err("ENOPROTOOPT"),
            (other, _) => return self.fail(format!("setsockopt({other}) is not supported")),
        })
    }
}

fn expected_text(call: &Call) -> String {
    match &call.errno {
        Some(e) => format!("{} {e}", call.result),
        None => call.result.to_string(),
    }
}

/// The options a socket keeps from before its connection existed that the connection takes,
/// from `connect` or from the listener that accepted it (Linux's sk_clone_lock copies them):
/// SO_SNDBUF, TCP_NODELAY, SO_KEEPALIVE and the keep-alive timing.
fn apply_inherited_options(c: &mut synack_engine::ConnMut<'_>, entry: &Fd) {
    if let Some(timing) = entry.keepalive {
        c.set_keepalive_timing(timing);
    }
    if entry.keepalive_on {
        c.set_keepalive(true);
    }
    if let Some(bytes) = entry.send_buffer {
        c.set_send_buffer_size(bytes);
    }
    if entry.nodelay {
        c.set_nodelay(true);
    }
    if let Some(mode) = entry.pmtu {
        c.set_path_mtu_discovery(mode);
    }
}
