//! SYN cookies at a listener (`syncookie.rs` holds the cookie itself): a SYN that finds the
//! SYN queue full (or any SYN, with `tcp_syncookies` = 2) is answered with a cookie SYN-ACK and
//! no record; an ACK that finds no record is checked for a cookie while the listener has sent
//! one lately, and a valid one makes the connection.

use super::Endpoint;
use crate::half_open::{HalfOpen, DEFAULT_MSS};
use crate::syncookie::{decode_ts, encode_ts};
use crate::time::MsStamp;
use crate::{EcnMode, FourTuple, Instant, ListenerHandle};
use std::time::Duration;
use synack_wire::{Ecn, TcpRepr};

/// How long after its last cookie SYN-ACK a listener checks ACKs for cookies (Linux: 2 min).
const COOKIE_CHECK_WINDOW: Duration = Duration::from_secs(120);

impl Endpoint {
    /// The record a SYN would make, which a cookie carries instead (and a valid cookie ACK
    /// rebuilds): every option the SYN offered, as the listener and the config allow.
    fn entry_for_syn(&self, now: Instant, handle: ListenerHandle, tuple: FourTuple, tcp: &TcpRepr) -> HalfOpen {
        let cfg = &self.shared.config;
        let no_options = self.listener(handle).is_some_and(|l| l.no_options);
        let opts = &tcp.options;
        let (iss, ts_offset) = self.isn.isn_and_ts_offset(&tuple, now);
        HalfOpen {
            tuple,
            listener: handle,
            iss,
            irs: tcp.seq,
            ts_recent: opts.timestamps.map_or(0, |(val, _)| val),
            ts_offset,
            deadline: now.add_micros(self.shared.timing.rto_initial_us),
            last_challenge: MsStamp::NEVER,
            challenges: 0,
            peer_mss: opts.mss.unwrap_or(DEFAULT_MSS),
            peer_wscale: opts.window_scale.filter(|_| cfg.tcp_window_scaling && !no_options).map(|s| s.min(14)),
            retries: 0,
            sack_ok: cfg.tcp_sack && opts.sack_permitted && !no_options,
            ts_ok: cfg.tcp_timestamps && opts.timestamps.is_some() && !no_options,
            no_options,
            ecn_ok: cfg.tcp_ecn != EcnMode::Off && tcp.flags.ece() && tcp.flags.cwr(),
            resent: false,
        }
    }

    /// A new SYN at `handle`: a record in the SYN queue, or a cookie when the queue is full
    /// (or always) and cookies are on; else it is dropped and counted.
    pub(super) fn listener_syn(&mut self, now: Instant, handle: ListenerHandle, tuple: FourTuple, tcp: &TcpRepr) {
        let Some(listener) = self.listener(handle) else { return };
        let syn_queue_max = self.shared.config.tcp_max_syn_backlog.min(listener.backlog.max(8) * 2).max(1);
        let queue_full = listener.syn_queue_len >= syn_queue_max;
        let cookie = matches!((self.shared.config.tcp_syncookies, queue_full), (2, _) | (1, true));
        if cookie {
            self.cookie_syn_ack(now, self.entry_for_syn(now, handle, tuple, tcp));
        } else if queue_full {
            // Dropped before anything is computed for it (its ISN hash included).
            self.shared.counters.syn_queue_overflows += 1;
        } else {
            self.keep_half_open(now, self.entry_for_syn(now, handle, tuple, tcp));
        }
    }

    /// RFC 4987 §3.6: the SYN-ACK with the cookie as its ISN, and nothing kept. Its TSval
    /// carries the options a cookie has no room for.
    #[cold]
    fn cookie_syn_ack(&mut self, now: Instant, mut entry: HalfOpen) {
        let cookie = self.cookies.make(&entry.tuple, entry.irs, entry.peer_mss, now.as_micros() / 1_000_000);
        entry.iss = cookie;
        if entry.ts_ok {
            let tsval = (now.as_millis() as u32).wrapping_add(entry.ts_offset);
            let encoded = encode_ts(tsval, entry.peer_wscale, entry.sack_ok, entry.ecn_ok);
            entry.ts_offset = entry.ts_offset.wrapping_sub(tsval.wrapping_sub(encoded));
        } else {
            // Without timestamps there is nowhere to keep them: offered as not agreed.
            (entry.peer_wscale, entry.sack_ok, entry.ecn_ok) = (None, false, false);
        }
        if let Some(l) = self.listener_mut(entry.listener) {
            l.last_cookie = Some(now);
        }
        self.shared.counters.syncookies_sent += 1;
        self.shared.counters.syn_acks_sent += 1;
        let synack = self.syn_ack(now, &entry);
        self.push_control(synack);
    }

    /// An ACK at a listener with no record of its tuple: true when it echoes a valid cookie
    /// (a connection, or dropped while the accept queue is full), else false (the caller
    /// answers with RST).
    pub(super) fn cookie_ack(
        &mut self,
        now: Instant,
        handle: ListenerHandle,
        tuple: FourTuple,
        tcp: &TcpRepr,
        ecn: Ecn,
    ) -> bool {
        let cfg = &self.shared.config;
        let Some(listener) = self.listener(handle) else { return false };
        let recent = listener.last_cookie.is_some_and(|t| now.saturating_since(t) <= COOKIE_CHECK_WINDOW);
        if cfg.tcp_syncookies == 0 || !(recent || cfg.tcp_syncookies == 2) || tcp.flags.syn() || tcp.flags.rst() {
            return false;
        }
        let (peer_isn, cookie) = (tcp.seq - 1, tcp.ack - 1);
        let Some(mss) = self.cookies.check(&tuple, peer_isn, cookie, now.as_micros() / 1_000_000) else {
            self.shared.counters.syncookies_failed += 1;
            return false;
        };
        if listener.accept_queue_full() {
            // As for a record's final ACK: dropped (the client sends it again), or reset.
            self.shared.counters.accept_queue_overflows += 1;
            return !self.shared.config.tcp_abort_on_overflow;
        }
        // The record the SYN would have made, rebuilt from the cookie and the TS echo.
        let mut syn = *tcp;
        syn.seq = peer_isn;
        syn.options = synack_wire::TcpOptions::default();
        let mut entry = self.entry_for_syn(now, handle, tuple, &syn);
        entry.iss = cookie;
        entry.peer_mss = mss;
        entry.resent = true; // no RTT sample: when the SYN-ACK left is not known
        match tcp.options.timestamps {
            Some((val, ecr)) if cfg.tcp_timestamps && !entry.no_options => {
                let o = decode_ts(ecr, mss);
                entry.ts_ok = true;
                entry.ts_recent = val;
                entry.peer_wscale = o.wscale.filter(|_| cfg.tcp_window_scaling);
                entry.sack_ok = o.sack_ok && cfg.tcp_sack;
                entry.ecn_ok = o.ecn_ok && cfg.tcp_ecn != EcnMode::Off;
            }
            _ => {}
        }
        self.shared.counters.syncookies_recv += 1;
        self.establish_passive(now, &entry, tcp, ecn, None);
        true
    }
}
