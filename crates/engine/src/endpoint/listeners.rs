//! Listeners and bound sockets: opening, options, the accept queue, closing, and finding the
//! one a segment is for.

use super::{Demux, Endpoint, ListenerQueues};
use crate::listener::{ListenKey, Listener};
use crate::{Cause, ConnHandle, FourTuple, Instant, InvalidHandle, IpFields, ListenError, ListenerHandle};
use std::net::{IpAddr, SocketAddr};

/// The longest TCP MD5 key (Linux's TCP_MD5SIG_MAXKEYLEN).
const MAX_MD5_KEY_LEN: usize = 80;

impl Endpoint {
    /// LISTEN (RFC 9293 §3.10.1, passive open). `addr` may have an unspecified IP (any local
    /// address of that family; `::` also takes IPv4). `backlog` bounds the accept queue,
    /// capped by `somaxconn` as `listen(2)` does.
    pub fn listen(&mut self, addr: SocketAddr, backlog: usize) -> Result<ListenerHandle, ListenError> {
        if backlog == 0 {
            return Err(ListenError::InvalidBacklog);
        }
        let h = self.bind(addr)?;
        self.listen_bound(h, backlog).map(|()| h)
    }

    /// A socket bound to `addr` that does not listen yet (`bind(2)` before `listen(2)`): it
    /// holds the address against other listeners and binds, and answers a segment to it as
    /// RFC 9293 §3.10.7.1 says CLOSED does (RST), from its own IP_TTL and IP_TOS (a bound
    /// socket is a TCB in CLOSED, as FreeBSD's `tcp_input` finds it). Its options are set as
    /// a listener's; `listen_bound` makes it one, `close_listener` closes it.
    pub fn bind(&mut self, addr: SocketAddr) -> Result<ListenerHandle, ListenError> {
        if addr.port() == 0 || (!addr.ip().is_unspecified() && !self.addresses.contains(&addr.ip())) {
            return Err(ListenError::InvalidAddress);
        }
        if self.listener_by_addr.contains_key(&ListenKey::of(addr)) {
            return Err(ListenError::AddrInUse);
        }
        let mut bound = Listener::new(addr, 0);
        bound.listening = false;
        let (index, generation) = self.listeners.insert(bound);
        self.listener_by_addr.insert(ListenKey::of(addr), index);
        Ok(ListenerHandle { index, generation })
    }

    /// LISTEN on a socket `bind` made (again on a listener: a new backlog). `backlog` bounds
    /// the accept queue, capped by `somaxconn`.
    pub fn listen_bound(&mut self, h: ListenerHandle, backlog: usize) -> Result<(), ListenError> {
        if backlog == 0 {
            return Err(ListenError::InvalidBacklog);
        }
        let somaxconn = self.shared.config.somaxconn;
        let l = self.listener_mut(h).ok_or(ListenError::InvalidHandle)?;
        l.backlog = backlog.min(somaxconn);
        l.listening = true;
        Ok(())
    }

    /// Any-IP listening, for tun2socks-style use: accepts connections to every destination
    /// address and port that arrives (the accepted connection's `local_addr` is the original
    /// destination), after every specific and wildcard listener. Half-open entries are bounded
    /// by `tcp_max_syn_backlog` as for any listener. One per endpoint.
    pub fn listen_any(&mut self, backlog: usize) -> Result<ListenerHandle, ListenError> {
        if backlog == 0 {
            return Err(ListenError::InvalidBacklog);
        }
        if self.any_listener.is_some() {
            return Err(ListenError::AddrInUse);
        }
        let addr = SocketAddr::new(IpAddr::from([0u16; 8]), 0);
        let backlog = backlog.min(self.shared.config.somaxconn);
        let (index, generation) = self.listeners.insert(Listener::new(addr, backlog));
        self.any_listener = Some(index);
        Ok(ListenerHandle { index, generation })
    }

    /// Whether packets to addresses that are not the endpoint's own are taken (any-IP).
    pub(super) fn accepts_any_address(&self) -> bool {
        self.any_listener.is_some()
    }

    pub(super) fn listener(&self, h: ListenerHandle) -> Option<&Listener> {
        self.listeners.get(h.index, h.generation)
    }

    pub(super) fn listener_mut(&mut self, h: ListenerHandle) -> Option<&mut Listener> {
        self.listeners.get_mut(h.index, h.generation)
    }

    /// Takes the oldest connection from the accept queue.
    pub fn accept(&mut self, h: ListenerHandle) -> Option<ConnHandle> {
        let handle = self.listener_mut(h)?.accept_queue.pop_front()?;
        if let Some(conn) = self.conn_mut_opt(handle) {
            conn.listener = None;
        }
        Some(handle)
    }

    /// Closes a listener: its half-open entries are forgotten and connections still in its
    /// accept queue are reset, as Linux does.
    pub fn close_listener(&mut self, now: Instant, h: ListenerHandle) -> Result<(), InvalidHandle> {
        self.listener(h).ok_or(InvalidHandle)?;
        let listener = self.listeners.remove(h.index).ok_or(InvalidHandle)?;
        if self.any_listener == Some(h.index) {
            self.any_listener = None;
        } else {
            self.listener_by_addr.remove(&ListenKey::of(listener.addr));
        }
        let orphans: Vec<u32> = self.half_opens.iter().filter(|(_, e)| e.listener == h).map(|(i, _)| i).collect();
        for i in orphans {
            if let Some(e) = self.half_opens.remove(i) {
                self.demux_remove(&e.tuple, Demux::HalfOpen(i));
            }
        }
        for conn in listener.accept_queue {
            self.with_conn(now, conn, (), |c, ctx| c.abort(ctx, Cause::ListenerClosed));
        }
        Ok(())
    }

