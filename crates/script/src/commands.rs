//! Backtick commands and `%{ assert }%` blocks. Commands are never executed: the ones the
//! scripts use map onto engine knobs (sysctl) or checks (sockstat, tcpdrop); the rest are
//! accepted as no-ops and logged for `--verbose`.

use crate::run::{Failure, Runner, Sock};
use std::time::Duration;
use synack_engine::{BufferLimits, Config, EcnMode, State};

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

/// How deep setup files may include each other (`defaults.sh` calling another).
const MAX_INCLUDE_DEPTH: usize = 4;

/// What a sysctl assignment did to the engine's configuration.
pub(crate) enum Sysctl {
    Applied,
    /// Known, but with no engine meaning (yet); taken as a no-op.
    NoOp,
    Bad(String),
}

impl Runner {
    /// A backtick command: shell text whose simple commands are interpreted one by one.
    pub(crate) fn command(&mut self, cmd: &str) -> Result<(), Failure> {
        self.shell_text(cmd, 0)
    }

    fn shell_text(&mut self, text: &str, depth: usize) -> Result<(), Failure> {
        for words in crate::shell::simple_commands(text) {
            self.simple_command(&words, depth)?;
        }
        Ok(())
    }

    fn simple_command(&mut self, words: &[String], depth: usize) -> Result<(), Failure> {
        let cmd = words.join(" ");
        let program = words[0].as_str();
        let base = program.rsplit('/').next().unwrap_or(program);
        match base {
            "sysctl" => {
                let assignments: Vec<&String> = words[1..].iter().filter(|w| !w.starts_with('-')).collect();
                if assignments.is_empty() || assignments.iter().any(|w| !w.contains('=')) {
                    // A read (`sysctl name`) or an option the runner does not know: no effect.
                    self.no_op(&cmd, "reads nothing into the engine");
                }
                for w in assignments.into_iter().filter(|w| w.contains('=')) {
                    let (name, value) = w.split_once('=').unwrap();
                    self.sysctl(&name.replace('/', "."), value)?;
                }
                Ok(())
            }
            // packetdrill's helper: `set_sysctls.py /proc/sys/net/ipv4/NAME=VALUE ...`.
            "set_sysctls.py" => {
                for w in &words[1..] {
                    let Some((path, value)) = w.split_once('=') else {
                        return self.fail(format!("`{cmd}`: `{w}` is not PATH=VALUE"));
                    };
                    let Some(name) = path.strip_prefix("/proc/sys/") else {
                        self.no_op(&cmd, "not under /proc/sys");
                        continue;
                    };
                    self.sysctl(&name.replace('/', "."), value)?;
                }
                Ok(())
            }
            "sockstat" => self.sockstat(&cmd),
            // `ethtool -K tun0 tso off ...`: the device no longer takes super-segments, so
            // outbound lines describe single segments.
            "ethtool" if words.windows(2).any(|w| w[0] == "tso" && w[1] == "off") => {
                self.tso = false;
                Ok(())
            }
            "tcpdrop" => self.tcpdrop(&cmd, words),
            "tc" if words.get(1).is_some_and(|w| w == "qdisc") => {
                self.qdisc(&cmd, words);
                Ok(())
            }
            _ if base.ends_with(".sh") => self.include(&cmd, program, depth),
            _ => {
                self.no_op(&cmd, "no engine meaning");
                Ok(())
            }
        }
    }

    /// A setup file the script runs (`../common/defaults.sh`): its commands, read from the
    /// script's directory. One that is not there (a cleanup script written at run time) is a
    /// no-op.
    fn include(&mut self, cmd: &str, path: &str, depth: usize) -> Result<(), Failure> {
        if depth >= MAX_INCLUDE_DEPTH {
            return self.fail(format!("`{cmd}`: setup files nested more than {MAX_INCLUDE_DEPTH} deep"));
        }
        let full = match &self.script_dir {
            Some(dir) => dir.join(path),
            None => std::path::PathBuf::from(path),
        };
        let meta = std::fs::metadata(&full).ok().filter(|m| m.is_file() && m.len() <= crate::MAX_SCRIPT_BYTES);
        let text = meta.and_then(|_| std::fs::read_to_string(&full).ok());
        match text {
            Some(text) => self.shell_text(&text, depth + 1),
            None => {
                self.no_op(cmd, "no such file to read");
                Ok(())
            }
        }
    }

