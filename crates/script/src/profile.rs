//! Profiles: a named engine `Config` that reproduces what a family of scripts expects of the
//! stack they were written for. No profile adds special cases to the engine.

use synack_engine::Config;

#[derive(Debug, Clone)]
pub struct Profile {
    pub name: &'static str,
    pub config: Config,
    /// The scripts were written against a device with TCP segmentation offload: an outbound
    /// line may cover several of synack's segments sent together (packetdrill's Linux tun).
    pub tso: bool,
    /// The stack sends new data as super-segments sized as Linux sizes its GSO packets (TCP
    /// on Linux always does GSO, whatever the device offloads), each carrying PSH; the
    /// runner sees them cut into segments.
    pub gso: bool,
    /// SO_SNDBUF and SO_RCVBUF store twice the size asked, room for bookkeeping (Linux's
    /// `sock_setsockopt`; getsockopt reads the doubled size back).
    pub doubles_socket_buffers: bool,
}

/// The sysctls of packetdrill's `gtests/net/common/defaults.sh` that have an engine meaning:
/// every Linux script was written against them, whether it runs that file or not.
pub const LINUX_TEST_SYSCTLS: [(&str, &str); 9] = [
    ("net.ipv4.tcp_rmem", "4096 540000 15728640"),
    ("net.ipv4.tcp_wmem", "4096 262144 4194304"),
    ("net.ipv4.tcp_timestamps", "1"),
    ("net.ipv4.tcp_syn_retries", "5"),
    ("net.ipv4.tcp_synack_retries", "5"),
    ("net.ipv4.tcp_sack", "1"),
    ("net.ipv4.tcp_dsack", "1"),
    ("net.ipv4.tcp_ecn", "0"),
    ("net.ipv4.tcp_slow_start_after_idle", "0"),
];

pub const PROFILE_NAMES: [&str; 2] = ["linux", "freebsd"];

impl Profile {
    pub fn by_name(name: &str) -> Option<Profile> {
        match name {
            "linux" => Some(Profile::linux()),
            "freebsd" => Some(Profile::freebsd()),
            _ => None,
        }
    }

    /// Linux as packetdrill's `defaults.sh` sets it up for its tests (the engine's defaults,
    /// which are Linux's, with `LINUX_TEST_SYSCTLS` applied, quick-ACK mode, Linux's rules for
    /// window updates and the RTO, its silent drop of an ACK of unsent data, its RST for data
    /// after close and CUBIC's own HyStart), seen through a
    /// TSO device, with
    /// Linux's socket layer doubling what SO_SNDBUF and SO_RCVBUF set.
    pub fn linux() -> Profile {
        let mut config = Config::default();
        for (name, value) in LINUX_TEST_SYSCTLS {
            crate::commands::apply_sysctl(&mut config, name, value);
        }
        config.compat.quick_acks = 16; // TCP_MAX_QUICKACKS
        config.compat.window_update_when_doubled = true;
        config.compat.rto_min_bounds_variance = true;
        config.compat.drop_ack_of_unsent_data = true;
        config.compat.reset_data_after_close_from_segment = true;
        config.compat.hystart_without_css = true;
        config.compat.cubic_in_segments = true;
        Profile { name: "linux", config, tso: true, gso: true, doubles_socket_buffers: true }
    }

    /// FreeBSD as the nplab/freebsd-net scripts see it: `Config::freebsd()` (its option layout,
    /// buffers, window-scale shift, timers, and the behaviours `Compat::freebsd()` names).
    pub fn freebsd() -> Profile {
        let config = Config::freebsd();
        Profile { name: "freebsd", config, tso: false, gso: false, doubles_socket_buffers: false }
    }
}