    /// `TCP_NOOPT` on a listener: SYN-ACKs carry no options (not even MSS), and a SYN's
    /// options other than MSS are ignored, so no connection it accepts uses any.
    pub fn set_listener_no_options(&mut self, h: ListenerHandle, on: bool) -> Result<(), InvalidHandle> {
        self.listener_mut(h).map(|l| l.no_options = on).ok_or(InvalidHandle)
    }

    /// `TCP_MAXSEG` on a listener (Linux's `user_mss`): the SYN-ACKs announce at most `mss`,
    /// and its connections send segments no larger (their children inherit it). `None`
    /// lifts the clamp. As Linux, 88 to 65535 bytes; `Ok(false)` for a value outside.
    pub fn set_listener_max_segment(&mut self, h: ListenerHandle, mss: Option<u16>) -> Result<bool, InvalidHandle> {
        if mss.is_some_and(|m| m < crate::conn::MIN_USER_MSS) {
            return self.listener(h).map(|_| false).ok_or(InvalidHandle);
        }
        self.listener_mut(h).map(|l| l.max_segment = mss).map(|_| true).ok_or(InvalidHandle)
    }

    /// IP_TTL / IPV6_UNICAST_HOPS and IP_TOS / IPV6_TCLASS on a listener or bound socket:
    /// its SYN-ACKs and RSTs carry them, and its connections inherit them.
    pub fn set_listener_ip(&mut self, h: ListenerHandle, ip: IpFields) -> Result<(), InvalidHandle> {
        self.listener_mut(h).map(|l| l.ip = ip).ok_or(InvalidHandle)
    }

    /// A listener's IP_TTL and IP_TOS.
    pub fn listener_ip_fields(&self, h: ListenerHandle) -> Option<IpFields> {
        self.listener(h).map(|l| l.ip)
    }

    /// The TCP MD5 signature key (RFC 2385) for segments to and from `peer`, or none; at most
    /// 80 bytes (Linux's TCP_MD5SIG_MAXKEYLEN), false for a longer one. Sockets with
    /// TCP_MD5SIG sign with it; a connection that signs keeps needing it, and sends nothing
    /// while it is gone.
    pub fn set_md5_key(&mut self, peer: IpAddr, key: Option<&[u8]>) -> bool {
        match key {
            Some(key) if key.len() > MAX_MD5_KEY_LEN => return false,
            Some(key) => self.shared.md5_keys.insert(peer, key.into()),
            None => self.shared.md5_keys.remove(&peer),
        };
        true
    }

    /// TCP_MD5SIG on a listener or bound socket (RFC 2385): with a peer that has a key
    /// (`Endpoint::set_md5_key`), its SYN-ACKs and RSTs are signed, it takes only signed
    /// segments, and so do the connections it accepts.
    pub fn set_listener_md5(&mut self, h: ListenerHandle, on: bool) -> Result<(), InvalidHandle> {
        self.listener_mut(h).map(|l| l.md5 = on).ok_or(InvalidHandle)
    }

    /// Whether `h` signs what it sends to `peer` and takes only signed segments from it.
    pub(super) fn listener_signs(&self, h: ListenerHandle, peer: &IpAddr) -> bool {
        self.listener(h).is_some_and(|l| l.md5) && self.shared.md5_keys.contains_key(peer)
    }

    /// The IP fields of what is sent for `h`'s half-open entries and SYNs (defaults once it
    /// is gone).
    pub(super) fn listener_ip(&self, h: ListenerHandle) -> IpFields {
        self.listener(h).map_or_else(IpFields::default, |l| l.ip)
    }

    /// A listener's `TCP_MAXSEG`, if set.
    pub fn listener_max_segment(&self, h: ListenerHandle) -> Option<u16> {
        self.listener(h).and_then(|l| l.max_segment)
    }

    /// The MSS a passive open announces for `tuple` (RFC 9293 §3.7.1: from the link's MTU),
    /// clamped by its listener's `TCP_MAXSEG`.
    pub(super) fn passive_mss(&self, tuple: &FourTuple, listener: ListenerHandle) -> u16 {
        let mss = self.shared.config.mss_for(tuple.local_ip.is_ipv6());
        self.listener(listener).and_then(|l| l.max_segment).map_or(mss, |clamp| mss.min(clamp))
    }

    /// The address a listener listens on.
    pub fn listener_addr(&self, h: ListenerHandle) -> Option<SocketAddr> {
        self.listener(h).map(|l| l.addr)
    }

    /// (SYN-queue length, accept-queue length) of a listener.
    pub fn listener_queues(&self, h: ListenerHandle) -> Option<ListenerQueues> {
        self.listener(h).map(|l| ListenerQueues { syn_queue: l.syn_queue_len, accept_queue: l.accept_queue.len() })
    }

    /// The listener for a local address: specific, then the wildcard of its family, then `::`,
    /// then the any-IP listener. Wildcards only answer for the endpoint's own addresses. The
    /// address by reference, read where the tuple holds it.
    pub(super) fn find_listener(&self, ip: &IpAddr, port: u16) -> Option<ListenerHandle> {
        let get = |ip: &IpAddr| self.listener_by_addr.get(&ListenKey::new(ip, port)).copied();
        let index = match get(ip) {
            Some(index) => index,
            // The address scan only when no listener holds the exact address; `::` is the
            // IPv6 family's own wildcard, looked up once.
            None if self.addresses.contains(ip) => {
                let ipv4_any = || if ip.is_ipv4() { get(&IpAddr::from([0u8; 4])) } else { None };
                ipv4_any().or_else(|| get(&IpAddr::from([0u16; 8]))).or(self.any_listener)?
            }
            None => self.any_listener?,
        };
        Some(ListenerHandle { index, generation: self.listeners.generation(index) })
    }
}
