//! Backtick commands and `%{ assert }%` blocks. Commands are never executed: the ones the
//! scripts use map onto engine knobs (sysctl) or checks (sockstat, tcpdrop); the rest are
//! accepted as no-ops and logged for `--verbose`.

use crate::ast::Assertion;
use crate::run::{Failure, Runner, Sock};
use std::time::Duration;
use synack_engine::{EcnMode, State};

/// FreeBSD's `sockstat -s` state names.
fn sockstat_name(s: State) -> &'static str {
    match s {
        State::Closed => "CLOSED",
        State::Listen => "LISTEN",
        State::SynSent => "SYN_SENT",
        State::SynReceived => "SYN_RCVD",
        State::Established => "ESTABLISHED",
        State::FinWait1 => "FIN_WAIT_1",
        State::FinWait2 => "FIN_WAIT_2",
        State::CloseWait => "CLOSE_WAIT",
        State::Closing => "CLOSING",
        State::LastAck => "LAST_ACK",
        State::TimeWait => "TIME_WAIT",
    }
}

/// `TCPI_*` names of `tcpi_state`.
fn tcpi_name(s: State) -> &'static str {
    match s {
        State::Closed => "TCPI_CLOSED",
        State::Listen => "TCPI_LISTEN",
        State::SynSent => "TCPI_SYN_SENT",
        State::SynReceived => "TCPI_SYN_RECEIVED",
        State::Established => "TCPI_ESTABLISHED",
        State::FinWait1 => "TCPI_FIN_WAIT_1",
        State::FinWait2 => "TCPI_FIN_WAIT_2",
        State::CloseWait => "TCPI_CLOSE_WAIT",
        State::Closing => "TCPI_CLOSING",
        State::LastAck => "TCPI_LAST_ACK",
        State::TimeWait => "TCPI_TIME_WAIT",
    }
}

impl Runner {
    pub(crate) fn command(&mut self, cmd: &str) -> Result<(), Failure> {
        let words: Vec<&str> = cmd.split_whitespace().collect();
        match words.first().copied() {
            Some("sysctl") => self.sysctl(cmd, &words),
            Some("sockstat") => self.sockstat(cmd),
            Some("tcpdrop") => {
                let state = match words.as_slice() {
                    ["tcpdrop", "-s", state] => *state,
                    _ => return self.fail(format!("`{cmd}`: only `tcpdrop -s STATE` is understood")),
                };
                let now = self.now;
                let victims: Vec<_> = self
                    .ep
                    .sockets()
                    .into_iter()
                    .filter(|s| sockstat_name(s.state) == state)
                    .filter_map(|s| s.remote.map(|r| synack_engine::FourTuple::new(s.local, r)))
                    .collect();
                for tuple in victims {
                    self.ep.drop_connection(now, &tuple);
                }
                self.drain();
                Ok(())
            }
            _ => {
                self.log.ignored_commands.push((self.line, cmd.to_string()));
                Ok(())
            }
        }
    }

    fn sysctl(&mut self, cmd: &str, words: &[&str]) -> Result<(), Failure> {
        let Some((name, value)) = words.iter().find_map(|w| w.split_once('=')) else {
            self.log.ignored_commands.push((self.line, cmd.to_string()));
            return Ok(());
        };
        let Ok(n) = value.parse::<u64>() else {
            return self.fail(format!("`{cmd}`: the value is not a number"));
        };
        let on = n != 0;
        let mut c = self.ep.config_mut();
        match name {
            "net.inet.tcp.insecure_rst" => c.tcp_insecure_rst = on,
            "net.inet.tcp.insecure_syn" => c.tcp_insecure_syn = on,
            "net.inet.tcp.drop_synfin" => c.tcp_drop_synfin = on,
            "net.inet.tcp.rexmit_initial" => c.rto_initial = Duration::from_millis(n),
            "net.inet.tcp.rexmit_slop" => c.compat.rto_slop = Duration::from_millis(n),
            "net.inet.tcp.rexmit_min" => c.rto_min = Duration::from_millis(n),
            "net.inet.tcp.recvspace" => c.tcp_rmem.default = n as usize,
            "net.inet.tcp.sendspace" => c.tcp_wmem.default = n as usize,
            "net.inet.tcp.sack.enable" => c.tcp_sack = on,
            // FreeBSD and Linux alike: 0 off, 1 ask and accept, 2 accept only.
            "net.inet.tcp.ecn.enable" | "net.ipv4.tcp_ecn" => {
                c.tcp_ecn = match n {
                    0 => EcnMode::Off,
                    1 => EcnMode::On,
                    _ => EcnMode::Passive,
                }
            }
            "net.inet.tcp.rfc1323" => {
                c.tcp_timestamps = on;
                c.tcp_window_scaling = on;
            }
            _ => self.log.ignored_commands.push((self.line, cmd.to_string())),
        }
        Ok(())
    }

