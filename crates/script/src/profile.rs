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
        Profile { name: "linux", config: Config::default(), tso: true }
    }

    /// FreeBSD as the nplab/freebsd-net scripts see it: `Config::freebsd()` (its option layout,
    /// buffers, window-scale shift, timers, and the behaviours `Compat::freebsd()` names).
    pub fn freebsd() -> Profile {
        let config = Config::freebsd();
        Profile { name: "freebsd", config, tso: false }
    }
}
