//! synack-script: runs packetdrill-dialect scripts (as the nplab / freebsd-net TCP test
//! suites write them) against a synack `Endpoint` in virtual time, deterministically and
//! without a kernel, root, or a network.
//!
//! `parse` turns text into a `Script` (`ast`); `run` plays it: inbound lines become packets
//! fed to the endpoint, outbound lines are matched against what it sends (`packet`), calls
//! map onto the endpoint's API (`calls`), backtick commands and asserts onto knobs and
//! checks (`commands`). `Profile` picks the engine configuration a suite expects.

pub mod ast;
mod blocking;
mod calls;
pub mod code;
mod commands;
mod gso;
mod ip_options;
mod keepalive_options;
pub mod packet;
pub mod parse;
mod profile;
mod run;
mod shell;
mod tcp_info;
mod udp;

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

/// The largest script file read (the FreeBSD and Linux suites' largest is under 20 KiB).
pub const MAX_SCRIPT_BYTES: u64 = 1 << 20;

/// Reads, parses and runs one script file. Whatever the file holds, the result is a verdict:
/// a file that is not a regular file, too large, not text, or has no events is an error, and
/// a panic inside the runner or the engine is caught and reported as this script's error, so
/// one bad script never stops a directory run.
pub fn run_file(path: &Path, profile: &Profile, defines: &[String]) -> (Verdict, RunLog) {
    let text = match read_script(path) {
        Ok(t) => t,
        Err(e) => return (Verdict::Error(e), RunLog::default()),
    };
    let mut script = match parse_script(&text, defines) {
        Ok(s) => s,
        Err(e) => return (Verdict::Error(format!("parse error: {e}")), RunLog::default()),
    };
    script.dir = path.parent().map(Path::to_path_buf);
    if script.events.is_empty() {
        return (Verdict::Error("the script has no events (nothing to run)".into()), RunLog::default());
    }
    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_script(&script, profile)));
    match run {
        Ok((Ok(()), log)) => (Verdict::Pass, log),
        Ok((Err(f), log)) => (Verdict::Fail(f), log),
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "no message".into());
            (Verdict::Error(format!("internal error (a bug in synack; please report it): {what}")), RunLog::default())
        }
    }
}

/// A script's text: a regular file of at most `MAX_SCRIPT_BYTES`, in UTF-8.
fn read_script(path: &Path) -> Result<String, String> {
    use std::io::Read;
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read: {e}"))?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    if meta.len() > MAX_SCRIPT_BYTES {
        return Err(format!("{} bytes is larger than a script may be ({MAX_SCRIPT_BYTES})", meta.len()));
    }
    let mut bytes = Vec::new();
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read: {e}"))?;
    file.take(MAX_SCRIPT_BYTES + 1).read_to_end(&mut bytes).map_err(|e| format!("cannot read: {e}"))?;
    if bytes.len() as u64 > MAX_SCRIPT_BYTES {
        return Err(format!("larger than a script may be ({MAX_SCRIPT_BYTES} bytes)"));
    }
    String::from_utf8(bytes).map_err(|e| format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()))
}

/// The `.pkt` files named, with directories searched recursively, each list sorted. A path
/// named on the command line is taken as given (a symbolic link to a directory is searched);
/// inside a directory, symbolic links to directories are not followed, so that no link
/// (`/proc/self/root`, a loop) makes the walk endless, and a directory reached twice (a bind
/// mount) is searched once.
pub fn collect_scripts(paths: &[std::path::PathBuf]) -> std::io::Result<Vec<std::path::PathBuf>> {
    use std::os::unix::fs::MetadataExt;
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for path in paths {
        let meta =
            std::fs::metadata(path).map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        if !meta.is_dir() {
            out.push(path.clone());
            continue;
        }
        let mut found = Vec::new();
        let mut dirs = vec![path.clone()];
        while let Some(dir) = dirs.pop() {
            let Ok(meta) = std::fs::metadata(&dir) else { continue };
            if !seen.insert((meta.dev(), meta.ino())) {
                continue;
            }
            let entries = std::fs::read_dir(&dir)
                .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", dir.display())))?;
            for entry in entries {
                let entry = entry?;
                let p = entry.path();
                let kind = entry.file_type()?; // the link itself, not what it points to
                if kind.is_dir() {
                    dirs.push(p);
                } else if p.extension().is_some_and(|e| e == "pkt") {
                    found.push(p);
                }
            }
        }
        found.sort();
        out.extend(found);
    }
    Ok(out)
}
