//! A connection's options (the socket options of `setsockopt`), set through a view of the
//! connection: `Endpoint::conn_mut` answers `None` once for a handle that names no live
//! connection, instead of every setter answering `InvalidHandle`.

use super::{ConnHandle, Endpoint};
use crate::conn::{Connection, Ctx};
use crate::{Instant, IpFields, KeepaliveTiming, PmtuDiscovery};
use std::time::Duration;

/// One live connection of an endpoint, for setting its options (`Endpoint::conn_mut`).
pub struct ConnMut<'a> {
    ep: &'a mut Endpoint,
    h: ConnHandle,
    now: Instant,
}

impl Endpoint {
    /// The connection `h` names, to set its options at `now`; `None` when it names no live
    /// connection.
    pub fn conn_mut(&mut self, now: Instant, h: ConnHandle) -> Option<ConnMut<'_>> {
        self.conn(h)?;
        Some(ConnMut { ep: self, h, now })
    }
}

impl ConnMut<'_> {
    /// Runs `f` on the connection, and settles what it changed (an option may let a segment
    /// go, or arm a timer).
    fn with<R: Default>(&mut self, f: impl FnOnce(&mut Connection, &mut Ctx) -> R) -> R {
        self.ep.with_conn(self.now, self.h, R::default(), f)
    }

    /// TCP_NODELAY: send small segments at once instead of waiting for the ACK of the last one
    /// (Nagle's algorithm, RFC 9293 §3.8.6.2.2, is on by default).
    pub fn set_nodelay(&mut self, on: bool) {
        self.with(|c, _| c.set_nodelay(on));
    }

    /// TCP_CORK (Linux): while on, only full segments go; lifting it sends what waited.
    pub fn set_cork(&mut self, on: bool) {
        self.with(|c, _| c.set_cork(on));
    }

    /// SO_LINGER: `Some(Duration::ZERO)` makes `close` send RST.
    pub fn set_linger(&mut self, linger: Option<Duration>) {
        self.with(|c, _| c.set_linger(linger));
    }

    /// SO_KEEPALIVE (RFC 1122 §4.2.3.6): probe an idle peer with the config's keepalive
    /// timing, counted from now.
    pub fn set_keepalive(&mut self, on: bool) {
        self.with(|c, ctx| c.set_keepalive(ctx, on));
    }

    /// TCP_KEEPIDLE, TCP_KEEPINTVL and TCP_KEEPCNT: this connection's keep-alive timing
    /// instead of the config's (`Endpoint::keepalive_timing` reads the one in force). A timer
    /// already running counts the new idle time from when the peer was last heard.
    pub fn set_keepalive_timing(&mut self, timing: KeepaliveTiming) {
        self.with(|c, ctx| c.set_keepalive_timing(ctx, timing));
    }

    /// TCP_MAXSEG (Linux's `user_mss`): before the SYN, the MSS it announces is at most
    /// `mss`; segments sent are no larger than `mss` whatever the peer announced. As Linux,
    /// 88 to 65535 bytes; false for a value below.
    pub fn set_max_segment(&mut self, mss: u16) -> bool {
        self.with(|c, _| c.set_max_segment(mss))
    }

    /// TCP_NOOPT: the SYN carries no options and the peer's (but its MSS) are ignored. Only
    /// before the SYN has gone out; false when too late.
    pub fn set_no_options(&mut self, on: bool) -> bool {
        self.with(|c, _| c.set_no_options(on))
    }

    /// TCP_USER_TIMEOUT (RFC 9293 §3.10.8 USER TIMEOUT): abort when sent data stays
    /// unacknowledged this long.
    pub fn set_user_timeout(&mut self, timeout: Option<Duration>) {
        self.with(|c, _| c.set_user_timeout(timeout));
    }

    /// TCP_KEEPINIT (FreeBSD): `connect` fails with `TimedOut` this long after it was called
    /// if the handshake has not completed. Only in SYN-SENT; false otherwise.
    pub fn set_connect_timeout(&mut self, timeout: Option<Duration>) -> bool {
        self.with(|c, ctx| c.set_connect_timeout(ctx, timeout))
    }

    /// SO_SNDBUF: the send buffer's size, bytes, within `tcp_wmem`; may change at any time (queued data
    /// is kept).
    pub fn set_send_buffer_size(&mut self, bytes: usize) {
        self.with(|c, ctx| c.set_send_buffer_size(&ctx.config, bytes));
    }

    /// SO_RCVBUF: the receive buffer's size, bytes, within `tcp_rmem`. Only before the SYN has gone out (the
    /// window scale it announces depends on it); false when too late.
    pub fn set_recv_buffer_size(&mut self, bytes: usize) -> bool {
        self.with(|c, ctx| c.set_recv_buffer_size(&ctx.config, bytes))
    }

    /// TCP_MD5SIG (RFC 2385): sign every segment from now on with the key for the peer
    /// (`Endpoint::set_md5_key`) and take only segments signed with it. False, and nothing
    /// changed, when there is no key for the peer. Set before `connect`'s SYN goes, the SYN
    /// is signed too; the peer must sign as well, or nothing it sends is taken.
    pub fn set_md5(&mut self, on: bool) -> bool {
        let Some(peer) = self.ep.conn(self.h).map(|c| c.tuple.remote_ip) else { return false };
        if on && !self.ep.shared.md5_keys.contains_key(&peer) {
            return false;
        }
        self.with(|c, _| c.set_md5(on));
        true
    }

    /// TCP_REMOTE_UDP_ENCAPS_PORT (FreeBSD's TCP over UDP): the connection's segments travel
    /// in UDP, from the config's `tcp_udp_tunneling_port` to the peer's `port` (`None`: plain
    /// TCP again). Only before the SYN has gone out, and with a tunneling port; false
    /// otherwise, as FreeBSD answers EINVAL.
    pub fn set_remote_udp_port(&mut self, port: Option<u16>) -> bool {
        let shared = &mut self.ep.shared;
        let Some(conn) = self.ep.conns.get(self.h.index, self.h.generation) else { return false };
        if shared.config.tcp_udp_tunneling_port == 0 || !conn.syn_unsent() {
            return false;
        }
        match port.filter(|&p| p != 0) {
            Some(p) => shared.udp_ports.insert(conn.tuple, p),
            None => shared.udp_ports.remove(&conn.tuple),
        };
        true
    }

    /// IP_TTL / IPV6_UNICAST_HOPS and IP_TOS / IPV6_TCLASS: every packet sent from now on,
    /// RSTs and the TIME-WAIT record's ACKs included, carries them.
    pub fn set_ip_fields(&mut self, ip: IpFields) {
        self.with(|c, _| c.ip = ip);
    }

    /// IP_MTU_DISCOVER / IPV6_MTU_DISCOVER: whether IPv4 packets carry DF and whether Packet
    /// Too Big reports lower the segment size (`PmtuDiscovery`; WANT by default).
    pub fn set_path_mtu_discovery(&mut self, mode: PmtuDiscovery) {
        self.with(|c, _| c.set_path_mtu_discovery(mode));
    }
}
