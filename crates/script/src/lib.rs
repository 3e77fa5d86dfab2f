//! synack-script: runs packetdrill-dialect scripts (as the nplab / freebsd-net TCP test
//! suites write them) against a synack `Endpoint` in virtual time, deterministically and
//! without a kernel, root, or a network.
//!
//! `parse` turns text into a `Script` (`ast`); `run` plays it: inbound lines become packets
//! fed to the endpoint, outbound lines are matched against what it sends (`packet`), calls
//! map onto the endpoint's API (`calls`), backtick commands and asserts onto knobs and
//! checks (`commands`). `Profile` picks the engine configuration a suite expects.

pub mod ast;
mod calls;
mod commands;
pub mod packet;
pub mod parse;
mod profile;
mod run;

pub use parse::{parse_script, ParseError};
pub use profile::{Profile, PROFILE_NAMES};
pub use run::{run_script, Failure, RunLog};

use std::path::Path;

/// The result of one script file.
#[derive(Debug)]
pub enum Verdict {
    Pass,
    /// The script could not be read or parsed.
    Error(String),
    Fail(Failure),
}

/// Reads, parses and runs one script file.
pub fn run_file(path: &Path, profile: &Profile, defines: &[String]) -> (Verdict, RunLog) {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => return (Verdict::Error(format!("cannot read: {e}")), RunLog::default()),
    };
    let script = match parse_script(&text, defines) {
        Ok(s) => s,
        Err(e) => return (Verdict::Error(format!("parse error: {e}")), RunLog::default()),
    };
    match run_script(&script, profile) {
        (Ok(()), log) => (Verdict::Pass, log),
        (Err(f), log) => (Verdict::Fail(f), log),
    }
}

/// The `.pkt` files named, with directories searched recursively, each list sorted.
pub fn collect_scripts(paths: &[std::path::PathBuf]) -> std::io::Result<Vec<std::path::PathBuf>> {
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found = Vec::new();
            let mut dirs = vec![path.clone()];
            while let Some(dir) = dirs.pop() {
                for entry in std::fs::read_dir(&dir)? {
                    let p = entry?.path();
                    if p.is_dir() {
                        dirs.push(p);
                    } else if p.extension().is_some_and(|e| e == "pkt") {
                        found.push(p);
                    }
                }
            }
            found.sort();
            out.extend(found);
        } else {
            out.push(path.clone());
        }
    }
    Ok(out)
}
