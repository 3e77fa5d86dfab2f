//! Tests that need something from outside (a tool, root, a TUN device) skip with a printed
//! reason when it is missing, unless `SYNACK_NO_SKIP=1` is set (CI sets it): then a skip is a
//! failure, so CI really runs them.

use std::process::{Command, Stdio};

/// The variable that turns skips into failures.
pub const NO_SKIP_VAR: &str = "SYNACK_NO_SKIP";

/// Skips (returns false after printing why) or, under `SYNACK_NO_SKIP=1`, panics.
pub fn skip(test: &str, reason: &str) -> bool {
    if std::env::var(NO_SKIP_VAR).is_ok_and(|v| v == "1") {
        panic!("{test}: {reason}, and {NO_SKIP_VAR}=1 forbids skipping");
    }
    // Straight to the process's standard error, not `eprintln!`: the test harness captures
    // that for tests that pass, and a skip must show in the plain `cargo test` output.
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIP {test}: {reason} (SYNACK_NO_SKIP=1 makes this a failure)");
    false
}

/// True when `tool` can be started (whatever `tool --version` exits with: `ip` answers 255);
/// otherwise skips as above.
pub fn require_tool(test: &str, tool: &str) -> bool {
    let found = Command::new(tool).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok();
    found || skip(test, &format!("{tool} is not installed"))
}

/// True when this process may create network namespaces and TUN devices (root, and
/// /dev/net/tun exists) and every tool in `tools` can be started; otherwise skips as above.
pub fn require_root_tun_and_tools(test: &str, tools: &[&str]) -> bool {
    let root = Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if !root {
        return skip(test, "needs root to create a network namespace and a TUN device");
    }
    if !std::path::Path::new("/dev/net/tun").exists() {
        return skip(test, "/dev/net/tun is missing");
    }
    tools.iter().all(|tool| require_tool(test, tool))
}
