//! The IP-level socket options a script sets and reads: IP_TTL and IPV6_UNICAST_HOPS (the
//! TTL / hop limit), IP_TOS and IPV6_TCLASS (the DSCP bits; TCP sets the ECN bits itself),
//! IP_MTU_DISCOVER and IPV6_MTU_DISCOVER (path MTU discovery's mode).

use crate::ast::Arg;
use crate::calls::CallResult;
use crate::run::{Fd, Runner, Sock};
use synack_engine::{IpFields, PmtuDiscovery};

impl Runner {
    /// The IP fields of socket `entry` now: its connection's, its listener's or bound
    /// socket's, or those it keeps for the connection or listener to come.
    pub(crate) fn ip_fields_of(&self, entry: &Fd) -> IpFields {
        let held = match entry.sock {
            Sock::Conn(h) => self.ep.ip_fields(h),
            Sock::Listener(l) => self.ep.listener_ip_fields(l),
            _ => entry.bound.and_then(|l| self.ep.listener_ip_fields(l)),
        };
        held.unwrap_or(entry.ip)
    }

    /// IP_MTU_DISCOVER of socket `entry` now: its connection's, or the one it keeps for the
    /// connection to come (a listener's passes to the connections it accepts).
    fn path_mtu_discovery_of(&self, entry: &Fd) -> PmtuDiscovery {
        let held = match entry.sock {
            Sock::Conn(h) => self.ep.path_mtu_discovery(h),
            _ => None,
        };
        held.or(entry.pmtu).unwrap_or_default()
    }

    /// `setsockopt` of an IP-level option; `None` when `opt` is not one.
    pub(crate) fn set_ip_option(&mut self, fd: i64, entry: &Fd, opt: &str, arg: Option<&Arg>) -> Option<CallResult> {
        let value = arg.and_then(option_value);
        if matches!(opt, "IP_MTU_DISCOVER" | "IPV6_MTU_DISCOVER") {
            let Some(mode) = value.and_then(PmtuDiscovery::from_linux) else { return Some(Err("EINVAL")) };
            if let Sock::Conn(h) = entry.sock {
                if let Some(mut c) = self.ep.conn_mut(self.now, h) {
                    c.set_path_mtu_discovery(mode);
                }
            }
            if let Some(f) = self.fds.get_mut(&fd) {
                f.pmtu = Some(mode);
            }
            return Some(Ok(0));
        }
        let old = self.ip_fields_of(entry);
        let new = match (opt, value) {
            // -1 restores the default (Linux, and RFC 3493 §5.1 for the hop limit).
            ("IP_TTL" | "IPV6_UNICAST_HOPS", Some(-1)) => IpFields { ttl: IpFields::default().ttl, ..old },
            ("IP_TTL" | "IPV6_UNICAST_HOPS", Some(v @ 0..=255)) => IpFields { ttl: v as u8, ..old },
            ("IPV6_TCLASS", Some(-1)) => old.with_tos(0),
            ("IP_TOS" | "IPV6_TCLASS", Some(v @ 0..=255)) => old.with_tos(v as u8),
            ("IP_TTL" | "IPV6_UNICAST_HOPS" | "IP_TOS" | "IPV6_TCLASS", _) => return Some(Err("EINVAL")),
            _ => return None,
        };
        match entry.sock {
            Sock::Conn(h) => {
                if let Some(mut c) = self.ep.conn_mut(self.now, h) {
                    c.set_ip_fields(new);
                }
            }
            Sock::Listener(l) => {
                let _ = self.ep.set_listener_ip(l, new);
            }
            _ => {
                if let Some(l) = entry.bound {
                    let _ = self.ep.set_listener_ip(l, new);
                }
            }
        }
        if let Some(f) = self.fds.get_mut(&fd) {
            f.ip = new;
        }
        Some(Ok(0))
    }

    /// `getsockopt` of an IP-level option; `None` when `opt` is not one.
    pub(crate) fn ip_option(&self, entry: &Fd, opt: &str) -> Option<i64> {
        let ip = self.ip_fields_of(entry);
        match opt {
            "IP_TTL" | "IPV6_UNICAST_HOPS" => Some(ip.ttl as i64),
            "IP_TOS" | "IPV6_TCLASS" => Some(ip.tos as i64),
            "IP_MTU_DISCOVER" | "IPV6_MTU_DISCOVER" => Some(self.path_mtu_discovery_of(entry) as i64),
            _ => None,
        }
    }
}

/// An option's value: a number, one of the TOS names of `<netinet/ip.h>` (RFC 2474's class
/// selectors and RFC 2597 / RFC 3246's forwarding classes), or a path MTU discovery mode.
fn option_value(arg: &Arg) -> Option<i64> {
    if let Some(v) = arg.int() {
        return Some(v);
    }
    let name = arg.symbol()?;
    if let Some(mode) = name.strip_prefix("IP_PMTUDISC_").or_else(|| name.strip_prefix("IPV6_PMTUDISC_")) {
        let modes = ["DONT", "WANT", "DO", "PROBE", "INTERFACE", "OMIT"];
        return modes.iter().position(|m| *m == mode).map(|n| n as i64);
    }
    let dscp = |v: i64| Some(v << 2);
    match name.strip_prefix("IPTOS_DSCP_")? {
        "EF" => dscp(46),
        "VA" => dscp(44),
        class => {
            if let Some(n) = class.strip_prefix("CS").and_then(|n| n.parse::<i64>().ok()).filter(|n| *n <= 7) {
                return dscp(n << 3);
            }
            // AFxy: class x (1-4), drop precedence y (1-3).
            let digits = class.strip_prefix("AF")?.as_bytes();
            match digits {
                [x @ b'1'..=b'4', y @ b'1'..=b'3'] => dscp(((x - b'0') as i64) << 3 | ((y - b'0') as i64) << 1),
                _ => None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tos_names_are_the_dscp_values_in_place() {
        let value = |s: &str| option_value(&Arg::Symbols(vec![s.into()]));
        assert_eq!(value("IPTOS_DSCP_CS1"), Some(0x20));
        assert_eq!(value("IPTOS_DSCP_CS7"), Some(0xe0));
        assert_eq!(value("IPTOS_DSCP_EF"), Some(0xb8));
        assert_eq!(value("IPTOS_DSCP_AF11"), Some(0x28));
        assert_eq!(value("IPTOS_DSCP_AF43"), Some(0x98));
        assert_eq!(value("IPTOS_DSCP_CS8"), None);
        assert_eq!(option_value(&Arg::Int(4)), Some(4));
    }

    #[test]
    fn path_mtu_discovery_names_are_linux_numbers() {
        let value = |s: &str| option_value(&Arg::Symbols(vec![s.into()]));
        assert_eq!(value("IP_PMTUDISC_DONT"), Some(0));
        assert_eq!(value("IP_PMTUDISC_PROBE"), Some(3));
        assert_eq!(value("IPV6_PMTUDISC_OMIT"), Some(5));
        assert_eq!(value("IP_PMTUDISC_MAYBE"), None);
    }
}
