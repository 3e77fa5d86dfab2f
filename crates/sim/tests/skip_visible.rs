//! A skipped test says so in the plain `cargo test` output (the harness captures what passing
//! tests print with `eprintln!`, which hid every skip reason before).

use std::process::Command;

/// Skips when the probe below runs it; passes (doing nothing) otherwise.
#[test]
fn probe_that_skips() {
    if std::env::var_os("SYNACK_SKIP_PROBE").is_some() {
        synack_sim::skip::skip("probe", "asked to skip");
    }
}

#[test]
fn a_skip_shows_without_nocapture() {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "probe_that_skips"])
        .env("SYNACK_SKIP_PROBE", "1")
        .env_remove("SYNACK_NO_SKIP")
        .output()
        .expect("the test binary runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{text}");
    assert!(text.contains("SKIP probe: asked to skip"), "the skip is not shown: {text}");
}
