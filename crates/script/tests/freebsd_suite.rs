//! The FreeBSD TCP test suite (shared/conformance/freebsd-tcp-testsuite: the state-event
//! engine and the snippets, IPv4 and IPv6) under `--profile freebsd -D STANDARD`. Every
//! script must pass unless tests/freebsd-known-failures.txt lists it, and a listed script
//! that passes is an error too, so the list only shrinks.

use std::collections::BTreeMap;
use std::path::PathBuf;
use synack_script::{collect_scripts, run_file, Profile, Verdict};

/// Where the conformance suites are: `$SYNACK_CONFORMANCE_DIR`, or `../shared/conformance`
/// beside the checkout.
fn conformance_dir() -> PathBuf {
    match std::env::var_os("SYNACK_CONFORMANCE_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance"),
    }
}

fn suite_dir() -> PathBuf {
    conformance_dir().join("freebsd-tcp-testsuite")
}

fn known_failures() -> BTreeMap<String, String> {
    include_str!("freebsd-known-failures.txt")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (path, why) = l.split_once("  ").expect("`path  reason` lines");
            (path.trim().to_string(), why.trim().to_string())
        })
        .collect()
}

#[test]
fn freebsd_state_event_engine_and_snippets() {
    let dir = suite_dir();
    if !dir.is_dir() {
        synack_sim::skip::skip(
            "freebsd_suite",
            &format!(
                "the FreeBSD TCP test suite is not at {} (set SYNACK_CONFORMANCE_DIR to the folder that holds \
                 freebsd-tcp-testsuite/; the README says where to get it)",
                dir.display()
            ),
        );
        return;
    }
    let known = known_failures();
    // The bar: the state-event engine passes in full; only snippets may be exempt.
    let exempt: Vec<_> = known.keys().filter(|k| k.starts_with("state-event-engine/")).collect();
    assert!(exempt.is_empty(), "state-event-engine scripts must not be exempt: {exempt:?}");
    let files = collect_scripts(&[dir.join("state-event-engine"), dir.join("snippets")]).unwrap();
    assert!(files.len() >= 600, "only {} scripts found under {}", files.len(), dir.display());
    let profile = Profile::freebsd();
    let defines = vec!["STANDARD".to_string()];
    let mut unexpected = Vec::new();
    let (mut passed, mut known_failed) = (0, 0);
    for file in &files {
        let rel = file.strip_prefix(&dir).unwrap().to_string_lossy().into_owned();
        let (verdict, _) = run_file(file, &profile, &defines);
        let listed = known.get(&rel);
        match (verdict, listed) {
            (Verdict::Pass, None) => passed += 1,
            (Verdict::Pass, Some(why)) => {
                unexpected.push(format!("{rel}: passes now; remove it from the known failures ({why})"))
            }
            (Verdict::Fail(_) | Verdict::Error(_), Some(_)) => known_failed += 1,
            (Verdict::Fail(f), None) => unexpected.push(format!("{rel}: {f}")),
            (Verdict::Error(e), None) => unexpected.push(format!("{rel}: {e}")),
        }
    }
    let missing: Vec<_> = known.keys().filter(|k| !files.iter().any(|f| f.ends_with(k.as_str()))).collect();
    assert!(missing.is_empty(), "known failures that are not in the suite: {missing:?}");
    eprintln!("{passed} passed, {known_failed} known failures, {} unexpected", unexpected.len());
    assert!(unexpected.is_empty(), "{} scripts differ from expectations:\n{}", unexpected.len(), unexpected.join("\n"));
}
