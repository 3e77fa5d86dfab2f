//! Profiles: a named engine `Config` that reproduces what a family of scripts expects of the
//! stack they were written for. No profile adds special cases to the engine.

use std::time::Duration;
use synack_engine::Config;
use synack_wire::OptionLayout;

#[derive(Debug, Clone)]
pub struct Profile {
    pub name: &'static str,
    pub config: Config,
}

pub const PROFILE_NAMES: [&str; 2] = ["linux", "freebsd"];

impl Profile {
    pub fn by_name(name: &str) -> Option<Profile> {
        match name {
            "linux" => Some(Profile::linux()),
            "freebsd" => Some(Profile::freebsd()),
            _ => None,
        }
    }

    /// The engine's own defaults (Linux-like).
    pub fn linux() -> Profile {
        Profile { name: "linux", config: Config::default() }
    }

    /// FreeBSD as the nplab/freebsd-net scripts see it: options laid out as FreeBSD's
    /// `tcp_addoptions` does (`mss,nop,wscale,sackOK,TS`, EOL padding), a 64 KiB receive and
    /// 32 KiB send buffer, the window-scale shift derived from `kern.ipc.maxsockbuf` (2 MiB:
    /// shift 6), the receive buffer rounded up to a multiple of the MSS once the MSS is known,
    /// 100 ms delayed ACKs, FreeBSD's retransmission timer bounds (1 s initial, 30 ms
    /// minimum, 64 s maximum, 200 ms slop), the FIN repeated on every ACK while unacknowledged, and the ACK
    /// field of old segments processed.
    pub fn freebsd() -> Profile {
        let config = Config {
            option_layout: OptionLayout::Bsd,
            recv_buffer_size: 65_536,
            send_buffer_size: 32_768,
            window_scale_buffer: Some(2 * 1024 * 1024),
            round_syn_window_to_mss: false,
            tcp_time_wait_reopen: false,
            round_recv_buffer_to_mss: true,
            resend_fin_with_ack: true,
            process_ack_of_old_segment: true,
            delayed_ack: Duration::from_millis(100),
            rto_initial: Duration::from_secs(1),
            rto_min: Duration::from_millis(30),
            rto_max: Duration::from_secs(64),
            rto_slop: Duration::from_millis(200),
            ..Config::default()
        };
        Profile { name: "freebsd", config }
    }
}
