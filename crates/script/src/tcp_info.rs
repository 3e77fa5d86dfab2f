//! `%{ }%` blocks against the script's last socket: its `TCP_INFO` fields as the engine has
//! them (`Endpoint::conn_info`), and the constants scripts compare them with.

use crate::code::{Env, Stmt};
use crate::run::{Failure, Runner, Sock};
use synack_engine::{ConnInfo, State};

/// Linux's `TCP_*` state numbers, which `tcpi_state` reports.
fn state_number(s: State) -> i64 {
    match s {
        State::Established => 1,
        State::SynSent => 2,
        State::SynReceived => 3,
        State::FinWait1 => 4,
        State::FinWait2 => 5,
        State::TimeWait => 6,
        State::Closed => 7,
        State::CloseWait => 8,
        State::LastAck => 9,
        State::Listen => 10,
        State::Closing => 11,
    }
}

/// The constants of `<linux/tcp.h>` the scripts name.
fn constant(name: &str) -> Option<i64> {
    let state = |s| Some(state_number(s));
    match name {
        "TCPI_ESTABLISHED" | "TCP_ESTABLISHED" => state(State::Established),
        "TCPI_SYN_SENT" | "TCP_SYN_SENT" => state(State::SynSent),
        "TCPI_SYN_RECEIVED" | "TCPI_SYN_RECV" | "TCP_SYN_RECV" => state(State::SynReceived),
        "TCPI_FIN_WAIT_1" | "TCPI_FIN_WAIT1" | "TCP_FIN_WAIT1" => state(State::FinWait1),
        "TCPI_FIN_WAIT_2" | "TCPI_FIN_WAIT2" | "TCP_FIN_WAIT2" => state(State::FinWait2),
        "TCPI_TIME_WAIT" | "TCP_TIME_WAIT" => state(State::TimeWait),
        "TCPI_CLOSED" | "TCPI_CLOSE" | "TCP_CLOSE" => state(State::Closed),
        "TCPI_CLOSE_WAIT" | "TCP_CLOSE_WAIT" => state(State::CloseWait),
        "TCPI_LAST_ACK" | "TCP_LAST_ACK" => state(State::LastAck),
        "TCPI_LISTEN" | "TCP_LISTEN" => state(State::Listen),
        "TCPI_CLOSING" | "TCP_CLOSING" => state(State::Closing),
        "TCPI_OPT_TIMESTAMPS" => Some(1),
        "TCPI_OPT_SACK" => Some(2),
        "TCPI_OPT_WSCALE" => Some(4),
        "TCPI_OPT_ECN" => Some(8),
        "TCP_INFINITE_SSTHRESH" => Some(INFINITE_SSTHRESH),
        "TCP_CA_Open" => Some(0),
        "TCP_CA_Disorder" => Some(1),
        "TCP_CA_CWR" => Some(2),
        "TCP_CA_Recovery" => Some(3),
        "TCP_CA_Loss" => Some(4),
        _ => None,
    }
}

/// What Linux reports as `tcpi_snd_ssthresh` before the first loss.
const INFINITE_SSTHRESH: i64 = 0x7fff_ffff;

/// A field of `tcp_info` from the engine's view of the connection, in Linux's units
/// (segments for windows, microseconds for times).
fn field(name: &str, state: State, info: Option<&ConnInfo>, now_ms: u32) -> Result<i64, String> {
    if name == "tcpi_state" {
        return Ok(state_number(state));
    }
    let Some(i) = info else {
        return Err(format!("`{name}`: the socket has no connection"));
    };
    let mss = (i.snd_mss as i64).max(1);
    let segments = |bytes: u32| (bytes as i64 + mss - 1) / mss;
    Ok(match name {
        "tcpi_options" => {
            let wscale = i.snd_wscale | i.rcv_wscale != 0;
            (i.ts_ok as i64) | (i.sack_ok as i64) << 1 | (wscale as i64) << 2 | (i.ecn_ok as i64) << 3
        }
        "tcpi_snd_cwnd" => i.cwnd as i64 / mss,
        "tcpi_snd_ssthresh" if i.ssthresh as i64 >= INFINITE_SSTHRESH => INFINITE_SSTHRESH,
        "tcpi_snd_ssthresh" => i.ssthresh as i64 / mss,
        "tcpi_unacked" => segments(i.snd_nxt.since(i.snd_una)),
        "tcpi_snd_mss" => mss,
        "tcpi_snd_wscale" => i.snd_wscale as i64,
        "tcpi_rcv_wscale" => i.rcv_wscale as i64,
        "tcpi_rto" => i.rto.as_micros() as i64,
        "tcpi_rtt" => i.srtt.map_or(0, |d| d.as_micros() as i64),
        "tcpi_rttvar" => i.rttvar.as_micros() as i64,
        "tcpi_retransmits" => i.retransmits as i64,
        // Linux's icsk_backoff: retransmission timeouts in a row, each doubling the RTO.
        "tcpi_backoff" => i.retransmits as i64,
        "tcpi_snd_wnd" => i.snd_wnd as i64,
        "tcpi_advmss" => i.advmss as i64,
        "tcpi_sacked" => segments(i.sacked_bytes),
        "tcpi_lost" => i.lost_segments as i64,
        "tcpi_retrans" => i.retransmitted_out as i64,
        "tcpi_reordering" => i.reordering as i64,
        "tcpi_reord_seen" => i.reorder_events as i64,
        "tcpi_last_data_recv" => now_ms.wrapping_sub(i.last_data_recv_ms) as i64,
        "tcpi_probes" => i.probes as i64,
        "tcpi_busy_time" => i.busy_time.as_micros() as i64,
        "tcpi_rwnd_limited" => i.rwnd_limited.as_micros() as i64,
        "tcpi_ca_state" => i.ca_state as i64,
        "tcpi_rcv_wnd" => i.rcv_wnd as i64,
        other => return Err(format!("`{other}` is not a tcp_info field the engine reports")),
    })
}

impl Runner {
    /// The state `TCP_INFO` reports for the script's most recent socket.
    fn tcpi_state(&self) -> State {
        match self.last_fd.and_then(|fd| self.fds.get(&fd)).map(|f| f.sock) {
            Some(Sock::Listener(_)) => State::Listen,
            Some(Sock::Conn(h) | Sock::Closed(Some(h))) => match self.ep.state(h) {
                Some(State::Closed) if self.in_time_wait(h) => State::TimeWait,
                Some(s) => s,
                None => State::Closed,
            },
            _ => State::Closed,
        }
    }

    /// Runs a `%{ }%` block against the last socket's `tcp_info`.
    pub(crate) fn code(&mut self, stmts: &[Stmt]) -> Result<(), Failure> {
        let state = self.tcpi_state();
        let info = match self.last_fd.and_then(|fd| self.fds.get(&fd)).map(|f| f.sock) {
            Some(Sock::Conn(h) | Sock::Closed(Some(h))) => self.ep.conn_info_at(self.now, h),
            _ => None,
        };
        let now_ms = self.now.as_millis() as u32;
        let lookup = |name: &str| match constant(name) {
            Some(v) => Ok(v),
            None => field(name, state, info.as_ref(), now_ms),
        };
        let mut vars = std::mem::take(&mut self.vars);
        let outcome = Env { vars: &mut vars, lookup: &lookup }.run(stmts);
        self.vars = vars;
        outcome.or_else(|e| self.fail(e))
    }
}
