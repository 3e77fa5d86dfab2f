//! The keep-alive socket options a script sets and reads: TCP_KEEPIDLE and TCP_KEEPINTVL
//! (seconds) and TCP_KEEPCNT. Set before the connection exists, they are kept on the socket
//! and given to the connection `connect` opens or the listener accepts (Linux's
//! `sk_clone_lock` copies them to the child).

use crate::ast::Arg;
use crate::calls::CallResult;
use crate::run::{Fd, Runner, Sock};
use std::time::Duration;
use synack_engine::KeepaliveTiming;

/// Linux's MAX_TCP_KEEPIDLE and MAX_TCP_KEEPINTVL, seconds.
const MAX_KEEPALIVE_SECS: i64 = 32767;

impl Runner {
    /// The keep-alive timing of socket `entry`: its connection's, or its own, or the config's.
    pub(crate) fn keepalive_of(&self, entry: &Fd) -> KeepaliveTiming {
        let conn = match entry.sock {
            Sock::Conn(h) => self.ep.keepalive_timing(h),
            _ => None,
        };
        conn.or(entry.keepalive).unwrap_or_else(|| {
            let cfg = self.ep.config();
            KeepaliveTiming {
                idle: cfg.tcp_keepalive_time,
                interval: cfg.tcp_keepalive_intvl,
                probes: cfg.tcp_keepalive_probes,
            }
        })
    }

    /// `setsockopt` of a keep-alive option; `None` when `opt` is not one.
    pub(crate) fn set_keepalive_option(
        &mut self,
        fd: i64,
        entry: &Fd,
        opt: &str,
        arg: Option<&Arg>,
    ) -> Option<CallResult> {
        let value = arg.and_then(Arg::int);
        let old = self.keepalive_of(entry);
        let secs = |v: i64| Duration::from_secs(v as u64);
        let new = match (opt, value) {
            ("TCP_KEEPIDLE", Some(v @ 1..=MAX_KEEPALIVE_SECS)) => KeepaliveTiming { idle: secs(v), ..old },
            ("TCP_KEEPINTVL", Some(v @ 1..=MAX_KEEPALIVE_SECS)) => KeepaliveTiming { interval: secs(v), ..old },
            ("TCP_KEEPCNT", Some(v @ 1..=255)) => KeepaliveTiming { probes: v as u8, ..old },
            ("TCP_KEEPIDLE" | "TCP_KEEPINTVL" | "TCP_KEEPCNT", _) => return Some(Err("EINVAL")),
            _ => return None,
        };
        if let Sock::Conn(h) = entry.sock {
            if let Some(mut c) = self.ep.conn_mut(self.now, h) {
                c.set_keepalive_timing(new);
            }
        }
        if let Some(f) = self.fds.get_mut(&fd) {
            f.keepalive = Some(new);
        }
        Some(Ok(0))
    }

    /// `getsockopt` of a keep-alive option, in the option's unit; `None` when `opt` is not one.
    pub(crate) fn keepalive_option(&self, entry: &Fd, opt: &str) -> Option<i64> {
        let timing = self.keepalive_of(entry);
        match opt {
            "TCP_KEEPIDLE" => Some(timing.idle.as_secs() as i64),
            "TCP_KEEPINTVL" => Some(timing.interval.as_secs() as i64),
            "TCP_KEEPCNT" => Some(timing.probes as i64),
            _ => None,
        }
    }
}