    /// `sockstat ... [-p PORT] ... | grep -c STATE | grep N`: asserts how many sockets of the
    /// script are in STATE. Listeners, half-open entries, connections and TIME-WAIT records
    /// come from the endpoint's table; CLOSED sockets are the script's fds whose connection
    /// has ended but that are not closed yet.
    fn sockstat(&mut self, cmd: &str) -> Result<(), Failure> {
        let stages: Vec<Vec<&str>> = cmd.split('|').map(|s| s.split_whitespace().collect()).collect();
        let port = stages[0].windows(2).find(|w| w[0] == "-p").and_then(|w| w[1].parse::<u16>().ok());
        let state = stages.iter().find_map(|s| match s.as_slice() {
            ["grep", "-c", state] => Some(*state),
            _ => None,
        });
        let count = stages.last().and_then(|s| match s.as_slice() {
            ["grep", n] => n.parse::<usize>().ok(),
            _ => None,
        });
        let (Some(state), Some(expected)) = (state, count) else {
            return self.fail(format!("`{cmd}`: want `sockstat ... | grep -c STATE | grep N`"));
        };
        let on_port = |p: u16| port.is_none_or(|want| want == p);
        let mut n = self
            .ep
            .sockets()
            .iter()
            .filter(|s| sockstat_name(s.state) == state)
            .filter(|s| on_port(s.local.port()) || s.remote.is_some_and(|r| on_port(r.port())))
            .count();
        if state == "CLOSED" {
            n += self
                .fds
                .values()
                .filter(|f| match f.sock {
                    Sock::Conn(h) => self.ep.state(h) == Some(State::Closed) && !self.in_time_wait(h),
                    Sock::Fresh { .. } => true,
                    _ => false,
                })
                .count();
        }
        if n != expected {
            return self.fail(format!("{n} sockets in {state}, expected {expected}"));
        }
        Ok(())
    }

    /// Whether a connection that shows CLOSED went on into a TIME-WAIT record.
    fn in_time_wait(&self, h: synack_engine::ConnHandle) -> bool {
        let (Some(local), Some(remote)) = (self.ep.local_addr(h), self.ep.peer_addr(h)) else {
            return false;
        };
        self.ep.sockets().iter().any(|s| s.state == State::TimeWait && s.local == local && s.remote == Some(remote))
    }

    /// The state `TCP_INFO` reports for the script's most recent socket.
    fn tcpi_state(&self) -> State {
        match self.fds.values().next_back().map(|f| f.sock) {
            Some(Sock::Listener(_)) => State::Listen,
            Some(Sock::Conn(h) | Sock::Closed(Some(h))) => match self.ep.state(h) {
                Some(State::Closed) if self.in_time_wait(h) => State::TimeWait,
                Some(s) => s,
                None => State::Closed,
            },
            _ => State::Closed,
        }
    }

    pub(crate) fn assert(&mut self, list: &[Assertion]) -> Result<(), Failure> {
        for a in list {
            let actual = match a.left.as_str() {
                "tcpi_state" => tcpi_name(self.tcpi_state()).to_string(),
                "tcpi_options" => {
                    let info = match self.fds.values().next_back().map(|f| f.sock) {
                        Some(Sock::Conn(h) | Sock::Closed(Some(h))) => self.ep.conn_info(h),
                        _ => None,
                    };
                    // TCPI_OPT_TIMESTAMPS 1, TCPI_OPT_SACK 2, TCPI_OPT_WSCALE 4.
                    let bits = info.map_or(0, |i| {
                        (i.ts_ok as u32) | (i.sack_ok as u32) << 1 | ((i.snd_wscale | i.rcv_wscale != 0) as u32) << 2
                    });
                    bits.to_string()
                }
                other => return self.fail(format!("`{other}` is not a known TCP_INFO field")),
            };
            let expected = a.right.as_str();
            let equal = actual == expected
                || expected.parse::<i64>().ok().zip(actual.parse::<i64>().ok()).is_some_and(|(x, y)| x == y);
            if equal != a.equal {
                let op = if a.equal { "==" } else { "!=" };
                return self.fail(format!("assert {} {op} {expected} failed: it is {actual}", a.left));
            }
        }
        Ok(())
    }
}