    /// `tc qdisc ...` on the script's device: a queue of `limit 0` takes no packets, so
    /// the engine's every transmission is refused until another qdisc replaces it; fq paces
    /// (Linux paces a socket whose device has fq); other qdiscs neither refuse nor pace.
    fn qdisc(&mut self, cmd: &str, words: &[String]) {
        let removed = matches!(words.get(2).map(String::as_str), Some("delete" | "del"));
        let refusing = !removed && words.windows(2).any(|w| w[0] == "limit" && w[1] == "0");
        let pacing = !removed && words.iter().any(|w| w == "fq");
        self.ep.config_mut().pacing = pacing;
        self.ep.set_device_refusing(self.now, refusing);
        self.drain();
        if !refusing && !pacing {
            self.no_op(cmd, "the device takes packets and does not pace");
        }
    }

    fn no_op(&mut self, cmd: &str, why: &str) {
        self.log.ignored_commands.push((self.line, format!("{cmd} ({why})")));
    }

    fn tcpdrop(&mut self, cmd: &str, words: &[String]) -> Result<(), Failure> {
        let state = match words {
            [_, flag, state] if flag == "-s" => state.as_str(),
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

    /// One sysctl assignment, Linux's (`net.ipv4.*`, `net.core.*`) or FreeBSD's
    /// (`net.inet.tcp.*`, `kern.ipc.*`), onto the engine's `Config`.
    fn sysctl(&mut self, name: &str, value: &str) -> Result<(), Failure> {
        let outcome = apply_sysctl(&mut self.ep.config_mut(), name, value.trim());
        match outcome {
            Sysctl::Applied => Ok(()),
            Sysctl::NoOp => {
                self.no_op(&format!("sysctl {name}={value}"), "no engine meaning yet");
                Ok(())
            }
            Sysctl::Bad(why) => self.fail(format!("`sysctl {name}={value}`: {why}")),
        }
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
    pub(crate) fn in_time_wait(&self, h: synack_engine::ConnHandle) -> bool {
        let (Some(local), Some(remote)) = (self.ep.local_addr(h), self.ep.peer_addr(h)) else {
            return false;
        };
        self.ep.sockets().iter().any(|s| s.state == State::TimeWait && s.local == local && s.remote == Some(remote))
    }
}

/// A number as sysctl takes it: decimal or `0x` hex.
fn number(value: &str) -> Option<u64> {
    match value.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => value.parse().ok(),
    }
}

fn triple(value: &str) -> Option<BufferLimits> {
    let n: Vec<usize> = value.split_whitespace().map(|w| w.parse().ok()).collect::<Option<_>>()?;
    match n.as_slice() {
        &[min, default, max] if min <= default && default <= max => Some(BufferLimits { min, default, max }),
        _ => None,
    }
}

pub(crate) fn apply_sysctl(c: &mut Config, name: &str, value: &str) -> Sysctl {
    let linux = name.strip_prefix("net.ipv4.").or_else(|| name.strip_prefix("net.core."));
    if let Some(knob) = linux {
        match knob {
            "tcp_rmem" | "tcp_wmem" => {
                let Some(limits) = triple(value) else {
                    return Sysctl::Bad("want three sizes, min <= default <= max".into());
                };
                if knob == "tcp_rmem" {
                    c.tcp_rmem = limits;
                } else {
                    c.tcp_wmem = limits;
                }
                return Sysctl::Applied;
            }
            "ip_local_port_range" => {
                let ports: Vec<u16> = value.split_whitespace().filter_map(|w| w.parse().ok()).collect();
                return match ports.as_slice() {
                    &[lo, hi] if 0 < lo && lo <= hi => {
                        c.ip_local_port_range = (lo, hi);
                        Sysctl::Applied
                    }
                    _ => Sysctl::Bad("want two ports, low <= high".into()),
                };
            }
            "tcp_congestion_control" => {
                return match synack_engine::CongestionAlgorithm::from_name(value.trim()) {
                    Some(algorithm) => {
                        c.tcp_congestion_control = algorithm;
                        Sysctl::Applied
                    }
                    None if value.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_') => Sysctl::NoOp,
                    None => Sysctl::Bad("not a congestion control name".into()),
                };
            }
            "tcp_fastopen_key" => return Sysctl::NoOp,
            _ => {}
        }
    }
    let Some(n) = number(value) else {
        return Sysctl::Bad("the value is not a number".into());
    };
    let on = n != 0;
    let ms = Duration::from_millis(n);
    let secs = Duration::from_secs(n);
    let small = |max: u64| u8::try_from(n.min(max)).unwrap_or(u8::MAX);
    match name {
        // Linux.
        "net.ipv4.tcp_timestamps" => c.tcp_timestamps = on,
        "net.ipv4.tcp_sack" => c.tcp_sack = on,
        "net.ipv4.tcp_window_scaling" => c.tcp_window_scaling = on,
        "net.ipv4.tcp_dsack" | "net.inet.tcp.sack.dsack" => c.tcp_dsack = on,
        "net.ipv4.tcp_syncookies" => c.tcp_syncookies = small(2),
        "net.inet.tcp.syncookies" => c.tcp_syncookies = on as u8,
        "net.ipv4.icmp_msgs_per_sec" => c.icmp_msgs_per_sec = n.min(u32::MAX as u64) as u32,
        "net.ipv4.tcp_syn_retries" => c.tcp_syn_retries = small(127),
        "net.ipv4.tcp_synack_retries" => c.tcp_synack_retries = small(255),
        "net.ipv4.tcp_retries1" => c.tcp_retries1 = small(255),
        "net.ipv4.tcp_early_retrans" => c.tcp_early_retrans = small(4),
        "net.ipv4.tcp_recovery" => c.tcp_recovery = small(7),
        "net.ipv4.tcp_frto" => c.tcp_frto = small(2),
        "net.ipv4.tcp_slow_start_after_idle" => c.tcp_slow_start_after_idle = on,
        "net.ipv4.tcp_min_tso_segs" => c.tcp_min_tso_segs = small(255).max(1),
        "net.ipv4.tcp_pacing_ss_ratio" => c.tcp_pacing_ss_ratio = n.min(u16::MAX as u64) as u16,
        "net.ipv4.tcp_pacing_ca_ratio" => c.tcp_pacing_ca_ratio = n.min(u16::MAX as u64) as u16,
        "net.ipv4.tcp_moderate_rcvbuf" | "net.inet.tcp.recvbuf_auto" => c.tcp_moderate_rcvbuf = on,
        "net.ipv4.tcp_retries2" => c.tcp_retries2 = small(255),
        "net.ipv4.tcp_mtu_probing" => c.tcp_mtu_probing = small(2),
        "net.ipv4.tcp_base_mss" => c.tcp_base_mss = n.clamp(48, u16::MAX as u64) as u16,
        "net.ipv4.tcp_mtu_probe_floor" => c.tcp_mtu_probe_floor = n.clamp(48, u16::MAX as u64) as u16,
        "net.ipv4.tcp_max_syn_backlog" => c.tcp_max_syn_backlog = n as usize,
        "net.core.somaxconn" => c.somaxconn = n as usize,
        "net.ipv4.tcp_abort_on_overflow" => c.tcp_abort_on_overflow = on,
        "net.ipv4.tcp_fin_timeout" => c.tcp_fin_timeout = secs,
        "net.ipv4.tcp_keepalive_time" => c.tcp_keepalive_time = secs,
        "net.ipv4.tcp_keepalive_intvl" => c.tcp_keepalive_intvl = secs,
        "net.ipv4.tcp_keepalive_probes" => c.tcp_keepalive_probes = small(255),
        "net.ipv4.tcp_challenge_ack_limit" => c.tcp_challenge_ack_limit = n.min(u32::MAX as u64) as u32,
        "net.ipv4.tcp_invalid_ratelimit" => c.tcp_invalid_ratelimit = ms,
        // FreeBSD and Linux alike: 0 off, 1 ask and accept, 2 accept only.
        "net.inet.tcp.ecn.enable" | "net.ipv4.tcp_ecn" => {
            c.tcp_ecn = match n {
                0 => EcnMode::Off,
                1 => EcnMode::On,
                _ => EcnMode::Passive,
            }
        }
        // Linux sysctls whose mechanisms the engine does not have (yet): FACK,
        // CUBIC's parameters, TSO sizing, Fast Open.
        "net.ipv4.tcp_fack"
        | "net.ipv4.tcp_reordering"
        | "net.ipv4.tcp_tso_win_divisor"
        | "net.ipv4.tcp_ecn_option"
        | "net.ipv4.tcp_notsent_lowat"
        | "net.ipv4.tcp_fastopen"
        | "net.ipv4.tcp_min_rtt_wlen"
        | "net.ipv4.tcp_autocorking"
        | "net.ipv4.tcp_no_metrics_save"
        | "net.ipv4.tcp_thin_linear_timeouts" => return Sysctl::NoOp,
        // FreeBSD.
        "net.inet.tcp.insecure_rst" => c.tcp_insecure_rst = on,
        "net.inet.tcp.insecure_syn" => c.tcp_insecure_syn = on,
        "net.inet.tcp.drop_synfin" => c.tcp_drop_synfin = on,
        "net.inet.tcp.rexmit_initial" => c.rto_initial = ms,
        "net.inet.tcp.rexmit_slop" => c.compat.rto_slop = ms,
        "net.inet.tcp.rexmit_min" => c.rto_min = ms,
        "net.inet.tcp.delacktime" => c.delayed_ack = ms,
        "net.inet.tcp.msl" => c.msl = ms,
        "net.inet.tcp.keepidle" => c.tcp_keepalive_time = ms,
        "net.inet.tcp.keepintvl" => c.tcp_keepalive_intvl = ms,
        "net.inet.tcp.keepcnt" => c.tcp_keepalive_probes = small(255),
        "net.inet.tcp.recvspace" => c.tcp_rmem.default = n as usize,
        "net.inet.tcp.sendspace" => c.tcp_wmem.default = n as usize,
        "kern.ipc.maxsockbuf" => {
            c.tcp_rmem.max = n as usize;
            c.tcp_wmem.max = n as usize;
        }
        "net.inet.tcp.sack.enable" => c.tcp_sack = on,
        "net.inet.tcp.ecn.maxretries" => c.tcp_ecn_fallback_retries = small(255),
        "net.inet.tcp.rexmit_drop_options" => c.compat.rexmit_drop_options = on,
        "net.inet.tcp.icmp_may_rst" => c.icmp_may_rst = on,
        "net.inet.tcp.keepinit" => c.tcp_keepinit = (n > 0).then_some(ms),
        "net.inet.tcp.always_keepalive" => c.tcp_always_keepalive = on,
        "net.inet.tcp.ack_war_timewindow" => c.tcp_invalid_ratelimit = ms,
        "net.inet.tcp.ack_war_cnt" => c.tcp_invalid_ratelimit_burst = small(255),
        "net.inet.tcp.udp_tunneling_port" => c.tcp_udp_tunneling_port = n.min(65535) as u16,
        "net.inet.tcp.rfc1323" => {
            c.tcp_timestamps = on;
            c.tcp_window_scaling = on;
        }
        _ => return Sysctl::NoOp,
    }
    Sysctl::Applied
}
