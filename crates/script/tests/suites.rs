//! The conformance suites in `shared/conformance`, every group, as written: FreeBSD's TCP
//! test suite under `--profile freebsd -D STANDARD`, Linux's packetdrill TCP tests under
//! `--profile linux`. Every script passes unless `tests/known-differences/<suite>.txt` lists
//! it with the line of its first difference and the reason; the test fails when a listed
//! script passes or differs first at another line (so the lists stay true), when a listed
//! script fails for a reason of the runner's (a parse error), and when a reason is not one
//! of the two kinds CONFORMANCE.md explains (`policy:` or `feature:`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use synack_script::{collect_scripts, run_file, Profile, Verdict};

/// Where the conformance suites are: `$SYNACK_CONFORMANCE_DIR`, or `../shared/conformance`
/// beside the checkout.
fn conformance_dir() -> PathBuf {
    match std::env::var_os("SYNACK_CONFORMANCE_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance"),
    }
}

/// A listed script: the line its first difference is at, and why.
struct Known {
    line: usize,
    reason: String,
}

/// `path  line N  reason` lines; `#` starts a comment.
fn known_differences(text: &str) -> BTreeMap<String, Known> {
    let mut out = BTreeMap::new();
    for l in text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let mut parts = l.splitn(2, "  line ");
        let path = parts.next().unwrap().trim().to_string();
        let rest = parts.next().unwrap_or_else(|| panic!("want `path  line N  reason`: {l}"));
        let (line, reason) = rest.split_once("  ").unwrap_or_else(|| panic!("want `path  line N  reason`: {l}"));
        let line = line.trim().parse().unwrap_or_else(|_| panic!("bad line number: {l}"));
        assert!(
            reason.starts_with("policy: ") || reason.starts_with("feature: "),
            "a reason is `policy: ...` (an RFC-permitted choice) or `feature: ...` (not built yet): {l}"
        );
        assert!(out.insert(path.clone(), Known { line, reason: reason.to_string() }).is_none(), "{path} twice");
    }
    out
}

/// Runs every script under `suite` and holds the results to the list.
fn check_suite(name: &str, suite: &Path, profile: Profile, defines: &[String], list: &str, at_least: usize) {
    if !suite.is_dir() {
        synack_sim::skip::skip(
            name,
            &format!(
                "the suite is not at {} (set SYNACK_CONFORMANCE_DIR to the folder that holds \
                 freebsd-tcp-testsuite/ and packetdrill-linux/; the README says where to get them)",
                suite.display()
            ),
        );
        return;
    }
    let known = known_differences(list);
    let files = collect_scripts(&[suite.to_path_buf()]).unwrap();
    assert!(files.len() >= at_least, "only {} scripts found under {}", files.len(), suite.display());
    let mut wrong = Vec::new();
    let (mut passed, mut listed_failed) = (0, 0);
    for file in &files {
        let rel = file.strip_prefix(suite).unwrap().to_string_lossy().into_owned();
        let (verdict, _) = run_file(file, &profile, defines);
        match (verdict, known.get(&rel)) {
            (Verdict::Pass, None) => passed += 1,
            (Verdict::Pass, Some(k)) => wrong.push(format!("{rel}: passes now; take it off the list ({})", k.reason)),
            (Verdict::Fail(f), Some(k)) if f.line == k.line => listed_failed += 1,
            (Verdict::Fail(f), Some(k)) => {
                wrong.push(format!("{rel}: first differs at line {} now, not {}: {f}", f.line, k.line))
            }
            (Verdict::Fail(f), None) => wrong.push(format!("{rel}: {f}")),
            (Verdict::Error(e), _) => wrong.push(format!("{rel}: the runner could not run it: {e}")),
        }
    }
    let missing: Vec<_> = known.keys().filter(|k| !files.iter().any(|f| f.ends_with(k.as_str()))).collect();
    assert!(missing.is_empty(), "listed scripts that are not in the suite: {missing:?}");
    eprintln!("{name}: {passed} passed, {listed_failed} known differences, {} unexpected", wrong.len());
    assert!(wrong.is_empty(), "{} scripts differ from the list:\n{}", wrong.len(), wrong.join("\n"));
}

#[test]
fn freebsd_tcp_testsuite_every_group() {
    let suite = conformance_dir().join("freebsd-tcp-testsuite");
    let list = include_str!("known-differences/freebsd.txt");
    check_suite("freebsd_suite", &suite, Profile::freebsd(), &["STANDARD".to_string()], list, 900);
}

#[test]
fn linux_packetdrill_tcp_tests() {
    let suite = conformance_dir().join("packetdrill-linux");
    let list = include_str!("known-differences/linux.txt");
    check_suite("linux_suite", &suite, Profile::linux(), &[], list, 60);
}
